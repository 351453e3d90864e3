//! Appending records: one writer at a time across processes (`flock`), chain continued from the
//! last line on disk, record and head fsynced before `append` returns.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::head::{self, Head};
use super::record::{self, Body, GENESIS, RecordKind, sha256_hex};
use super::{AuditError, HEAD_FILE, LOG_FILE, io_err};

/// Who is acting, in which run, under which policy: stamped on every record.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub run_id: String,
    pub subject: String,
    pub verified: bool,
    pub policy_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordId {
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    head_path: PathBuf,
    ctx: AuditContext,
}

/// A fresh run id: time-ordered prefix plus randomness.
pub fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{ms:x}-{:08x}", fastrand::u32(..))
}

/// Exclusive `flock` held for the guard's lifetime (released when the descriptor closes).
struct Locked(File);

impl Locked {
    fn acquire(file: File, path: &Path) -> Result<Self, AuditError> {
        loop {
            // flock(LOCK_EX), released when the descriptor closes.
            match file.lock() {
                Ok(()) => return Ok(Self(file)),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(path)(e)),
            }
        }
    }
}

/// The last complete line of `f` (without its newline), or `None` for an empty file.
fn last_line(f: &mut File, path: &Path) -> Result<Option<Vec<u8>>, AuditError> {
    let len = f.seek(SeekFrom::End(0)).map_err(io_err(path))?;
    if len == 0 {
        return Ok(None);
    }
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = len;
    loop {
        let step = pos.min(8192);
        pos -= step;
        f.seek(SeekFrom::Start(pos)).map_err(io_err(path))?;
        let mut chunk = vec![0u8; step as usize];
        f.read_exact(&mut chunk).map_err(io_err(path))?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
        if tail.last() != Some(&b'\n') {
            return Err(AuditError::Damaged {
                path: path.to_path_buf(),
                reason: "the last record is incomplete".into(),
            });
        }
        let body = &tail[..tail.len() - 1];
        if let Some(i) = body.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(body[i + 1..].to_vec()));
        }
        if pos == 0 {
            return Ok(Some(body.to_vec()));
        }
    }
}

impl AuditLog {
    /// The log of the workspace whose state lives in `state_dir` (created 0700 if missing).
    pub fn open(state_dir: &Path, ctx: AuditContext) -> Result<Self, AuditError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state_dir)
            .map_err(io_err(state_dir))?;
        Ok(Self {
            path: state_dir.join(LOG_FILE),
            head_path: state_dir.join(HEAD_FILE),
            ctx,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn context(&self) -> &AuditContext {
        &self.ctx
    }

    /// Durably append one record. Only when this returns `Ok` may the described action run.
    pub fn append(&self, kind: RecordKind) -> Result<RecordId, AuditError> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        let mut lock = Locked::acquire(file, &self.path)?;
        let last = last_line(&mut lock.0, &self.path)?;
        let (seq, prev) = match &last {
            None => (1, GENESIS.to_string()),
            Some(line) => (last_seq(line, &self.path)? + 1, sha256_hex(line)),
        };
        if self.check_head(seq - 1, &prev)? {
            // An interrupted append left the head one record behind: bring it level first, so
            // a second interrupted append leaves it one behind again, never two.
            head::write(
                &self.head_path,
                &Head {
                    seq: seq - 1,
                    line_hash: prev.clone(),
                },
            )?;
        }
        let time = super::time::now_rfc3339();
        let body = Body {
            seq,
            time: &time,
            run_id: &self.ctx.run_id,
            subject: &self.ctx.subject,
            verified: self.ctx.verified,
            policy_hash: &self.ctx.policy_hash,
            kind: &kind,
            prev: &prev,
        };
        let (line, hash) = record::encode(&body)?;
        let mut bytes = line.into_bytes();
        let line_hash = sha256_hex(&bytes);
        bytes.push(b'\n');
        lock.0.write_all(&bytes).map_err(io_err(&self.path))?;
        lock.0.sync_data().map_err(io_err(&self.path))?;
        head::write(&self.head_path, &Head { seq, line_hash })?;
        Ok(RecordId { seq, hash })
    }

    /// Refuse to extend a log whose head disagrees with its last line: appending would otherwise
    /// paper over a truncated tail. A head one record behind is an interrupted append: `Ok(true)`,
    /// the head needs bringing level.
    fn check_head(&self, last_seq: u64, last_line_hash: &str) -> Result<bool, AuditError> {
        let damaged = |reason: String| AuditError::Damaged {
            path: self.path.clone(),
            reason,
        };
        match head::read(&self.head_path)? {
            None if last_seq == 0 => Ok(false),
            // The first append was interrupted after its record.
            None if last_seq == 1 => Ok(true),
            None => Err(damaged("the head file is missing".into())),
            Some(h) if h.seq == last_seq && h.line_hash == last_line_hash => Ok(false),
            Some(h) if h.seq + 1 == last_seq => Ok(true),
            Some(h) => Err(damaged(format!(
                "head says record {} but the log ends at record {last_seq}",
                h.seq
            ))),
        }
    }
}

fn last_seq(line: &[u8], path: &Path) -> Result<u64, AuditError> {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_u64))
        .ok_or_else(|| AuditError::Damaged {
            path: path.to_path_buf(),
            reason: "the last record is not valid".into(),
        })
}

impl AuditLog {
    /// Record `kind`, then run `action` — and only if the record is durably written. This is the
    /// shape every audited action should take: no record, no action.
    pub fn record_then<T>(
        &self,
        kind: RecordKind,
        action: impl FnOnce(&RecordId) -> T,
    ) -> Result<T, AuditError> {
        let id = self.append(kind)?;
        Ok(action(&id))
    }
}
