use std::collections::BTreeMap;
use std::path::Path;

use super::super::{ListFilter, Store};
use super::{edit, fixture, meta, put, run_meta};

/// Every file under `dir` with its bytes.
fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn the_users_git_repository_is_never_touched() {
    let f = fixture();
    let user = git2::Repository::init(&f.ws.root).expect("user repo");
    put(&f.ws.root, "a.txt", "committed\n");
    let mut index = user.index().expect("index");
    index.add_path(Path::new("a.txt")).expect("add");
    index.write().expect("write index");
    let tree = user
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::now("U", "u@example.com").expect("sig");
    user.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
        .expect("commit");
    let before = tree_bytes(&f.ws.root.join(".git"));
    assert!(before.contains_key("index") && before.contains_key("HEAD"));

    let store = Store::open(&f.ws).expect("reopen");
    let e = edit(&f, "a.txt", "agent\n", &run_meta("r1", "replace", "a"));
    put(&f.ws.root, "b.txt", "side effect\n");
    store.scan_workspace(&meta("scan", "ws")).expect("scan");
    store.rollback_snapshot(e, "bob").expect("rollback");
    store.list(&ListFilter::default()).expect("list");

    assert_eq!(
        tree_bytes(&f.ws.root.join(".git")),
        before,
        "user's .git changed"
    );
    assert!(
        !store.repo_dir().starts_with(&f.ws.root),
        "shadow repo outside the workspace"
    );
    let config = std::fs::read_to_string(store.repo_dir().join("config")).expect("config");
    assert!(
        !config.contains("worktree"),
        "no core.worktree written: {config}"
    );
    // The user's HEAD still names their own commit, and `git status` sees only our file changes.
    let head = user.head().expect("head").peel_to_commit().expect("commit");
    assert_eq!(head.message().ok(), Some("init"));
}

#[test]
fn works_in_a_workspace_that_is_not_a_git_repository() {
    let f = fixture();
    assert!(!f.ws.root.join(".git").exists());
    put(&f.ws.root, "notes.md", "hello\n");
    let r = f.store.scan_workspace(&meta("scan", "ws")).expect("scan");
    assert!(r.snapshot_id.is_some());
    let e = edit(&f, "notes.md", "hello agent\n", &meta("replace", "notes"));
    f.store.rollback_snapshot(e, "bob").expect("rollback");
    assert_eq!(
        super::read(&f.ws.root, "notes.md").as_deref(),
        Some("hello\n")
    );
    assert!(
        !f.ws.root.join(".git").exists(),
        "no .git created in the workspace"
    );
    super::fsck(&f.store);
}
