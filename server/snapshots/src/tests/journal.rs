//! The snapshot journal: objects and refs a power loss took away are restored from it when the
//! store is opened under a new boot id; under the same boot it is not even read.

use super::super::{Store, journal};
use super::{fixture, meta, run_meta, write};

/// Where libgit2 keeps a loose object.
fn loose(store: &Store, oid: git2::Oid) -> std::path::PathBuf {
    let hex = oid.to_string();
    store
        .repo_dir()
        .join("objects")
        .join(&hex[..2])
        .join(&hex[2..])
}

#[test]
fn objects_and_refs_lost_in_a_reboot_come_back_from_the_journal() {
    let f = fixture();
    let base = f
        .store
        .record_baseline("src/a.rs", b"old\n", &meta("baseline", "a"))
        .expect("baseline")
        .expect("recorded");
    let id = f
        .store
        .record(
            &[write("src/a.rs", "new\n")],
            &run_meta("r1", "replace", "a"),
        )
        .expect("record");
    f.store
        .make_durable(&[base, id], &["src/a.rs"], Some("r1"))
        .expect("journal");

    // What a power loss does to unsynced writes: the new blob, the commit and the head ref gone,
    // a tree left as an empty file.
    let new_blob = git2::Oid::hash_object(git2::ObjectType::Blob, b"new\n").expect("hash");
    let commit = f.store.repo.find_commit(id.0).expect("commit");
    let tree = commit.tree_id();
    let head_ref = f.store.repo_dir().join("refs/jingu/head");
    drop(commit);
    std::fs::remove_file(loose(&f.store, new_blob)).expect("rm blob");
    std::fs::remove_file(loose(&f.store, id.0)).expect("rm commit");
    std::fs::write(loose(&f.store, tree), b"").expect("truncate tree");
    std::fs::write(&head_ref, format!("{}\n", base.0)).expect("head back to the baseline");

    // Same boot: the journal is trusted to be redundant and not read.
    let same = Store::open(&f.ws).expect("open");
    assert!(
        same.repo.find_commit(id.0).is_err(),
        "nothing restored within one boot"
    );
    drop(same);

    journal::pretend_reboot(&f.ws.state_dir);
    let after = Store::open(&f.ws).expect("open after reboot");
    assert_eq!(
        after
            .content_at(id, "src/a.rs")
            .expect("content")
            .as_deref(),
        Some(&b"new\n"[..])
    );
    assert_eq!(
        after
            .content_at(base, "src/a.rs")
            .expect("content")
            .as_deref(),
        Some(&b"old\n"[..])
    );
    assert_eq!(
        after.head().expect("head").map(|h| h.0),
        Some(id.0),
        "head moved forward"
    );
    super::fsck(&after);
    assert_eq!(
        std::fs::metadata(journal::path(&f.ws.state_dir))
            .expect("journal")
            .len(),
        0,
        "a recovered journal is retired"
    );
}

#[test]
fn a_torn_last_frame_is_ignored() {
    let f = fixture();
    let id = f
        .store
        .record(&[write("a.txt", "one\n")], &meta("replace", "a"))
        .expect("record");
    f.store
        .make_durable(&[id], &["a.txt"], None)
        .expect("journal");
    let second = f
        .store
        .record(&[write("a.txt", "two\n")], &meta("replace", "a"))
        .expect("record");
    f.store
        .make_durable(&[second], &["a.txt"], None)
        .expect("journal");
    // Cut the second frame in half, as a crash during its append would.
    let jpath = journal::path(&f.ws.state_dir);
    let len = std::fs::metadata(&jpath).expect("journal").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&jpath)
        .expect("open");
    file.set_len(len - 20).expect("truncate");
    let head_ref = f.store.repo_dir().join("refs/jingu/head");
    std::fs::write(&head_ref, format!("{}\n", id.0)).expect("head at the first");
    journal::pretend_reboot(&f.ws.state_dir);
    let after = Store::open(&f.ws).expect("open after reboot");
    assert_eq!(
        after.head().expect("head").map(|h| h.0),
        Some(id.0),
        "the torn frame's edit never happened"
    );
}
