//! Rollback: restore paths to earlier content, as a new snapshot (so a rollback can be undone).
//!
//! Before writing, each path's on-disk content must equal what the store last recorded for it. If
//! the user changed it since, a 3-way merge (base = recorded, ours = disk, theirs = restored) keeps
//! their edit when it does not overlap the lines being undone; otherwise the rollback is refused
//! and nothing is written.

use std::collections::BTreeMap;
use std::path::Path;

use super::gc::GC_BASE_OP;
use super::model::{Change, Meta, RollbackOutcome, SnapshotId, parse_trailers};
use super::paths::{check_rel, unix_mode};
use super::{SnapshotError, Store};
use jingu_fs::durable::TEMP_MARKER;
use jingu_fs::workspace::beneath;

/// Snapshot kinds that record pre-existing content rather than a change to undo.
const NOT_EDITS: [&str; 2] = ["baseline", GC_BASE_OP];

/// Desired final state of one path: content and git mode, or absent.
type Target = Option<(Vec<u8>, i32)>;

impl Store {
    /// Undo one snapshot: each path it changed goes back to its parent's content.
    pub fn rollback_snapshot(
        &self,
        id: SnapshotId,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        let _guard = self.lock()?;
        let commit = self.commit(id)?;
        let op = parse_trailers(commit.message().unwrap_or_default()).op;
        if NOT_EDITS.contains(&op.as_str()) {
            return Err(SnapshotError::NotUndoable {
                id: id.short(),
                reason: format!(
                    "it is a `{op}` record of content that already existed, not an edit; \
                     use `jingu rollback --file PATH --to ID` to restore a file to it"
                ),
            });
        }
        let before = match commit.parent(0) {
            Ok(p) => p
                .tree()
                .map_err(SnapshotError::git("reading parent tree"))?,
            Err(_) => self.empty_tree()?,
        };
        let mut targets = BTreeMap::new();
        for path in self.changed_paths(&commit)? {
            let t = self.blob_in(&before, &path)?;
            targets.insert(path, t);
        }
        let meta = rollback_meta(actor, &id.short(), format!("rollback of snapshot {id}"));
        self.apply_targets(targets, &meta)
    }

    /// Undo a whole agent run: every path it touched returns to its content before the run began.
    pub fn rollback_run(
        &self,
        run_id: &str,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        let _guard = self.lock()?;
        let chain = self.chain()?;
        let run_commits: Vec<_> = chain
            .iter()
            .filter(|c| {
                let t = parse_trailers(c.message().unwrap_or_default());
                // Baselines record what existed before the run's edits: they are the state to
                // return to, not part of what is undone.
                t.run_id.as_deref() == Some(run_id) && !NOT_EDITS.contains(&t.op.as_str())
            })
            .collect();
        if run_commits.is_empty() {
            return Err(SnapshotError::UnknownRun(run_id.to_string()));
        }
        // Each path returns to its content just before the run first touched it: a baseline of
        // that file may have been recorded mid-run, after the run's first commit.
        let mut targets = BTreeMap::new();
        for c in run_commits.iter().rev() {
            let before = match c.parent(0) {
                Ok(p) => p
                    .tree()
                    .map_err(SnapshotError::git("reading pre-run tree"))?,
                Err(_) => self.empty_tree()?,
            };
            for path in self.changed_paths(c)? {
                if let std::collections::btree_map::Entry::Vacant(slot) = targets.entry(path) {
                    let t = self.blob_in(&before, slot.key())?;
                    slot.insert(t);
                }
            }
        }
        let meta = rollback_meta(actor, run_id, format!("rollback of run {run_id}"));
        self.apply_targets(targets, &meta)
    }

    /// Restore one file to its content at snapshot `to` (deleting it if it did not exist then).
    pub fn rollback_file(
        &self,
        path: &str,
        to: SnapshotId,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        check_rel(path)?;
        let _guard = self.lock()?;
        let tree = self
            .commit(to)?
            .tree()
            .map_err(SnapshotError::git("reading snapshot tree"))?;
        let target = self.blob_in(&tree, path)?;
        let meta = rollback_meta(
            actor,
            &format!("{path}@{to}"),
            format!("rollback of {path} to snapshot {to}"),
        );
        self.apply_targets(BTreeMap::from([(path.to_string(), target)]), &meta)
    }

    /// Check every path, then write them all and record one snapshot. Caller holds the lock.
    fn apply_targets(
        &self,
        targets: BTreeMap<String, Target>,
        meta: &Meta,
    ) -> Result<RollbackOutcome, SnapshotError> {
        let recorded_tree = match self.head_tree()? {
            Some(t) => t,
            None => return Err(SnapshotError::Empty),
        };
        let mut finals: Vec<(String, Target)> = Vec::new();
        let mut user_edits: Vec<Change> = Vec::new();
        let mut merged = Vec::new();
        // Plan everything first: a refusal must leave every file untouched.
        for (path, target) in targets {
            check_rel(&path)?;
            let recorded = self.blob_in(&recorded_tree, &path)?;
            let disk = self.read_disk(&path)?;
            let recorded_bytes = recorded.as_ref().map(|(b, _)| b.as_slice());
            if disk.as_deref() == recorded_bytes {
                finals.push((path, target));
                continue;
            }
            let content = merge_user_edit(&path, recorded_bytes, disk.as_deref(), &target)?;
            let mode = target
                .as_ref()
                .map(|(_, m)| *m)
                .unwrap_or(i32::from(git2::FileMode::Blob));
            if let Some(current) = &disk {
                // Preserve the user's edit in history before overwriting it.
                user_edits.push(Change::Write {
                    path: path.clone(),
                    content: current.clone(),
                    mode: unix_mode(mode),
                });
            }
            merged.push(path.clone());
            finals.push((path, Some((content, mode))));
        }
        if !user_edits.is_empty() {
            let m = Meta {
                op: "baseline".into(),
                target: meta.target.clone(),
                message: "user edits found on disk before rollback".into(),
                ..meta.clone()
            };
            self.record_locked(&user_edits, &m)?;
        }
        let mut changes = Vec::new();
        let mut restored = Vec::new();
        for (path, target) in finals {
            let rel = self.confined_rel(&path)?;
            match target {
                Some((content, mode)) => {
                    beneath::replace(
                        &self.ws.root,
                        Path::new(&rel),
                        &content,
                        Some(unix_mode(mode)),
                        true,
                        |stem, r| format!(".{stem}{TEMP_MARKER}{}-{r}", std::process::id()),
                    )
                    .map_err(SnapshotError::io("cannot write", &path))?;
                    changes.push(Change::Write {
                        path: path.clone(),
                        content,
                        mode: unix_mode(mode),
                    });
                }
                None => {
                    beneath::remove(&self.ws.root, Path::new(&rel))
                        .map_err(SnapshotError::io("cannot delete", &path))?;
                    changes.push(Change::Delete { path: path.clone() });
                }
            }
            restored.push(path);
        }
        let id = self.record_locked(&changes, meta)?;
        Ok(RollbackOutcome {
            snapshot_id: id.short(),
            restored,
            merged,
        })
    }

    /// Current bytes on disk (`None` if absent).
    pub(crate) fn read_disk(&self, path: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        let rel = self.confined_rel(path)?;
        // By handle, no symlink followed: what is compared is what the rollback would overwrite.
        match beneath::read(&self.ws.root, Path::new(&rel), u64::MAX / 2) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SnapshotError::Io {
                context: "cannot read",
                path: path.to_string(),
                source: e,
            }),
        }
    }

    /// Workspace-relative path after `Workspace::confine`; used by handle (`workspace::beneath`),
    /// so a symlink planted after this check cannot redirect the write either.
    fn confined_rel(&self, path: &str) -> Result<String, SnapshotError> {
        self.ws.confine(path).map_err(|e| SnapshotError::BadPath {
            path: path.to_string(),
            reason: e.to_string(),
        })
    }
}

fn rollback_meta(actor: &str, target: &str, message: String) -> Meta {
    Meta {
        run_id: None,
        actor: actor.to_string(),
        op: "rollback".into(),
        target: target.to_string(),
        message,
    }
}

/// 3-way merge of the user's on-disk edit with the undo; refuse when they overlap.
fn merge_user_edit(
    path: &str,
    recorded: Option<&[u8]>,
    disk: Option<&[u8]>,
    target: &Target,
) -> Result<Vec<u8>, SnapshotError> {
    let conflict = |detail: &str| SnapshotError::Conflict {
        path: path.to_string(),
        detail: detail.to_string(),
    };
    let (Some(base), Some(ours)) = (recorded, disk) else {
        return Err(conflict(match disk {
            None => "it has since been deleted",
            Some(_) => "it was created outside Jingu",
        }));
    };
    let Some((theirs, _)) = target else {
        return Err(conflict(
            "the rollback would delete it, discarding your edits",
        ));
    };
    let mut b = git2::MergeFileInput::new();
    b.content(base);
    let mut o = git2::MergeFileInput::new();
    o.content(ours);
    let mut t = git2::MergeFileInput::new();
    t.content(theirs);
    let result = git2::merge_file(&b, &o, &t, None)
        .map_err(SnapshotError::git(format!("merging `{path}`")))?;
    if !result.is_automergeable() {
        return Err(conflict("your changes overlap the lines being rolled back"));
    }
    Ok(result.content().to_vec())
}
