use std::fs;
use std::path::{Path, PathBuf};

use crate::realdoc::{
    BatchError, EditError, EditRequest, FileEdit, Op, WriteError, apply_batch, commit_batch,
    plan_batch,
};

use super::{kw, sym};

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("a.rs"), "fn a() -> i32 {\n    1\n}\n").expect("write");
    fs::write(dir.path().join("b.py"), "def b():\n    return 2\n").expect("write");
    dir
}

fn fe(path: &str, reqs: Vec<EditRequest>) -> FileEdit {
    FileEdit {
        path: PathBuf::from(path),
        requests: reqs,
    }
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).expect("read")
}

#[test]
fn all_edits_land_together_in_order() {
    let ws = workspace();
    let applied = apply_batch(
        ws.path(),
        &[
            fe(
                "a.rs",
                vec![
                    EditRequest::new(sym("a"), Op::Replace, "fn a() -> i32 {\n    10\n}"),
                    EditRequest::new(sym("a"), Op::InsertAfter, "fn z() {}"),
                ],
            ),
            fe(
                "b.py",
                vec![EditRequest::new(
                    kw("return", None),
                    Op::Replace,
                    "return 20",
                )],
            ),
        ],
    )
    .expect("batch");
    assert_eq!(applied.len(), 2);
    assert_eq!(
        read(ws.path(), "a.rs"),
        "fn a() -> i32 {\n    10\n}\n\nfn z() {}\n"
    );
    assert_eq!(read(ws.path(), "b.py"), "def b():\n    return 20\n");
    assert_eq!(applied[0].summaries.len(), 2);
}

#[test]
fn one_failure_writes_nothing() {
    let ws = workspace();
    let before = (read(ws.path(), "a.rs"), read(ws.path(), "b.py"));
    let good = fe("a.rs", vec![EditRequest::new(sym("a"), Op::Delete, "")]);
    // A syntax error in the second file.
    let err = apply_batch(
        ws.path(),
        &[
            good.clone(),
            fe(
                "b.py",
                vec![EditRequest::new(sym("b"), Op::Replace, "def b(:\n  pass")],
            ),
        ],
    )
    .expect_err("must refuse");
    assert!(
        matches!(
            err,
            BatchError::Plan {
                index: 0,
                source: EditError::SyntaxError { .. },
                ..
            }
        ),
        "{err}"
    );
    // A missing symbol in a later edit of the same file.
    let err = apply_batch(
        ws.path(),
        &[
            fe(
                "b.py",
                vec![
                    EditRequest::new(sym("b"), Op::InsertAfter, "def c():\n    pass"),
                    EditRequest::new(sym("nope"), Op::Delete, ""),
                ],
            ),
            good,
        ],
    )
    .expect_err("must refuse");
    assert!(
        matches!(
            err,
            BatchError::Plan {
                index: 1,
                source: EditError::NoSuchSymbol { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(before, (read(ws.path(), "a.rs"), read(ws.path(), "b.py")));
}

#[test]
fn write_failure_restores_files_already_written() {
    let ws = workspace();
    let planned = plan_batch(
        ws.path(),
        &[
            fe("a.rs", vec![EditRequest::new(sym("a"), Op::Delete, "")]),
            fe("b.py", vec![EditRequest::new(sym("b"), Op::Delete, "")]),
        ],
    )
    .expect("plan");
    // The user saves b.py between planning and writing.
    fs::write(ws.path().join("b.py"), "def b():\n    return 3\n").expect("user write");
    let err = commit_batch(&planned).expect_err("must refuse");
    match err {
        BatchError::Write {
            source: WriteError::ConcurrentModification { .. },
            restored,
            not_restored,
        } => {
            assert_eq!(restored.len(), 1);
            assert!(not_restored.is_empty());
        }
        other => panic!("{other}"),
    }
    assert_eq!(read(ws.path(), "a.rs"), "fn a() -> i32 {\n    1\n}\n");
    assert_eq!(read(ws.path(), "b.py"), "def b():\n    return 3\n");
}

#[test]
fn paths_cannot_escape_or_reach_git_state() {
    let ws = workspace();
    let outside = tempfile::tempdir().expect("outside");
    fs::write(outside.path().join("secret.rs"), "fn s() {}\n").expect("write");
    fs::create_dir(ws.path().join(".git")).expect("mkdir");
    fs::write(ws.path().join(".git/config"), "[core]\n").expect("write");
    std::os::unix::fs::symlink(outside.path().join("secret.rs"), ws.path().join("link.rs"))
        .expect("symlink");
    std::os::unix::fs::symlink(ws.path().join(".git/config"), ws.path().join("cfg"))
        .expect("symlink");
    let escape = format!(
        "../{}/secret.rs",
        outside.path().file_name().expect("name").to_string_lossy()
    );
    let abs = outside
        .path()
        .join("secret.rs")
        .to_string_lossy()
        .into_owned();
    for bad in [
        escape.as_str(),
        abs.as_str(),
        ".git/config",
        "./.jingu/x",
        "link.rs",
        "cfg",
        "missing.rs",
    ] {
        let err = apply_batch(
            ws.path(),
            &[fe(
                bad,
                vec![EditRequest::new(kw("[core]", None), Op::Delete, "")],
            )],
        )
        .expect_err(bad);
        assert!(matches!(err, BatchError::Path { .. }), "{bad}: {err}");
    }
    assert_eq!(read(outside.path(), "secret.rs"), "fn s() {}\n");
    assert_eq!(read(ws.path(), ".git/config"), "[core]\n");
    let dup = apply_batch(ws.path(), &[fe("a.rs", vec![]), fe("./a.rs", vec![])]).expect_err("dup");
    assert!(matches!(dup, BatchError::DuplicatePath { .. }));
}
