//! Whole-file operations as RealDoc edits: create (never over an existing file), delete and
//! rename. Each is confined and policy-checked like an edit (`edit` permission on every path it
//! touches), approved where policy says ask, snapshotted before the disk changes (so it is rolled
//! back with the run like any edit) and audited.

use std::path::Path;

use serde::Serialize;

use super::error::OpsError;
use super::frontend::{Approval, Frontend};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_fs::atomic;
use jingu_policy::Tool;
use jingu_snapshots::{Change, Meta};

/// One whole-file operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum FileOp {
    /// A new file with `text`; refused if the path exists.
    Create {
        path: String,
        text: String,
    },
    DeleteFile {
        path: String,
    },
    /// Move `path` to `to` (which must not exist).
    Rename {
        path: String,
        to: String,
    },
}

impl FileOp {
    /// The path the operation acts on (a rename's source).
    pub fn path(&self) -> &str {
        match self {
            Self::Create { path, .. } | Self::DeleteFile { path } | Self::Rename { path, .. } => {
                path
            }
        }
    }
}

impl std::fmt::Display for FileOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Create { path, text } => {
                write!(f, "create {path} ({} lines)", text.lines().count())
            }
            Self::DeleteFile { path } => write!(f, "delete {path}"),
            Self::Rename { path, to } => write!(f, "rename {path} to {to}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileOpOutcome {
    /// Workspace-relative paths touched (the new one last).
    pub paths: Vec<String>,
    pub snapshot_id: String,
    pub summary: String,
}

impl Session {
    pub async fn file_op(
        &self,
        fe: &impl Frontend,
        run: &Run,
        op: &FileOp,
    ) -> Result<FileOpOutcome, OpsError> {
        let (from, to, text) = match op {
            FileOp::Create { path, text } => (None, Some(path.as_str()), Some(text.as_str())),
            FileOp::DeleteFile { path } => (Some(path.as_str()), None, None),
            FileOp::Rename { path, to } => (Some(path.as_str()), Some(to.as_str()), None),
        };
        let mut ask = false;
        let mut authorize = |raw: &str| -> Result<String, OpsError> {
            let (rel, a) = self.authorize(run, Tool::Edit, raw)?;
            ask |= a;
            Ok(rel)
        };
        let from = from.map(&mut authorize).transpose()?;
        let to = to.map(&mut authorize).transpose()?;
        let summary = match (&from, &to) {
            (None, Some(t)) => format!("create {t}"),
            (Some(f), None) => format!("delete {f}"),
            (Some(f), Some(t)) => format!("rename {f} to {t}"),
            (None, None) => unreachable!("every file operation names a path"),
        };
        // Writers of either path wait; locks in path order so two renames cannot deadlock.
        let mut names: Vec<&String> = from.iter().chain(to.iter()).collect();
        names.sort();
        let mut locks = Vec::new();
        for rel in names {
            locks.push(self.lock_file(rel).await?);
        }
        let content = match (&from, text) {
            (_, Some(t)) => t.as_bytes().to_vec(),
            (Some(f), None) => {
                let abs = self.workspace.abs(f);
                let meta = std::fs::symlink_metadata(&abs).map_err(|e| OpsError::Busy {
                    path: f.clone(),
                    reason: format!("cannot {summary}: {e}"),
                })?;
                if !meta.is_file() {
                    return Err(OpsError::Busy {
                        path: f.clone(),
                        reason: "not a regular file".into(),
                    });
                }
                atomic::read_for_edit(&abs)?.0.into_bytes()
            }
            (None, None) => Vec::new(),
        };
        if let Some(t) = &to
            && std::fs::symlink_metadata(self.workspace.abs(t)).is_ok()
        {
            return Err(OpsError::Exists { path: t.clone() });
        }
        if ask {
            let approval = Approval {
                tool: "edit",
                summary: summary.clone(),
                detail: match (&from, &to) {
                    (None, Some(t)) => {
                        super::edit::unified_diff(t, "", &String::from_utf8_lossy(&content))
                    }
                    _ => summary.clone(),
                },
                path: None,
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
            op: match op {
                FileOp::Create { .. } => "create",
                FileOp::DeleteFile { .. } => "delete-file",
                FileOp::Rename { .. } => "rename",
            }
            .into(),
            target: summary.clone(),
            message: summary.clone(),
        };
        let mode = from
            .as_ref()
            .and_then(|f| std::fs::metadata(self.workspace.abs(f)).ok())
            .map_or(0o644, |m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode() & 0o7777
            });
        let mut changes = Vec::new();
        if let Some(t) = &to {
            changes.push(Change::Write {
                path: t.clone(),
                content: content.clone(),
                mode,
            });
        }
        if let Some(f) = &from {
            changes.push(Change::Delete { path: f.clone() });
        }
        let (before, id) = self.with_store(|store| -> Result<_, OpsError> {
            if let Some(f) = &from {
                store.record_baseline(f, &content, &meta)?;
            }
            let before = store.head()?.map(|h| h.short()).unwrap_or_default();
            Ok((before, store.record(&changes, &meta)?))
        })?;
        for path in from.iter().chain(to.iter()) {
            run.audit.append(RecordKind::Edit {
                path: path.clone(),
                snapshot_before: before.clone(),
                snapshot_after: id.short(),
                snapshot_id: id.short(),
                after_sha256: (Some(path) == to.as_ref())
                    .then(|| hex::encode(atomic::sha256(&content))),
            })?;
        }
        let written = jingu_audit::off_runtime(|| {
            self.apply_file_op(from.as_deref(), to.as_deref(), &content)
        });
        if let Err(e) = written {
            // Record what the disk holds now, as after a failed edit.
            let mut actual = Vec::new();
            for path in from.iter().chain(to.iter()) {
                actual.push(match std::fs::read(self.workspace.abs(path)) {
                    Ok(bytes) => Change::Write {
                        path: path.clone(),
                        content: bytes,
                        mode,
                    },
                    Err(_) => Change::Delete { path: path.clone() },
                });
            }
            let undo = Meta {
                op: "revert-failed-write".into(),
                message: format!("{summary} not applied: {e}"),
                ..meta
            };
            self.with_store(|s| s.record(&actual, &undo))?;
            return Err(e);
        }
        drop(locks);
        Ok(FileOpOutcome {
            paths: from.into_iter().chain(to).collect(),
            snapshot_id: id.short(),
            summary,
        })
    }

    fn apply_file_op(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        content: &[u8],
    ) -> Result<(), OpsError> {
        if let Some(t) = to {
            let abs = self.workspace.abs(t);
            if let Some(dir) = abs.parent() {
                std::fs::create_dir_all(dir).map_err(|e| OpsError::Busy {
                    path: t.to_string(),
                    reason: format!("cannot create its directory: {e}"),
                })?;
            }
            // Confined again now that the directory exists (a symlink cannot redirect it).
            self.workspace.confine(t)?;
            atomic::write_atomic(&abs, content, None)?;
            if let Some(f) = from {
                // A renamed file keeps its permissions.
                if let Ok(meta) = std::fs::metadata(self.workspace.abs(f)) {
                    std::fs::set_permissions(&abs, meta.permissions()).map_err(|e| {
                        OpsError::Busy {
                            path: t.to_string(),
                            reason: format!("cannot set its permissions: {e}"),
                        }
                    })?;
                }
            }
        }
        if let Some(f) = from {
            remove_durably(&self.workspace.abs(f)).map_err(|e| OpsError::Busy {
                path: f.to_string(),
                reason: format!("cannot delete: {e}"),
            })?;
        }
        Ok(())
    }
}

fn remove_durably(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}
