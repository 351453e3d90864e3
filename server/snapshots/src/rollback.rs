//! Rollback: restore paths to earlier content, as a new snapshot (so a rollback can be undone).
//!
//! Undoing a change keeps everything that happened after it: each path is 3-way merged with
//! base = its content right after the undone change, ours = what the disk holds now (later edits,
//! Jingu's or the user's), theirs = its content before the change. Where they overlap the rollback
//! is refused, explained, and nothing is written. A path whose bytes would not change is not
//! rewritten. The rollback snapshot is recorded before any file is written (like edits), under the
//! per-file writer locks, and a failed write is followed by a snapshot of what the disk then holds.
//!
//! The `_in` variants take the open editor buffers: their text stands in for the disk (it is what
//! the user sees and what edits went to), and their restored content is returned in
//! [`RollbackOutcome::buffers`] for the caller to apply to the buffer instead of being written
//! behind the editor's back.

use std::collections::BTreeMap;
use std::path::Path;

use super::gc::GC_BASE_OP;
use super::model::{
    BufferRestore, Change, Meta, OpenBuffers, RollbackOutcome, SnapshotId, parse_trailers,
};
use super::paths::{check_rel, unix_mode};
use super::{SnapshotError, Store};
use jingu_fs::durable::TEMP_MARKER;
use jingu_fs::workspace::beneath;

/// Snapshot kinds that record pre-existing content rather than a change to undo.
const NOT_EDITS: [&str; 2] = ["baseline", GC_BASE_OP];

/// Desired final state of one path: content and git mode, or absent.
type Target = Option<(Vec<u8>, i32)>;

/// One path to restore: its content right after the change being undone (the merge base), and
/// what it should go back to.
struct Restore {
    base: Target,
    target: Target,
}

/// How long a rollback waits for editors of its files to finish.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Store {
    /// Undo one snapshot: each path it changed goes back to its parent's content.
    pub fn rollback_snapshot(
        &self,
        id: SnapshotId,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        self.rollback_snapshot_in(id, actor, &OpenBuffers::new())
    }

    /// [`Self::rollback_snapshot`] with the editor's open buffers (see the module doc).
    pub fn rollback_snapshot_in(
        &self,
        id: SnapshotId,
        actor: &str,
        open: &OpenBuffers,
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
        let after = commit
            .tree()
            .map_err(SnapshotError::git("reading snapshot tree"))?;
        let mut targets = BTreeMap::new();
        for path in self.changed_paths(&commit)? {
            let target = self.blob_in(&before, &path)?;
            let base = self.blob_in(&after, &path)?;
            targets.insert(path, Restore { base, target });
        }
        let meta = rollback_meta(actor, &id.short(), format!("rollback of snapshot {id}"));
        self.apply_targets(targets, &meta, open)
    }

    /// Undo a whole agent run: every path it touched returns to its content before the run began.
    pub fn rollback_run(
        &self,
        run_id: &str,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        self.rollback_run_in(run_id, actor, &OpenBuffers::new())
    }

    /// [`Self::rollback_run`] with the editor's open buffers (see the module doc).
    pub fn rollback_run_in(
        &self,
        run_id: &str,
        actor: &str,
        open: &OpenBuffers,
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
        let mut targets: BTreeMap<String, Restore> = BTreeMap::new();
        for c in run_commits.iter().rev() {
            let before = match c.parent(0) {
                Ok(p) => p
                    .tree()
                    .map_err(SnapshotError::git("reading pre-run tree"))?,
                Err(_) => self.empty_tree()?,
            };
            let after = c.tree().map_err(SnapshotError::git("reading run tree"))?;
            for path in self.changed_paths(c)? {
                // Oldest first: the first commit gives the target, the newest the merge base.
                let base = self.blob_in(&after, &path)?;
                match targets.entry(path) {
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        let target = self.blob_in(&before, slot.key())?;
                        slot.insert(Restore { base, target });
                    }
                    std::collections::btree_map::Entry::Occupied(mut slot) => {
                        slot.get_mut().base = base;
                    }
                }
            }
        }
        let meta = rollback_meta(actor, run_id, format!("rollback of run {run_id}"));
        self.apply_targets(targets, &meta, open)
    }

    /// Restore one file to its content at snapshot `to` (deleting it if it did not exist then).
    pub fn rollback_file(
        &self,
        path: &str,
        to: SnapshotId,
        actor: &str,
    ) -> Result<RollbackOutcome, SnapshotError> {
        self.rollback_file_in(path, to, actor, &OpenBuffers::new())
    }

    /// [`Self::rollback_file`] with the editor's open buffers (see the module doc).
    pub fn rollback_file_in(
        &self,
        path: &str,
        to: SnapshotId,
        actor: &str,
        open: &OpenBuffers,
    ) -> Result<RollbackOutcome, SnapshotError> {
        check_rel(path)?;
        let _guard = self.lock()?;
        let tree = self
            .commit(to)?
            .tree()
            .map_err(SnapshotError::git("reading snapshot tree"))?;
        let target = self.blob_in(&tree, path)?;
        // An explicit restore replaces what Jingu last recorded; the user's later edits on disk
        // are still merged in.
        let base = match self.head_tree()? {
            Some(head) => self.blob_in(&head, path)?,
            None => None,
        };
        let meta = rollback_meta(
            actor,
            &format!("{path}@{to}"),
            format!("rollback of {path} to snapshot {to}"),
        );
        self.apply_targets(
            BTreeMap::from([(path.to_string(), Restore { base, target })]),
            &meta,
            open,
        )
    }

    /// Plan every path, record the rollback, then write. Caller holds the store lock; the
    /// per-file writer locks are taken here (waiting for editors to finish without holding them).
    fn apply_targets(
        &self,
        targets: BTreeMap<String, Restore>,
        meta: &Meta,
        open: &OpenBuffers,
    ) -> Result<RollbackOutcome, SnapshotError> {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let _locks = loop {
            let mut locks = Vec::with_capacity(targets.len());
            let mut busy = None;
            for path in targets.keys() {
                check_rel(path)?;
                match jingu_fs::filelock::FileLock::try_acquire(&self.ws.state_dir, path)
                    .map_err(SnapshotError::io("cannot lock", path))?
                {
                    Some(l) => locks.push(l),
                    None => {
                        busy = Some(path.clone());
                        break;
                    }
                }
            }
            let Some(path) = busy else { break locks };
            drop(locks);
            if std::time::Instant::now() >= deadline {
                return Err(SnapshotError::io("cannot lock", &path)(
                    jingu_fs::filelock::busy(&path),
                ));
            }
            // An editor holds it and will want the store lock to record its edit: this thread
            // holds that lock, so wait briefly and try again rather than block here.
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        self.apply_locked(targets, meta, open)
    }

    /// What the user has for `path` now: the open buffer, else the disk.
    fn current(&self, path: &str, open: &OpenBuffers) -> Result<Option<Vec<u8>>, SnapshotError> {
        match open.get(path) {
            Some(text) => Ok(Some(text.clone())),
            None => self.read_disk(path),
        }
    }

    fn apply_locked(
        &self,
        targets: BTreeMap<String, Restore>,
        meta: &Meta,
        open: &OpenBuffers,
    ) -> Result<RollbackOutcome, SnapshotError> {
        let recorded_tree = match self.head_tree()? {
            Some(t) => t,
            None => return Err(SnapshotError::Empty),
        };
        let mut finals: Vec<(String, Target)> = Vec::new();
        let mut user_edits: Vec<Change> = Vec::new();
        let mut merged = Vec::new();
        // Plan everything first: a refusal must leave every file untouched.
        for (path, Restore { base, target }) in targets {
            let recorded = self.blob_in(&recorded_tree, &path)?;
            let disk = self.current(&path, open)?;
            let recorded_bytes = recorded.as_ref().map(|(b, _)| b.as_slice());
            if disk.as_deref() != recorded_bytes
                && let Some(current) = &disk
            {
                // Preserve the user's edit in history before merging over it.
                let mode = recorded
                    .as_ref()
                    .map_or(workspace_mode(&self.ws, &path), |(_, m)| unix_mode(*m));
                user_edits.push(Change::Write {
                    path: path.clone(),
                    content: current.clone(),
                    mode,
                });
            }
            let base_bytes = base.as_ref().map(|(b, _)| b.as_slice());
            let final_target = if disk.as_deref() == base_bytes {
                target
            } else {
                let content = merge_later_work(&path, base_bytes, disk.as_deref(), &target)?;
                merged.push(path.clone());
                match (content, &target) {
                    (None, _) => None,
                    (Some(c), Some((_, mode))) => Some((c, *mode)),
                    (Some(c), None) => Some((c, i32::from(git2::FileMode::Blob))),
                }
            };
            finals.push((path, final_target));
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
        // Record first: a rollback killed mid-write is then visible in history (and the next
        // scan records whatever the disk holds), never a restored file with no snapshot.
        let mut changes = Vec::new();
        let mut writes = Vec::new();
        let mut restored = Vec::new();
        let mut buffers = Vec::new();
        for (path, target) in finals {
            let disk = self.read_disk(&path)?;
            match target {
                Some((content, mode)) => {
                    let unix = restore_mode(&self.ws, &path, mode);
                    changes.push(Change::Write {
                        path: path.clone(),
                        content: content.clone(),
                        mode: unix,
                    });
                    let same_mode =
                        disk.is_none() || workspace_mode(&self.ws, &path) & 0o7777 == unix & 0o7777;
                    if let Some(text) = open.get(&path)
                        && disk.is_some()
                        && same_mode
                    {
                        // The editor holds it: the buffer follows, the disk waits for a save.
                        if *text != content {
                            buffers.push(BufferRestore {
                                path: path.clone(),
                                old: text.clone(),
                                new: content,
                            });
                        }
                    } else if disk.as_deref() != Some(content.as_slice()) || !same_mode {
                        writes.push((path.clone(), Some((content, unix))));
                    }
                }
                None => {
                    changes.push(Change::Delete { path: path.clone() });
                    if disk.is_some() {
                        writes.push((path.clone(), None));
                    }
                }
            }
            restored.push(path);
        }
        let id = self.record_locked(&changes, meta)?;
        for (path, write) in &writes {
            // Written by handle, beneath the root: a symlink swapped in since the check is refused.
            let rel = self.confined_rel(path)?;
            let result = match write {
                Some((content, mode)) => beneath::replace(
                    &self.ws.root,
                    Path::new(&rel),
                    content,
                    Some(*mode),
                    true,
                    |stem, r| format!(".{stem}{TEMP_MARKER}{}-{r}", std::process::id()),
                )
                .map_err(SnapshotError::io("cannot write", path)),
                None => beneath::remove(&self.ws.root, Path::new(&rel))
                    .map_err(SnapshotError::io("cannot delete", path)),
            };
            if let Err(e) = result {
                self.record_disk_state(writes.iter().map(|(p, _)| p.as_str()), meta)?;
                return Err(e);
            }
        }
        Ok(RollbackOutcome {
            snapshot_id: id.short(),
            restored,
            merged,
            buffers,
        })
    }

    /// After a failed rollback write: record what the disk holds for `paths`, so the history
    /// matches the files (some were restored, the rest were not).
    fn record_disk_state<'p>(
        &self,
        paths: impl Iterator<Item = &'p str>,
        meta: &Meta,
    ) -> Result<(), SnapshotError> {
        let mut changes = Vec::new();
        for path in paths {
            changes.push(match self.read_disk(path)? {
                Some(content) => Change::Write {
                    path: path.to_string(),
                    content,
                    mode: workspace_mode(&self.ws, path),
                },
                None => Change::Delete {
                    path: path.to_string(),
                },
            });
        }
        let m = Meta {
            op: "revert-failed-write".into(),
            message: "rollback not fully applied: what the disk holds".into(),
            ..meta.clone()
        };
        self.record_locked(&changes, &m).map(|_| ())
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

/// Permission bits of a workspace file as it is (0o644 when absent).
fn workspace_mode(ws: &jingu_fs::workspace::Workspace, path: &str) -> u32 {
    super::workspace_meta_mode(ws, path) & 0o7777
}

/// The mode a restored file gets: the history keeps only the executable bit, so an existing file
/// keeps its other permission bits (a private 0600 file stays private) and takes the recorded
/// executable bit; a re-created file gets the recorded mode.
fn restore_mode(ws: &jingu_fs::workspace::Workspace, path: &str, git_mode: i32) -> u32 {
    let recorded = unix_mode(git_mode);
    match std::fs::metadata(ws.abs(path)) {
        Ok(m) => {
            use std::os::unix::fs::PermissionsExt;
            let current = m.permissions().mode() & 0o7777;
            let exec_now = current & 0o111 != 0;
            let exec_recorded = recorded & 0o111 != 0;
            match (exec_now, exec_recorded) {
                (true, false) => current & !0o111,
                (false, true) => current | ((current & 0o444) >> 2),
                _ => current,
            }
        }
        Err(_) => recorded,
    }
}

/// Undo a change while keeping what happened since: a 3-way merge of base (right after the
/// change), ours (the disk now) and theirs (before the change). `None` deletes the file.
fn merge_later_work(
    path: &str,
    base: Option<&[u8]>,
    disk: Option<&[u8]>,
    target: &Target,
) -> Result<Option<Vec<u8>>, SnapshotError> {
    let conflict = |detail: &str| SnapshotError::Conflict {
        path: path.to_string(),
        detail: detail.to_string(),
    };
    let theirs = target.as_ref().map(|(b, _)| b.as_slice());
    if disk == theirs {
        return Ok(disk.map(<[u8]>::to_vec)); // already as it should be
    }
    let (Some(base), Some(ours)) = (base, disk) else {
        return Err(conflict(match (base, disk) {
            (_, None) => "it has since been deleted, so there is nothing to undo the change in",
            _ => "it was created again after the change being undone",
        }));
    };
    let Some(theirs) = theirs else {
        return Err(conflict(
            "undoing would delete it, discarding the edits made to it since",
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
        return Err(conflict(
            "it was changed again since, on the lines being rolled back; roll back the later \
             change first, or restore the file with `jingu rollback --file PATH --to ID`",
        ));
    }
    Ok(Some(result.content().to_vec()))
}
