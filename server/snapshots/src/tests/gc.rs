use super::super::{GcPolicy, ListFilter, SnapshotError};
use super::{edit, fixture, fsck, run_meta};

#[test]
fn gc_keeps_the_newest_and_the_floor_and_remaps_runs() {
    let f = fixture();
    for i in 0..10 {
        let run = if i < 5 { "old" } else { "new" };
        edit(
            &f,
            &format!("f{}.txt", i % 3),
            &format!("v{i}\n"),
            &run_meta(run, "replace", "f"),
        );
    }
    let before = f.store.list(&ListFilter::default()).expect("list");
    let head_tree = f.store.head_tree().expect("t").expect("t").id();
    // Everything is "old" by age (keep_days 0 keeps nothing by age); count 3, floor 4 wins.
    let report = f
        .store
        .gc(&GcPolicy {
            keep_days: 0,
            keep_count: 3,
            floor: 4,
        })
        .expect("gc");
    assert_eq!((report.kept, report.removed), (4, 6));
    assert!(report.pruned_objects > 0);
    let after = f.store.list(&ListFilter::default()).expect("list");
    assert_eq!(
        after.len(),
        5,
        "4 kept on top of a base holding the pruned state"
    );
    assert_eq!(after[4].op, "gc-base");
    let base = f.store.resolve(&after[4].id).expect("base");
    assert!(matches!(
        f.store.rollback_snapshot(base, "bob"),
        Err(SnapshotError::NotUndoable { .. })
    ));
    // The oldest kept edit still diffs against the state before it, not against nothing.
    assert_eq!(after[3].paths.len(), 1);
    assert_eq!(
        f.store.head_tree().expect("t").expect("t").id(),
        head_tree,
        "content kept"
    );
    for (a, b) in after.iter().take(4).zip(&before) {
        assert_eq!((&a.op, &a.run_id, &a.time), (&b.op, &b.run_id, &b.time));
    }
    assert!(
        f.store.repo.find_reference("refs/jingu/runs/old").is_err(),
        "dropped run forgotten"
    );
    let new_ref = f
        .store
        .repo
        .find_reference("refs/jingu/runs/new")
        .expect("kept run");
    assert_eq!(new_ref.target().expect("t").to_string()[..12], after[0].id);
    fsck(&f.store);
    // Run "new" (v5..v9) partly pruned: its kept part rolls back to the state before v6.
    f.store
        .rollback_run("new", "bob")
        .expect("rollback after gc");
    assert_eq!(super::read(&f.ws.root, "f0.txt").as_deref(), Some("v3\n"));
    assert_eq!(super::read(&f.ws.root, "f2.txt").as_deref(), Some("v5\n"));

    let report = f
        .store
        .gc(&GcPolicy {
            keep_days: 365,
            keep_count: 0,
            floor: 0,
        })
        .expect("gc by age");
    assert_eq!(report.removed, 0, "everything is younger than a year");
}
