//! `[snapshots] watch`: an inotify watcher (the `notify` crate) that lets a long-running server's
//! scan re-check only what changed instead of walking the workspace.
//!
//! Every directory the scan walks is watched, non-recursively, *before* it is read: a change
//! made before the read is seen by the read, one made after it is an event. Events mark paths
//! dirty; the next scan first writes a barrier file into a watched directory of the state
//! directory and waits for its event — one inotify queue is delivered in order, so every change
//! that completed before the barrier has been marked by then. It then re-checks the dirty paths
//! (a new directory is walked whole, and gets its watches), plus the files the racy-timestamp
//! rule (`jingu_fs::racy`) left to re-check. Anything the watcher cannot vouch for — a queue
//! overflow, an event of unknown kind, a watcher error, a directory renamed (its watches would
//! keep the old paths), a changed `.gitignore`/`.ignore` or `.git/info/exclude`, no barrier
//! within [`BARRIER_WAIT`], the watch limit reached — makes the next scan a full walk, which
//! starts a fresh watcher.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{Event, RecursiveMode, Watcher};

use super::SnapshotError;
use super::statcache::StatCache;

/// How long a scan waits for its barrier event before it walks everything instead.
pub(crate) const BARRIER_WAIT: Duration = Duration::from_secs(2);
const BARRIER_PREFIX: &str = "barrier-";

/// What the next scan must look at.
pub(crate) enum Plan {
    /// Walk the whole workspace.
    Full,
    /// Re-check only these workspace-relative paths (files or directories, present or gone).
    Paths(Vec<String>),
}

/// What a watched scan keeps in memory between scans.
pub(crate) struct Memory {
    pub cache: StatCache,
    /// Files the racy-timestamp rule left to re-check (their cached mtime is 0).
    pub racy: Vec<String>,
    /// Ignored paths the last full walk reported.
    pub ignored: Vec<String>,
    /// `.git/info/exclude` as last seen (mtime, size), since `.git/` is not watched.
    pub exclude: Option<(i64, u64)>,
}

#[derive(Default)]
struct State {
    dirty: HashSet<PathBuf>,
    full: bool,
    /// The highest barrier number whose event has arrived.
    barrier: u64,
}

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
    /// Watched directories (absolute).
    dirs: Mutex<HashSet<PathBuf>>,
    /// The watch limit was reached or a watch could not be added: full walks from now on.
    broken: AtomicBool,
}

pub(crate) struct Watch {
    root: PathBuf,
    barrier_dir: PathBuf,
    shared: Arc<Shared>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    next_barrier: AtomicU64,
    memory: Mutex<Option<Memory>>,
}

/// One watcher per workspace per process: front ends that open a store per request (ACP opens
/// one per prompt) share the watcher and its in-memory cache instead of starting over.
pub(crate) fn shared(root: &Path, state_dir: &Path) -> Result<Arc<Watch>, SnapshotError> {
    static WATCHERS: std::sync::OnceLock<Mutex<std::collections::HashMap<PathBuf, Arc<Watch>>>> =
        std::sync::OnceLock::new();
    let mut all = lock(WATCHERS.get_or_init(Default::default));
    if let Some(w) = all.get(state_dir) {
        return Ok(Arc::clone(w));
    }
    let w = Arc::new(Watch::new(root, state_dir)?);
    all.insert(state_dir.to_path_buf(), Arc::clone(&w));
    Ok(w)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Watch {
    /// A watcher for `root` whose barrier files go to `state_dir/watch/`. Nothing is watched
    /// until the first scan, which is a full walk.
    pub(crate) fn new(root: &Path, state_dir: &Path) -> Result<Watch, SnapshotError> {
        let barrier_dir = state_dir.join("watch");
        std::fs::create_dir_all(&barrier_dir).map_err(SnapshotError::io(
            "cannot create the watcher's directory",
            barrier_dir.display(),
        ))?;
        // Barriers of an earlier process are meaningless now.
        if let Ok(rd) = std::fs::read_dir(&barrier_dir) {
            for e in rd.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let watch = Watch {
            root: root.to_path_buf(),
            barrier_dir,
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    full: true,
                    ..State::default()
                }),
                arrived: Condvar::new(),
                dirs: Mutex::new(HashSet::new()),
                broken: AtomicBool::new(false),
            }),
            watcher: Mutex::new(None),
            next_barrier: AtomicU64::new(0),
            memory: Mutex::new(None),
        };
        watch.restart()?;
        Ok(watch)
    }

    /// Drop every watch and start a fresh watcher on the barrier directory only; the full walk
    /// that follows adds the workspace's directories.
    fn restart(&self) -> Result<(), SnapshotError> {
        let mut slot = lock(&self.watcher);
        *slot = None; // the old watcher's thread stops before the new one starts
        lock(&self.shared.dirs).clear();
        {
            let mut st = lock(&self.shared.state);
            st.dirty.clear();
            st.full = false;
        }
        let shared = Arc::clone(&self.shared);
        let root = self.root.clone();
        let barrier_dir = self.barrier_dir.clone();
        let handler = move |res: notify::Result<Event>| {
            on_event(&shared, &root, &barrier_dir, res);
        };
        let err = |e: notify::Error| SnapshotError::Io {
            context: "cannot start the workspace watcher",
            path: self.root.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        };
        let mut w = notify::recommended_watcher(handler).map_err(err)?;
        w.watch(&self.barrier_dir, RecursiveMode::NonRecursive)
            .map_err(err)?;
        *slot = Some(w);
        Ok(())
    }

    /// Watch `dir` (called by the walk before it reads the directory).
    pub(crate) fn add_dir(&self, dir: &Path) {
        if self.shared.broken.load(Ordering::Relaxed) {
            return;
        }
        let mut slot = lock(&self.watcher);
        let Some(w) = slot.as_mut() else { return };
        match w.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                lock(&self.shared.dirs).insert(dir.to_path_buf());
            }
            // Gone between its listing and now: its parent's event covers it.
            Err(notify::Error {
                kind: notify::ErrorKind::PathNotFound,
                ..
            }) => {}
            Err(e) => {
                tracing::warn!(
                    dir = %dir.display(),
                    "cannot watch ({e}); scans walk the whole workspace from now on"
                );
                self.shared.broken.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Decide what the scan starting now must look at, taking the in-memory cache (if any).
    pub(crate) fn begin(&self) -> (Option<Memory>, Plan) {
        let memory = lock(&self.memory).take();
        let synced = self.barrier();
        let (dirty, full) = {
            let mut st = lock(&self.shared.state);
            let full = std::mem::take(&mut st.full);
            (std::mem::take(&mut st.dirty), full)
        };
        let exclude_same = memory
            .as_ref()
            .is_some_and(|m| m.exclude == exclude_stat(&self.root));
        let usable = synced
            && !full
            && exclude_same
            && memory.is_some()
            && !self.shared.broken.load(Ordering::Relaxed);
        if !usable {
            if !self.shared.broken.load(Ordering::Relaxed)
                && let Err(e) = self.restart()
            {
                tracing::warn!("{e}; scans walk the whole workspace");
                self.shared.broken.store(true, Ordering::Relaxed);
            }
            return (memory, Plan::Full);
        }
        let mut paths: Vec<String> = dirty
            .iter()
            .filter_map(|p| p.strip_prefix(&self.root).ok())
            .filter_map(|p| p.to_str())
            .map(str::to_string)
            .collect();
        if let Some(m) = &memory {
            paths.extend(m.racy.iter().cloned());
        }
        paths.sort();
        paths.dedup();
        (memory, Plan::Paths(paths))
    }

    /// Keep the scan's result for the next one.
    pub(crate) fn finish(&self, mut memory: Memory) {
        memory.exclude = exclude_stat(&self.root);
        *lock(&self.memory) = Some(memory);
    }

    /// Forget a directory found gone; whether it was watched.
    pub(crate) fn forget_dir(&self, abs: &Path) -> bool {
        lock(&self.shared.dirs).remove(abs)
    }

    /// Whether `abs` is a watched directory.
    pub(crate) fn is_watched_dir(&self, abs: &Path) -> bool {
        lock(&self.shared.dirs).contains(abs)
    }

    /// Write a barrier file and wait for its event: then every change that completed before
    /// has been marked dirty.
    fn barrier(&self) -> bool {
        if lock(&self.watcher).is_none() {
            return false;
        }
        let n = self.next_barrier.fetch_add(1, Ordering::Relaxed) + 1;
        let file = self.barrier_dir.join(format!("{BARRIER_PREFIX}{n}"));
        if std::fs::write(&file, b"").is_err() {
            return false;
        }
        let st = lock(&self.shared.state);
        let (st, timeout) = self
            .shared
            .arrived
            .wait_timeout_while(st, BARRIER_WAIT, |s| s.barrier < n)
            .unwrap_or_else(|p| p.into_inner());
        drop(st);
        let _ = std::fs::remove_file(&file);
        if timeout.timed_out() {
            tracing::warn!("the workspace watcher did not answer; walking the whole workspace");
            return false;
        }
        true
    }
}

fn exclude_stat(root: &Path) -> Option<(i64, u64)> {
    std::fs::metadata(root.join(".git/info/exclude"))
        .ok()
        .map(|m| (m.mtime() * 1_000_000_000 + m.mtime_nsec(), m.size()))
}

fn is_ignore_file(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == ".gitignore" || n == ".ignore")
}

/// Runs on the watcher's thread: classify one event.
fn on_event(shared: &Shared, root: &Path, barrier_dir: &Path, res: notify::Result<Event>) {
    let mut st = lock(&shared.state);
    let ev = match res {
        Ok(ev) => ev,
        Err(e) => {
            tracing::debug!("watcher error ({e}); next scan walks everything");
            st.full = true;
            return;
        }
    };
    if ev.need_rescan() {
        st.full = true;
        return;
    }
    if let Some(n) = ev
        .paths
        .iter()
        .filter(|p| p.parent() == Some(barrier_dir))
        .filter_map(|p| p.file_name()?.to_str()?.strip_prefix(BARRIER_PREFIX))
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
    {
        if n > st.barrier {
            st.barrier = n;
            shared.arrived.notify_all();
        }
        return;
    }
    match ev.kind {
        // Reads (the scan's own among them) change nothing.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return,
        EventKind::Create(_) | EventKind::Remove(_) => {}
        EventKind::Modify(ModifyKind::Name(_)) => {
            // A watched directory moved away: its watches (and those below) keep reporting
            // under its old path, so only a fresh watcher can be trusted.
            let dirs = lock(&shared.dirs);
            if ev.paths.iter().any(|p| dirs.contains(p)) {
                st.full = true;
                return;
            }
        }
        EventKind::Modify(_) => {}
        EventKind::Any | EventKind::Other => {
            st.full = true;
            return;
        }
    }
    for p in &ev.paths {
        if !p.starts_with(root) {
            continue;
        }
        if is_ignore_file(p) {
            st.full = true;
        }
        st.dirty.insert(p.clone());
    }
}

#[cfg(test)]
pub(crate) fn simulate_overflow(w: &Watch) {
    on_event(
        &w.shared,
        &w.root,
        &w.barrier_dir,
        Ok(Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan)),
    );
}

#[cfg(test)]
pub(crate) fn simulate_unknown(w: &Watch) {
    on_event(
        &w.shared,
        &w.root,
        &w.barrier_dir,
        Ok(Event::new(EventKind::Any).add_path(w.root.join("x"))),
    );
}
