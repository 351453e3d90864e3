//! Audit sink benchmarks (DESIGN §6: sink overhead ≤ 2 ms per action on loopback), against a real
//! PostgreSQL started on 127.0.0.1 (durable: fsync and synchronous commit on, as deployed):
//! (a) the audit work of one edit (run start + policy decision + edit record in one fsynced write,
//!     run end + signed checkpoint) with the sink vs local-only, interleaved in the same run;
//! (b) records per second sustained by 8 concurrent sessions (8 logs, 8 connections) into one
//!     database, vs the same 8 sessions local-only.
//!
//! `JINGU_BENCH_QUICK=1` shrinks iteration counts for CI.

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::path::Path;
use std::time::{Duration, Instant};

use jingu::audit::{AuditContext, AuditLog, AuditOptions, RecordKind, SinkConfig};

const WRITER_PASSWORD: &str = "bench-writer";

fn ctx(run: &str) -> AuditContext {
    AuditContext {
        run_id: run.into(),
        subject: "bench@example.com".into(),
        verified: true,
        policy_hash: "ab".repeat(32),
    }
}

fn options(sink: Option<&SinkConfig>, key: &Path) -> AuditOptions {
    AuditOptions {
        sinks: sink.into_iter().cloned().collect(),
        checkpoint_key_file: Some(key.to_path_buf()),
        checkpoint_every: 64,
        workspace: "/bench/ws".into(),
    }
}

/// The records one `jingu edit` writes, in the same calls.
fn one_edit(log: &AuditLog, i: u64) {
    log.stage(RecordKind::RunStart {
        instruction: format!("jingu edit src/lib.rs --symbol f{i} --replace"),
    });
    log.stage(RecordKind::PolicyDecision {
        tool: "edit".into(),
        path: Some("src/lib.rs".into()),
        decision: "allow".into(),
        reason: None,
    });
    log.append(RecordKind::Edit {
        path: "src/lib.rs".into(),
        snapshot_before: format!("{i:07x}"),
        snapshot_after: format!("{:07x}", i + 1),
        snapshot_id: format!("{:07x}", i + 1),
        after_sha256: Some("cd".repeat(32)),
    })
    .expect("edit record");
    log.end_run("ok").expect("run end");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let quick = std::env::var_os("JINGU_BENCH_QUICK").is_some();
    let pg = postgres::Postgres::start(true);
    let dir = tempfile::tempdir().expect("tmp");
    let owner_pw = dir.path().join("owner.pw");
    std::fs::write(&owner_pw, postgres::OWNER_PASSWORD).expect("pw");
    let owner = SinkConfig {
        kind: "postgres".into(),
        url: pg.url("postgres"),
        password_env: None,
        password_file: Some(owner_pw),
        required: true,
        organisation: String::new(),
        ca_file: None,
    };
    jingu::audit::sink::get(&owner)
        .expect("sink")
        .init_schema()
        .expect("schema");
    pg.psql(
        "audit",
        &format!("ALTER ROLE jingu_writer PASSWORD '{WRITER_PASSWORD}'"),
    );
    let key = dir.path().join("ckpt.key");
    std::fs::write(&key, format!("ed25519-secret:{}\n", "11".repeat(32))).expect("key");
    let writer_pw = dir.path().join("writer.pw");
    std::fs::write(&writer_pw, WRITER_PASSWORD).expect("pw");
    let sink = SinkConfig {
        kind: "postgres".into(),
        url: pg.url("jingu_writer"),
        password_env: None,
        password_file: Some(writer_pw),
        required: true,
        organisation: "bench".into(),
        ca_file: None,
    };

    // (a) per-edit overhead, interleaved.
    let iters = if quick { 150 } else { 1000 };
    let local = AuditLog::open_with(&dir.path().join("local"), ctx("l"), &options(None, &key))
        .expect("open");
    let remote = AuditLog::open_with(
        &dir.path().join("remote"),
        ctx("r"),
        &options(Some(&sink), &key),
    )
    .expect("open");
    for i in 0..20 {
        one_edit(&local, i);
        one_edit(&remote, i);
    }
    let (mut tl, mut tr) = (Vec::new(), Vec::new());
    for i in 0..iters {
        let t = Instant::now();
        one_edit(&local, i);
        tl.push(t.elapsed());
        let t = Instant::now();
        one_edit(&remote, i);
        tr.push(t.elapsed());
    }
    let (l, r) = (median(tl), median(tr));
    println!(
        "audit per edit (5 records, 1 fsync, median of {iters}): local-only {:.3} ms, with PostgreSQL sink {:.3} ms \
         -> sink overhead {:.3} ms per edit (target <= 2 ms), ratio {:.2}x",
        ms(l),
        ms(r),
        ms(r.saturating_sub(l)),
        r.as_secs_f64() / l.as_secs_f64()
    );

    // (b) 8 concurrent sessions.
    let per = if quick { 60 } else { 400 };
    let run = |with_sink: bool| {
        let start = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|s| {
                let state = dir
                    .path()
                    .join(format!("{}-{s}", if with_sink { "c" } else { "cl" }));
                let opts = options(with_sink.then_some(&sink), &key);
                std::thread::spawn(move || {
                    let log =
                        AuditLog::open_with(&state, ctx(&format!("s{s}")), &opts).expect("open");
                    for i in 0..per {
                        log.append(RecordKind::ToolCall {
                            tool: "read".into(),
                            args: serde_json::json!({ "path": format!("src/{i}.rs") }),
                        })
                        .expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("session");
        }
        (8 * per) as f64 / start.elapsed().as_secs_f64()
    };
    let local_rate = run(false);
    let sink_rate = run(true);
    let rows = pg.psql("audit", "SELECT count(*) FROM jingu_audit");
    println!(
        "8 concurrent sessions, one fsynced record per append: {sink_rate:.0} records/s into one PostgreSQL \
         vs {local_rate:.0} records/s local-only (ratio {:.2}x); {} rows in the sink",
        sink_rate / local_rate,
        rows.trim()
    );
}
