//! Rollbacks through the session: audited before and after, and mirrored into open editor buffers
//! so the editor shows what the disk now holds.

use serde::Serialize;

use super::error::OpsError;
use super::frontend::Frontend;
use super::session::{Run, Session};
use crate::audit::RecordKind;
use crate::snapshots::RollbackOutcome;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackTarget {
    /// Undo one snapshot (any unique id prefix).
    Snapshot(String),
    /// Undo every edit of an agent run.
    Run(String),
    /// Restore one file to its content at a snapshot.
    File { path: String, to: String },
}

impl std::fmt::Display for RollbackTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Snapshot(id) => write!(f, "snapshot {id}"),
            Self::Run(run) => write!(f, "run {run}"),
            Self::File { path, to } => write!(f, "{path} to snapshot {to}"),
        }
    }
}

impl Session {
    pub async fn rollback(
        &self,
        fe: &impl Frontend,
        run: &Run,
        target: &RollbackTarget,
    ) -> Result<RollbackOutcome, OpsError> {
        // Recorded before anything is written; the outcome record follows with the new snapshot.
        run.audit.append(RecordKind::Rollback {
            target: target.to_string(),
            snapshot_id: "(pending)".into(),
            paths: Vec::new(),
        })?;
        let actor = self.actor();
        let outcome = {
            let store = self.store();
            match target {
                RollbackTarget::Snapshot(id) => {
                    store.rollback_snapshot(store.resolve(id)?, &actor)?
                }
                RollbackTarget::Run(run_id) => store.rollback_run(run_id, &actor)?,
                RollbackTarget::File { path, to } => {
                    let rel = self.workspace.confine(path)?;
                    store.rollback_file(&rel, store.resolve(to)?, &actor)?
                }
            }
        };
        run.audit.append(RecordKind::Rollback {
            target: target.to_string(),
            snapshot_id: outcome.snapshot_id.clone(),
            paths: outcome.restored.clone(),
        })?;
        for rel in &outcome.restored {
            let content = std::fs::read_to_string(self.workspace.abs(rel)).unwrap_or_default();
            if let Err(e) = fe.sync_buffer(rel, &content).await {
                tracing::warn!(
                    "rolled back {rel} on disk, but the editor buffer did not follow: {e}"
                );
            }
        }
        Ok(outcome)
    }
}
