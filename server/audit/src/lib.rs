//! Append-only, hash-chained action log (DESIGN §5 invariants 6 and 10).
//!
//! `state_dir/audit.jsonl` holds one JSON record per line. Each record carries the SHA-256 of the
//! previous line (`prev`) and of its own body (`hash`), the run, the subject and whether it was
//! verified, and the hash of the effective policy. The records of one action are written and
//! fsynced together *before* the action; if that fails nothing was written and the caller must
//! not act. `state_dir/audit.head` trails the log (never leads it) so that a cut tail shows.
//! Signed checkpoints (enterprise key) seal the chain every N records and at each run's end, and
//! sinks (PostgreSQL) receive every record before its action: the local log alone cannot be
//! trusted against its own writer, the sink is the witness.

mod checkpoint;
mod config;
mod disk;
mod head;
mod log;
mod otlp;
mod record;
mod repair;
mod replay;
pub mod sink;
mod sink_verify;
mod time;
mod verify;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_recovery;

pub use checkpoint::{CheckpointKey, KeyError};
pub use config::{AuditOptions, OtlpConfig, SinkConfig};
pub use disk::{Disk, RealDisk};
pub use log::{AuditContext, AuditLog, FlushResult, RecordId, chain_id, new_run_id};
pub use record::{Record, RecordKind};
pub use repair::RepairReport;
pub use replay::{DiskState, FileState, ReplayError, ReplayReport, SnapshotSource, replay};
pub use sink_verify::{Divergence, DivergenceKind, compare_with_sink};
pub use time::format_unix_millis;
pub use verify::{TamperError, VerifyError, VerifyReport, read_records, verify, verify_with};

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
    /// A write or fsync failed (a full disk, an I/O error); the records were cut back off.
    #[error("{}", unwritten_message(.path, .what, .source, *.rolled_back))]
    Unwritten {
        path: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
        rolled_back: bool,
    },
    #[error("cannot encode audit record: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}")]
    Sink(sink::SinkError),
    #[error("{0}; the audit sink is required, so the action was not run")]
    SinkRequired(sink::SinkError),
}

fn unwritten_message(
    path: &std::path::Path,
    what: &str,
    source: &std::io::Error,
    rolled_back: bool,
) -> String {
    if rolled_back {
        format!(
            "audit log {}: {what} failed ({source}); the log is unchanged and the action was not run",
            path.display()
        )
    } else {
        format!(
            "audit log {}: {what} failed ({source}) and the partial record could not be removed; the action was not run. Run `jingu audit repair` once the disk is writable",
            path.display()
        )
    }
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Run blocking audit work (file I/O, fsync, waiting for the sink) without stalling the async
/// runtime: on a multi-threaded runtime the worker hands its other tasks off first.
pub fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
