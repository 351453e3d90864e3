//! Tests of the snapshot store against real repositories and real files.

mod crash;
mod gc;
mod journal;
mod record;
mod rollback;
mod scan;
mod user_git;
mod watch;

use std::path::Path;

use super::{Change, Meta, SnapshotId, Store};
use jingu_fs::workspace::Workspace;

/// A workspace root and a state dir, both temporary and separate (as in production).
pub(super) struct Fixture {
    pub _root: tempfile::TempDir,
    pub _state: tempfile::TempDir,
    pub ws: Workspace,
    pub store: Store,
}

pub(super) fn fixture() -> Fixture {
    let root = tempfile::tempdir().expect("root tempdir");
    let state = tempfile::tempdir().expect("state tempdir");
    let ws = Workspace {
        root: root.path().canonicalize().expect("canonical root"),
        state_dir: state.path().join("ws-state"),
    };
    let store = Store::open(&ws).expect("open store");
    Fixture {
        _root: root,
        _state: state,
        ws,
        store,
    }
}

pub(super) fn meta(op: &str, target: &str) -> Meta {
    Meta {
        run_id: None,
        actor: "alice@example.com".into(),
        op: op.into(),
        target: target.into(),
        message: format!("{op} {target}"),
    }
}

pub(super) fn run_meta(run: &str, op: &str, target: &str) -> Meta {
    Meta {
        run_id: Some(run.into()),
        ..meta(op, target)
    }
}

pub(super) fn write(path: &str, content: &str) -> Change {
    Change::Write {
        path: path.into(),
        content: content.as_bytes().to_vec(),
        mode: 0o644,
    }
}

/// Write `content` to disk and record it, as an edit by the agent would.
pub(super) fn edit(f: &Fixture, path: &str, content: &str, m: &Meta) -> SnapshotId {
    put(&f.ws.root, path, content);
    f.store.record(&[write(path, content)], m).expect("record")
}

pub(super) fn put(root: &Path, path: &str, content: &str) {
    let abs = root.join(path);
    if let Some(dir) = abs.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(abs, content).expect("write file");
}

pub(super) fn read(root: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(root.join(path)).ok()
}

/// `git fsck --full` on the shadow repository must report no errors.
pub(super) fn fsck(store: &Store) {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(store.repo_dir())
        .args(["fsck", "--full", "--no-progress"])
        .output()
        .expect("run git fsck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "git fsck failed: {text}");
    for bad in ["error", "missing", "corrupt", "broken"] {
        assert!(!text.contains(bad), "git fsck reported {bad}: {text}");
    }
}
