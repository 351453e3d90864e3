//! Append-only, hash-chained action log (DESIGN §5 invariant 6).
//!
//! `state_dir/audit.jsonl` holds one JSON record per line. Each record carries the SHA-256 of the
//! previous line (`prev`) and of its own body (`hash`), the run, the subject and whether it was
//! verified, and the hash of the effective policy. `state_dir/audit.head` holds the last sequence
//! number and line hash so that cutting records off the end is detected too. Records are written
//! and fsynced *before* the action they describe; if that fails the caller must not act.

mod head;
mod log;
mod record;
mod replay;
mod time;
mod verify;

#[cfg(test)]
mod tests;

pub use log::{AuditContext, AuditLog, RecordId, new_run_id};
pub use record::{Record, RecordKind};
pub use replay::{DiskState, FileState, ReplayError, ReplayReport, SnapshotSource, replay};
pub use verify::{TamperError, VerifyError, VerifyReport, read_records, verify};

use std::path::PathBuf;

pub const LOG_FILE: &str = "audit.jsonl";
pub const HEAD_FILE: &str = "audit.head";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log {path} is damaged ({reason}); refusing to append. Run `jingu audit verify`")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot encode audit record: {0}")]
    Encode(#[from] serde_json::Error),
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}
