//! The workspace walk behind `scan_workspace`: parallel over directories, `.gitignore`/`.ignore`
//! aware (nested files, deepest match wins, plus `.git/info/exclude`), stat-ing each file relative
//! to its directory and reading only files whose stat differs from the cache. Ignored entries are
//! seen where they are pruned, so they are reported without a second pass.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use git2::Oid;
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::scan::{MAX_FILE_SIZE, Skipped};
use super::statcache::{CacheEntry, Entries};
use jingu_fs::durable::TEMP_MARKER;

/// Changed files at most this big keep their bytes from the walk; bigger ones are re-read.
const KEEP_BYTES: u64 = 1024 * 1024;

pub(crate) enum Seen {
    Same(String),
    Changed {
        path: String,
        entry: CacheEntry,
        bytes: Option<Vec<u8>>,
    },
}

#[derive(Default)]
pub(crate) struct Found {
    pub files: Vec<Seen>,
    pub skipped: Vec<Skipped>,
    pub ignored: Vec<String>,
}

pub(crate) type Rules = Vec<Arc<Gitignore>>;

/// Called with each directory's absolute path before it is read (the watcher adds its watch
/// there, so a change made after the read is an event, and one made before it is seen by it).
pub(crate) type OnDir<'a> = Option<&'a (dyn Fn(&Path) + Sync)>;

struct Shared<'a> {
    root: &'a Path,
    state_dir: &'a Path,
    cache: &'a Entries,
    on_dir: OnDir<'a>,
    queue: Mutex<Vec<(String, Rules)>>,
    /// Directories queued or being read; the walk is over when it reaches zero.
    pending: AtomicUsize,
    out: Mutex<Found>,
}

/// The rules in force above the workspace root: git's global excludes and `.git/info/exclude`.
pub(crate) fn base_rules(root: &Path) -> Rules {
    let mut base: Rules = Vec::new();
    let (global, _) = Gitignore::global();
    if !global.is_empty() {
        base.push(Arc::new(global));
    }
    let exclude = root.join(".git/info/exclude");
    if exclude.is_file() {
        let mut b = GitignoreBuilder::new(root);
        b.add(&exclude);
        if let Ok(g) = b.build() {
            base.push(Arc::new(g));
        }
    }
    base
}

/// Walk the whole workspace.
pub(crate) fn walk(root: &Path, state_dir: &Path, cache: &Entries, on_dir: OnDir<'_>) -> Found {
    walk_from(
        root,
        state_dir,
        cache,
        vec![(String::new(), base_rules(root))],
        on_dir,
    )
}

/// Walk the subtrees `jobs` (workspace-relative directory, rules in force in its parent).
pub(crate) fn walk_from(
    root: &Path,
    state_dir: &Path,
    cache: &Entries,
    jobs: Vec<(String, Rules)>,
    on_dir: OnDir<'_>,
) -> Found {
    if jobs.is_empty() {
        return Found::default();
    }
    let shared = Shared {
        root,
        state_dir,
        cache,
        on_dir,
        pending: AtomicUsize::new(jobs.len()),
        queue: Mutex::new(jobs),
        out: Mutex::new(Found::default()),
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| worker(&shared));
        }
    });
    shared.out.into_inner().unwrap_or_else(|p| p.into_inner())
}

fn worker(shared: &Shared<'_>) {
    let mut local = Found::default();
    loop {
        let job = shared.queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match job {
            Some((rel, rules)) => {
                let subdirs = visit_dir(shared, &rel, rules, &mut local);
                if !subdirs.is_empty() {
                    shared.pending.fetch_add(subdirs.len(), Ordering::SeqCst);
                    shared
                        .queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(subdirs);
                }
                shared.pending.fetch_sub(1, Ordering::SeqCst);
            }
            None if shared.pending.load(Ordering::SeqCst) == 0 => break,
            None => std::thread::yield_now(),
        }
    }
    let mut out = shared.out.lock().unwrap_or_else(|p| p.into_inner());
    out.files.extend(local.files);
    out.skipped.extend(local.skipped);
    out.ignored.extend(local.ignored);
}

/// Read one directory; returns its subdirectories to walk, each with the rules in force there.
fn visit_dir(
    shared: &Shared<'_>,
    rel: &str,
    mut rules: Rules,
    out: &mut Found,
) -> Vec<(String, Rules)> {
    let abs: PathBuf = if rel.is_empty() {
        shared.root.to_path_buf()
    } else {
        shared.root.join(rel)
    };
    if let Some(hook) = shared.on_dir {
        hook(&abs);
    }
    let entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(&abs) {
        Ok(rd) => rd.flatten().collect(),
        Err(e) => {
            out.skipped.push(Skipped {
                path: rel.to_string(),
                reason: format!("cannot read directory: {e}"),
            });
            return Vec::new();
        }
    };
    for name in [".gitignore", ".ignore"] {
        if entries.iter().any(|e| e.file_name() == name) {
            let mut b = GitignoreBuilder::new(&abs);
            b.add(abs.join(name));
            match b.build() {
                Ok(g) => rules.push(Arc::new(g)),
                Err(e) => out.skipped.push(Skipped {
                    path: join(rel, name),
                    reason: format!("unusable ignore file: {e}"),
                }),
            }
        }
    }
    let mut subdirs = Vec::new();
    for entry in entries {
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            out.skipped.push(Skipped {
                path: join(rel, &os_name.to_string_lossy()),
                reason: "file name is not UTF-8".into(),
            });
            continue;
        };
        if is_internal(rel, name) {
            continue;
        }
        let Ok(ft) = entry.file_type() else { continue };
        let child_abs = entry.path();
        if child_abs.starts_with(shared.state_dir) {
            continue;
        }
        let child = join(rel, name);
        if is_ignored(&rules, &child_abs, ft.is_dir()) {
            out.ignored.push(child);
            continue;
        }
        if ft.is_dir() {
            subdirs.push((child, rules.clone()));
        } else if ft.is_file() {
            // `DirEntry::metadata` is an fstatat relative to the open directory: no path lookup.
            match entry.metadata() {
                Ok(meta) => visit_file(shared.cache, &child_abs, &meta, child, out),
                Err(e) => out.skipped.push(Skipped {
                    path: child,
                    reason: format!("cannot stat: {e}"),
                }),
            }
        }
        // Symlinks and special files are not snapshotted: restoring them could redirect writes.
    }
    subdirs
}

/// Compare one regular file's stat with the cache, reading it when it changed.
pub(crate) fn visit_file(
    cache: &Entries,
    abs: &Path,
    meta: &std::fs::Metadata,
    rel: String,
    out: &mut Found,
) {
    if meta.len() > MAX_FILE_SIZE {
        out.skipped.push(Skipped {
            path: rel,
            reason: format!(
                "larger than {} MiB ({} bytes)",
                MAX_FILE_SIZE >> 20,
                meta.len()
            ),
        });
        return;
    }
    let stat = CacheEntry {
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        size: meta.len(),
        ino: meta.ino(),
        mode: meta.mode(),
        oid: Oid::ZERO_SHA1,
    };
    if cache.get(&rel).is_some_and(|c| c.same_stat(&stat)) {
        out.files.push(Seen::Same(rel));
        return;
    }
    // Read small files now, in parallel; big ones later, one at a time, to bound memory.
    let bytes = if stat.size <= KEEP_BYTES {
        match std::fs::read(abs) {
            Ok(b) => Some(b),
            Err(e) => {
                out.skipped.push(Skipped {
                    path: rel,
                    reason: format!("unreadable: {e}"),
                });
                return;
            }
        }
    } else {
        None
    };
    out.files.push(Seen::Changed {
        path: rel,
        entry: stat,
        bytes,
    });
}

/// Jingu's own and git's entries, never snapshotted: `.git`, the root's `.jingu`, temp files.
pub(crate) fn is_internal(parent: &str, name: &str) -> bool {
    name == ".git"
        || (parent.is_empty() && name == ".jingu")
        || name.contains(TEMP_MARKER)
        || jingu_fs::tempfiles::temp_owner(name).is_some()
}

/// Push the rules of `abs_dir`'s own `.gitignore` and `.ignore` (in that order, as the walk does).
pub(crate) fn with_ignore_files(mut rules: Rules, abs_dir: &Path) -> Rules {
    for name in [".gitignore", ".ignore"] {
        let file = abs_dir.join(name);
        if file.exists() {
            let mut b = GitignoreBuilder::new(abs_dir);
            b.add(&file);
            if let Ok(g) = b.build() {
                rules.push(Arc::new(g));
            }
        }
    }
    rules
}

/// The deepest rule that matches decides, as in git (a nested `!pattern` re-includes).
pub(crate) fn is_ignored(rules: &[Arc<Gitignore>], path: &Path, is_dir: bool) -> bool {
    for g in rules.iter().rev() {
        match g.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}
