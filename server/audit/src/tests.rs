//! Audit log tests, including red-team tampering: every manipulation must be detected and the
//! first bad record named.

use std::collections::HashMap;
use std::path::Path;

use super::record::sha256_hex;
use super::*;

fn ctx(run: &str) -> AuditContext {
    AuditContext {
        run_id: run.into(),
        subject: "alice@example.com".into(),
        verified: true,
        policy_hash: "ab".repeat(32),
    }
}

fn edit(path: &str, before: &str, after: &str, content: Option<&str>) -> RecordKind {
    RecordKind::Edit {
        path: path.into(),
        snapshot_before: before.into(),
        snapshot_after: after.into(),
        snapshot_id: after.into(),
        after_sha256: content.map(|c| sha256_hex(c.as_bytes())),
    }
}

/// A log with `n` records across two runs.
fn sample(dir: &Path, n: usize) -> AuditLog {
    let a = AuditLog::open(dir, ctx("run-a")).expect("open");
    let b = AuditLog::open(dir, ctx("run-b")).expect("open");
    for i in 0..n {
        let log = if i % 3 == 2 { &b } else { &a };
        let kind = match i % 4 {
            0 => RecordKind::RunStart {
                instruction: format!("task {i}"),
            },
            1 => RecordKind::ToolCall {
                tool: "read".into(),
                args: serde_json::json!({"path": "src/a.rs"}),
            },
            2 => RecordKind::PolicyDecision {
                tool: "edit".into(),
                path: Some(".git/config".into()),
                decision: "deny".into(),
                reason: Some("protected".into()),
            },
            _ => edit("src/a.rs", "s0", "s1", Some("x")),
        };
        log.append(kind).expect("append");
    }
    a
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s).expect("write");
}

fn tampered_at(path: &Path) -> u64 {
    match verify(path) {
        Err(VerifyError::Tampered(t)) => t.first_bad_seq,
        other => panic!("tampering not detected: {other:?}"),
    }
}

#[test]
fn appends_chain_and_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 10);
    let report = verify(log.path()).expect("intact");
    assert_eq!(report.records, 10);
    assert_eq!(report.runs, 2);
    let recs = read_records(log.path()).expect("records");
    assert_eq!(recs.len(), 10);
    assert_eq!(recs[0].prev, record::GENESIS);
    let raw = lines(log.path());
    for i in 1..recs.len() {
        assert_eq!(recs[i].seq, i as u64 + 1);
        assert_eq!(recs[i].prev, sha256_hex(raw[i - 1].as_bytes()));
    }
    assert_eq!(recs[0].subject, "alice@example.com");
    assert!(recs[0].verified);
    assert!(recs[0].time.ends_with('Z'));
    assert_eq!(report.last_hash, recs[9].hash);
}

#[test]
fn empty_or_missing_log_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    assert_eq!(
        verify(&dir.path().join(LOG_FILE)).expect("empty").records,
        0
    );
}

#[test]
fn every_single_byte_change_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 6);
    let original = std::fs::read(log.path()).expect("read");
    let mut detected = 0;
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        if bytes == original {
            continue;
        }
        std::fs::write(log.path(), &bytes).expect("write");
        assert!(verify(log.path()).is_err(), "flip at byte {i} undetected");
        detected += 1;
    }
    assert_eq!(detected, original.len());
}

#[test]
fn edited_field_names_its_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 8);
    let mut l = lines(log.path());
    l[4] = l[4].replace("alice@example.com", "mallory@example.com");
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 5);
}

#[test]
fn deleted_line_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 8);
    let mut l = lines(log.path());
    l.remove(3);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 4);
}

#[test]
fn deleted_first_line_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 5);
    let mut l = lines(log.path());
    l.remove(0);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 1);
}

#[test]
fn swapped_lines_are_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 8);
    let mut l = lines(log.path());
    l.swap(2, 5);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 3);
}

#[test]
fn forged_line_with_recomputed_hash_but_wrong_prev_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 6);
    let mut l = lines(log.path());
    // Forge a well-formed record 4 with a correct own hash, then renumber the rest honestly.
    let body = record::Body {
        seq: 4,
        time: "2026-01-01T00:00:00.000Z",
        run_id: "run-a",
        subject: "alice@example.com",
        verified: true,
        policy_hash: &"ab".repeat(32),
        kind: &RecordKind::PolicyDecision {
            tool: "run_command".into(),
            path: None,
            decision: "allow".into(),
            reason: None,
        },
        prev: &"11".repeat(32),
    };
    let (forged, _) = record::encode(&body).expect("encode");
    l.insert(3, forged);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 4);
}

#[test]
fn forged_line_with_correct_prev_breaks_the_next_link() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 6);
    let mut l = lines(log.path());
    let prev = sha256_hex(l[2].as_bytes());
    let kind = RecordKind::Warning {
        message: "nothing to see".into(),
    };
    let body = record::Body {
        seq: 4,
        time: "2026-01-01T00:00:00.000Z",
        run_id: "run-a",
        subject: "alice@example.com",
        verified: true,
        policy_hash: &"ab".repeat(32),
        kind: &kind,
        prev: &prev,
    };
    let (forged, _) = record::encode(&body).expect("encode");
    l.insert(3, forged);
    write_lines(log.path(), &l);
    // The forged record itself is consistent; the original record 4 (now 5th) no longer fits.
    assert_eq!(tampered_at(log.path()), 5);
}

#[test]
fn truncated_tail_is_detected_by_the_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 7);
    let mut l = lines(log.path());
    l.truncate(4);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 5);
    // And appending refuses to paper over it.
    let err = log
        .append(RecordKind::RunEnd {
            status: "ok".into(),
        })
        .expect_err("damaged");
    assert!(err.to_string().contains("refusing to append"), "{err}");
}

#[test]
fn truncation_mid_line_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 5);
    let bytes = std::fs::read(log.path()).expect("read");
    std::fs::write(log.path(), &bytes[..bytes.len() - 30]).expect("write");
    assert_eq!(tampered_at(log.path()), 5);
    assert!(
        log.append(RecordKind::RunEnd {
            status: "ok".into()
        })
        .is_err()
    );
    let cut_middle: Vec<u8> = [&bytes[..100], &bytes[200..]].concat();
    std::fs::write(log.path(), cut_middle).expect("write");
    assert_eq!(tampered_at(log.path()), 1);
}

#[test]
fn emptied_log_or_removed_head_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 3);
    std::fs::write(log.path(), "").expect("write");
    assert!(verify(log.path()).is_err(), "emptied log with head present");
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 3);
    std::fs::remove_file(dir.path().join(HEAD_FILE)).expect("rm");
    assert!(verify(log.path()).is_err());
    assert!(
        log.append(RecordKind::RunEnd {
            status: "ok".into()
        })
        .is_err()
    );
}

#[test]
fn reencoded_json_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 3);
    let mut l = lines(log.path());
    // Same data, different whitespace: the hash covers exact bytes.
    l[1] = l[1].replacen("{\"seq\":2", "{ \"seq\": 2", 1);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 2);
}

#[test]
fn interrupted_head_update_is_tolerated_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 3);
    let head_before = std::fs::read(dir.path().join(HEAD_FILE)).expect("head");
    log.append(RecordKind::RunEnd {
        status: "ok".into(),
    })
    .expect("append");
    std::fs::write(dir.path().join(HEAD_FILE), head_before).expect("restore old head");
    let report = verify(log.path()).expect("lagging head is not tampering");
    assert_eq!(report.notes.len(), 1);
    log.append(RecordKind::RunEnd {
        status: "ok".into(),
    })
    .expect("append after crash");
    assert_eq!(verify(log.path()).expect("ok").records, 5);
}

#[test]
fn concurrent_appenders_keep_one_chain() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().to_path_buf();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Separate handles, as separate processes would have.
                let log = AuditLog::open(&path, ctx(&format!("run-{t}"))).expect("open");
                for i in 0..10 {
                    log.append(RecordKind::ToolCall {
                        tool: "read".into(),
                        args: serde_json::json!(i),
                    })
                    .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("join");
    }
    let report = verify(&path.join(LOG_FILE)).expect("intact");
    assert_eq!(report.records, 40);
    assert_eq!(report.runs, 4);
}

#[test]
fn append_fails_when_the_log_cannot_be_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = AuditLog::open(&dir.path().join("state"), ctx("r")).expect("open");
    // Replace the log path with a directory: the write must fail, so the caller must not act.
    std::fs::create_dir_all(log.path()).expect("mkdir");
    assert!(
        log.append(RecordKind::RunStart {
            instruction: "x".into()
        })
        .is_err()
    );
}

#[test]
fn record_kinds_round_trip() {
    let kinds = vec![
        RecordKind::RunStart {
            instruction: "fix".into(),
        },
        RecordKind::ModelRequest {
            provider: "qwen".into(),
            model: "m".into(),
            input_tokens: 10,
            output_tokens: None,
            redactions: 2,
        },
        RecordKind::ModelUsage {
            provider: "qwen".into(),
            model: "m".into(),
            input_tokens: 10,
            output_tokens: 5,
        },
        RecordKind::ToolCall {
            tool: "edit".into(),
            args: serde_json::json!({"a": [1, 2]}),
        },
        RecordKind::PolicyDecision {
            tool: "mcp".into(),
            path: None,
            decision: "deny".into(),
            reason: Some("r".into()),
        },
        edit("a", "b", "c", None),
        RecordKind::Command {
            argv: vec!["ls".into()],
            cwd: ".".into(),
            sandbox: "landlock".into(),
        },
        RecordKind::Rollback {
            target: "x".into(),
            snapshot_id: "y".into(),
            paths: vec!["a".into()],
        },
        RecordKind::Warning {
            message: "w".into(),
        },
        RecordKind::RunEnd {
            status: "ok".into(),
        },
    ];
    let dir = tempfile::tempdir().expect("tmp");
    let log = AuditLog::open(dir.path(), ctx("r")).expect("open");
    for k in &kinds {
        log.append(k.clone()).expect("append");
    }
    let recs = read_records(log.path()).expect("read");
    let back: Vec<RecordKind> = recs.into_iter().map(|r| r.kind).collect();
    assert_eq!(back, kinds);
    let text = std::fs::read_to_string(log.path()).expect("read");
    assert!(text.contains("\"kind\":\"model_request\""));
}

/// In-memory snapshot store: (snapshot id, path) → content.
struct FakeStore(HashMap<(String, String), Vec<u8>>);

impl FakeStore {
    fn with(entries: &[(&str, &str, &str)]) -> Self {
        Self(
            entries
                .iter()
                .map(|(id, p, c)| ((id.to_string(), p.to_string()), c.as_bytes().to_vec()))
                .collect(),
        )
    }
}

impl SnapshotSource for FakeStore {
    fn content_at(&self, id: &str, path: &str) -> Option<Vec<u8>> {
        self.0.get(&(id.to_string(), path.to_string())).cloned()
    }
}

fn replay_log(dir: &Path) -> Vec<Record> {
    let log = AuditLog::open(dir, ctx("run-r")).expect("open");
    log.append(RecordKind::RunStart {
        instruction: "refactor".into(),
    })
    .expect("a");
    log.append(edit("a.rs", "s0", "s1", Some("v1"))).expect("a");
    log.append(edit("a.rs", "s1", "s2", Some("v2"))).expect("a");
    log.append(edit("b.rs", "s2", "s3", None)).expect("a");
    log.append(RecordKind::RunEnd {
        status: "ok".into(),
    })
    .expect("a");
    read_records(log.path()).expect("read")
}

#[test]
fn replay_matches_snapshots_and_disk() {
    let dir = tempfile::tempdir().expect("tmp");
    let recs = replay_log(dir.path());
    let store = FakeStore::with(&[
        ("s0", "a.rs", "v0"),
        ("s1", "a.rs", "v1"),
        ("s2", "a.rs", "v2"),
        ("s2", "b.rs", "old"),
        ("s3", "a.rs", "v2"),
    ]);
    let disk = |p: &str| (p == "a.rs").then(|| b"v2".to_vec());
    let r = replay(&recs, "run-r", &store, &disk).expect("replay");
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.edits, 3);
    assert_eq!(r.files.len(), 2);
    assert_eq!(r.files[0].disk, DiskState::Matches);
    assert_eq!(r.files[0].sha256, Some(sha256_hex(b"v2")));
    assert_eq!(r.files[1].sha256, None);
    assert_eq!(r.files[1].disk, DiskState::Missing);
}

#[test]
fn replay_detects_altered_snapshot_and_outside_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let recs = replay_log(dir.path());
    // s2 has different content than recorded; s1 → s2 chain is fine.
    let store = FakeStore::with(&[
        ("s1", "a.rs", "v1"),
        ("s2", "a.rs", "EVIL"),
        ("s2", "b.rs", "old"),
    ]);
    let r = replay(&recs, "run-r", &store, &|_| None).expect("replay");
    assert!(
        r.problems.iter().any(|p| p.contains("record 3")),
        "{:?}",
        r.problems
    );
    // The file changed between the two edits (before-snapshot of edit 2 ≠ after of edit 1).
    let store = FakeStore::with(&[
        ("s1", "a.rs", "v1"),
        ("s2", "a.rs", "v2"),
        ("s2", "b.rs", "old"),
    ]);
    let mut recs2 = recs.clone();
    if let RecordKind::Edit {
        snapshot_before, ..
    } = &mut recs2[2].kind
    {
        *snapshot_before = "s9".into();
    }
    let r = replay(&recs2, "run-r", &store, &|_| Some(b"other".to_vec())).expect("replay");
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("changed outside the run")),
        "{:?}",
        r.problems
    );
    assert_eq!(r.files[0].disk, DiskState::Differs);
    assert!(matches!(
        replay(&recs, "nope", &store, &|_| None),
        Err(ReplayError::UnknownRun(_))
    ));
}

#[test]
fn action_runs_only_after_its_record_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = AuditLog::open(dir.path(), ctx("r")).expect("open");
    let ran = std::cell::Cell::new(false);
    let seq = log
        .record_then(
            RecordKind::Command {
                argv: vec!["true".into()],
                cwd: ".".into(),
                sandbox: "landlock".into(),
            },
            |id| {
                // The record is already on disk when the action starts.
                assert_eq!(read_records(log.path()).expect("read").len() as u64, id.seq);
                ran.set(true);
                id.seq
            },
        )
        .expect("recorded");
    assert!(ran.get());
    assert_eq!(seq, 1);
    // Make the log unwritable: the action must not run.
    std::fs::remove_file(log.path()).expect("rm");
    std::fs::create_dir(log.path()).expect("mkdir");
    ran.set(false);
    assert!(
        log.record_then(
            RecordKind::RunEnd {
                status: "ok".into()
            },
            |_| ran.set(true)
        )
        .is_err()
    );
    assert!(!ran.get(), "action ran without an audit record");
}

#[test]
fn rewritten_last_record_with_recomputed_hash_is_detected_by_the_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = sample(dir.path(), 4);
    let mut l = lines(log.path());
    let last = l.pop().expect("last");
    let (body, _) = record::split_hash(&last).expect("split");
    let forged_body = body.replace("alice@example.com", "mallory@example.com");
    let hash = sha256_hex(forged_body.as_bytes());
    let mut forged = forged_body;
    forged.pop();
    forged.push_str(&format!(",\"hash\":\"{hash}\"}}"));
    l.push(forged);
    write_lines(log.path(), &l);
    assert_eq!(tampered_at(log.path()), 4);
}
