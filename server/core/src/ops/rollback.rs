//! Rollbacks through the session. A rollback writes files, so in policy terms it is an edit: every
//! path it would restore is confined and decided (`tools.edit`, `deny_paths`) before anything is
//! written, the user is asked where policy says ask, the act is audited before and after, and open
//! editor buffers are restored in the editor itself (the front end's `restore_buffer`: minimal
//! edits, no rewrite of an open file behind its back), recorded exactly like edits to buffers.

use serde::Serialize;

use super::error::OpsError;
use super::frontend::{Approval, Frontend};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_policy::Tool;
use jingu_snapshots::{OpenBuffers, RollbackOutcome};

/// Buffers come from the editor as text, so their bytes are UTF-8.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
        // What the editor shows is the current state of an open file, as for edits.
        let mut open = OpenBuffers::new();
        if fe.restores_buffers() {
            for path in &paths {
                if let Some(text) = fe.buffer_text(path).await {
                    open.insert(path.clone(), text.into_bytes());
                }
            }
        }
        let mut outcome = self.with_store(|store| -> Result<_, OpsError> {
            Ok(match target {
                RollbackTarget::Snapshot(id) => {
                    store.rollback_snapshot_in(store.resolve(id)?, &actor, &open)?
                }
                RollbackTarget::Run(run_id) => store.rollback_run_in(run_id, &actor, &open)?,
                RollbackTarget::File { path, to } => {
                    let rel = self.workspace.confine(path)?;
                    store.rollback_file_in(&rel, store.resolve(to)?, &actor, &open)?
                }
            })
        })?;
        run.audit.append(RecordKind::Rollback {
            target: target.to_string(),
            snapshot_id: outcome.snapshot_id.clone(),
            paths: outcome.restored.clone(),
        })?;
        let buffers = std::mem::take(&mut outcome.buffers);
        let mut failed = None;
        for b in &buffers {
            // Recorded as the new content, so a buffer that did not follow is recorded again as
            // what it holds (like an edit the editor declined).
            let (old, new) = (lossy(&b.old), lossy(&b.new));
            let reason = match fe.restore_buffer(&b.path, &old, &new).await {
                Ok(true) => continue,
                Ok(false) => "the document closed before the rollback arrived".to_string(),
                Err(reason) => reason,
            };
            self.record_buffer_state(&b.path, &b.old, &reason)?;
            failed.get_or_insert(OpsError::Buffer {
                path: b.path.clone(),
                reason,
            });
        }
        for rel in &outcome.restored {
            if open.contains_key(rel) {
                continue; // restored in the editor, or recorded as not
            }
            let content = std::fs::read_to_string(self.workspace.abs(rel)).unwrap_or_default();
            if let Err(e) = fe.sync_buffer(rel, &content).await {
                tracing::warn!(
                    "rolled back {rel} on disk, but the editor buffer did not follow: {e}"
                );
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(outcome),
        }
    }

    /// After a buffer did not take its restored text: record what it still holds.
    fn record_buffer_state(&self, rel: &str, text: &[u8], reason: &str) -> Result<(), OpsError> {
        let meta = jingu_snapshots::Meta {
            run_id: None,
            actor: self.actor(),
            op: "revert-failed-write".into(),
            target: rel.to_string(),
            message: format!("rollback not applied to the open buffer: {reason}"),
        };
        let mode = super::edit::file_mode(&self.workspace.abs(rel));
        let change = jingu_snapshots::Change::Write {
            path: rel.to_string(),
            content: text.to_vec(),
            mode,
        };
        self.with_store(|s| s.record(&[change], &meta))?;
        Ok(())
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
