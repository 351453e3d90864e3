//! `audit.head`: the last acknowledged record's sequence number and line hash.
//!
//! The log is the truth and is made durable first; the head is replaced afterwards without an
//! fsync of its own, so after a crash it is equal to or behind the log, never ahead. A head ahead
//! of the log, or naming a line the log does not have at that position, means the log was cut or
//! rewritten. (The head is unsigned: it catches careless truncation, not a determined writer —
//! signed checkpoints and the sink do that.)

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AuditError, io_err};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Head {
    pub seq: u64,
    /// SHA-256 of the last line (the value the next record's `prev` must carry).
    pub line_hash: String,
}

pub(crate) fn read(path: &Path) -> Result<Option<Head>, AuditError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AuditError::Damaged {
                path: path.to_path_buf(),
                reason: format!("head file unreadable: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn tmp_path(path: &Path) -> std::path::PathBuf {
    path.with_extension("head.tmp")
}

/// Write-temp then rename: the head is always a whole old or new value. `durable` adds the fsyncs
/// (used once, when a log is created, so that a log never exists without its head).
pub(crate) fn write(path: &Path, head: &Head, durable: bool) -> Result<(), AuditError> {
    let tmp = tmp_path(path);
    let result = (|| {
        let bytes = serde_json::to_vec(head)?;
        let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&bytes).map_err(io_err(&tmp))?;
        if durable {
            f.sync_all().map_err(io_err(&tmp))?;
        }
        std::fs::rename(&tmp, path).map_err(io_err(path))?;
        if durable && let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err(dir))?;
        }
        Ok(())
    })();
    if result.is_err() {
        // A full disk must not leave an empty temp file behind.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
