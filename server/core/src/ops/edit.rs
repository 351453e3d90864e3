//! One RealDoc edit, end to end: confine → policy → read (buffer or disk) → plan (pure, validated)
//! → approve → snapshot → write. The snapshot is recorded before the write so that no content ever
//! reaches disk without one; if the write then fails, a compensating snapshot restores the record.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::Serialize;

use super::error::OpsError;
use super::frontend::{Approval, Frontend};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_policy::Tool;
use jingu_realdoc::{self as realdoc, EditRequest};
use jingu_snapshots::{Change, Meta};
use jingu_syntax::Language;

#[derive(Debug, Clone, Serialize)]
pub struct EditOutcome {
    /// Workspace-relative path.
    pub path: String,
    pub snapshot_id: String,
    pub summary: String,
    #[serde(skip)]
    pub diff: String,
}

impl Session {
    /// Apply one edit to `raw_path` as part of `run`.
    pub async fn edit(
        &self,
        fe: &impl Frontend,
        run: &Run,
        raw_path: &str,
        req: &EditRequest,
    ) -> Result<EditOutcome, OpsError> {
        let (rel, ask) = self.authorize(run, Tool::Edit, raw_path)?;
        let abs = self.workspace.abs(&rel);
        let buffer = fe.buffer_text(&rel);
        let (old, disk_hash) = match &buffer {
            Some(text) => (text.clone(), None),
            None => {
                let (text, hash) = jingu_fs::atomic::read_for_edit(&abs)?;
                (text, Some(hash))
            }
        };
        let planned =
            realdoc::plan(&old, Language::from_path(Path::new(&rel)), req).map_err(|error| {
                OpsError::Edit {
                    path: rel.clone(),
                    error,
                }
            })?;
        let summary = format!("{} in {rel}", planned.summary);
        let diff = unified_diff(&rel, &old, &planned.new_text);
        if ask {
            let approval = Approval {
                tool: "edit",
                summary: summary.clone(),
                detail: diff.clone(),
            };
            if !fe.approve(&approval).await {
                return Err(OpsError::Rejected {
                    tool: "edit",
                    summary,
                });
            }
        }

        let meta = Meta {
            run_id: Some(run.id.clone()),
            actor: self.actor(),
            op: req.op.as_str().to_string(),
            target: req.target.to_string(),
            message: summary.clone(),
        };
        let mode = file_mode(&abs);
        let (before, id) = {
            let store = self.store();
            store.record_baseline(&rel, old.as_bytes(), &meta)?;
            let before = store.head()?.map(|h| h.short()).unwrap_or_default();
            let id = store.record(
                &[Change::Write {
                    path: rel.clone(),
                    content: planned.new_text.as_bytes().to_vec(),
                    mode,
                }],
                &meta,
            )?;
            (before, id)
        };
        // The audit record precedes the write: if it cannot be written, the file is not touched.
        let audited = run.audit.append(RecordKind::Edit {
            path: rel.clone(),
            snapshot_before: before,
            snapshot_after: id.short(),
            snapshot_id: id.short(),
            after_sha256: Some(hex::encode(jingu_fs::atomic::sha256(
                planned.new_text.as_bytes(),
            ))),
        });

        let written = match (&buffer, audited) {
            (_, Err(e)) => Err(OpsError::from(e)),
            (Some(_), Ok(_)) => match fe.apply_to_buffer(&rel, &old, &planned).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(OpsError::Buffer {
                    path: rel.clone(),
                    reason: "the document closed before the edit arrived".into(),
                }),
                Err(reason) => Err(OpsError::Buffer {
                    path: rel.clone(),
                    reason,
                }),
            },
            (None, Ok(_)) => {
                jingu_fs::atomic::write_atomic(&abs, planned.new_text.as_bytes(), disk_hash)
                    .map_err(OpsError::from)
            }
        };
        if let Err(e) = written {
            // The file still holds `old`: make the snapshot chain say so too.
            let undo = Meta {
                op: "revert-failed-write".into(),
                message: format!("edit not applied: {e}"),
                ..meta
            };
            self.store().record(
                &[Change::Write {
                    path: rel.clone(),
                    content: old.into_bytes(),
                    mode,
                }],
                &undo,
            )?;
            return Err(e);
        }
        let outcome = EditOutcome {
            path: rel,
            snapshot_id: id.short(),
            summary,
            diff,
        };
        fe.edit_applied(&outcome, &old, &planned.new_text);
        Ok(outcome)
    }
}

fn file_mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644)
}

/// A unified diff with 3 lines of context, for approvals and terminals.
pub fn unified_diff(rel: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{rel}"), &format!("b/{rel}"))
        .to_string()
}
