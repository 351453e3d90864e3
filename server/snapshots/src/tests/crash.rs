//! Crash safety: a writer is SIGKILLed at random moments, hundreds of times; afterwards every
//! file is either an old or a new version (never torn), the shadow repository passes `git fsck`,
//! and every snapshot still restores.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::super::{Change, ListFilter, Meta, Store, atomic_write};
use jingu_fs::workspace::Workspace;

const CHILD_ENV: &str = "JINGU_SNAPSHOT_CRASH_CHILD";
const FILES: usize = 4;

/// Content of generation `n`: self-describing, so a torn or mixed file is detectable.
fn generation(n: u64) -> String {
    let line = format!("generation {n}\n");
    line.repeat((n % 200 + 1) as usize)
}

fn is_whole_generation(text: &str) -> bool {
    let Some(first) = text.lines().next() else {
        return false;
    };
    let Some(n) = first
        .strip_prefix("generation ")
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return false;
    };
    text == generation(n)
}

fn workspace(dir: &std::path::Path) -> Workspace {
    Workspace {
        root: dir.join("ws"),
        state_dir: dir.join("state"),
    }
}

/// The victim: runs only when re-executed by the test below, writing and recording forever.
#[test]
#[ignore = "runs only as the child of crash_safety_under_sigkill"]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let ws = workspace(std::path::Path::new(&dir));
    let store = Store::open(&ws).expect("open");
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let mut first = true;
    loop {
        n += 1;
        let path = format!("f{}.txt", n % FILES as u64);
        let content = generation(n);
        atomic_write(&ws.abs(&path), content.as_bytes()).expect("atomic write");
        let meta = Meta {
            run_id: Some(format!("run{}", n % 7)),
            actor: "child".into(),
            op: "replace".into(),
            target: path.clone(),
            message: String::new(),
        };
        let change = Change::Write {
            path,
            content: content.into_bytes(),
            mode: 0o644,
        };
        store.record(&[change], &meta).expect("record");
        if first {
            // Tell the parent one full iteration is done; its kill lands at a random later point.
            println!("ready");
            first = false;
        }
    }
}

#[test]
fn crash_safety_under_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workspace(dir.path());
    std::fs::create_dir_all(&ws.root).expect("mkdir");
    for i in 0..FILES {
        std::fs::write(ws.abs(&format!("f{i}.txt")), generation(i as u64)).expect("seed");
    }
    let exe = std::env::current_exe().expect("test binary");
    let started = Instant::now();
    let mut kills = 0;
    while kills < 200 || started.elapsed() < Duration::from_secs(2) {
        if started.elapsed() > Duration::from_secs(25) && kills >= 200 {
            break;
        }
        let mut child = Command::new(&exe)
            .args(["--exact", "tests::crash::crash_child_writer"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        // Wait for the first recorded iteration, then kill after a random delay.
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("ready") {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..20_000)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reap");
        assert!(!status.success(), "child must have been killed, not exited");
        kills += 1;
    }
    assert!(kills >= 200);

    // 1. Every file is a whole generation.
    for i in 0..FILES {
        let text = std::fs::read_to_string(ws.abs(&format!("f{i}.txt"))).expect("read");
        assert!(
            is_whole_generation(&text),
            "f{i}.txt is torn: {:?}",
            &text[..text.len().min(80)]
        );
    }
    // 2. The shadow repository is intact.
    let store = Store::open(&ws).expect("reopen");
    super::fsck(&store);
    // 3. Every snapshot restores: its content is whole, and a rollback to it works.
    let list = store.list(&ListFilter::default()).expect("list");
    assert!(
        list.len() > 50,
        "the child made progress: {} snapshots",
        list.len()
    );
    for info in &list {
        let id = store.resolve(&info.id).expect("resolve");
        for p in &info.paths {
            let bytes = store.content_at(id, p).expect("content").expect("present");
            assert!(is_whole_generation(
                &String::from_utf8(bytes).expect("utf8")
            ));
        }
    }
    // A kill between write and record leaves disk ahead of the store: a scan catches up.
    store
        .scan_workspace(&super::meta("scan", "recovery"))
        .expect("scan after crash");
    let oldest = store.resolve(&list[list.len() - 1].id).expect("oldest");
    let path = &list[list.len() - 1].paths[0];
    store
        .rollback_file(path, oldest, "bob")
        .expect("restore oldest");
    let restored = std::fs::read(ws.abs(path)).expect("read");
    assert_eq!(
        Some(restored),
        store.content_at(oldest, path).expect("content")
    );
}
