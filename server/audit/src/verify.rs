//! Checking the chain: every line's own hash, its link to the line before, consecutive sequence
//! numbers, agreement with the head file, and the signatures of checkpoints. The first record
//! that fails is named.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::checkpoint::{self, PUBLIC_PREFIX};
use super::head::{self, Head};
use super::record::{GENESIS, Record, RecordKind, sha256_hex, split_hash};
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
    /// Checkpoints whose signature was checked against the configured key.
    pub checkpoints: u64,
    /// Records after the last checkpoint (not yet sealed by a signature).
    pub unsealed: u64,
    /// Non-fatal observations (a head that lags the log, repairs, unchecked checkpoints).
    pub notes: Vec<String>,
}

pub(super) fn tamper(seq: u64, reason: impl Into<String>) -> VerifyError {
    VerifyError::Tampered(TamperError {
        first_bad_seq: seq,
        reason: reason.into(),
    })
}

fn read_log(log_path: &Path) -> Result<Vec<u8>, VerifyError> {
    match std::fs::read(log_path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(VerifyError::Io {
            path: log_path.to_path_buf(),
            source,
        }),
    }
}

fn read_head(log_path: &Path) -> Result<Option<Head>, VerifyError> {
    head::read(&log_path.with_file_name(HEAD_FILE)).map_err(|e| match e {
        AuditError::Io { path, source } => VerifyError::Io { path, source },
        other => tamper(
            0,
            format!("{other}; run `jingu audit repair` to rebuild it"),
        ),
    })
}

/// Verify the log at `log_path` (its head file is read from the same directory), without a
/// checkpoint key: checkpoints are then only checked for consistency.
pub fn verify(log_path: &Path) -> Result<VerifyReport, VerifyError> {
    verify_with(log_path, None)
}

/// Verify with the public half of the checkpoint key, so forged checkpoints fail too.
pub fn verify_with(
    log_path: &Path,
    key: Option<&VerifyingKey>,
) -> Result<VerifyReport, VerifyError> {
    let bytes = read_log(log_path)?;
    let head = read_head(log_path)?;
    if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
        let n = bytes.split(|b| *b == b'\n').count() as u64;
        return Err(tamper(
            n,
            "the last record is incomplete (cut mid-line); if a write was interrupted, `jingu audit repair` seals it",
        ));
    }
    let checked = check_lines(&bytes, key)?;
    let mut report = checked.report;
    check_head(head.as_ref(), &checked.line_hashes, &mut report)?;
    Ok(report)
}

/// The chain of complete lines in `bytes` (which must end with a newline, or be empty).
pub(super) struct Checked {
    pub report: VerifyReport,
    /// Hash of each line, index = seq - 1.
    pub line_hashes: Vec<String>,
}

pub(super) fn check_lines(
    bytes: &[u8],
    key: Option<&VerifyingKey>,
) -> Result<Checked, VerifyError> {
    let mut prev_line_hash = GENESIS.to_string();
    let mut runs = BTreeSet::new();
    let mut last_hash = GENESIS.to_string();
    let mut line_hashes = Vec::new();
    let mut notes = Vec::new();
    let mut checkpoints = 0u64;
    let mut unchecked = 0u64;
    let mut last_checkpoint = 0u64;
    let mut run_end_pending: Option<u64> = None;
    let key_id = key.map(|k| format!("{PUBLIC_PREFIX}{}", hex::encode(k.to_bytes())));
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
        if let Some(end) = run_end_pending.take()
            && !matches!(
                rec.kind,
                RecordKind::Checkpoint { .. } | RecordKind::Repair { .. }
            )
            && key.is_some()
            && last_checkpoint > 0
        {
            return Err(tamper(
                end,
                "run end not sealed by a signed checkpoint (records forged after the key was in use?)",
            ));
        }
        match &rec.kind {
            RecordKind::Checkpoint {
                count,
                head_hash,
                key_id: kid,
                signature,
            } => {
                if *count + 1 != expected || *head_hash != prev_line_hash {
                    return Err(tamper(
                        expected,
                        format!("checkpoint claims {count} records with another head than the chain before it"),
                    ));
                }
                match key {
                    Some(k) => {
                        if key_id.as_deref() != Some(kid.as_str()) {
                            return Err(tamper(
                                expected,
                                format!("checkpoint signed by {kid}, not the configured key"),
                            ));
                        }
                        checkpoint::check(k, *count, head_hash, &rec.time, signature)
                            .map_err(|r| tamper(expected, r))?;
                        checkpoints += 1;
                    }
                    None => unchecked += 1,
                }
                last_checkpoint = expected;
            }
            RecordKind::RunEnd { .. } => run_end_pending = Some(expected),
            RecordKind::Repair {
                reason, cut_bytes, offset, ..
            } => notes.push(format!(
                "record {expected} is a repair: {reason} ({cut_bytes} bytes cut at offset {offset}, kept in the record)"
            )),
            _ => {}
        }
        prev_line_hash = sha256_hex(raw);
        line_hashes.push(prev_line_hash.clone());
        last_hash = rec.hash;
        runs.insert(rec.run_id);
    }
    if let Some(end) = run_end_pending
        && key.is_some()
        && last_checkpoint > 0
    {
        return Err(tamper(
            end,
            "run end not sealed by a signed checkpoint (records forged after the key was in use?)",
        ));
    }
    if unchecked > 0 {
        notes.push(format!(
            "{unchecked} checkpoint signatures not checked (no [audit] checkpoint_key_file configured)"
        ));
    }
    let records = line_hashes.len() as u64;
    Ok(Checked {
        report: VerifyReport {
            records,
            runs: runs.len(),
            last_hash,
            checkpoints,
            unsealed: records - last_checkpoint,
            notes,
        },
        line_hashes,
    })
}

/// The head must name a line the log has, at that position; it may lag (it is written lazily,
/// after the log is durable) but never lead.
pub(super) fn check_head(
    head: Option<&Head>,
    line_hashes: &[String],
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let count = line_hashes.len() as u64;
    match head {
        None if count == 0 => Ok(()),
        None => Err(tamper(count, "head file is missing")),
        Some(h) if h.seq > count => Err(tamper(
            count + 1,
            format!(
                "log ends at record {count} but the head says {} (tail truncated)",
                h.seq
            ),
        )),
        Some(h) if h.seq == 0 && h.line_hash == GENESIS => {
            if count > 0 {
                report.notes.push(format!(
                    "head lags the log by {count} records (updated after each durable append)"
                ));
            }
            Ok(())
        }
        Some(h) if h.seq > 0 && line_hashes[h.seq as usize - 1] == h.line_hash => {
            if h.seq < count {
                report.notes.push(format!(
                    "head lags the log by {} records (updated after each durable append)",
                    count - h.seq
                ));
            }
            Ok(())
        }
        Some(h) => Err(tamper(
            h.seq.min(count),
            format!("record {} is not the one the head names (rewritten)", h.seq),
        )),
    }
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
