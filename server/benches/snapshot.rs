//! Snapshot cost vs workspace size (DESIGN §6): one `record` of one changed file, a
//! `scan_workspace` with nothing changed, and — the baseline, measured in the same run on the
//! same tree — `git add -A && git commit -q` after changing one file.
//!
//! `cargo bench --bench snapshot`; `JINGU_BENCH_QUICK=1` skips the 100k-file workspace.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jingu_fs::workspace::Workspace;
use jingu_snapshots::{Change, Meta, Store};

fn main() {
    let quick = std::env::var_os("JINGU_BENCH_QUICK").is_some();
    let sizes: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    println!(
        "{:>8} {:>12} {:>12} {:>14} {:>12} {:>14}",
        "files", "record ms", "scan ms", "git add+commit", "git/record", "first scan s"
    );
    let mut record_times = Vec::new();
    for &n in sizes {
        let r = bench_size(n);
        println!(
            "{:>8} {:>12.3} {:>12.1} {:>14.1} {:>11.0}x {:>14.2}",
            n,
            ms(r.record),
            ms(r.scan),
            ms(r.git),
            r.git.as_secs_f64() / r.record.as_secs_f64(),
            r.first_scan.as_secs_f64()
        );
        record_times.push(r.record);
    }
    if let (Some(first), Some(last)) = (record_times.first(), record_times.last()) {
        println!(
            "record flatness: largest/smallest workspace = {:.2}x (1.0 = flat)",
            last.as_secs_f64() / first.as_secs_f64()
        );
    }
}

struct Result {
    record: Duration,
    scan: Duration,
    git: Duration,
    first_scan: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn path_of(i: usize) -> String {
    format!("m{}/d{}/f{i}.rs", i / 10_000, (i / 100) % 100)
}

fn bench_size(n: usize) -> Result {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("ws");
    for i in 0..n {
        let p = root.join(path_of(i));
        if i % 100 == 0 {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        }
        std::fs::write(&p, format!("pub fn f{i}() -> usize {{ {i} }}\n")).expect("write");
    }
    let ws = Workspace {
        root: root.canonicalize().expect("canonical"),
        state_dir: tmp.path().join("state"),
    };
    let store = Store::open(&ws).expect("open store");
    let meta = Meta {
        run_id: Some("bench".into()),
        actor: "bench".into(),
        op: "replace".into(),
        target: "f".into(),
        message: String::new(),
    };

    let t = Instant::now();
    store.scan_workspace(&meta).expect("baseline scan");
    let first_scan = t.elapsed();
    // Let files written just before the baseline leave the racy window, then settle the cache.
    std::thread::sleep(Duration::from_millis(150));
    store.scan_workspace(&meta).expect("settle scan");

    let record = median(
        (0..21)
            .map(|k| {
                let change = Change::Write {
                    path: path_of((k * 7919) % n),
                    content: format!("pub fn changed() -> usize {{ {k} }}\n").into_bytes(),
                    mode: 0o644,
                };
                let t = Instant::now();
                store.record(&[change], &meta).expect("record");
                t.elapsed()
            })
            .collect(),
    );

    let scan = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let r = store.scan_workspace(&meta).expect("scan");
                let e = t.elapsed();
                assert_eq!(r.files_hashed, 0, "nothing changed on disk");
                e
            })
            .collect(),
    );

    let git_dir = tmp.path().join("git");
    git(&git_dir, &ws.root, &["init", "-q"]);
    git(&git_dir, &ws.root, &["add", "-A"]);
    git(&git_dir, &ws.root, &["commit", "-q", "-m", "init"]);
    let git_time = median(
        (0..3)
            .map(|k| {
                std::fs::write(
                    ws.root.join(path_of((k * 104_729) % n)),
                    format!("// {k}\n"),
                )
                .expect("change");
                let t = Instant::now();
                git(&git_dir, &ws.root, &["add", "-A"]);
                git(&git_dir, &ws.root, &["commit", "-q", "-m", "one change"]);
                t.elapsed()
            })
            .collect(),
    );
    Result {
        record,
        scan,
        git: git_time,
        first_scan,
    }
}

fn git(git_dir: &Path, work_tree: &Path, args: &[&str]) {
    let status = Command::new("git")
        .env("GIT_DIR", git_dir)
        .env("GIT_WORK_TREE", work_tree)
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(["-c", "gc.auto=0", "-c", "core.fsync=none"])
        .args(args)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}
