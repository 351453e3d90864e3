//! `jingu audit repair`: seal a provably torn tail — bytes after the last complete line, left by
//! a write that was cut off (a crash, a full disk whose partial write could not be removed) — or
//! rebuild an unreadable head, but only when everything before is an intact chain. What was cut is
//! kept, whole, in a `repair` record (and signed by the checkpoint that follows it when a key is
//! configured); nothing is ever dropped silently, and a log damaged anywhere else is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::head::{self, Head};
use super::log::{AuditLog, read_tail};
use super::record::{GENESIS, RecordKind, sha256_hex};
use super::verify::{self, VerifyError};
use super::{AuditError, HEAD_FILE, io_err};

#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// `none`, `cut-torn-tail` or `rebuilt-head`.
    pub action: String,
    pub cut_bytes: u64,
    pub offset: u64,
    /// Sequence number of the `repair` record written, if any.
    pub repair_record: Option<u64>,
    pub message: String,
}

fn saved_path(state_dir: &Path, offset: u64) -> PathBuf {
    state_dir.join(format!("audit.torn-{offset}.bin"))
}

/// Fragments saved by an earlier repair that stopped before writing its record.
fn leftovers(state_dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(state_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let off = name
                .strip_prefix("audit.torn-")?
                .strip_suffix(".bin")?
                .parse()
                .ok()?;
            Some((off, e.path()))
        })
        .collect();
    out.sort();
    out
}

fn durable_file(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}

impl AuditLog {
    pub fn repair(&self) -> Result<RepairReport, AuditError> {
        super::off_runtime(|| self.repair_blocking())
    }

    pub(crate) fn repair_blocking(&self) -> Result<RepairReport, AuditError> {
        let state_dir = self.path().parent().unwrap_or(Path::new(".")).to_path_buf();
        let head_path = state_dir.join(HEAD_FILE);
        let refuse = |reason: String| AuditError::Damaged {
            path: self.path().to_path_buf(),
            reason: format!(
                "{reason}; `jingu audit repair` only seals a torn tail or rebuilds an unreadable head, it never rewrites records"
            ),
        };
        let mut lock = self.lock()?;
        let tail = read_tail(&mut lock.0, self.path())?;
        let bytes = std::fs::read(self.path()).map_err(io_err(self.path()))?;
        let prefix = &bytes[..tail.complete as usize];
        let key = self.checkpoint_key().map(|k| k.verifying_key());
        let checked = verify::check_lines(prefix, key.as_ref()).map_err(|e| match e {
            VerifyError::Tampered(t) => refuse(format!("the log is damaged before its tail: {t}")),
            VerifyError::Io { path, source } => AuditError::Io { path, source },
        })?;
        let head_state = head::read(&head_path);
        let mut probe = checked.report.clone();
        let head_ok = match &head_state {
            Ok(h) => match verify::check_head(h.as_ref(), &checked.line_hashes, &mut probe) {
                Ok(()) => true,
                Err(VerifyError::Tampered(t)) if h.is_some() => {
                    return Err(refuse(format!(
                        "the head disagrees with an intact chain: {t}"
                    )));
                }
                Err(_) => false, // missing head
            },
            Err(_) => false,
        };

        let (action, offset, cut, reason) = if tail.torn() {
            let cut = bytes[tail.complete as usize..].to_vec();
            // Keep the fragment durably before it leaves the log, so a crash mid-repair loses
            // nothing: the next repair finds it and records it.
            durable_file(&saved_path(&state_dir, tail.complete), &cut)?;
            self_truncate(&lock.0, tail.complete, self.path())?;
            if !head_ok {
                rebuild_head(&head_path, &checked.line_hashes)?;
            }
            (
                "cut-torn-tail",
                tail.complete,
                cut,
                "the last write was cut off before its newline (crash or full disk)".to_string(),
            )
        } else if let Some((off, saved)) = leftovers(&state_dir).into_iter().next() {
            let cut = std::fs::read(&saved).map_err(io_err(&saved))?;
            (
                "cut-torn-tail",
                off,
                cut,
                "a torn tail cut by an interrupted repair".to_string(),
            )
        } else if !head_ok {
            let old = std::fs::read(&head_path).unwrap_or_default();
            rebuild_head(&head_path, &checked.line_hashes)?;
            ("rebuilt-head", 0, old, "the head file was missing or unreadable; rebuilt from the intact chain (old content kept here)".to_string())
        } else {
            return Ok(RepairReport {
                action: "none".into(),
                cut_bytes: 0,
                offset: 0,
                repair_record: None,
                message: format!(
                    "nothing to repair: {} records, intact",
                    checked.report.records
                ),
            });
        };
        drop(lock);
        let kind = RecordKind::Repair {
            reason: reason.clone(),
            offset,
            cut_bytes: cut.len() as u64,
            cut_sha256: sha256_hex(&cut),
            cut_hex: hex::encode(&cut),
        };
        let ids = self.append_sealed(kind)?;
        for (_, saved) in leftovers(&state_dir) {
            let _ = std::fs::remove_file(saved);
        }
        Ok(RepairReport {
            action: action.into(),
            cut_bytes: cut.len() as u64,
            offset,
            repair_record: Some(ids),
            message: format!(
                "{reason}: {} bytes at offset {offset} recorded in repair record {ids}",
                cut.len()
            ),
        })
    }
}

fn self_truncate(f: &std::fs::File, len: u64, path: &Path) -> Result<(), AuditError> {
    f.set_len(len).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn rebuild_head(head_path: &Path, line_hashes: &[String]) -> Result<(), AuditError> {
    let line_hash = line_hashes
        .last()
        .cloned()
        .unwrap_or_else(|| GENESIS.to_string());
    head::write(
        head_path,
        &Head {
            seq: line_hashes.len() as u64,
            line_hash,
        },
        true,
    )
}
