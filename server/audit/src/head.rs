//! `audit.head`: the last record's sequence number and line hash, replaced atomically after each
//! append so that truncating the log's tail is detectable.

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

/// Write-temp, fsync, rename, fsync the directory: the head is always a whole old or new value.
pub(crate) fn write(path: &Path, head: &Head) -> Result<(), AuditError> {
    let tmp = path.with_extension("head.tmp");
    let bytes = serde_json::to_vec(head)?;
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(&bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}
