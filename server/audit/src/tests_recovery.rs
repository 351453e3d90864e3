//! Recovery without loss of evidence: a full or failing disk mid-append, torn tails, `repair`,
//! one write and one fsync per action, and signed checkpoints.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::record::{self, sha256_hex};
use super::*;

fn ctx(run: &str) -> AuditContext {
    AuditContext {
        run_id: run.into(),
        subject: "alice@example.com".into(),
        verified: true,
        policy_hash: "ab".repeat(32),
    }
}

fn tool(i: u64) -> RecordKind {
    RecordKind::ToolCall {
        tool: "read".into(),
        args: serde_json::json!({ "i": i }),
    }
}

/// A disk that counts writes and fsyncs and can fail like a full one.
#[derive(Debug, Default)]
struct FaultyDisk {
    writes: AtomicUsize,
    syncs: AtomicUsize,
    /// Write only this many bytes, then fail with ENOSPC.
    short_write: Mutex<Option<usize>>,
    fail_sync: AtomicBool,
    fail_truncate: AtomicBool,
}

impl Disk for FaultyDisk {
    fn write_all(&self, file: &mut std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(k) = *self.short_write.lock().expect("lock") {
            file.write_all(&bytes[..k.min(bytes.len())])?;
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        file.write_all(bytes)
    }
    fn sync(&self, file: &std::fs::File) -> std::io::Result<()> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        file.sync_data()
    }
    fn truncate(&self, file: &std::fs::File, len: u64) -> std::io::Result<()> {
        if self.fail_truncate.load(Ordering::SeqCst) {
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        file.set_len(len)
    }
}

fn faulty(dir: &Path, key: Option<&Path>, every: u64) -> (AuditLog, Arc<FaultyDisk>) {
    let disk = Arc::new(FaultyDisk::default());
    let opts = AuditOptions {
        checkpoint_key_file: key.map(Path::to_path_buf),
        checkpoint_every: every,
        ..Default::default()
    };
    let log = AuditLog::open_with(dir, ctx("run-a"), &opts)
        .expect("open")
        .with_disk(disk.clone());
    (log, disk)
}

fn state(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join(LOG_FILE)).unwrap_or_default(),
        std::fs::read(dir.join(HEAD_FILE)).unwrap_or_default(),
    )
}

#[test]
fn disk_full_mid_write_leaves_the_log_exactly_as_it_was() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, disk) = faulty(dir.path(), None, 0);
    for i in 0..3 {
        log.append(tool(i)).expect("append");
    }
    let before = state(dir.path());
    *disk.short_write.lock().expect("lock") = Some(40);
    let err = log
        .append_batch(vec![tool(10), tool(11)])
        .expect_err("a full disk must refuse the action");
    let msg = err.to_string();
    assert!(
        msg.contains("log is unchanged") && msg.contains("not run"),
        "{msg}"
    );
    assert_eq!(state(dir.path()), before, "log and head untouched");
    assert!(!dir.path().join("audit.head.tmp").exists());
    assert_eq!(verify(log.path()).expect("still intact").records, 3);
    // Space comes back: the next action is recorded, nothing is blocked.
    *disk.short_write.lock().expect("lock") = None;
    log.append(tool(12))
        .expect("append after the disk recovers");
    let report = verify(log.path()).expect("intact");
    assert_eq!(report.records, 4);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[test]
fn failed_fsync_is_cut_back_off() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, disk) = faulty(dir.path(), None, 0);
    log.append(tool(0)).expect("append");
    let before = state(dir.path());
    disk.fail_sync.store(true, Ordering::SeqCst);
    assert!(log.append(tool(1)).is_err());
    assert_eq!(state(dir.path()), before);
    disk.fail_sync.store(false, Ordering::SeqCst);
    log.append(tool(2)).expect("append");
    assert_eq!(verify(log.path()).expect("intact").records, 2);
}

#[test]
fn partial_write_that_cannot_be_removed_is_repaired_with_its_bytes_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, disk) = faulty(dir.path(), None, 0);
    for i in 0..2 {
        log.append(tool(i)).expect("append");
    }
    let intact = std::fs::read(log.path()).expect("read");
    *disk.short_write.lock().expect("lock") = Some(57);
    disk.fail_truncate.store(true, Ordering::SeqCst);
    let err = log.append(tool(9)).expect_err("refused");
    assert!(err.to_string().contains("jingu audit repair"), "{err}");
    let torn = std::fs::read(log.path()).expect("read");
    assert_eq!(torn.len(), intact.len() + 57);
    *disk.short_write.lock().expect("lock") = None;
    disk.fail_truncate.store(false, Ordering::SeqCst);

    match verify(log.path()) {
        Err(VerifyError::Tampered(t)) => assert!(t.reason.contains("repair"), "{t}"),
        other => panic!("torn tail not reported: {other:?}"),
    }

    let report = log.repair().expect("repair");
    assert_eq!(report.action, "cut-torn-tail");
    assert_eq!(report.cut_bytes, 57);
    assert_eq!(report.offset, intact.len() as u64);
    let recs = read_records(log.path()).expect("records");
    let RecordKind::Repair {
        cut_hex,
        cut_sha256,
        cut_bytes,
        ..
    } = &recs[2].kind
    else {
        panic!("record 3 is not a repair: {:?}", recs[2]);
    };
    let cut = hex::decode(cut_hex).expect("hex");
    assert_eq!(cut, torn[intact.len()..], "the cut bytes are kept whole");
    assert_eq!(*cut_sha256, sha256_hex(&cut));
    assert_eq!(*cut_bytes, 57);
    let v = verify(log.path()).expect("intact after repair");
    assert!(
        v.notes.iter().any(|n| n.contains("repair")),
        "{:?}",
        v.notes
    );
    log.append(tool(4)).expect("appends work again");
    assert_eq!(verify(log.path()).expect("intact").records, 4);
    assert!(
        std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with("audit.torn-")),
        "the saved fragment is removed once its record is durable"
    );
}

/// The writer that tore the tail is gone (we hold the lock): the next append seals it with the
/// bytes kept, then goes ahead — a killed `jingu edit` does not block every later action.
#[test]
fn next_append_seals_a_torn_tail_with_its_bytes_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    for i in 0..2 {
        log.append(tool(i)).expect("append");
    }
    let intact = std::fs::read(log.path()).expect("read");
    let fragment = b"{\"seq\":3,\"time\":\"2026-";
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open");
    f.write_all(fragment).expect("write");
    drop(f);
    log.append(tool(7))
        .expect("the next append seals and proceeds");
    let recs = read_records(log.path()).expect("records");
    let RecordKind::Repair {
        cut_hex, offset, ..
    } = &recs[2].kind
    else {
        panic!("record 3 is not a repair: {:?}", recs[2]);
    };
    assert_eq!(hex::decode(cut_hex).expect("hex"), fragment);
    assert_eq!(*offset, intact.len() as u64);
    assert!(
        recs.iter()
            .skip(3)
            .any(|r| matches!(&r.kind, RecordKind::ToolCall { .. })),
        "{recs:?}"
    );
    assert_eq!(verify(log.path()).expect("intact").records, 4);
}

/// Sealing on append never covers tampering: a log edited before its torn tail still refuses.
#[test]
fn append_refuses_a_torn_tail_over_a_damaged_chain() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    for i in 0..4 {
        log.append(tool(i)).expect("append");
    }
    let text = std::fs::read_to_string(log.path()).expect("read");
    std::fs::write(log.path(), text.replacen("\"i\":1", "\"i\":7", 1)).expect("write");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open");
    f.write_all(b"{\"seq\":5").expect("write");
    drop(f);
    let before = state(dir.path());
    let err = log.append(tool(9)).expect_err("must refuse");
    assert!(err.to_string().contains("could not be sealed"), "{err}");
    assert!(err.to_string().contains("damaged before its tail"), "{err}");
    assert_eq!(state(dir.path()), before, "nothing changed");
}

#[test]
fn crash_torn_tail_is_sealed_and_a_second_repair_does_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    for i in 0..3 {
        log.append(tool(i)).expect("append");
    }
    // A crash mid-write: half a record, no newline.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open");
    f.write_all(b"{\"seq\":4,\"time\":\"2026-").expect("write");
    drop(f);
    assert_eq!(log.repair().expect("repair").action, "cut-torn-tail");
    let again = log.repair().expect("repair");
    assert_eq!(again.action, "none", "{}", again.message);
    assert_eq!(verify(log.path()).expect("intact").records, 4);
}

#[test]
fn repair_refuses_damage_that_is_not_a_torn_tail() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    for i in 0..4 {
        log.append(tool(i)).expect("append");
    }
    let text = std::fs::read_to_string(log.path()).expect("read");
    let edited = text.replacen("\"i\":1", "\"i\":7", 1);
    std::fs::write(log.path(), &edited).expect("write");
    // Also tear the tail: repair still must not touch a log damaged before it.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open");
    f.write_all(b"{\"seq\":5").expect("write");
    drop(f);
    let before = state(dir.path());
    let err = log.repair().expect_err("must refuse");
    assert!(err.to_string().contains("damaged before its tail"), "{err}");
    assert_eq!(state(dir.path()), before, "nothing changed");

    // A cut tail (head ahead of the log) is tampering, not a torn write: refused too.
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    for i in 0..4 {
        log.append(tool(i)).expect("append");
    }
    let text = std::fs::read_to_string(log.path()).expect("read");
    let kept: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(log.path(), kept).expect("write");
    assert!(log.repair().is_err());
}

#[test]
fn unreadable_head_is_rebuilt_with_a_record_of_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), None, 0);
    log.append(tool(0)).expect("append");
    std::fs::write(dir.path().join(HEAD_FILE), b"").expect("empty head");
    assert!(log.append(tool(1)).is_err());
    let r = log.repair().expect("repair");
    assert_eq!(r.action, "rebuilt-head");
    assert_eq!(verify(log.path()).expect("intact").records, 2);
}

#[test]
fn one_action_is_one_write_and_one_fsync() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, disk) = faulty(dir.path(), None, 0);
    log.stage(RecordKind::RunStart {
        instruction: "edit".into(),
    });
    log.stage(RecordKind::PolicyDecision {
        tool: "edit".into(),
        path: Some("a.rs".into()),
        decision: "allow".into(),
        reason: None,
    });
    assert_eq!(
        disk.writes.load(Ordering::SeqCst),
        0,
        "staging writes nothing"
    );
    log.append(tool(1)).expect("append");
    assert_eq!(disk.writes.load(Ordering::SeqCst), 1);
    assert_eq!(disk.syncs.load(Ordering::SeqCst), 1);
    log.end_run("ok").expect("end");
    assert_eq!(disk.writes.load(Ordering::SeqCst), 2);
    assert_eq!(
        disk.syncs.load(Ordering::SeqCst),
        1,
        "the run's end describes no action and is not fsynced"
    );
    let kinds: Vec<&str> = read_records(log.path())
        .expect("records")
        .iter()
        .map(|r| r.kind.name())
        .collect();
    assert_eq!(
        kinds,
        ["run_start", "policy_decision", "tool_call", "run_end"]
    );
    assert_eq!(verify(log.path()).expect("intact").records, 4);
}

#[test]
fn staged_records_survive_a_refused_append() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, disk) = faulty(dir.path(), None, 0);
    log.append(tool(0)).expect("append");
    log.stage(RecordKind::RunStart {
        instruction: "x".into(),
    });
    *disk.short_write.lock().expect("lock") = Some(0);
    assert!(log.append(tool(1)).is_err());
    *disk.short_write.lock().expect("lock") = None;
    log.append(tool(2)).expect("append");
    let kinds: Vec<String> = read_records(log.path())
        .expect("records")
        .iter()
        .map(|r| r.kind.name().to_string())
        .collect();
    assert_eq!(kinds, ["tool_call", "run_start", "tool_call"]);
}

fn key_file(dir: &Path, seed: u8) -> std::path::PathBuf {
    let p = dir.join(format!("ckpt-{seed}.key"));
    std::fs::write(&p, format!("ed25519-secret:{}\n", hex::encode([seed; 32]))).expect("key");
    p
}

/// Rewrite record `at` and recompute every hash, link and the head after it: what a writer
/// who knows the format (but not the key) can do.
fn rewrite_and_rechain(dir: &Path, at: usize, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(LOG_FILE)).expect("read");
    let mut prev = record::GENESIS.to_string();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let (body, _) = record::split_hash(line).expect("split");
        let mut v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["prev"] = prev.clone().into();
        if v["kind"] == "checkpoint" {
            // The best a forger can do: restate the head, but the signature cannot follow.
            v["head_hash"] = prev.clone().into();
        }
        let mut body = serde_json::to_string(&v).expect("enc");
        if i + 1 == at {
            body = body.replace(from, to);
        }
        let hash = sha256_hex(body.as_bytes());
        let mut line = body;
        line.pop();
        line.push_str(&format!(",\"hash\":\"{hash}\"}}"));
        prev = sha256_hex(line.as_bytes());
        out.push_str(&line);
        out.push('\n');
    }
    let n = out.lines().count();
    std::fs::write(dir.join(LOG_FILE), out).expect("write");
    std::fs::write(
        dir.join(HEAD_FILE),
        serde_json::json!({"seq": n, "line_hash": prev}).to_string(),
    )
    .expect("head");
}

#[test]
fn signed_checkpoints_catch_a_recomputed_chain() {
    let keys = tempfile::tempdir().expect("tmp");
    let key = key_file(keys.path(), 7);
    let pubkey = CheckpointKey::read(&key).expect("key").verifying_key();
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), Some(&key), 4);
    for i in 0..9 {
        log.append(tool(i)).expect("append");
    }
    log.end_run("ok").expect("end");
    let r = verify_with(log.path(), Some(&pubkey)).expect("intact");
    // Checkpoints after records 4 and 9 (+1 for the first checkpoint), and at run end.
    assert_eq!(r.checkpoints, 3, "{r:?}");
    assert_eq!(r.unsealed, 0);
    // Without the key verify still passes but says what it could not check.
    let r = verify(log.path()).expect("intact");
    assert!(
        r.notes.iter().any(|n| n.contains("not checked")),
        "{:?}",
        r.notes
    );

    // Edit record 2 and recompute the whole chain and head: hashes all agree again, yet the
    // checkpoints no longer verify.
    rewrite_and_rechain(dir.path(), 2, "\"i\":1", "\"i\":666");
    assert!(
        verify(log.path()).is_ok(),
        "the unkeyed chain cannot see it"
    );
    match verify_with(log.path(), Some(&pubkey)) {
        Err(VerifyError::Tampered(t)) => {
            assert_eq!(
                t.first_bad_seq, 5,
                "the first checkpoint covering record 2: {t}"
            );
        }
        other => panic!("recomputed chain not detected: {other:?}"),
    }
    // Another key's checkpoints are refused too.
    let other = CheckpointKey::read(&key_file(keys.path(), 8)).expect("key");
    assert!(verify_with(log.path(), Some(&other.verifying_key())).is_err());
}

#[test]
fn records_forged_after_a_sealed_run_end_are_detected() {
    let keys = tempfile::tempdir().expect("tmp");
    let key = key_file(keys.path(), 3);
    let pubkey = CheckpointKey::read(&key).expect("key").verifying_key();
    let dir = tempfile::tempdir().expect("tmp");
    let (log, _) = faulty(dir.path(), Some(&key), 100);
    log.append(tool(0)).expect("append");
    log.end_run("ok").expect("end");
    // A forger without the key appends a whole fake run, ending without a valid checkpoint.
    let forger = AuditLog::open(dir.path(), ctx("run-forged")).expect("open");
    forger.append(tool(1)).expect("append");
    forger
        .append(RecordKind::RunEnd {
            status: "ok".into(),
        })
        .expect("append");
    match verify_with(log.path(), Some(&pubkey)) {
        Err(VerifyError::Tampered(t)) => assert_eq!(t.first_bad_seq, 5, "{t}"),
        other => panic!("unsealed forged run not detected: {other:?}"),
    }
}

#[test]
fn an_unreadable_checkpoint_key_fails_closed() {
    let dir = tempfile::tempdir().expect("tmp");
    let opts = AuditOptions {
        checkpoint_key_file: Some(dir.path().join("missing.key")),
        ..Default::default()
    };
    let err = AuditLog::open_with(&dir.path().join("s"), ctx("r"), &opts).expect_err("refused");
    assert!(err.to_string().contains("missing.key"), "{err}");
}
