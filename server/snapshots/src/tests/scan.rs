use super::super::scan::MAX_FILE_SIZE;
use super::super::statcache;
use super::{fixture, meta, put};

fn scan_meta() -> super::super::Meta {
    meta("scan", "workspace")
}

#[test]
fn scan_detects_create_modify_delete() {
    let f = fixture();
    put(&f.ws.root, "a.txt", "a\n");
    put(&f.ws.root, "src/b.rs", "b\n");
    put(&f.ws.root, "src/c.rs", "c\n");
    let first = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert!(first.baseline);
    assert_eq!(first.files_seen, 3);
    let base = f
        .store
        .resolve(first.snapshot_id.as_deref().expect("baseline id"))
        .expect("id");
    assert_eq!(
        f.store.content_at(base, "src/b.rs").expect("c").as_deref(),
        Some(&b"b\n"[..])
    );

    let idle = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(idle.snapshot_id, None, "nothing changed");
    assert!(!idle.baseline);

    put(&f.ws.root, "a.txt", "a changed, longer\n");
    put(&f.ws.root, "src/new.rs", "new\n");
    std::fs::remove_file(f.ws.root.join("src/c.rs")).expect("rm");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.modified, ["a.txt"]);
    assert_eq!(r.created, ["src/new.rs"]);
    assert_eq!(r.deleted, ["src/c.rs"]);
    let id = f
        .store
        .resolve(r.snapshot_id.as_deref().expect("id"))
        .expect("id");
    let info = f.store.show(id).expect("show").info;
    assert_eq!(info.op, "scan");
    assert_eq!(info.paths, ["a.txt", "src/c.rs", "src/new.rs"]);
    assert_eq!(f.store.content_at(id, "src/c.rs").expect("c"), None);
}

#[test]
fn unchanged_files_are_not_rehashed() {
    let f = fixture();
    for i in 0..40 {
        put(
            &f.ws.root,
            &format!("d{}/f{i}.txt", i % 4),
            &format!("{i}\n"),
        );
    }
    f.store.scan_workspace(&scan_meta()).expect("baseline");
    // Files written within the racy window are re-checked once; after that, nothing is read.
    // Aging them past the window stands in for waiting it out.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for i in 0..40 {
        let path = f.ws.root.join(format!("d{}/f{i}.txt", i % 4));
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(old).expect("set mtime");
    }
    let settle = f.store.scan_workspace(&scan_meta()).expect("settle");
    assert_eq!(settle.files_hashed, 40, "racy entries are re-read once");
    let idle = f.store.scan_workspace(&scan_meta()).expect("idle");
    assert_eq!((idle.files_seen, idle.files_hashed), (40, 0));
    put(&f.ws.root, "d1/f1.txt", "changed\n");
    let one = f.store.scan_workspace(&scan_meta()).expect("one");
    assert_eq!(one.files_hashed, 1);
    assert_eq!(one.modified, ["d1/f1.txt"]);
}

#[test]
fn same_size_rewrite_within_one_tick_is_still_caught() {
    let f = fixture();
    put(&f.ws.root, "a.txt", "aaaa\n");
    f.store.scan_workspace(&scan_meta()).expect("baseline");
    // Same size, written right after the scan: mtime may equal the cached one, but the entry
    // was marked racy so it is re-read.
    put(&f.ws.root, "a.txt", "bbbb\n");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.modified, ["a.txt"]);
}

#[test]
fn ignored_oversized_and_internal_paths_are_skipped_and_reported() {
    let f = fixture();
    put(&f.ws.root, ".gitignore", "target/\n*.log\n");
    put(&f.ws.root, "target/debug/app", "binary\n");
    put(&f.ws.root, "src/run.log", "log\n");
    put(&f.ws.root, "src/main.rs", "fn main() {}\n");
    put(&f.ws.root, ".jingu/config.toml", "x = 1\n");
    put(&f.ws.root, ".git/config", "[core]\n");
    put(
        &f.ws.root,
        "src/.main.rs.jingu-tmp-1-2",
        "torn write left by a crash\n",
    );
    let big = std::fs::File::create(f.ws.root.join("big.bin")).expect("big");
    big.set_len(MAX_FILE_SIZE + 1).expect("sparse file");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.ignored, ["src/run.log", "target"]);
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert_eq!(r.skipped[0].path, "big.bin");
    assert!(r.skipped[0].reason.contains("16 MiB"));
    let id = f
        .store
        .resolve(r.snapshot_id.as_deref().expect("id"))
        .expect("id");
    let paths = f.store.show(id).expect("show").info.paths;
    assert_eq!(paths, [".gitignore", "src/main.rs"]);
}

#[test]
fn agent_records_and_scans_agree() {
    let f = fixture();
    put(&f.ws.root, "a.txt", "a\n");
    f.store.scan_workspace(&scan_meta()).expect("baseline");
    super::edit(&f, "a.txt", "agent\n", &meta("replace", "a"));
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.snapshot_id, None, "the agent's edit is already recorded");
}

#[test]
fn stat_cache_round_trips_and_rejects_corruption() {
    let mut cache = statcache::StatCache {
        commit: Some(git2::Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid")),
        ..Default::default()
    };
    cache.entries.insert(
        "src/ä.rs".into(),
        statcache::CacheEntry {
            mtime_ns: 1_700_000_000_123_456_789,
            size: 42,
            ino: 7,
            mode: 0o100644,
            oid: git2::Oid::from_str("89abcdef0123456789abcdef0123456789abcdef").expect("oid"),
        },
    );
    let bytes = statcache::encode(&cache);
    let back = statcache::decode(&bytes).expect("decode");
    assert_eq!(back.commit, cache.commit);
    assert_eq!(back.entries, cache.entries);
    for cut in [0, 3, 10, bytes.len() - 1] {
        assert!(
            statcache::decode(&bytes[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
    let mut huge = bytes.clone();
    huge[28..36].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(statcache::decode(&huge).is_err(), "absurd count refused");
}

#[test]
fn corrupt_cache_on_disk_means_a_full_rescan_not_a_failure() {
    let f = fixture();
    put(&f.ws.root, "a.txt", "a\n");
    f.store.scan_workspace(&scan_meta()).expect("baseline");
    std::fs::write(f.ws.state_dir.join("statcache"), b"garbage").expect("corrupt");
    put(&f.ws.root, "a.txt", "b\n");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    let id = f
        .store
        .resolve(r.snapshot_id.as_deref().expect("id"))
        .expect("id");
    assert_eq!(
        f.store.content_at(id, "a.txt").expect("c").as_deref(),
        Some(&b"b\n"[..])
    );
}

#[test]
fn nested_ignore_files_follow_git_precedence() {
    let f = fixture();
    put(&f.ws.root, ".gitignore", "*.log\n");
    put(&f.ws.root, "sub/.gitignore", "!keep.log\nsecret/\n");
    put(&f.ws.root, "sub/keep.log", "kept\n");
    put(&f.ws.root, "sub/drop.log", "dropped\n");
    put(&f.ws.root, "sub/secret/key", "k\n");
    put(&f.ws.root, "top.log", "dropped\n");
    let r = f.store.scan_workspace(&meta("scan", "ws")).expect("scan");
    assert_eq!(r.ignored, ["sub/drop.log", "sub/secret", "top.log"]);
    let id = f
        .store
        .resolve(r.snapshot_id.as_deref().expect("id"))
        .expect("id");
    let kept = f.store.content_at(id, "sub/keep.log").expect("content");
    assert_eq!(
        kept.as_deref(),
        Some(&b"kept\n"[..]),
        "deeper `!` re-includes"
    );
}

#[test]
fn a_file_grown_past_the_limit_is_skipped_not_deleted() {
    let f = fixture();
    put(&f.ws.root, "a.txt", "a\n");
    put(&f.ws.root, "b.txt", "b\n");
    f.store.scan_workspace(&scan_meta()).expect("baseline");

    let grown = std::fs::OpenOptions::new()
        .write(true)
        .open(f.ws.root.join("a.txt"))
        .expect("open");
    grown.set_len(MAX_FILE_SIZE + 1).expect("grow");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.deleted, Vec::<String>::new());
    assert_eq!(r.skipped[0].path, "a.txt");

    std::fs::remove_file(f.ws.root.join("b.txt")).expect("rm");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(
        r.deleted,
        ["b.txt"],
        "a skipped file is not taken for a deleted one"
    );

    put(&f.ws.root, "a.txt", "back\n");
    let r = f.store.scan_workspace(&scan_meta()).expect("scan");
    assert_eq!(r.modified, ["a.txt"]);
    assert!(r.skipped.is_empty() && r.deleted.is_empty());
}
