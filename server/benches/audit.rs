//! Audit sink benchmarks (DESIGN §6: sink overhead ≤ 2 ms per action on loopback), against a real
//! PostgreSQL started on 127.0.0.1 (durable: fsync and synchronous commit on, as deployed):
//! (a) the audit work of one edit (run start + policy decision + edit record in one fsynced write,
//!     run end + signed checkpoint) with the sink vs local-only, interleaved in the same run; and
//!     against a second server with fsync off, which separates the database's own commit flush
//!     (a property of its disk) from what the sink path itself costs;
//! (b) records per second sustained by 8 concurrent sessions (8 logs, 8 connections) into one
//!     database, vs the same 8 sessions local-only.
//!
//! `JINGU_BENCH_QUICK=1` shrinks iteration counts for CI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::path::Path;
use std::time::{Duration, Instant};

use jingu_audit::{AuditContext, AuditLog, AuditOptions, RecordKind, SinkConfig};

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
        otlp: Vec::new(),
        checkpoint_key_file: Some(key.to_path_buf()),
        checkpoint_every: 64,
        workspace: "/bench/ws".into(),
    }
}

/// The records one `jingu edit` writes, in the same calls; returns how long the action's own
/// records took (what the action waits for) — the rest is the run's end.
fn one_edit(log: &AuditLog, i: u64) -> Duration {
    let t = Instant::now();
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
    let action = t.elapsed();
    log.end_run("ok").expect("run end");
    action
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A server with the schema and a writer; returns the writer's sink configuration.
fn prepare(pg: &postgres::Postgres, dir: &Path, name: &str) -> SinkConfig {
    let owner_pw = dir.join(format!("{name}-owner.pw"));
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
    jingu_audit::sink::get(&owner)
        .expect("sink")
        .init_schema()
        .expect("schema");
    pg.psql(
        "audit",
        &format!("ALTER ROLE jingu_writer PASSWORD '{WRITER_PASSWORD}'"),
    );
    let writer_pw = dir.join(format!("{name}-writer.pw"));
    std::fs::write(&writer_pw, WRITER_PASSWORD).expect("pw");
    SinkConfig {
        kind: "postgres".into(),
        url: pg.url("jingu_writer"),
        password_env: None,
        password_file: Some(writer_pw),
        required: true,
        organisation: "bench".into(),
        ca_file: None,
    }
}

fn main() {
    let quick = jingu_benches::quick();
    let dir = tempfile::tempdir().expect("tmp");
    let pg = postgres::Postgres::start(true);
    let fast_pg = postgres::Postgres::start(false);
    let sink = prepare(&pg, dir.path(), "durable");
    let fast_sink = prepare(&fast_pg, dir.path(), "nofsync");
    let key = dir.path().join("ckpt.key");
    std::fs::write(&key, format!("ed25519-secret:{}\n", "11".repeat(32))).expect("key");

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
    let fast = AuditLog::open_with(
        &dir.path().join("remote-nofsync"),
        ctx("f"),
        &options(Some(&fast_sink), &key),
    )
    .expect("open");
    for i in 0..20 {
        one_edit(&local, i);
        one_edit(&remote, i);
        one_edit(&fast, i);
    }
    let (mut tl, mut tr, mut tf) = (Vec::new(), Vec::new(), Vec::new());
    let (mut al, mut ar, mut af) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..iters {
        let t = Instant::now();
        al.push(one_edit(&local, i));
        tl.push(t.elapsed());
        let t = Instant::now();
        ar.push(one_edit(&remote, i));
        tr.push(t.elapsed());
        let t = Instant::now();
        af.push(one_edit(&fast, i));
        tf.push(t.elapsed());
    }
    let (l, r, f) = (median(tl), median(tr), median(tf));
    let (la, ra, fa) = (median(al), median(ar), median(af));
    println!(
        "audit per action (the edit's 3 records: 1 local fsync, 1 sink insert waited for; median of {iters}): \
         local-only {:.3} ms, with a durable PostgreSQL sink {:.3} ms (overhead {:.3} ms, ratio {:.2}x), \
         with the sink's commit flush off {:.3} ms (overhead {:.3} ms; target <= 2 ms per action)",
        ms(la),
        ms(ra),
        ms(ra.saturating_sub(la)),
        ra.as_secs_f64() / la.as_secs_f64(),
        ms(fa),
        ms(fa.saturating_sub(la)),
    );
    println!(
        "audit per edit (the action, then run end + checkpoint, whose insert is queued, not waited for; median of {iters}): local-only {:.3} ms, \
         with a durable PostgreSQL sink {:.3} ms (overhead {:.3} ms, ratio {:.2}x), \
         with the sink's commit flush off {:.3} ms (overhead {:.3} ms; target <= 2 ms per action)",
        ms(l),
        ms(r),
        ms(r.saturating_sub(l)),
        r.as_secs_f64() / l.as_secs_f64(),
        ms(f),
        ms(f.saturating_sub(l)),
    );

    // (b) 8 concurrent sessions.
    let per = if quick { 60 } else { 400 };
    let run = |name: &str, with: Option<&SinkConfig>| {
        let start = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|s| {
                let state = dir.path().join(format!("{name}-{s}"));
                let opts = options(with, &key);
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
    let local_rate = run("cl", None);
    let sink_rate = run("cs", Some(&sink));
    let fast_rate = run("cf", Some(&fast_sink));
    let rows = pg.psql("audit", "SELECT count(*) FROM jingu_audit");
    println!(
        "8 concurrent sessions, one fsynced record per append: {sink_rate:.0} records/s into one durable PostgreSQL \
         ({} rows), {fast_rate:.0} records/s with its commit flush off, vs {local_rate:.0} records/s local-only \
         (ratios {:.2}x, {:.2}x)",
        rows.trim(),
        sink_rate / local_rate,
        fast_rate / local_rate
    );
}
