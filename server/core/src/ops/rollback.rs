//! Rollbacks through the session. A rollback writes files, so in policy terms it is an edit: every
//! path it would restore is confined and decided (`tools.edit`, `deny_paths`) before anything is
//! written, the user is asked where policy says ask, the act is audited before and after, and open
//! editor buffers are brought along so the editor shows what the disk now holds.

use serde::Serialize;

use super::error::OpsError;
use super::frontend::{Approval, Frontend};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_policy::Tool;
use jingu_snapshots::RollbackOutcome;

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
        let paths = self.rollback_paths(target)?;
        let mut ask = false;
        for path in &paths {
            let (_, needs_asking) = self.authorize(run, Tool::Edit, path)?;
            ask |= needs_asking;
        }
        if ask {
            let approval = Approval {
                tool: "rollback",
                summary: format!("roll back {target} ({} file(s))", paths.len()),
                detail: paths.join("\n"),
                path: None,
            };
            if !fe.approve(&approval).await {
                return Err(OpsError::Rejected {
                    tool: "rollback",
                    summary: approval.summary,
                });
            }
        }
        // Recorded before anything is written; the outcome record follows with the new snapshot.
        run.audit.append(RecordKind::Rollback {
            target: target.to_string(),
            snapshot_id: "(pending)".into(),
            paths: Vec::new(),
        })?;
        let actor = self.actor();
        let outcome = self.with_store(|store| -> Result<_, OpsError> {
            Ok(match target {
                RollbackTarget::Snapshot(id) => {
                    store.rollback_snapshot(store.resolve(id)?, &actor)?
                }
                RollbackTarget::Run(run_id) => store.rollback_run(run_id, &actor)?,
                RollbackTarget::File { path, to } => {
                    let rel = self.workspace.confine(path)?;
                    store.rollback_file(&rel, store.resolve(to)?, &actor)?
                }
            })
        })?;
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

    /// The workspace paths a rollback of `target` would write.
    fn rollback_paths(&self, target: &RollbackTarget) -> Result<Vec<String>, OpsError> {
        let mut paths = self.with_store(|store| -> Result<_, OpsError> {
            Ok(match target {
                RollbackTarget::Snapshot(id) => store.show(store.resolve(id)?)?.info.paths,
                RollbackTarget::Run(run_id) => store
                    .list(&jingu_snapshots::ListFilter {
                        path: None,
                        run: Some(run_id.clone()),
                        limit: None,
                    })?
                    .into_iter()
                    .flat_map(|s| s.paths)
                    .collect(),
                RollbackTarget::File { path, .. } => vec![path.clone()],
            })
        })?;
        paths.sort();
        paths.dedup();
        Ok(paths)
    }
}
