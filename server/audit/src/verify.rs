//! Checking the chain: every line's own hash, its link to the line before, consecutive sequence
//! numbers, and agreement with the head file. The first record that fails is named.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::head;
use super::record::{GENESIS, Record, sha256_hex, split_hash};
use super::{AuditError, HEAD_FILE};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("audit log tampered at record {first_bad_seq}: {reason}")]
pub struct TamperError {
    /// Sequence number (1-based line position) of the first record that fails.
    pub first_bad_seq: u64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Tampered(#[from] TamperError),
    #[error("cannot read audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub runs: usize,
    pub last_hash: String,
    /// Non-fatal observations (e.g. a head one record behind after an interrupted append).
    pub notes: Vec<String>,
}

fn tamper(seq: u64, reason: impl Into<String>) -> VerifyError {
    VerifyError::Tampered(TamperError {
        first_bad_seq: seq,
        reason: reason.into(),
    })
}

/// Verify the log at `log_path` (its head file is read from the same directory).
pub fn verify(log_path: &Path) -> Result<VerifyReport, VerifyError> {
    let bytes = match std::fs::read(log_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(VerifyError::Io {
                path: log_path.to_path_buf(),
                source,
            });
        }
    };
    let head_path = log_path.with_file_name(HEAD_FILE);
    let head = head::read(&head_path).map_err(|e| match e {
        AuditError::Io { path, source } => VerifyError::Io { path, source },
        other => tamper(0, other.to_string()),
    })?;

    if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
        let n = bytes.split(|b| *b == b'\n').count() as u64;
        return Err(tamper(n, "the last record is incomplete (cut mid-line)"));
    }
    let mut prev_line_hash = GENESIS.to_string();
    let mut runs = BTreeSet::new();
    let mut last_hash = GENESIS.to_string();
    let mut count = 0u64;
    // The file ends with a newline (checked above); lines are the pieces before it.
    let lines: Vec<&[u8]> = match bytes.split_last() {
        Some((_, body)) => body.split(|b| *b == b'\n').collect(),
        None => Vec::new(),
    };
    for (i, raw) in lines.into_iter().enumerate() {
        let expected = i as u64 + 1;
        let line = std::str::from_utf8(raw).map_err(|_| tamper(expected, "not valid UTF-8"))?;
        let (body, claimed) =
            split_hash(line).ok_or_else(|| tamper(expected, "missing or malformed hash field"))?;
        if sha256_hex(body.as_bytes()) != claimed {
            return Err(tamper(
                expected,
                "content does not match its hash (record changed)",
            ));
        }
        let rec: Record = serde_json::from_str(line)
            .map_err(|e| tamper(expected, format!("not a valid record: {e}")))?;
        if rec.seq != expected {
            return Err(tamper(
                expected,
                format!(
                    "sequence number {} where {expected} was expected (record inserted, removed or moved)",
                    rec.seq
                ),
            ));
        }
        if rec.prev != prev_line_hash {
            return Err(tamper(
                expected,
                "does not link to the previous record (record inserted, removed or moved)",
            ));
        }
        prev_line_hash = sha256_hex(raw);
        last_hash = rec.hash;
        runs.insert(rec.run_id);
        count = expected;
    }

    let mut notes = Vec::new();
    match head {
        None if count == 0 => {}
        None => return Err(tamper(count, "head file is missing")),
        Some(h) if h.seq == count && h.line_hash == prev_line_hash => {}
        Some(h) if h.seq + 1 == count => notes.push(format!(
            "head is one record behind (record {count} was appended but its head update was interrupted)"
        )),
        Some(h) if h.seq > count => {
            return Err(tamper(
                count + 1,
                format!("log ends at record {count} but the head says {} (tail truncated)", h.seq),
            ));
        }
        Some(h) => {
            return Err(tamper(
                h.seq.min(count),
                format!("head (record {}) does not match the log's last record {count}", h.seq),
            ));
        }
    }
    Ok(VerifyReport {
        records: count,
        runs: runs.len(),
        last_hash,
        notes,
    })
}

/// All records, parsed (no chain check; run [`verify`] for that).
pub fn read_records(log_path: &Path) -> Result<Vec<Record>, VerifyError> {
    let text = match std::fs::read_to_string(log_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(VerifyError::Io {
                path: log_path.to_path_buf(),
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| tamper(i as u64 + 1, format!("not a valid record: {e}")))
        })
        .collect()
}
