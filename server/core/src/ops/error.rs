//! Why an operation did not happen. Every variant leaves files and snapshots as they were.

use jingu_fs::atomic::{ReadError, WriteError};
use jingu_fs::workspace::PathError;
use jingu_policy::PolicyError;
use jingu_realdoc::EditError;
use jingu_snapshots::SnapshotError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("denied by policy: {0}")]
    Denied(String),
    #[error("{tool} rejected by the user: {summary}")]
    Rejected { tool: &'static str, summary: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The edit engine's refusal, prefixed with the file (the message already says it all).
    #[error("{path}: {error}")]
    Edit { path: String, error: EditError },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("the editor did not apply the edit to {path}: {reason}")]
    Buffer { path: String, reason: String },
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    #[error(
        "{path} is read-only (mode {mode:04o}); Jingu does not replace files without write \
         permission: make it writable first if it should change"
    )]
    ReadOnly { path: String, mode: u32 },
    #[error("{path} already exists; creating a file never overwrites one (edit it instead)")]
    Exists { path: String },
    #[error("{path}: {reason}")]
    Busy { path: String, reason: String },
    #[error(transparent)]
    Audit(#[from] jingu_audit::AuditError),
    #[error("{path}: {reason}")]
    Source { path: String, reason: String },
    #[error("workspace {path}: {error}")]
    Workspace { path: String, error: std::io::Error },
}
