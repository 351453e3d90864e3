//! Appending records: one writer at a time across processes (`flock`), chain continued from the
//! last line on disk. The records of one action go out as ONE write and ONE `fsync`; a write or
//! `fsync` that fails is cut back off before the lock is released, so a full disk leaves the log
//! exactly as it was. `audit.head` is refreshed afterwards without an fsync of its own (it may lag
//! the log after a crash, never lead it). Then every configured sink receives the records; a
//! required sink that cannot be reached refuses the action.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::checkpoint::{self, CheckpointKey};
use super::config::AuditOptions;
use super::disk::{Disk, RealDisk};
use super::head::{self, Head};
use super::otlp;
use super::record::{self, Body, GENESIS, Record, RecordKind, sha256_hex};
use super::sink::{self, ChainInfo, Sink};
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

#[derive(Debug)]
struct Shared {
    key: Option<CheckpointKey>,
    every: u64,
    sinks: Vec<Arc<Sink>>,
    /// OpenTelemetry collectors (`[audit.otlp]`): told after the write, never waited for.
    otlp: Vec<Arc<otlp::Exporter>>,
    chain: ChainInfo,
    /// Records of this run not written yet (they describe no action on their own); they go out
    /// with the next append, in the same write.
    staged: Mutex<Vec<(String, RecordKind)>>,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    head_path: PathBuf,
    ctx: AuditContext,
    shared: Arc<Shared>,
    disk: Arc<dyn Disk>,
}

/// A sink's URL and how many spooled records it received.
pub type FlushResult = (String, Result<u64, sink::SinkError>);

/// A fresh run id: time-ordered prefix plus randomness.
pub fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{ms:x}-{:08x}", fastrand::u32(..))
}

/// Exclusive `flock` held for the guard's lifetime (released when the descriptor closes).
pub(super) struct Locked(pub File);

impl Locked {
    pub(super) fn acquire(file: File, path: &Path) -> Result<Self, AuditError> {
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

/// The end of the log: its length, where its last complete line ends, and that line.
pub(super) struct Tail {
    pub len: u64,
    /// Offset just past the last newline (== `len` unless the last write was torn).
    pub complete: u64,
    pub last_line: Option<Vec<u8>>,
}

impl Tail {
    pub(crate) fn torn(&self) -> bool {
        self.complete < self.len
    }
}

pub(super) fn read_tail(f: &mut File, path: &Path) -> Result<Tail, AuditError> {
    let len = f.seek(SeekFrom::End(0)).map_err(io_err(path))?;
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = len;
    let mut complete = None;
    loop {
        if pos == 0 {
            let complete = complete.unwrap_or(0);
            let body = &tail[..(complete as usize).saturating_sub(1).min(tail.len())];
            let last = (complete > 0).then(|| match body.iter().rposition(|b| *b == b'\n') {
                Some(i) => body[i + 1..].to_vec(),
                None => body.to_vec(),
            });
            return Ok(Tail {
                len,
                complete,
                last_line: last,
            });
        }
        let step = pos.min(8192);
        pos -= step;
        f.seek(SeekFrom::Start(pos)).map_err(io_err(path))?;
        let mut chunk = vec![0u8; step as usize];
        f.read_exact(&mut chunk).map_err(io_err(path))?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
        // `tail` now holds bytes pos..len.
        if complete.is_none()
            && let Some(i) = tail.iter().rposition(|b| *b == b'\n')
        {
            complete = Some(pos + i as u64 + 1);
        }
        if let Some(c) = complete {
            let end = (c - pos) as usize - 1;
            if let Some(i) = tail[..end].iter().rposition(|b| *b == b'\n') {
                return Ok(Tail {
                    len,
                    complete: c,
                    last_line: Some(tail[i + 1..end].to_vec()),
                });
            }
        }
    }
}

/// `host`, read without a syscall wrapper.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The id a sink files this log's records under: stable for a state directory on a host, so a
/// log deleted and started over still lands on (and collides with) its old chain in the sink.
pub fn chain_id(state_dir: &Path) -> String {
    let dir = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let seed = format!("jingu-audit-chain\0{}\0{}", hostname(), dir.display());
    sha256_hex(seed.as_bytes())[..32].to_string()
}

/// Lines being assembled for one write.
struct Batch<'a> {
    ctx: &'a AuditContext,
    seq: u64,
    /// Hash of the last line so far.
    prev: String,
    bytes: Vec<u8>,
    fresh: Vec<String>,
    /// The last line pushed was a checkpoint (no second one over the same head).
    sealed: bool,
}

impl Batch<'_> {
    fn push(&mut self, kind: &RecordKind, time: &str) -> Result<String, AuditError> {
        self.seq += 1;
        let body = Body {
            seq: self.seq,
            time,
            run_id: &self.ctx.run_id,
            subject: &self.ctx.subject,
            verified: self.ctx.verified,
            policy_hash: &self.ctx.policy_hash,
            kind,
            prev: &self.prev,
        };
        let (line, hash) = record::encode(&body)?;
        self.prev = sha256_hex(line.as_bytes());
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        self.fresh.push(line);
        self.sealed = matches!(kind, RecordKind::Checkpoint { .. });
        Ok(hash)
    }

    /// Sign everything so far (nothing without a key).
    fn checkpoint(&mut self, key: Option<&CheckpointKey>) -> Result<(), AuditError> {
        let Some(key) = key else { return Ok(()) };
        if self.sealed {
            return Ok(());
        }
        let time = super::time::now_rfc3339();
        let kind = RecordKind::Checkpoint {
            count: self.seq,
            head_hash: self.prev.clone(),
            key_id: key.key_id(),
            signature: key.sign(self.seq, &self.prev, &time),
        };
        self.push(&kind, &time).map(drop)
    }
}

/// One record to write, or a checkpoint to sign over everything before it.
enum Item {
    Record(String, RecordKind),
    Checkpoint,
}

impl AuditLog {
    /// The log of the workspace whose state lives in `state_dir` (created 0700 if missing).
    pub fn open(state_dir: &Path, ctx: AuditContext) -> Result<Self, AuditError> {
        Self::open_with(state_dir, ctx, &AuditOptions::default())
    }

    /// As [`AuditLog::open`], with the sinks and checkpoint key of the effective policy. A key
    /// or sink that is configured but unusable is an error: auditing is never quietly reduced.
    pub fn open_with(
        state_dir: &Path,
        ctx: AuditContext,
        opts: &AuditOptions,
    ) -> Result<Self, AuditError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state_dir)
            .map_err(io_err(state_dir))?;
        let key = opts
            .checkpoint_key_file
            .as_deref()
            .map(CheckpointKey::read)
            .transpose()?;
        let sinks = opts
            .sinks
            .iter()
            .map(sink::get)
            .collect::<Result<Vec<_>, _>>()
            .map_err(AuditError::Sink)?;
        let otlp = opts
            .otlp
            .iter()
            .filter_map(|c| match otlp::get(c) {
                Ok(e) => Some(e),
                // An export is a copy for observability, not a witness: say so and go on.
                Err(e) => {
                    tracing::warn!("{e}; audit records are not exported there");
                    None
                }
            })
            .collect();
        let every = match opts.checkpoint_every {
            0 => checkpoint::DEFAULT_EVERY,
            n => n,
        };
        Ok(Self {
            path: state_dir.join(LOG_FILE),
            head_path: state_dir.join(HEAD_FILE),
            ctx,
            shared: Arc::new(Shared {
                key,
                every,
                sinks,
                otlp,
                chain: ChainInfo {
                    chain_id: chain_id(state_dir),
                    workspace: opts.workspace.clone(),
                    host: hostname(),
                },
                staged: Mutex::new(Vec::new()),
            }),
            disk: Arc::new(RealDisk),
        })
    }

    /// Replace the disk seam (tests inject full or failing disks through it).
    #[doc(hidden)]
    pub fn with_disk(mut self, disk: Arc<dyn Disk>) -> Self {
        self.disk = disk;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn context(&self) -> &AuditContext {
        &self.ctx
    }

    pub fn sinks(&self) -> &[Arc<Sink>] {
        &self.shared.sinks
    }

    pub fn chain(&self) -> &ChainInfo {
        &self.shared.chain
    }

    pub fn checkpoint_key(&self) -> Option<&CheckpointKey> {
        self.shared.key.as_ref()
    }

    /// Durably append one record (one write, one fsync, every sink). Only when this returns `Ok`
    /// may the described action run.
    pub fn append(&self, kind: RecordKind) -> Result<RecordId, AuditError> {
        let ids = self.append_batch(vec![kind])?;
        ids.into_iter().last().ok_or_else(|| AuditError::Damaged {
            path: self.path.clone(),
            reason: "no record was written".into(),
        })
    }

    /// Durably append the records of one action together: one write, one fsync, one insert per
    /// sink. Returns their ids in order (staged records and checkpoints not included).
    pub fn append_batch(&self, kinds: Vec<RecordKind>) -> Result<Vec<RecordId>, AuditError> {
        let now = super::time::now_rfc3339();
        let items = kinds
            .into_iter()
            .map(|k| Item::Record(now.clone(), k))
            .collect();
        self.commit(items, true)
    }

    /// Durably append `kind` followed by a signed checkpoint (when a key is configured); returns
    /// the record's sequence number.
    pub fn append_sealed(&self, kind: RecordKind) -> Result<u64, AuditError> {
        let items = vec![
            Item::Record(super::time::now_rfc3339(), kind),
            Item::Checkpoint,
        ];
        let ids = self.commit(items, true)?;
        ids.last()
            .map(|id| id.seq)
            .ok_or_else(|| AuditError::Damaged {
                path: self.path.clone(),
                reason: "no record was written".into(),
            })
    }

    /// Hold `kind` until the next append: for records that describe no action by themselves
    /// (the start of a run), so they share that append's write and fsync.
    pub fn stage(&self, kind: RecordKind) {
        self.shared
            .staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((super::time::now_rfc3339(), kind));
    }

    /// Close a run: its end record and a signed checkpoint, sent to every sink but not fsynced
    /// locally — nothing runs after it, and a crash that loses it leaves a consistent prefix.
    pub fn end_run(&self, status: &str) -> Result<(), AuditError> {
        let items = vec![
            Item::Record(
                super::time::now_rfc3339(),
                RecordKind::RunEnd {
                    status: status.to_string(),
                },
            ),
            Item::Checkpoint,
        ];
        let result = self.commit(items, false).map(drop);
        self.flush_otlp();
        result
    }

    /// Send what the OpenTelemetry exporters queued, each bounded by its timeout; a collector
    /// that does not take it is a warning.
    pub fn flush_otlp(&self) {
        if self.shared.otlp.is_empty() {
            return;
        }
        super::off_runtime(|| {
            for o in &self.shared.otlp {
                if let Err(e) = o.flush() {
                    tracing::warn!("{e}");
                }
            }
        });
    }

    /// Send spooled records (in the local log, not yet in a sink) to every sink, in order.
    /// Returns how many records each sink received.
    pub fn flush_sinks(&self) -> Result<Vec<FlushResult>, AuditError> {
        super::off_runtime(|| {
            let lock = self.lock()?;
            let mut f = lock.0.try_clone().map_err(io_err(&self.path))?;
            let tail = read_tail(&mut f, &self.path)?;
            let last = match &tail.last_line {
                None => 0,
                Some(l) => last_seq(l, &self.path)?,
            };
            let path = self.path.clone();
            let mut out = Vec::new();
            for s in &self.shared.sinks {
                let r = s.deliver(
                    &self.shared.chain,
                    last,
                    &[],
                    &mut |a, b| read_lines(&path, a, b),
                    true,
                );
                out.push((s.config.display_url(), r));
            }
            drop(lock);
            Ok(out)
        })
    }

    pub(super) fn lock(&self) -> Result<Locked, AuditError> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        Locked::acquire(file, &self.path)
    }

    fn commit(&self, items: Vec<Item>, durable: bool) -> Result<Vec<RecordId>, AuditError> {
        let staged =
            std::mem::take(&mut *self.shared.staged.lock().unwrap_or_else(|p| p.into_inner()));
        let mut all: Vec<Item> = staged
            .iter()
            .cloned()
            .map(|(t, k)| Item::Record(t, k))
            .collect();
        all.extend(items);
        let result = super::off_runtime(|| self.commit_locked(all, durable));
        if let Err(
            AuditError::Unwritten { .. } | AuditError::Damaged { .. } | AuditError::Io { .. },
        ) = &result
        {
            // Nothing was written: keep the staged records for the next attempt.
            let mut s = self.shared.staged.lock().unwrap_or_else(|p| p.into_inner());
            let later = std::mem::take(&mut *s);
            *s = staged;
            s.extend(later);
        }
        result
    }

    fn commit_locked(&self, items: Vec<Item>, durable: bool) -> Result<Vec<RecordId>, AuditError> {
        let mut lock = self.lock()?;
        let mut tail = read_tail(&mut lock.0, &self.path)?;
        if tail.torn() {
            // We hold the lock, so the writer that left these bytes is gone (killed mid-write, or
            // a partial write a failing disk would not let it remove); its action never ran, as
            // records go out first. Seal them the way `jingu audit repair` does — only over an
            // intact chain whose head does not lead the log, the bytes kept whole in a `repair`
            // record — instead of blocking every later action on a manual step.
            drop(lock);
            let report = self.repair_blocking().map_err(|e| AuditError::Damaged {
                path: self.path.clone(),
                reason: format!(
                    "the last record is incomplete ({} bytes of a cut-off write) and could not be sealed: {e}",
                    tail.len - tail.complete
                ),
            })?;
            tracing::warn!(
                "audit log {}: {} (an earlier run was interrupted while writing)",
                self.path.display(),
                report.message
            );
            lock = self.lock()?;
            tail = read_tail(&mut lock.0, &self.path)?;
            if tail.torn() {
                return Err(AuditError::Damaged {
                    path: self.path.clone(),
                    reason: format!(
                        "the last record is incomplete again ({} bytes) right after it was sealed; run `jingu audit verify`",
                        tail.len - tail.complete
                    ),
                });
            }
        }
        let (seq, prev) = match &tail.last_line {
            None => (0, GENESIS.to_string()),
            Some(line) => (last_seq(line, &self.path)?, sha256_hex(line)),
        };
        self.check_head(seq, &prev)?;

        let mut batch = Batch {
            ctx: &self.ctx,
            seq,
            prev,
            bytes: Vec::new(),
            fresh: Vec::new(),
            sealed: false,
        };
        let key = self.shared.key.as_ref();
        let mut ids = Vec::new();
        for item in &items {
            match item {
                Item::Record(time, kind) => {
                    let hash = batch.push(kind, time)?;
                    ids.push(RecordId {
                        seq: batch.seq,
                        hash,
                    });
                    if self.shared.every > 0 && batch.seq.is_multiple_of(self.shared.every) {
                        batch.checkpoint(key)?;
                    }
                }
                Item::Checkpoint => batch.checkpoint(key)?,
            }
        }
        let Batch {
            seq,
            prev,
            bytes,
            fresh,
            ..
        } = batch;

        if let Err(e) = self.disk.write_all(&mut lock.0, &bytes) {
            return Err(self.roll_back(&lock.0, tail.len, "write", e));
        }
        if durable && let Err(e) = self.disk.sync(&lock.0) {
            return Err(self.roll_back(&lock.0, tail.len, "fsync", e));
        }
        if durable
            && let Err(e) = head::write(
                &self.head_path,
                &Head {
                    seq,
                    line_hash: prev.clone(),
                },
                false,
            )
        {
            // The log is durable and is the truth; a stale head only lags it.
            tracing::warn!("audit head not updated ({e}); the log itself is intact");
        }

        let path = self.path.clone();
        let mut refusal = None;
        for s in &self.shared.sinks {
            // Records fsynced locally describe an action about to run: wait for the sink. A run's
            // end (not fsynced: nothing runs after it) is pipelined instead.
            match s.deliver(
                &self.shared.chain,
                seq,
                &fresh,
                &mut |a, b| read_lines(&path, a, b),
                durable,
            ) {
                Ok(_) => {}
                Err(e) if s.config.required => {
                    refusal.get_or_insert(e);
                }
                Err(e) => tracing::warn!(
                    "{e}; records are spooled in {} and will be sent in order when it returns (`jingu audit flush`)",
                    self.path.display()
                ),
            }
        }
        drop(lock);
        for o in &self.shared.otlp {
            o.export(&self.shared.chain, &fresh);
        }
        match refusal {
            Some(e) => Err(AuditError::SinkRequired(e)),
            None => Ok(ids),
        }
    }

    /// Cut a failed write back off so the log is exactly its old prefix again.
    fn roll_back(&self, f: &File, len: u64, what: &str, e: std::io::Error) -> AuditError {
        let undone = self.disk.truncate(f, len);
        if undone.is_ok() {
            // Best effort: readers already see the old length; the disk may be failing.
            let _ = self.disk.sync(f);
        }
        AuditError::Unwritten {
            path: self.path.clone(),
            what: what.to_string(),
            source: e,
            rolled_back: undone.is_ok(),
        }
    }

    /// Refuse to extend a log whose head disagrees with its last line: appending would otherwise
    /// paper over a cut or rewritten tail. A head behind the log is a lazy update, not damage.
    fn check_head(&self, last_seq: u64, last_line_hash: &str) -> Result<(), AuditError> {
        let damaged = |reason: String| AuditError::Damaged {
            path: self.path.clone(),
            reason,
        };
        match head::read(&self.head_path)? {
            // A new log: its head exists before its first record does.
            None if last_seq == 0 => head::write(
                &self.head_path,
                &Head {
                    seq: 0,
                    line_hash: GENESIS.to_string(),
                },
                true,
            ),
            None => Err(damaged("the head file is missing".into())),
            Some(h) if h.seq == last_seq && h.line_hash != last_line_hash => Err(damaged(format!(
                "record {last_seq} is not the one the head names (rewritten)"
            ))),
            Some(h) if h.seq > last_seq => Err(damaged(format!(
                "head says record {} but the log ends at record {last_seq} (tail cut)",
                h.seq
            ))),
            Some(_) => Ok(()),
        }
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // The last handle of a run that staged records but never appended: write them out.
        if Arc::strong_count(&self.shared) == 1 {
            let pending = !self
                .shared
                .staged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty();
            if pending && let Err(e) = self.commit(Vec::new(), true) {
                tracing::error!("staged audit records could not be written: {e}");
            }
            self.flush_otlp();
            for s in &self.shared.sinks {
                for e in super::off_runtime(|| s.settle()) {
                    tracing::warn!(
                        "{e}; records are spooled in {} and will be sent in order when it returns (`jingu audit flush`)",
                        self.path.display()
                    );
                }
            }
        }
    }
}

impl Clone for Item {
    fn clone(&self) -> Self {
        match self {
            Item::Record(t, k) => Item::Record(t.clone(), k.clone()),
            Item::Checkpoint => Item::Checkpoint,
        }
    }
}

pub(super) fn last_seq(line: &[u8], path: &Path) -> Result<u64, AuditError> {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_u64))
        .ok_or_else(|| AuditError::Damaged {
            path: path.to_path_buf(),
            reason: "the last record is not valid".into(),
        })
}

/// Lines `from..=to` (1-based) of the log, for catching a sink up.
fn read_lines(path: &Path, from: u64, to: u64) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .skip(from.saturating_sub(1) as usize)
        .take((to + 1).saturating_sub(from) as usize)
        .map(str::to_string)
        .collect();
    for (i, l) in lines.iter().enumerate() {
        let want = from + i as u64;
        match serde_json::from_str::<Record>(l) {
            Ok(r) if r.seq == want => {}
            _ => return Err(format!("local record {want} is missing or unreadable")),
        }
    }
    if lines.len() as u64 != (to + 1).saturating_sub(from) {
        return Err(format!("the local log has no records {from}..{to}"));
    }
    Ok(lines)
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
