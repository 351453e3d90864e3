//! Side-effect detection: find every change in the workspace (made by a build, a formatter, a
//! sandboxed command) and snapshot it. A parallel, gitignore-aware walk `lstat`s each file and
//! reads only those whose stat differs from the persisted [`statcache`](super::statcache).

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::Oid;
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkState};
use serde::Serialize;

use super::atomic::TEMP_MARKER;
use super::model::{Meta, SnapshotId};
use super::paths::git_mode;
use super::statcache::{self, CacheEntry, StatCache};
use super::{SnapshotError, Store};

/// Files larger than this are not snapshotted (listed as skipped instead).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Files modified this close to the scan start may change again within one timestamp tick.
const RACY_WINDOW_NS: i64 = 100_000_000;
/// Changed files at most this big keep their bytes from the walk; bigger ones are re-read.
const KEEP_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// The snapshot recording the changes; `None` when nothing changed.
    pub snapshot_id: Option<String>,
    /// True for the first scan, which records the whole workspace as the baseline.
    pub baseline: bool,
    pub created: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
    /// Files not snapshotted (too large, unreadable, not UTF-8 named, special files).
    pub skipped: Vec<Skipped>,
    /// Ignored paths (gitignore, .ignore), reported at the top-most ignored level.
    pub ignored: Vec<String>,
    pub files_seen: usize,
    pub files_hashed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

enum Seen {
    Same(String),
    Changed {
        path: String,
        entry: CacheEntry,
        bytes: Option<Vec<u8>>,
    },
}

#[derive(Default)]
struct Found {
    files: Vec<Seen>,
    dirs: Vec<String>,
    others: Vec<String>,
    skipped: Vec<Skipped>,
}

impl Store {
    /// Snapshot every change in the workspace since the last scan (the first scan records all).
    pub fn scan_workspace(&self, meta: &Meta) -> Result<ScanReport, SnapshotError> {
        let _guard = self.lock()?;
        let cache_path = self.ws.state_dir.join("statcache");
        let head = self.head_commit()?;
        let old = match statcache::load(&cache_path) {
            // A cache not saved against an ancestor of the head (store recreated, history
            // rewritten by gc) may vouch for content the store no longer has: start over.
            Ok(Some(c)) if self.cache_matches(&c, head.as_ref().map(|h| h.id())) => c,
            Ok(_) => StatCache::default(),
            Err(SnapshotError::CorruptCache { path, reason }) => {
                tracing::warn!(%path, %reason, "discarding corrupt stat cache");
                StatCache::default()
            }
            Err(e) => return Err(e),
        };
        let baseline = old.entries.is_empty() && old.commit.is_none();
        let scan_start = now_ns();
        let old_entries = Arc::new(old.entries);
        let found = self.walk(old_entries.clone())?;
        let mut report = ScanReport {
            baseline,
            ..ScanReport::default()
        };
        report.ignored = ignored_entries(&self.ws.root, &found);
        report.skipped = found.skipped;

        let base = match &head {
            Some(c) => c.tree().map_err(SnapshotError::git("reading head tree"))?,
            None => self.empty_tree()?,
        };
        let mut new_entries: HashMap<String, CacheEntry> =
            HashMap::with_capacity(found.files.len());
        let mut builder = git2::build::TreeUpdateBuilder::new();
        let mut touched = false;
        for seen in found.files {
            report.files_seen += 1;
            match seen {
                Seen::Same(path) => {
                    if let Some(e) = old_entries.get(&path) {
                        new_entries.insert(path, *e);
                    }
                }
                Seen::Changed {
                    path,
                    mut entry,
                    bytes,
                } => {
                    report.files_hashed += 1;
                    touched = true;
                    let bytes = match bytes {
                        Some(b) => b,
                        None => match std::fs::read(self.ws.abs(&path)) {
                            Ok(b) => b,
                            Err(e) => {
                                report.skipped.push(Skipped {
                                    path,
                                    reason: format!("unreadable: {e}"),
                                });
                                continue;
                            }
                        },
                    };
                    entry.oid = self
                        .repo
                        .blob(&bytes)
                        .map_err(SnapshotError::git(format!("storing `{path}`")))?;
                    let mode = git_mode(entry.mode);
                    let prior = base
                        .get_path(Path::new(&path))
                        .ok()
                        .map(|e| (e.id(), e.filemode()));
                    if prior != Some((entry.oid, i32::from(mode))) {
                        builder.upsert(path.as_str(), entry.oid, mode);
                        if !baseline {
                            match prior {
                                Some(_) => report.modified.push(path.clone()),
                                None => report.created.push(path.clone()),
                            }
                        }
                    }
                    if entry.mtime_ns >= scan_start - RACY_WINDOW_NS {
                        entry.mtime_ns = 0; // re-check next time
                    }
                    new_entries.insert(path, entry);
                }
            }
        }
        let skipped: HashSet<&str> = report.skipped.iter().map(|s| s.path.as_str()).collect();
        let mut gone: Vec<&String> = old_entries
            .keys()
            .filter(|p| !new_entries.contains_key(*p) && !skipped.contains(p.as_str()))
            .collect();
        gone.sort();
        for path in gone {
            touched = true;
            if base.get_path(Path::new(path)).is_ok() {
                builder.remove(path.as_str());
                report.deleted.push(path.clone());
            }
        }
        report.created.sort();
        report.modified.sort();

        let tree_oid = builder
            .create_updated(&self.repo, &base)
            .map_err(SnapshotError::git("building scan tree"))?;
        let mut commit = head.as_ref().map(|c| c.id());
        if tree_oid != base.id() {
            let meta = Meta {
                op: if baseline { "baseline" } else { "scan" }.into(),
                target: if meta.target.is_empty() {
                    "workspace".into()
                } else {
                    meta.target.clone()
                },
                ..meta.clone()
            };
            let id: SnapshotId = self.commit_tree(tree_oid, head.as_ref(), &meta)?;
            report.snapshot_id = Some(id.short());
            commit = Some(id.0);
        }
        if touched || baseline || commit != old.commit {
            statcache::save(
                &cache_path,
                &StatCache {
                    commit,
                    entries: new_entries,
                },
            )?;
        }
        Ok(report)
    }

    fn cache_matches(&self, cache: &StatCache, head: Option<Oid>) -> bool {
        match (cache.commit, head) {
            (None, None) => true,
            (Some(c), Some(h)) => c == h || self.repo.graph_descendant_of(h, c).unwrap_or(false),
            _ => false,
        }
    }

    fn walk(&self, cache: Arc<HashMap<String, CacheEntry>>) -> Result<Found, SnapshotError> {
        let root = self.ws.root.clone();
        let state_dir = self.ws.state_dir.clone();
        let mut walker = ignore::WalkBuilder::new(&root);
        walker
            .hidden(false)
            .parents(false)
            .ignore(true)
            .git_ignore(true)
            .git_global(true)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(8)))
            .filter_entry(move |e| {
                let name = e.file_name();
                // Temp files of an interrupted atomic write are not workspace content.
                let internal = name == ".git"
                    || (e.depth() == 1 && name == ".jingu")
                    || name.to_string_lossy().contains(TEMP_MARKER);
                !internal && !e.path().starts_with(&state_dir)
            });
        let sink = Arc::new(Mutex::new(Found::default()));
        let mut builder = VisitorBuilder {
            root: root.clone(),
            cache,
            sink: sink.clone(),
        };
        walker.build_parallel().visit(&mut builder);
        drop(builder);
        let found = Arc::try_unwrap(sink)
            .map_err(|_| SnapshotError::BadPath {
                path: root.display().to_string(),
                reason: "walker threads outlived the scan".into(),
            })?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        Ok(found)
    }
}

struct VisitorBuilder {
    root: PathBuf,
    cache: Arc<HashMap<String, CacheEntry>>,
    sink: Arc<Mutex<Found>>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            root: self.root.clone(),
            cache: self.cache.clone(),
            sink: self.sink.clone(),
            local: Found::default(),
        })
    }
}

/// Per-thread collector; merges into the shared result once, when its thread finishes.
struct Visitor {
    root: PathBuf,
    cache: Arc<HashMap<String, CacheEntry>>,
    sink: Arc<Mutex<Found>>,
    local: Found,
}

impl Drop for Visitor {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        sink.files.extend(local.files);
        sink.dirs.extend(local.dirs);
        sink.others.extend(local.others);
        sink.skipped.extend(local.skipped);
    }
}

impl ParallelVisitor for Visitor {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = match &err {
                    ignore::Error::WithPath { path, .. } => path
                        .strip_prefix(&self.root)
                        .unwrap_or(path)
                        .to_string_lossy()
                        .into_owned(),
                    _ => String::new(),
                };
                self.local.skipped.push(Skipped {
                    path,
                    reason: err.to_string(),
                });
                return WalkState::Continue;
            }
        };
        let Ok(rel) = entry.path().strip_prefix(&self.root) else {
            return WalkState::Continue;
        };
        let Some(rel) = rel.to_str().map(str::to_string) else {
            self.local.skipped.push(Skipped {
                path: rel.to_string_lossy().into_owned(),
                reason: "file name is not UTF-8".into(),
            });
            return WalkState::Continue;
        };
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        if ft.is_dir() {
            self.local.dirs.push(rel);
            return WalkState::Continue;
        }
        if !ft.is_file() {
            self.local.others.push(rel);
            return WalkState::Continue;
        }
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                self.local.skipped.push(Skipped {
                    path: rel,
                    reason: format!("cannot stat: {e}"),
                });
                return WalkState::Continue;
            }
        };
        if meta.len() > MAX_FILE_SIZE {
            self.local.skipped.push(Skipped {
                path: rel,
                reason: format!(
                    "larger than {} MiB ({} bytes)",
                    MAX_FILE_SIZE >> 20,
                    meta.len()
                ),
            });
            return WalkState::Continue;
        }
        let stat = CacheEntry {
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            size: meta.len(),
            ino: meta.ino(),
            mode: meta.mode(),
            oid: Oid::ZERO_SHA1,
        };
        if self.cache.get(&rel).is_some_and(|c| c.same_stat(&stat)) {
            self.local.files.push(Seen::Same(rel));
            return WalkState::Continue;
        }
        // Read small files now, in parallel; big ones later, one at a time, to bound memory.
        let bytes = if stat.size <= KEEP_BYTES {
            match std::fs::read(entry.path()) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.local.skipped.push(Skipped {
                        path: rel,
                        reason: format!("unreadable: {e}"),
                    });
                    return WalkState::Continue;
                }
            }
        } else {
            None
        };
        self.local.files.push(Seen::Changed {
            path: rel,
            entry: stat,
            bytes,
        });
        WalkState::Continue
    }
}

/// Entries of walked directories that the walk did not yield: they were ignored. Reported at the
/// top-most level (an ignored directory is listed once, not file by file).
fn ignored_entries(root: &Path, found: &Found) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(found.files.len() + found.dirs.len());
    for f in &found.files {
        seen.insert(match f {
            Seen::Same(p) | Seen::Changed { path: p, .. } => p.as_str(),
        });
    }
    seen.extend(found.dirs.iter().map(String::as_str));
    seen.extend(found.others.iter().map(String::as_str));
    seen.extend(found.skipped.iter().map(|s| s.path.as_str()));
    let mut out = Vec::new();
    for dir in &found.dirs {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for child in rd.flatten() {
            let name = child.file_name();
            let Some(name) = name.to_str() else { continue };
            let rel = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            let internal = name == ".git"
                || (dir.is_empty() && name == ".jingu")
                || name.contains(TEMP_MARKER);
            if !internal && !seen.contains(rel.as_str()) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
