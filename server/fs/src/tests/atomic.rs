use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::atomic::{MAX_EDIT_BYTES, ReadError, WriteError, read_for_edit, sha256, write_atomic};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn replaces_content_keeps_mode_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.sh");
    fs::write(&path, "echo old\n").expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).expect("chmod");
    let (text, hash) = read_for_edit(&path).expect("read");
    assert_eq!(text, "echo old\n");
    write_atomic(&path, b"echo new\n", Some(hash)).expect("write");
    assert_eq!(fs::read_to_string(&path).expect("read"), "echo new\n");
    assert_eq!(
        fs::metadata(&path).expect("meta").permissions().mode() & 0o7777,
        0o750
    );
    assert_eq!(entries(dir.path()), vec!["run.sh"]);
}

#[test]
fn concurrent_modification_is_refused_and_file_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.rs");
    fs::write(&path, "fn a() {}\n").expect("write");
    let (_, hash) = read_for_edit(&path).expect("read");
    fs::write(&path, "fn a() { /* the user typed */ }\n").expect("concurrent write");
    let err = write_atomic(&path, b"fn b() {}\n", Some(hash)).expect_err("must refuse");
    assert!(
        matches!(err, WriteError::ConcurrentModification { .. }),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "fn a() { /* the user typed */ }\n"
    );
    // Removed since read: refused too, and nothing is created.
    fs::remove_file(&path).expect("rm");
    assert!(matches!(
        write_atomic(&path, b"x", Some(hash)),
        Err(WriteError::ConcurrentModification { .. })
    ));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn creation_requires_absence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new.py");
    write_atomic(&path, b"x = 1\n", None).expect("create");
    assert_eq!(fs::read(&path).expect("read"), b"x = 1\n");
    assert!(matches!(
        write_atomic(&path, b"x = 2\n", None),
        Err(WriteError::ConcurrentModification { .. })
    ));
}

#[test]
fn a_symlink_is_refused_not_written_through() {
    // Callers pass paths `Workspace::confine` already resolved; a link found at write time was
    // swapped in after that check, so following it could write anywhere.
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real.txt");
    let link = dir.path().join("link.txt");
    fs::write(&real, "old").expect("write");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    assert!(write_atomic(&link, b"new", Some(sha256(b"old"))).is_err());
    assert!(read_for_edit(&link).is_err());
    assert!(
        fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&real).expect("read"), "old");
}

#[test]
fn old_readers_see_old_content_never_a_mix() {
    // A reader holding the old file keeps reading the complete old content after the rename.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.txt");
    let old = "o".repeat(1 << 20);
    fs::write(&path, &old).expect("write");
    let held = fs::File::open(&path).expect("open");
    write_atomic(
        &path,
        "n".repeat(1 << 20).as_bytes(),
        Some(sha256(old.as_bytes())),
    )
    .expect("write");
    let mut seen = String::new();
    std::io::Read::read_to_string(&mut &held, &mut seen).expect("read held");
    assert_eq!(seen, old);
    assert!(
        fs::read_to_string(&path)
            .expect("read")
            .bytes()
            .all(|b| b == b'n')
    );
}

#[test]
fn read_refuses_binary_non_utf8_and_huge_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("a.bin");
    fs::write(&bin, b"ELF\0\x01\x02").expect("write");
    assert!(matches!(
        read_for_edit(&bin),
        Err(ReadError::Binary { offset: 3, .. })
    ));
    let latin1 = dir.path().join("a.txt");
    fs::write(&latin1, b"caf\xe9\n").expect("write");
    assert!(matches!(
        read_for_edit(&latin1),
        Err(ReadError::NotUtf8 { offset: 3, .. })
    ));
    let huge = dir.path().join("huge.txt");
    let f = fs::File::create(&huge).expect("create");
    f.set_len(MAX_EDIT_BYTES + 1).expect("sparse");
    assert!(matches!(
        read_for_edit(&huge),
        Err(ReadError::TooLarge { .. })
    ));
    assert!(matches!(
        read_for_edit(dir.path()),
        Err(ReadError::NotAFile { .. } | ReadError::Io { .. })
    ));
}

#[test]
fn a_staged_write_changes_nothing_until_commit_and_a_dropped_one_leaves_no_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.rs");
    fs::write(&path, "fn a() {}\n").expect("write");
    let (_, hash) = read_for_edit(&path).expect("read");
    let staged = crate::atomic::stage(&path, b"fn b() {}\n").expect("stage");
    assert_eq!(fs::read_to_string(&path).expect("read"), "fn a() {}\n");
    assert_eq!(entries(dir.path()).len(), 2, "the temp file beside it");
    drop(staged); // the record that must precede the write failed
    assert_eq!(entries(dir.path()), vec!["a.rs"]);
    assert_eq!(fs::read_to_string(&path).expect("read"), "fn a() {}\n");

    let staged = crate::atomic::stage(&path, b"fn b() {}\n").expect("stage");
    staged.commit(Some(hash)).expect("commit");
    assert_eq!(fs::read_to_string(&path).expect("read"), "fn b() {}\n");
    assert_eq!(entries(dir.path()), vec!["a.rs"]);
}

#[test]
fn a_change_made_while_staged_is_caught_at_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.rs");
    fs::write(&path, "fn a() {}\n").expect("write");
    let (_, hash) = read_for_edit(&path).expect("read");
    let staged = crate::atomic::stage(&path, b"fn b() {}\n").expect("stage");
    fs::write(&path, "fn a() { /* typed meanwhile */ }\n").expect("concurrent write");
    let err = staged.commit(Some(hash)).expect_err("must refuse");
    assert!(
        matches!(err, WriteError::ConcurrentModification { .. }),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "fn a() { /* typed meanwhile */ }\n"
    );
    assert_eq!(entries(dir.path()), vec!["a.rs"], "no temp file left");
}
