use super::super::{ListFilter, SnapshotError};
use super::{edit, fixture, put, read, run_meta};

const ORIGINAL: &str = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";
const EDITED: &str = "l1\nAGENT\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";

#[test]
fn rollback_of_an_edit_and_undo_of_the_rollback() {
    let f = fixture();
    put(&f.ws.root, "f.txt", ORIGINAL);
    f.store
        .record_baseline("f.txt", ORIGINAL.as_bytes(), &run_meta("r1", "", ""))
        .expect("baseline");
    let e = edit(&f, "f.txt", EDITED, &run_meta("r1", "replace", "l2"));

    let undo = f.store.rollback_snapshot(e, "bob").expect("rollback");
    assert_eq!(undo.restored, ["f.txt"]);
    assert!(undo.merged.is_empty());
    assert_eq!(read(&f.ws.root, "f.txt").as_deref(), Some(ORIGINAL));
    let undo_id = f.store.resolve(&undo.snapshot_id).expect("resolve");
    let info = f.store.show(undo_id).expect("show").info;
    assert_eq!((info.op.as_str(), info.actor.as_str()), ("rollback", "bob"));

    let redo = f
        .store
        .rollback_snapshot(undo_id, "bob")
        .expect("undo the undo");
    assert_eq!(read(&f.ws.root, "f.txt").as_deref(), Some(EDITED));
    assert_eq!(
        f.store.list(&ListFilter::default()).expect("list")[0].id,
        redo.snapshot_id
    );
}

#[test]
fn rollback_of_a_creation_deletes_the_file() {
    let f = fixture();
    let e = edit(
        &f,
        "new/file.rs",
        "fn x() {}\n",
        &run_meta("r1", "create", "x"),
    );
    f.store.rollback_snapshot(e, "bob").expect("rollback");
    assert!(!f.ws.root.join("new/file.rs").exists());
    assert_eq!(
        f.store
            .content_at(f.store.head().expect("h").expect("h"), "new/file.rs")
            .expect("c"),
        None
    );
}

#[test]
fn rollback_file_to_an_earlier_snapshot() {
    let f = fixture();
    let v1 = edit(&f, "a.txt", "v1\n", &run_meta("r1", "replace", "a"));
    edit(&f, "a.txt", "v2\n", &run_meta("r1", "replace", "a"));
    edit(&f, "b.txt", "b\n", &run_meta("r1", "replace", "b"));
    edit(&f, "a.txt", "v3\n", &run_meta("r2", "replace", "a"));
    let out = f
        .store
        .rollback_file("a.txt", v1, "bob")
        .expect("rollback file");
    assert_eq!(out.restored, ["a.txt"]);
    assert_eq!(read(&f.ws.root, "a.txt").as_deref(), Some("v1\n"));
    assert_eq!(
        read(&f.ws.root, "b.txt").as_deref(),
        Some("b\n"),
        "other files untouched"
    );
}

#[test]
fn rollback_of_a_whole_run_restores_every_path_it_touched() {
    let f = fixture();
    edit(
        &f,
        "keep.txt",
        "before\n",
        &run_meta("r0", "create", "keep"),
    );
    edit(&f, "a.txt", "a0\n", &run_meta("r0", "create", "a"));
    edit(&f, "a.txt", "a1\n", &run_meta("r1", "replace", "a"));
    edit(&f, "b.txt", "b1\n", &run_meta("r1", "create", "b"));
    edit(&f, "a.txt", "a2\n", &run_meta("r1", "replace", "a"));
    edit(&f, "c.txt", "c\n", &run_meta("r2", "create", "c"));
    let out = f.store.rollback_run("r1", "bob").expect("rollback run");
    assert_eq!(out.restored, ["a.txt", "b.txt"]);
    assert_eq!(read(&f.ws.root, "a.txt").as_deref(), Some("a0\n"));
    assert!(
        !f.ws.root.join("b.txt").exists(),
        "created by the run, so deleted"
    );
    assert_eq!(
        read(&f.ws.root, "c.txt").as_deref(),
        Some("c\n"),
        "later run untouched"
    );
    assert_eq!(read(&f.ws.root, "keep.txt").as_deref(), Some("before\n"));
    assert!(matches!(
        f.store.rollback_run("nope", "bob"),
        Err(SnapshotError::UnknownRun(_))
    ));
}

#[test]
fn overlapping_user_edit_is_refused_and_left_intact() {
    let f = fixture();
    put(&f.ws.root, "f.txt", ORIGINAL);
    f.store
        .record_baseline("f.txt", ORIGINAL.as_bytes(), &run_meta("r1", "", ""))
        .expect("baseline");
    let e = edit(&f, "f.txt", EDITED, &run_meta("r1", "replace", "l2"));
    let users = "l1\nUSER\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";
    put(&f.ws.root, "f.txt", users);
    let before = f.store.head().expect("head");
    let err = f
        .store
        .rollback_snapshot(e, "bob")
        .expect_err("must refuse");
    match &err {
        SnapshotError::Conflict { path, .. } => assert_eq!(path, "f.txt"),
        other => panic!("expected conflict, got {other}"),
    }
    assert!(err.to_string().contains("changed on disk"), "{err}");
    assert_eq!(read(&f.ws.root, "f.txt").as_deref(), Some(users));
    assert_eq!(
        f.store.head().expect("head"),
        before,
        "no snapshot on refusal"
    );
}

#[test]
fn refusal_is_all_or_nothing_across_paths() {
    let f = fixture();
    edit(&f, "a.txt", "a0\n", &run_meta("r0", "create", "a"));
    edit(&f, "b.txt", "b0\n", &run_meta("r0", "create", "b"));
    edit(&f, "a.txt", "a1\n", &run_meta("r1", "replace", "a"));
    edit(&f, "b.txt", "b1\n", &run_meta("r1", "replace", "b"));
    put(&f.ws.root, "b.txt", "user\n");
    assert!(f.store.rollback_run("r1", "bob").is_err());
    assert_eq!(
        read(&f.ws.root, "a.txt").as_deref(),
        Some("a1\n"),
        "a untouched too"
    );
}

#[test]
fn non_overlapping_user_edit_is_merged_and_kept_in_history() {
    let f = fixture();
    put(&f.ws.root, "f.txt", ORIGINAL);
    f.store
        .record_baseline("f.txt", ORIGINAL.as_bytes(), &run_meta("r1", "", ""))
        .expect("baseline");
    let e = edit(&f, "f.txt", EDITED, &run_meta("r1", "replace", "l2"));
    let users = "l1\nAGENT\nl3\nl4\nl5\nl6\nl7\nl8\nUSER9\nl10\n";
    put(&f.ws.root, "f.txt", users);
    let out = f.store.rollback_snapshot(e, "bob").expect("merge");
    assert_eq!(out.merged, ["f.txt"]);
    let expected = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nUSER9\nl10\n";
    assert_eq!(read(&f.ws.root, "f.txt").as_deref(), Some(expected));
    let list = f.store.list(&ListFilter::default()).expect("list");
    assert_eq!(
        list[1].op, "baseline",
        "user's edit recorded before the rollback"
    );
    let kept = f
        .store
        .content_at(f.store.resolve(&list[1].id).expect("id"), "f.txt")
        .expect("c");
    assert_eq!(kept.as_deref(), Some(users.as_bytes()));
}

#[test]
fn symlink_planted_after_recording_cannot_redirect_a_rollback() {
    let f = fixture();
    let outside = tempfile::tempdir().expect("outside");
    let e = edit(&f, "dir/f.txt", "agent\n", &run_meta("r1", "create", "f"));
    std::fs::remove_dir_all(f.ws.root.join("dir")).expect("rm");
    std::os::unix::fs::symlink(outside.path(), f.ws.root.join("dir")).expect("symlink");
    let rollback_to = |id| f.store.rollback_file("dir/f.txt", id, "bob");
    // Restoring `dir/f.txt` would write through the link: refuse.
    let err = rollback_to(e).expect_err("escape refused");
    assert!(matches!(err, SnapshotError::BadPath { .. }), "{err}");
    let err2 = f
        .store
        .rollback_snapshot(e, "bob")
        .expect_err("escape refused");
    assert!(matches!(err2, SnapshotError::BadPath { .. }), "{err2}");
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("ls").count(),
        0,
        "nothing written outside"
    );
}
