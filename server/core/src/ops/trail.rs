//! Reading the audit trail: verify the chain, list records, replay a run against its snapshots.
//! Read-only, and always verified first: `log` and `replay` refuse to present a tampered log as
//! truth. Writing the trail happens only through a [`super::Run`].

use std::path::{Path, PathBuf};

use jingu_audit::{LOG_FILE, Record, ReplayReport, VerifyError, VerifyReport};
use jingu_fs::workspace::Workspace;
use jingu_snapshots::Store;

use super::error::OpsError;

/// The audit trail of one workspace.
pub struct AuditTrail {
    workspace: Workspace,
    log: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Replay(#[from] jingu_audit::ReplayError),
    #[error(transparent)]
    Ops(#[from] OpsError),
}

impl AuditTrail {
    /// The trail of the workspace containing `start`.
    pub fn open(start: &Path) -> Result<Self, OpsError> {
        let workspace = Workspace::discover(start).map_err(|error| OpsError::Workspace {
            path: start.display().to_string(),
            error,
        })?;
        let log = workspace.state_dir.join(LOG_FILE);
        Ok(Self { workspace, log })
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub(crate) fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// Check the hash chain; the first bad record when it was tampered with.
    pub fn verify(&self) -> Result<VerifyReport, VerifyError> {
        jingu_audit::verify(&self.log)
    }

    /// Every record, after verifying the chain.
    pub fn records(&self) -> Result<Vec<Record>, VerifyError> {
        jingu_audit::verify(&self.log)?;
        jingu_audit::read_records(&self.log)
    }

    /// Re-derive a run's final file states from its snapshots and compare with the log and disk.
    pub fn replay(&self, run_id: &str) -> Result<ReplayReport, TrailError> {
        let records = self.records()?;
        let store = Store::open(&self.workspace).map_err(OpsError::from)?;
        let root = self.workspace.root.clone();
        let disk = move |rel: &str| std::fs::read(root.join(rel)).ok();
        Ok(jingu_audit::replay(&records, run_id, &store, &disk)?)
    }
}
