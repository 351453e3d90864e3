//! Snapshot cost vs workspace size (DESIGN §6) on realistic trees (files of a few KB in nested
//! directories, plus a gitignored node_modules-like bulk of JavaScript): an unchanged
//! `scan_workspace` against `git status --porcelain`, and one `record` of one changed file against
//! `git add -A && git commit -q` after changing one file — the baselines people would use, on the
//! same tree, interleaved round by round (A/B/A/B), with min/median/max. And the whole process a
//! user waits for: `jingu edit` (spawn, policy, audit, snapshot, write), by line range and by
//! symbol, against `git add -A && git commit` in the workspace's own repository and against the
//! shadow-repository checkpoint Cline-style agents make (a separate git directory whose work
//! tree is the workspace), each changing one file, the order rotated every round. Both git
//! baselines run with git's default durability settings. The floor no edit can go below is
//! measured too: spawning a trivial process, and three `write` + `fdatasync` on this disk.
//!
//! `cargo bench --bench snapshot`; `JINGU_BENCH_QUICK=1` skips the 100k-file workspace,
//! `JINGU_BENCH_SIZES=100000` runs the sizes given.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jingu_fs::workspace::Workspace;
use jingu_snapshots::{Change, Meta, Store};

fn main() {
    let quick = jingu_benches::quick();
    // `JINGU_BENCH_SIZES=100000` measures chosen sizes only.
    let chosen: Option<Vec<usize>> = std::env::var("JINGU_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let sizes: &[usize] = match &chosen {
        Some(v) => v,
        None if quick => &[1_000, 10_000],
        None => &[1_000, 10_000, 100_000],
    };
    let mut record_times = Vec::new();
    for &n in sizes {
        let r = bench_size(n);
        println!(
            "{n:>7} files ({:.0} MB tracked, {} more ignored in node_modules/), {} rounds; first scan {:.2} s",
            r.tracked_bytes as f64 / 1e6,
            r.ignored_files,
            r.scan.0.len(),
            r.first_scan.as_secs_f64()
        );
        println!(
            "    unchanged scan   {}   git status --porcelain {}   scan/git status {:.2}x (target <= 1.0x)",
            r.scan.show(),
            r.status.show(),
            r.scan.median() / r.status.median().max(1e-9)
        );
        println!(
            "    watched scan     {}   ([snapshots] watch = true, long-running server; target <= 20 ms)   watched/git status {:.3}x",
            r.watched_scan.show(),
            r.watched_scan.median() / r.status.median().max(1e-9)
        );
        println!(
            "    record one file  {}   git add -A && commit   {}   git/record {:.0}x",
            r.record.show(),
            r.git.show(),
            r.git.median() / r.record.median().max(1e-9)
        );
        let edit = r.edit.median().max(1e-9);
        println!("    whole process, one file changed (min/median/max):");
        println!(
            "      jingu edit --lines            {}   (target <= 5 ms)",
            r.edit.show()
        );
        println!(
            "      jingu edit --symbol           {}",
            r.edit_symbol.show()
        );
        println!(
            "      git add -A && git commit      {}   git/edit {:.1}x (target >= 100x at 100k)",
            r.user_git.show(),
            r.user_git.median() / edit
        );
        println!(
            "      shadow-repo checkpoint (Cline) {}  shadow/edit {:.1}x",
            r.shadow.show(),
            r.shadow.median() / edit
        );
        println!(
            "      floor: spawn /bin/true {}   3 x (write + fdatasync) {}   (edit - floors = {:.1} ms)",
            r.spawn_floor.show(),
            r.sync_floor.show(),
            (edit - r.spawn_floor.median() - r.sync_floor.median()) * 1e3
        );
        record_times.push(r.record.median());
    }
    if let (Some(first), Some(last)) = (record_times.first(), record_times.last()) {
        println!(
            "record flatness: largest/smallest workspace = {:.2}x (1.0 = flat)",
            last / first
        );
    }
}

/// min / median / max of one contender's rounds.
#[derive(Default)]
struct Samples(Vec<Duration>);

impl Samples {
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort();
        v.get(v.len() / 2)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
    }

    fn show(&self) -> String {
        let min = self.0.iter().min().copied().unwrap_or_default();
        let max = self.0.iter().max().copied().unwrap_or_default();
        format!(
            "{:.1}/{:.1}/{:.1} ms",
            ms(min),
            self.median() * 1e3,
            ms(max)
        )
    }
}

struct Result {
    scan: Samples,
    watched_scan: Samples,
    status: Samples,
    record: Samples,
    git: Samples,
    edit: Samples,
    edit_symbol: Samples,
    user_git: Samples,
    shadow: Samples,
    spawn_floor: Samples,
    sync_floor: Samples,
    first_scan: Duration,
    tracked_bytes: u64,
    ignored_files: usize,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Tracked file `i`: `src/` nested three levels, about 20 files per directory.
fn path_of(i: usize) -> String {
    format!(
        "src/m{}/d{}/e{}/f{i}.rs",
        i / 8_000,
        (i / 400) % 20,
        (i / 20) % 20
    )
}

/// 1–8 KB of Rust-like code, different per file.
fn source_text(i: usize, rng: &mut fastrand::Rng) -> String {
    let target = rng.usize(1_000..8_000);
    let mut text = format!("//! Module {i}.\n\nuse std::collections::HashMap;\n\n");
    let mut k = 0;
    while text.len() < target {
        text.push_str(&format!(
            "/// Computes item {k} of module {i}.\npub fn item_{i}_{k}(input: &HashMap<String, usize>) -> usize {{\n    input.values().map(|v| v * {k} + {i}).sum()\n}}\n\n"
        ));
        k += 1;
    }
    text
}

/// `n` tracked files plus `n / 2` ignored ones under node_modules/.
fn realistic_tree(root: &Path, n: usize) -> (u64, usize) {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    let mut bytes = 0;
    std::fs::create_dir_all(root).expect("mkdir");
    // The workspace marker: without it (the baseline's git directory lives outside the tree)
    // `jingu edit` would take the edited file's own directory as its workspace, and the bench
    // would time an edit of a 20-file workspace instead of this one.
    std::fs::create_dir_all(root.join(".jingu")).expect("mkdir .jingu");
    std::fs::write(root.join(".gitignore"), "node_modules/\n*.log\n").expect("gitignore");
    for i in 0..n {
        let p = root.join(path_of(i));
        if i % 20 == 0 {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        }
        let text = source_text(i, &mut rng);
        bytes += text.len() as u64;
        std::fs::write(&p, text).expect("write");
    }
    let ignored = n / 2;
    for i in 0..ignored {
        let p = root.join(format!("node_modules/pkg{}/lib/index{i}.js", i / 50));
        if i % 50 == 0 {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        }
        let body =
            "module.exports = function (a, b) { return a + b; };\n".repeat(rng.usize(20..80));
        std::fs::write(&p, body).expect("write");
    }
    (bytes, ignored)
}

fn bench_size(n: usize) -> Result {
    let quick = jingu_benches::quick();
    let rounds = if quick { 3 } else { 7 };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("ws");
    let (tracked_bytes, ignored_files) = realistic_tree(&root, n);
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
    let git_dir = tmp.path().join("git");
    git(&git_dir, &ws.root, &["init", "-q"]);
    git(&git_dir, &ws.root, &["add", "-A"]);
    git(&git_dir, &ws.root, &["commit", "-q", "-m", "init"]);
    // Let the files leave both tools' racy windows, then settle both caches (git's index too).
    std::thread::sleep(
        Duration::from_nanos(jingu_fs::racy::RACY_WINDOW_NS as u64) + Duration::from_millis(200),
    );
    store.scan_workspace(&meta).expect("settle scan");
    git_status(&git_dir, &ws.root);
    // `[snapshots] watch = true` in a long-running server: the same store with its watcher; its
    // first scan walks everything and adds the watches.
    let mut watched = Store::open(&ws).expect("open watched store");
    watched.watch().expect("start watcher");
    watched.scan_workspace(&meta).expect("first watched scan");

    let mut r = Result {
        scan: Samples::default(),
        watched_scan: Samples::default(),
        status: Samples::default(),
        record: Samples::default(),
        git: Samples::default(),
        edit: Samples::default(),
        edit_symbol: Samples::default(),
        user_git: Samples::default(),
        shadow: Samples::default(),
        spawn_floor: Samples::default(),
        sync_floor: Samples::default(),
        first_scan,
        tracked_bytes,
        ignored_files,
    };
    for round in 0..rounds {
        let scan = || {
            let t = Instant::now();
            let report = store.scan_workspace(&meta).expect("scan");
            let e = t.elapsed();
            assert_eq!(report.files_hashed, 0, "nothing changed on disk");
            e
        };
        let status = || {
            let t = Instant::now();
            git_status(&git_dir, &ws.root);
            t.elapsed()
        };
        let watched_scan = || {
            let t = Instant::now();
            let report = watched.scan_workspace(&meta).expect("watched scan");
            let e = t.elapsed();
            assert_eq!(report.files_hashed, 0, "nothing changed on disk");
            assert!(
                report.files_seen < n,
                "the watched scan did not fall back to a full walk"
            );
            e
        };
        // Rotated every round: A/B/C, B/C/A, C/A/B.
        for k in 0..3 {
            match (round + k) % 3 {
                0 => r.scan.0.push(scan()),
                1 => r.watched_scan.0.push(watched_scan()),
                _ => r.status.0.push(status()),
            }
        }
    }
    // Records and commits change files: after the scans, interleaved among themselves.
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..rounds {
        let record = |k: usize, rng: &mut fastrand::Rng| {
            let change = Change::Write {
                path: path_of((k * 7919) % n),
                content: source_text(k, rng).into_bytes(),
                mode: 0o644,
            };
            let t = Instant::now();
            store.record(&[change], &meta).expect("record");
            t.elapsed()
        };
        let commit = |k: usize, rng: &mut fastrand::Rng| {
            std::fs::write(
                ws.root.join(path_of((k * 104_729) % n)),
                source_text(k, rng),
            )
            .expect("change");
            let t = Instant::now();
            git(&git_dir, &ws.root, &["add", "-A"]);
            git(&git_dir, &ws.root, &["commit", "-q", "-m", "one change"]);
            t.elapsed()
        };
        if round % 2 == 0 {
            r.record.0.push(record(round, &mut rng));
            r.git.0.push(commit(round, &mut rng));
        } else {
            r.git.0.push(commit(round, &mut rng));
            r.record.0.push(record(round, &mut rng));
        }
    }
    // The whole `jingu edit` process against the git checkpoints people make instead.
    let bin = jingu_binary();
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, "").expect("empty user config");
    let text = tmp.path().join("line.txt");
    let run_edit = |rel: &str, args: &[&str], body: String| {
        std::fs::write(&text, body).expect("text");
        let t = Instant::now();
        let out = Command::new(&bin)
            .current_dir(&ws.root)
            .env("JINGU_STATE_DIR", &ws.state_dir)
            .env("JINGU_CONFIG", &config)
            .env_remove("JINGU_POLICY")
            .env_remove("JINGU_LOG")
            .arg("edit")
            .arg(rel)
            .args(args)
            .arg("--text-file")
            .arg(&text)
            .output()
            .expect("run jingu edit");
        let e = t.elapsed();
        assert!(
            out.status.success(),
            "jingu edit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The summary names the path relative to the workspace: the whole tree, not its directory.
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(&format!(" in {rel}")),
            "edit outside the tree's workspace: {said}"
        );
        e
    };
    let jingu = |k: usize| {
        let rel = path_of((k * 6151) % n);
        run_edit(
            &rel,
            &["--lines", "1-1", "--replace"],
            format!("//! Module edited in round {k}.\n"),
        )
    };
    let jingu_symbol = |k: usize| {
        let rel = path_of((k * 3571) % n);
        // The file's first function (other rounds may have rewritten the file).
        let old = std::fs::read_to_string(ws.root.join(&rel)).expect("read");
        let f = old
            .split("pub fn ")
            .nth(1)
            .and_then(|rest| rest.split('(').next())
            .expect("a function")
            .to_string();
        run_edit(
            &rel,
            &["--symbol", &f, "--replace"],
            format!(
                "/// Edited in round {k}.\npub fn {f}(input: &HashMap<String, usize>) -> usize {{\n    input.len() + {k}\n}}\n"
            ),
        )
    };
    // The workspace's own repository (`.git` inside the tree), as a user would commit.
    let user_git_dir = ws.root.join(".git");
    git_defaults(&user_git_dir, &ws.root, &["init", "-q"]);
    git_defaults(&user_git_dir, &ws.root, &["add", "-A"]);
    git_defaults(&user_git_dir, &ws.root, &["commit", "-q", "-m", "init"]);
    let change = |rel: &str, k: usize| {
        let p = ws.root.join(rel);
        let old = std::fs::read_to_string(&p).expect("read");
        let body = old.split_once('\n').map_or("", |(_, rest)| rest);
        std::fs::write(&p, format!("//! Module edited in round {k}.\n{body}")).expect("write");
    };
    let user_git = |k: usize| {
        let rel = path_of((k * 5023) % n);
        let t = Instant::now();
        change(&rel, k);
        git_defaults(&user_git_dir, &ws.root, &["add", "-A"]);
        git_defaults(
            &user_git_dir,
            &ws.root,
            &["commit", "-q", "-m", "checkpoint"],
        );
        t.elapsed()
    };
    // Cline-style: a shadow git directory elsewhere whose work tree is the workspace.
    let shadow = |k: usize| {
        let rel = path_of((k * 7727) % n);
        let t = Instant::now();
        change(&rel, k);
        git_defaults(&git_dir, &ws.root, &["add", "-A"]);
        git_defaults(&git_dir, &ws.root, &["commit", "-q", "-m", "checkpoint"]);
        t.elapsed()
    };
    let spawn_floor = || {
        let t = Instant::now();
        let status = Command::new("/bin/true").status().expect("spawn /bin/true");
        assert!(status.success());
        t.elapsed()
    };
    let floor_dir = tmp.path().join("floor");
    std::fs::create_dir_all(&floor_dir).expect("floor dir");
    let sync_floor = || sync_floor(&floor_dir);
    // The CLI's own state directory starts empty: its first edit records the baseline.
    jingu(rounds);
    jingu_symbol(rounds);
    for round in 0..rounds {
        let mut contenders: Vec<(usize, Box<dyn Fn() -> Duration + '_>)> = vec![
            (0, Box::new(|| jingu(round))),
            (1, Box::new(|| jingu_symbol(round))),
            (2, Box::new(|| user_git(round))),
            (3, Box::new(|| shadow(round))),
            (4, Box::new(spawn_floor)),
            (5, Box::new(sync_floor)),
        ];
        let len = contenders.len();
        contenders.rotate_left(round % len);
        for (which, f) in contenders {
            let d = f();
            match which {
                0 => r.edit.0.push(d),
                1 => r.edit_symbol.0.push(d),
                2 => r.user_git.0.push(d),
                3 => r.shadow.0.push(d),
                4 => r.spawn_floor.0.push(d),
                _ => r.sync_floor.0.push(d),
            }
        }
    }
    r
}

/// The durability floor of one edit on this disk: three small appends, each made durable with
/// `fdatasync` (an audit record, a staged file, a snapshot), as a C program would do them.
fn sync_floor(dir: &Path) -> Duration {
    use std::io::Write;
    let t = Instant::now();
    for k in 0..3 {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("f{k}")))
            .expect("open");
        f.write_all(&[b'x'; 256]).expect("write");
        f.sync_data().expect("fdatasync");
    }
    t.elapsed()
}

/// The binary `jingu edit` runs from: `JINGU_BIN`, else the release build beside this bench.
fn jingu_binary() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("JINGU_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .join("jingu");
    assert!(
        bin.exists(),
        "build the binary first: cargo build --release -p jingu (looked for {}), or set JINGU_BIN",
        bin.display()
    );
    bin
}

fn git_status(git_dir: &Path, work_tree: &Path) {
    let out = Command::new("git")
        .env("GIT_DIR", git_dir)
        .env("GIT_WORK_TREE", work_tree)
        .current_dir(work_tree)
        .args(["status", "--porcelain"])
        .output()
        .expect("run git status");
    assert!(out.status.success(), "git status failed");
    assert!(out.stdout.is_empty(), "git status: the tree is clean");
}

/// git as people run it: default durability (`core.fsync`), no automatic gc mid-bench.
fn git_defaults(git_dir: &Path, work_tree: &Path, args: &[&str]) {
    let status = Command::new("git")
        .env("GIT_DIR", git_dir)
        .env("GIT_WORK_TREE", work_tree)
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(["-c", "gc.auto=0"])
        .args(args)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
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
