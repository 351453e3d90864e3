//! Opening the shadow repository and recording snapshots into it.
//!
//! Each snapshot is a commit on `refs/jingu/head` whose tree is built from the previous tree with
//! `TreeUpdateBuilder`: only the changed paths are hashed, untouched subtrees are reused by oid, and
//! no index or work-tree scan is involved — cost follows the change, not the workspace (invariant 7).

use std::collections::BTreeMap;
use std::path::PathBuf;

use git2::{Commit, Oid, Repository, Tree};

use super::lock::{Guard, StoreLock};
use super::model::{Change, Meta, SnapshotId, compose_message};
use super::paths::{check_rel, git_mode};
use super::{SnapshotError, workspace_meta_mode};
use jingu_fs::workspace::Workspace;

pub(crate) const HEAD_REF: &str = "refs/jingu/head";
pub(crate) const RUN_REF_PREFIX: &str = "refs/jingu/runs/";

/// The git-backed snapshot store of one workspace. Lives in `state_dir/snapshots.git`, outside the
/// workspace and separate from any `.git` the user has.
pub struct Store {
    pub(crate) repo: Repository,
    pub(crate) ws: Workspace,
    pub(crate) dir: PathBuf,
    lock: StoreLock,
    /// `[snapshots] watch`: the inotify watcher behind incremental scans.
    pub(crate) watch: Option<std::sync::Arc<super::watch::Watch>>,
}

impl Store {
    /// Open (creating on first use) the shadow repository of `ws`.
    pub fn open(ws: &Workspace) -> Result<Store, SnapshotError> {
        let dir = ws.state_dir.join("snapshots.git");
        std::fs::create_dir_all(&ws.state_dir).map_err(SnapshotError::io(
            "cannot create state directory",
            ws.state_dir.display(),
        ))?;
        let lock = StoreLock::open(&ws.state_dir.join("snapshots.lock")).map_err(
            SnapshotError::io("cannot open lock", ws.state_dir.display()),
        )?;
        let repo_err = |source| SnapshotError::Repo {
            path: dir.display().to_string(),
            source,
        };
        let repo = match Repository::open_bare(&dir) {
            Ok(r) => r,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                let _guard = lock
                    .acquire()
                    .map_err(SnapshotError::io("cannot lock", dir.display()))?;
                init_atomically(&ws.state_dir, &dir).map_err(repo_err)?
            }
            Err(e) => return Err(repo_err(e)),
        };
        // In memory only: `false` writes no core.worktree and no gitlink anywhere.
        repo.set_workdir(&ws.root, false).map_err(repo_err)?;
        let store = Store {
            repo,
            ws: ws.clone(),
            dir,
            lock,
            watch: None,
        };
        // One small read unless the machine rebooted since the last journaled edit.
        if super::journal::needs_recovery(&ws.state_dir) {
            let _guard = store.lock()?;
            store.recover_journal()?;
        }
        Ok(store)
    }

    /// Where the shadow repository lives.
    pub fn repo_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Record `changes` as one snapshot.
    pub fn record(&self, changes: &[Change], meta: &Meta) -> Result<SnapshotId, SnapshotError> {
        let _guard = self.lock()?;
        self.record_locked(changes, meta)
    }

    /// Record a file's content as it was before Jingu's first edit of it (it may be an unsaved
    /// editor buffer). Returns `None` when the store already holds exactly this content.
    pub fn record_baseline(
        &self,
        path: &str,
        original: &[u8],
        meta: &Meta,
    ) -> Result<Option<SnapshotId>, SnapshotError> {
        check_rel(path)?;
        let _guard = self.lock()?;
        let oid = Oid::hash_object(git2::ObjectType::Blob, original)
            .map_err(SnapshotError::git("hashing baseline"))?;
        if let Some(tree) = self.head_tree()?
            && let Ok(entry) = tree.get_path(std::path::Path::new(path))
            && entry.id() == oid
        {
            return Ok(None);
        }
        // A baseline records what was there before the run, so it never belongs to the run:
        // undoing the run must restore this content, not the state before it.
        let meta = Meta {
            run_id: None,
            op: "baseline".into(),
            target: path.into(),
            message: if meta.message.is_empty() {
                format!("baseline of {path} before its first edit")
            } else {
                meta.message.clone()
            },
            ..meta.clone()
        };
        let change = Change::Write {
            path: path.into(),
            content: original.to_vec(),
            mode: workspace_meta_mode(&self.ws, path),
        };
        self.record_locked(&[change], &meta).map(Some)
    }

    pub(crate) fn lock(&self) -> Result<Guard<'_>, SnapshotError> {
        let guard = self.lock.acquire().map_err(SnapshotError::io(
            "cannot lock snapshot store",
            self.dir.display(),
        ))?;
        // Holding the store lock, no other writer is live: a ref `.lock` file left by a writer
        // killed mid-update is stale and would block every later update.
        for stale in [HEAD_LOCK, "packed-refs.lock"] {
            remove_stale(&self.dir.join(stale))?;
        }
        Ok(guard)
    }

    pub(crate) fn record_locked(
        &self,
        changes: &[Change],
        meta: &Meta,
    ) -> Result<SnapshotId, SnapshotError> {
        // Last change to a path wins; the tree builder wants each path once.
        let mut latest: BTreeMap<&str, &Change> = BTreeMap::new();
        for c in changes {
            check_rel(c.path())?;
            latest.insert(c.path(), c);
        }
        let head = self.head_commit()?;
        let base = match &head {
            Some(c) => c.tree().map_err(SnapshotError::git("reading head tree"))?,
            None => self.empty_tree()?,
        };
        let mut builder = git2::build::TreeUpdateBuilder::new();
        for (path, change) in latest {
            match change {
                Change::Write { content, mode, .. } => {
                    let oid = self
                        .repo
                        .blob(content)
                        .map_err(SnapshotError::git(format!("storing `{path}`")))?;
                    builder.upsert(path, oid, git_mode(*mode));
                }
                Change::Delete { .. } => {
                    if base.get_path(std::path::Path::new(path)).is_ok() {
                        builder.remove(path);
                    }
                }
            }
        }
        let tree_oid = builder
            .create_updated(&self.repo, &base)
            .map_err(SnapshotError::git("building snapshot tree"))?;
        self.commit_tree(tree_oid, head.as_ref(), meta)
    }

    /// Commit `tree_oid` on top of `parent` and advance the head (and run) refs.
    pub(crate) fn commit_tree(
        &self,
        tree_oid: Oid,
        parent: Option<&Commit<'_>>,
        meta: &Meta,
    ) -> Result<SnapshotId, SnapshotError> {
        let tree = self
            .repo
            .find_tree(tree_oid)
            .map_err(SnapshotError::git("finding new tree"))?;
        let sig = self
            .repo
            .signature()
            .or_else(|_| git2::Signature::now("Jingu", "jingu@localhost"))
            .map_err(SnapshotError::git("making commit signature"))?;
        let parents: Vec<&Commit<'_>> = parent.into_iter().collect();
        let run_ref = match &meta.run_id {
            Some(run) => Some(run_ref_name(run)?),
            None => None,
        };
        let oid = self
            .repo
            .commit(None, &sig, &sig, &compose_message(meta), &tree, &parents)
            .map_err(SnapshotError::git("writing snapshot commit"))?;
        self.move_head(parent.map(Commit::id), oid)?;
        if let Some(name) = run_ref {
            remove_stale(&self.dir.join(format!("{name}.lock")))?;
            self.repo
                .reference(&name, oid, true, "jingu run")
                .map_err(SnapshotError::git(format!("updating {name}")))?;
        }
        Ok(SnapshotId(oid))
    }

    /// Compare-and-swap the head ref so a concurrent writer can never be silently overwritten.
    pub(crate) fn move_head(&self, old: Option<Oid>, new: Oid) -> Result<(), SnapshotError> {
        let result = match old {
            Some(old) => self
                .repo
                .reference_matching(HEAD_REF, new, true, old, "jingu snapshot"),
            None => self.repo.reference(HEAD_REF, new, false, "jingu snapshot"),
        };
        result
            .map(|_| ())
            .map_err(SnapshotError::git("advancing refs/jingu/head"))
    }

    pub(crate) fn head_commit(&self) -> Result<Option<Commit<'_>>, SnapshotError> {
        match self.repo.find_reference(HEAD_REF) {
            Ok(r) => {
                let c = r
                    .peel_to_commit()
                    .map_err(SnapshotError::git("reading refs/jingu/head"))?;
                Ok(Some(c))
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(SnapshotError::Git {
                context: "reading refs/jingu/head".into(),
                source: e,
            }),
        }
    }

    pub(crate) fn head_tree(&self) -> Result<Option<Tree<'_>>, SnapshotError> {
        match self.head_commit()? {
            Some(c) => c
                .tree()
                .map(Some)
                .map_err(SnapshotError::git("reading head tree")),
            None => Ok(None),
        }
    }

    pub(crate) fn empty_tree(&self) -> Result<Tree<'_>, SnapshotError> {
        let oid = self
            .repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(SnapshotError::git("writing empty tree"))?;
        self.repo
            .find_tree(oid)
            .map_err(SnapshotError::git("reading empty tree"))
    }

    /// Content and git mode of `path` in `tree`, if present as a file.
    pub(crate) fn blob_in(
        &self,
        tree: &Tree<'_>,
        path: &str,
    ) -> Result<Option<(Vec<u8>, i32)>, SnapshotError> {
        let entry = match tree.get_path(std::path::Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => {
                return Err(SnapshotError::Git {
                    context: format!("looking up `{path}`"),
                    source: e,
                });
            }
        };
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(SnapshotError::git(format!("reading `{path}`")))?;
        Ok(Some((blob.content().to_vec(), entry.filemode())))
    }
}

/// The run's ref name; run ids come from callers, so they must form a valid single ref component.
pub(crate) fn run_ref_name(run: &str) -> Result<String, SnapshotError> {
    let name = format!("{RUN_REF_PREFIX}{run}");
    if run.is_empty() || run.contains('/') || !git2::Reference::is_valid_name(&name) {
        return Err(SnapshotError::BadPath {
            path: run.to_string(),
            reason: "run id is not usable as a ref name".into(),
        });
    }
    Ok(name)
}

const HEAD_LOCK: &str = "refs/jingu/head.lock";

fn remove_stale(path: &std::path::Path) -> Result<(), SnapshotError> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "removed stale lock left by an interrupted writer");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SnapshotError::Io {
            context: "cannot remove stale lock",
            path: path.display().to_string(),
            source: e,
        }),
    }
}

/// Create the repository in a scratch directory and rename it into place, so a writer killed
/// mid-initialisation never leaves a half-made repository (or a stale `config.lock`) behind.
/// Caller holds the store lock.
fn init_atomically(
    state_dir: &std::path::Path,
    dir: &std::path::Path,
) -> Result<Repository, git2::Error> {
    let io = |e: std::io::Error| git2::Error::from_str(&format!("initialising: {e}"));
    if let Ok(repo) = Repository::open_bare(dir) {
        return Ok(repo); // another process finished first
    }
    if let Ok(entries) = std::fs::read_dir(state_dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(INIT_SCRATCH) {
                std::fs::remove_dir_all(e.path()).map_err(io)?;
            }
        }
    }
    // A directory that exists but does not open is a leftover of an older, non-atomic layout.
    if dir.exists() {
        let aside = state_dir.join(format!("{INIT_SCRATCH}broken-{}", std::process::id()));
        std::fs::rename(dir, aside).map_err(io)?;
    }
    let scratch = state_dir.join(format!("{INIT_SCRATCH}{}", std::process::id()));
    let repo = Repository::init_bare(&scratch)?;
    configure(&repo)?;
    drop(repo);
    std::fs::rename(&scratch, dir).map_err(io)?;
    std::fs::File::open(state_dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Repository::open_bare(dir)
}

const INIT_SCRATCH: &str = "snapshots.git.init-";

/// A private identity so commits work on machines with no git config. Object files are written
/// to a temp name and renamed by libgit2 (atomic against a killed process) but not fsynced: an
/// fsync per object costs tens of ms on common disks, against a 5 ms budget per snapshot.
fn configure(repo: &Repository) -> Result<(), git2::Error> {
    let mut cfg = repo.config()?.open_level(git2::ConfigLevel::Local)?;
    cfg.set_str("user.name", "Jingu")?;
    cfg.set_str("user.email", "jingu@localhost")?;
    cfg.set_bool("gc.auto", false)?;
    Ok(())
}
