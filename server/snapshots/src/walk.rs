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

type Rules = Vec<Arc<Gitignore>>;

struct Shared<'a> {
    root: &'a Path,
    state_dir: &'a Path,
    cache: &'a Entries,
    queue: Mutex<Vec<(String, Rules)>>,
    /// Directories queued or being read; the walk is over when it reaches zero.
    pending: AtomicUsize,
    out: Mutex<Found>,
}

pub(crate) fn walk(root: &Path, state_dir: &Path, cache: &Entries) -> Found {
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
    let shared = Shared {
        root,
        state_dir,
        cache,
        queue: Mutex::new(vec![(String::new(), base)]),
        pending: AtomicUsize::new(1),
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
        let internal = name == ".git"
            || (rel.is_empty() && name == ".jingu")
            || name.contains(TEMP_MARKER)
            || jingu_fs::tempfiles::temp_owner(name).is_some();
        if internal {
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
            visit_file(shared, &entry, child, out);
        }
        // Symlinks and special files are not snapshotted: restoring them could redirect writes.
    }
    subdirs
}

fn visit_file(shared: &Shared<'_>, entry: &std::fs::DirEntry, rel: String, out: &mut Found) {
    // `DirEntry::metadata` is an fstatat relative to the open directory: no full path lookup.
    let meta = match entry.metadata() {
        Ok(m) => m,
        Err(e) => {
            out.skipped.push(Skipped {
                path: rel,
                reason: format!("cannot stat: {e}"),
            });
            return;
        }
    };
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
    if shared.cache.get(&rel).is_some_and(|c| c.same_stat(&stat)) {
        out.files.push(Seen::Same(rel));
        return;
    }
    // Read small files now, in parallel; big ones later, one at a time, to bound memory.
    let bytes = if stat.size <= KEEP_BYTES {
        match std::fs::read(entry.path()) {
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

/// The deepest rule that matches decides, as in git (a nested `!pattern` re-includes).
fn is_ignored(rules: &[Arc<Gitignore>], path: &Path, is_dir: bool) -> bool {
    for g in rules.iter().rev() {
        match g.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}
