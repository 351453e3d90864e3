//! `[snapshots] watch`: a watched scan re-checks only what changed, sees every kind of change,
//! and falls back to a full walk whenever the watcher cannot vouch for what it saw.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::super::watch;
use super::{Fixture, fixture, meta, put};

const FILES: usize = 40;

fn scan(f: &Fixture) -> super::super::ScanReport {
    f.store
        .scan_workspace(&meta("scan", "workspace"))
        .expect("scan")
}

/// Move every file's mtime out of the racy window (stands in for waiting it out).
fn age(dir: &Path) {
    let old = SystemTime::now() - Duration::from_secs(60);
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with(".git") {
                age(&p);
            }
        } else {
            let file = std::fs::File::options().write(true).open(&p).expect("open");
            file.set_modified(old).expect("set mtime");
        }
    }
}

/// A watched store over `FILES` aged files in four directories, after its first (full) scan.
fn watched() -> Fixture {
    let mut f = fixture();
    put(&f.ws.root, ".gitignore", "*.log\n");
    for i in 0..FILES {
        put(
            &f.ws.root,
            &format!("d{}/f{i}.txt", i % 4),
            &format!("file {i}\n"),
        );
    }
    age(&f.ws.root);
    f.store.watch().expect("watch");
    assert!(f.store.is_watching());
    let first = scan(&f);
    assert!(first.baseline);
    assert_eq!(
        first.files_seen,
        FILES + 1,
        "the first watched scan walks everything"
    );
    let idle = scan(&f);
    assert_eq!(idle.snapshot_id, None);
    assert_eq!(
        idle.files_seen, 0,
        "an unchanged watched scan looks at nothing"
    );
    f
}

#[test]
fn a_watched_scan_sees_create_modify_delete_and_rename_of_files() {
    let f = watched();
    let root = &f.ws.root;
    put(root, "d1/f1.txt", "file 1, changed and longer\n");
    put(root, "d2/new.txt", "new\n");
    std::fs::remove_file(root.join("d3/f3.txt")).expect("rm");
    std::fs::rename(root.join("d0/f0.txt"), root.join("d0/moved.txt")).expect("mv");
    put(root, "d0/noise.log", "ignored\n");
    let r = scan(&f);
    assert_eq!(r.modified, ["d1/f1.txt"]);
    assert_eq!(r.created, ["d0/moved.txt", "d2/new.txt"]);
    assert_eq!(r.deleted, ["d0/f0.txt", "d3/f3.txt"]);
    assert!(r.snapshot_id.is_some());
    assert!(
        r.files_seen < FILES / 2,
        "only the changed paths were looked at ({} files)",
        r.files_seen
    );
    let id = f
        .store
        .resolve(r.snapshot_id.as_deref().expect("id"))
        .expect("id");
    assert_eq!(
        f.store.content_at(id, "d0/moved.txt").expect("content"),
        Some(b"file 0\n".to_vec())
    );
    assert_eq!(
        f.store.content_at(id, "d0/noise.log").expect("content"),
        None
    );

    // The files just written are re-checked once more by the racy-timestamp rule, then the
    // scan is idle again.
    let again = scan(&f);
    assert_eq!(again.snapshot_id, None, "nothing changed since");
    age(root);
    scan(&f);
    let idle = scan(&f);
    assert_eq!(idle.files_seen, 0);
}

#[test]
fn a_watched_scan_walks_new_directories_and_sees_later_changes_inside_them() {
    let f = watched();
    let root = &f.ws.root;
    put(root, "n/sub/x.txt", "x\n");
    put(root, "n/y.txt", "y\n");
    let r = scan(&f);
    assert_eq!(r.created, ["n/sub/x.txt", "n/y.txt"]);
    // The new directories are watched now: a change inside them is an event.
    put(root, "n/sub/z.txt", "z\n");
    put(root, "n/sub/x.txt", "x changed\n");
    let r = scan(&f);
    assert_eq!(r.created, ["n/sub/z.txt"]);
    assert_eq!(r.modified, ["n/sub/x.txt"]);
    // A whole directory removed.
    std::fs::remove_dir_all(root.join("d2")).expect("rm -r");
    let r = scan(&f);
    let mut want: Vec<String> = (0..FILES)
        .filter(|i| i % 4 == 2)
        .map(|i| format!("d2/f{i}.txt"))
        .collect();
    want.sort();
    assert_eq!(r.deleted, want);
}

#[test]
fn a_renamed_directory_falls_back_to_a_full_walk_and_is_seen() {
    let f = watched();
    let root = &f.ws.root;
    std::fs::rename(root.join("d1"), root.join("e1")).expect("mv dir");
    let r = scan(&f);
    assert_eq!(r.files_seen, FILES + 1, "a full walk");
    assert_eq!(r.deleted.len(), FILES / 4);
    assert_eq!(r.created.len(), FILES / 4);
    assert!(r.created.iter().all(|p| p.starts_with("e1/")));
    // The fresh watcher covers the moved directory under its new name.
    put(root, "e1/f1.txt", "changed after the move\n");
    let r = scan(&f);
    assert_eq!(r.modified, ["e1/f1.txt"]);
    assert!(r.files_seen < FILES / 2);
}

#[test]
fn an_overflow_or_an_unknown_event_makes_the_next_scan_a_full_walk() {
    let f = watched();
    let root = &f.ws.root;
    let w = f.store.watch.as_ref().expect("watching");
    // Lost events: a change the watcher never reported must still be found.
    watch::simulate_overflow(w);
    let r = scan(&f);
    assert_eq!(r.files_seen, FILES + 1, "overflow: full walk");
    assert_eq!(r.snapshot_id, None);
    let idle = scan(&f);
    assert_eq!(idle.files_seen, 0, "incremental again after the full walk");

    watch::simulate_unknown(w);
    put(root, "d3/f3.txt", "changed\n");
    let r = scan(&f);
    assert_eq!(r.files_seen, FILES + 1, "unknown event: full walk");
    assert_eq!(r.modified, ["d3/f3.txt"]);
}

#[test]
fn a_changed_ignore_file_makes_the_next_scan_a_full_walk() {
    let f = watched();
    let root = &f.ws.root;
    put(root, "d0/keep.log", "log\n");
    let r = scan(&f);
    assert!(r.created.is_empty(), "ignored: {:?}", r.created);
    put(root, ".gitignore", "# nothing ignored now\n");
    let r = scan(&f);
    assert_eq!(r.files_seen, FILES + 2, "a full walk under the new rules");
    assert_eq!(r.created, ["d0/keep.log"]);
    assert_eq!(r.modified, [".gitignore"]);
}
