use std::path::Path;

use super::super::{Change, ListFilter, SnapshotError};
use super::{edit, fixture, meta, run_meta, write};

#[test]
fn record_list_show_diff_content() {
    let f = fixture();
    let first = edit(&f, "src/a.rs", "fn a() {}\n", &meta("replace", "a"));
    let second = edit(&f, "src/a.rs", "fn a() { 1 }\n", &meta("replace", "a"));
    let list = f.store.list(&ListFilter::default()).expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, second.short(), "newest first");
    assert_eq!(list[1].id, first.short());
    assert_eq!(list[0].paths, vec!["src/a.rs".to_string()]);
    assert!(list[0].time.ends_with('Z') && list[0].time.len() == 20);

    let shown = f.store.show(second).expect("show");
    assert_eq!(shown.parent.as_deref(), Some(first.0.to_string().as_str()));
    assert!(shown.message.starts_with("replace a"));

    let diff = f.store.diff(second).expect("diff");
    assert!(diff.contains("-fn a() {}"), "{diff}");
    assert!(diff.contains("+fn a() { 1 }"), "{diff}");
    assert!(diff.contains("src/a.rs"), "{diff}");

    let old = f.store.content_at(first, "src/a.rs").expect("content");
    assert_eq!(old.as_deref(), Some(&b"fn a() {}\n"[..]));
    assert_eq!(f.store.content_at(first, "nope").expect("content"), None);

    let limited = f
        .store
        .list(&ListFilter {
            limit: Some(1),
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(limited.len(), 1);
}

#[test]
fn list_json_shape_and_trailers() {
    let f = fixture();
    edit(
        &f,
        "x.txt",
        "1\n",
        &run_meta("run-7", "insert-after", "Parser/parse"),
    );
    edit(&f, "y.txt", "2\n", &meta("delete", "y"));
    let list = f.store.list(&ListFilter::default()).expect("list");
    let text = serde_json::to_string(&list[1]).expect("json");
    let positions: Vec<usize> = ["id", "time", "run_id", "actor", "op", "target", "paths"]
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect(k))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "field order as in DESIGN §2: {text}"
    );
    let json = serde_json::to_value(&list).expect("json");
    let obj = json[1].as_object().expect("object");
    assert_eq!(obj.len(), 7, "exactly the documented fields: {text}");
    assert_eq!(obj["run_id"], "run-7");
    assert_eq!(obj["actor"], "alice@example.com");
    assert_eq!(obj["op"], "insert-after");
    assert_eq!(obj["target"], "Parser/parse");
    assert_eq!(json[0]["run_id"], serde_json::Value::Null);

    let by_run = f
        .store
        .list(&ListFilter {
            run: Some("run-7".into()),
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(by_run.len(), 1);
    let by_path = f
        .store
        .list(&ListFilter {
            path: Some("y.txt".into()),
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(by_path.len(), 1);
    assert_eq!(by_path[0].paths, vec!["y.txt".to_string()]);

    let raw = f
        .store
        .show(f.store.resolve(&list[1].id).expect("resolve"))
        .expect("show");
    assert!(
        raw.message.contains("\nJingu-Run: run-7\n"),
        "{}",
        raw.message
    );
    assert!(raw.message.contains("\nJingu-Actor: alice@example.com\n"));
    assert!(raw.message.contains("\nJingu-Op: insert-after\n"));
    assert!(raw.message.contains("\nJingu-Target: Parser/parse\n"));
}

#[test]
fn newlines_in_metadata_cannot_forge_trailers() {
    let f = fixture();
    let mut m = meta("replace", "a\nJingu-Actor: mallory");
    m.message = "x\n\nJingu-Actor: mallory".into();
    let id = edit(&f, "a.txt", "a\n", &m);
    let info = f.store.show(id).expect("show").info;
    assert_eq!(info.actor, "alice@example.com");
    assert_eq!(info.target, "a Jingu-Actor: mallory");
}

#[test]
fn unchanged_subtrees_are_reused_by_oid() {
    let f = fixture();
    let mut changes = Vec::new();
    for d in ["a", "b/deep"] {
        for i in 0..50 {
            changes.push(write(&format!("{d}/f{i}.txt"), &format!("{d} {i}\n")));
        }
    }
    let first = f
        .store
        .record(&changes, &meta("bulk", "init"))
        .expect("record");
    let second = f
        .store
        .record(&[write("a/f3.txt", "changed\n")], &meta("replace", "a/f3"))
        .expect("record");
    let tree = |id: super::super::SnapshotId, p: &str| {
        let c = f.store.repo.find_commit(id.0).expect("commit");
        c.tree()
            .expect("tree")
            .get_path(Path::new(p))
            .expect("entry")
            .id()
    };
    assert_eq!(
        tree(first, "b"),
        tree(second, "b"),
        "untouched subtree reused"
    );
    assert_eq!(tree(first, "b/deep"), tree(second, "b/deep"));
    assert_ne!(tree(first, "a"), tree(second, "a"));
    assert_eq!(tree(first, "a/f4.txt"), tree(second, "a/f4.txt"));
    assert_eq!(f.store.show(second).expect("show").info.paths, ["a/f3.txt"]);
}

#[test]
fn delete_and_executable_mode_are_recorded() {
    let f = fixture();
    let changes = [
        Change::Write {
            path: "run.sh".into(),
            content: b"#!/bin/sh\n".to_vec(),
            mode: 0o755,
        },
        write("gone.txt", "bye\n"),
    ];
    let first = f
        .store
        .record(&changes, &meta("create", "two"))
        .expect("record");
    let second = f
        .store
        .record(
            &[Change::Delete {
                path: "gone.txt".into(),
            }],
            &meta("delete", "gone"),
        )
        .expect("record");
    let tree = f
        .store
        .repo
        .find_commit(first.0)
        .expect("c")
        .tree()
        .expect("t");
    let entry = tree.get_path(Path::new("run.sh")).expect("entry");
    assert_eq!(entry.filemode(), i32::from(git2::FileMode::BlobExecutable));
    assert_eq!(f.store.content_at(second, "gone.txt").expect("read"), None);
    // Deleting a path that was never recorded is a no-op, not an error.
    f.store
        .record(
            &[Change::Delete {
                path: "never.txt".into(),
            }],
            &meta("delete", "never"),
        )
        .expect("record");
}

#[test]
fn hostile_paths_are_refused_and_nothing_is_recorded() {
    let f = fixture();
    for bad in [
        "../escape",
        "/etc/passwd",
        ".git/config",
        "sub/.GIT/hooks/pre-commit",
        ".jingu/policy.toml",
        "a/./b",
        "a//b",
        "",
        "a\0b",
        "a\\b",
    ] {
        let err = f
            .store
            .record(&[write(bad, "x")], &meta("replace", "x"))
            .expect_err(bad);
        assert!(
            matches!(err, SnapshotError::BadPath { .. }),
            "{bad:?}: {err}"
        );
    }
    assert!(f.store.head().expect("head").is_none());
}

#[test]
fn run_ids_that_are_not_ref_names_are_refused() {
    let f = fixture();
    for bad in ["../../heads/main", "a b", "x..y", "r/1"] {
        let err = f
            .store
            .record(&[write("a", "1")], &run_meta(bad, "replace", "a"))
            .expect_err(bad);
        assert!(matches!(err, SnapshotError::BadPath { .. }), "{bad}: {err}");
    }
}

#[test]
fn baseline_is_recorded_once_per_content() {
    let f = fixture();
    let first = f
        .store
        .record_baseline("a.txt", b"original\n", &meta("", ""))
        .expect("baseline");
    let id = first.expect("first baseline recorded");
    assert_eq!(f.store.show(id).expect("show").info.op, "baseline");
    let again = f
        .store
        .record_baseline("a.txt", b"original\n", &meta("", ""))
        .expect("baseline");
    assert!(again.is_none(), "same content is not recorded twice");
    let changed = f
        .store
        .record_baseline("a.txt", b"edited by user\n", &meta("", ""))
        .expect("baseline");
    assert!(changed.is_some());
}

#[test]
fn prefixes_resolve_uniquely_and_ambiguity_is_an_error() {
    let f = fixture();
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut clash = None;
    for i in 0..3000 {
        let id = f
            .store
            .record(&[write("n.txt", &i.to_string())], &meta("replace", "n"))
            .expect("record");
        let full = id.0.to_string();
        if let Some(prev) = seen.insert(full[..4].to_string(), full.clone()) {
            clash = Some((prev, full));
            break;
        }
    }
    let (a, b) = clash.expect("a 4-hex-digit prefix clash within 3000 commits");
    match f.store.resolve(&a[..4]) {
        Err(SnapshotError::Ambiguous { candidates, .. }) => {
            assert!(candidates.contains(&a[..12]) && candidates.contains(&b[..12]));
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert_eq!(f.store.resolve(&a[..12]).expect("unique").0.to_string(), a);
    assert_eq!(
        f.store
            .resolve(&b.to_uppercase())
            .expect("full")
            .0
            .to_string(),
        b
    );
    assert!(matches!(
        f.store.resolve("zzzz"),
        Err(SnapshotError::NotFound(_))
    ));
    assert!(matches!(
        f.store.resolve("ab"),
        Err(SnapshotError::NotFound(_))
    ));
}
