//! Side-effect detection: find every change in the workspace (made by a build, a formatter, a
//! sandboxed command) and snapshot it. A parallel, gitignore-aware walk `lstat`s each file and
//! reads only those whose stat differs from the persisted [`statcache`](super::statcache) (see `walk`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use git2::Oid;
use serde::Serialize;

use super::model::{Meta, SnapshotId};
use super::paths::git_mode;
use super::statcache::Entries;
use super::statcache::{self, StatCache};
use super::walk::{self, Found, OnDir, Rules, Seen};
use super::watch::{Memory, Plan};
use super::{SnapshotError, Store};

/// Files larger than this are not snapshotted (listed as skipped instead).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

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

/// Which cached entries a scan accounted for: all of them (a full walk), or those of the paths
/// it re-checked (a watched scan).
enum Scope {
    All,
    Partial {
        /// Paths found gone (or no longer regular files).
        exact: Vec<String>,
        /// Directories gone or walked whole: cached entries below them not seen are gone.
        prefixes: HashSet<String>,
    },
}

impl Store {
    /// Snapshot every change in the workspace since the last scan (the first scan records all).
    /// With a watcher ([`Store::watch`]) only what changed since the last scan is re-checked.
    pub fn scan_workspace(&self, meta: &Meta) -> Result<ScanReport, SnapshotError> {
        let _guard = self.lock()?;
        let cache_path = self.ws.state_dir.join("statcache");
        let head = self.head_commit()?;
        let head_id = head.as_ref().map(|h| h.id());
        let (memory, plan) = match &self.watch {
            Some(w) => w.begin(),
            None => (None, Plan::Full),
        };
        let (old, plan, prev_ignored) = match memory {
            Some(m) if self.cache_matches(&m.cache, head_id) => (m.cache, plan, m.ignored),
            _ => (
                self.load_cache(&cache_path, head_id)?,
                Plan::Full,
                Vec::new(),
            ),
        };
        let baseline = old.entries.is_empty() && old.commit.is_none();
        let scan_start = now_ns();
        let hook = self.watch.as_ref().map(|w| move |d: &Path| w.add_dir(d));
        let on_dir: OnDir<'_> = hook.as_ref().map(|h| h as &(dyn Fn(&Path) + Sync));
        let (found, scope) = match &plan {
            Plan::Full => (
                walk::walk(&self.ws.root, &self.ws.state_dir, &old.entries, on_dir),
                Scope::All,
            ),
            Plan::Paths(paths) => self.walk_paths(paths, &old.entries, on_dir),
        };
        let mut report = ScanReport {
            baseline,
            ..ScanReport::default()
        };
        report.ignored = found.ignored;
        if matches!(scope, Scope::Partial { .. }) {
            report.ignored.extend(prev_ignored);
            report.ignored.sort();
            report.ignored.dedup();
        } else {
            report.ignored.sort();
        }
        report.skipped = found.skipped;

        let base = match &head {
            Some(c) => c.tree().map_err(SnapshotError::git("reading head tree"))?,
            None => self.empty_tree()?,
        };
        // The old cache is updated in place: an unchanged workspace costs no map rebuild.
        let old_count = old.entries.len();
        let mut entries = old.entries;
        // Old entries the walk accounted for; any others are files that are gone.
        let mut accounted = 0usize;
        let mut builder = git2::build::TreeUpdateBuilder::new();
        let mut touched = false;
        // Files left for the racy-timestamp rule to re-check next time.
        let mut racy = Vec::new();
        for seen in &found.files {
            report.files_seen += 1;
            let (path, mut entry, bytes) = match seen {
                Seen::Same(_) => {
                    accounted += 1;
                    continue;
                }
                Seen::Changed { path, entry, bytes } => (path, *entry, bytes),
            };
            report.files_hashed += 1;
            touched = true;
            if entries.contains_key(path) {
                accounted += 1;
            }
            let read;
            let bytes = match bytes {
                Some(b) => b,
                None => match std::fs::read(self.ws.abs(path)) {
                    Ok(b) => {
                        read = b;
                        &read
                    }
                    Err(e) => {
                        entries.remove(path);
                        report.skipped.push(Skipped {
                            path: path.clone(),
                            reason: format!("unreadable: {e}"),
                        });
                        continue;
                    }
                },
            };
            entry.oid = self
                .repo
                .blob(bytes)
                .map_err(SnapshotError::git(format!("storing `{path}`")))?;
            let mode = git_mode(entry.mode);
            let prior = base
                .get_path(Path::new(path))
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
            if !jingu_fs::racy::stat_vouches(entry.mtime_ns, scan_start) {
                entry.mtime_ns = 0; // re-check next time
                racy.push(path.clone());
            }
            entries.insert(path.clone(), entry);
        }
        // Skipped files leave the cache but not the snapshot (they may come back readable).
        for s in &report.skipped {
            if entries.remove(&s.path).is_some() {
                accounted += 1;
                touched = true;
            }
        }
        let walked = || -> HashSet<&str> {
            found
                .files
                .iter()
                .map(|s| match s {
                    Seen::Same(p) | Seen::Changed { path: p, .. } => p.as_str(),
                })
                .collect()
        };
        let mut gone: Vec<String> = match scope {
            Scope::All if accounted < old_count => {
                let walked = walked();
                entries
                    .keys()
                    .filter(|p| !walked.contains(p.as_str()))
                    .cloned()
                    .collect()
            }
            Scope::All => Vec::new(),
            Scope::Partial { exact, prefixes } => {
                let walked = walked();
                let mut gone: Vec<String> = exact
                    .into_iter()
                    .filter(|p| entries.contains_key(p) && !walked.contains(p.as_str()))
                    .collect();
                if !prefixes.is_empty() {
                    gone.extend(
                        entries
                            .keys()
                            .filter(|k| !walked.contains(k.as_str()))
                            .filter(|k| ancestors(k).any(|a| prefixes.contains(a)))
                            .cloned(),
                    );
                }
                gone
            }
        };
        gone.sort();
        gone.dedup();
        for path in gone {
            touched = true;
            entries.remove(&path);
            if base.get_path(Path::new(&path)).is_ok() {
                builder.remove(path.as_str());
                report.deleted.push(path);
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
        let cache = StatCache { commit, entries };
        if touched || baseline || commit != old.commit {
            statcache::save(&cache_path, &cache)?;
        }
        if let Some(w) = &self.watch {
            w.finish(Memory {
                cache,
                racy,
                ignored: report.ignored.clone(),
                exclude: None,
            });
        }
        Ok(report)
    }

    /// Start watching the workspace (`[snapshots] watch`): later scans re-check only the paths
    /// that changed. The first scan after this walks everything and adds the watches.
    pub fn watch(&mut self) -> Result<(), SnapshotError> {
        if self.watch.is_none() {
            self.watch = Some(super::watch::shared(&self.ws.root, &self.ws.state_dir)?);
        }
        Ok(())
    }

    /// Whether a watcher is on.
    pub fn is_watching(&self) -> bool {
        self.watch.is_some()
    }

    fn load_cache(&self, path: &Path, head: Option<Oid>) -> Result<StatCache, SnapshotError> {
        Ok(match statcache::load(path) {
            // A cache not saved against an ancestor of the head (store recreated, history
            // rewritten by gc) may vouch for content the store no longer has: start over.
            Ok(Some(c)) if self.cache_matches(&c, head) => c,
            Ok(_) => StatCache::default(),
            Err(SnapshotError::CorruptCache { path, reason }) => {
                tracing::warn!(%path, %reason, "discarding corrupt stat cache");
                StatCache::default()
            }
            Err(e) => return Err(e),
        })
    }

    /// A watched scan's look at the dirty paths: a file is stat-ed, a new directory walked whole
    /// (and watched), a path gone accounts for everything cached under it.
    fn walk_paths(&self, paths: &[String], cache: &Entries, on_dir: OnDir<'_>) -> (Found, Scope) {
        let root = &self.ws.root;
        let mut rules = RuleCache {
            root,
            state_dir: &self.ws.state_dir,
            memo: HashMap::new(),
        };
        let mut found = Found::default();
        let mut jobs = Vec::new();
        let mut exact = Vec::new();
        let mut prefixes: HashSet<String> = HashSet::new();
        // Sorted, so a directory comes before the paths inside it.
        for rel in paths {
            if rel.is_empty() || ancestors(rel).any(|a| prefixes.contains(a)) {
                continue;
            }
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
            if walk::is_internal(parent, name) {
                continue;
            }
            // Inside an ignored or internal directory nothing is snapshotted (and the rules
            // cannot have changed: a changed ignore file makes the scan a full one).
            let Some(parent_rules) = rules.rules_in(parent) else {
                continue;
            };
            let abs = root.join(rel);
            let watch = self.watch.as_ref();
            match std::fs::symlink_metadata(&abs) {
                Ok(m) if m.is_dir() => {
                    // A watched directory reports changes to its entries itself.
                    if watch.is_some_and(|w| w.is_watched_dir(&abs))
                        || walk::is_ignored(&parent_rules, &abs, true)
                    {
                        continue;
                    }
                    prefixes.insert(rel.clone());
                    jobs.push((rel.clone(), parent_rules));
                }
                Ok(m) if m.is_file() => {
                    if !walk::is_ignored(&parent_rules, &abs, false) {
                        walk::visit_file(cache, &abs, &m, rel.clone(), &mut found);
                    }
                }
                // Gone, or no longer a regular file (symlinks are not snapshotted).
                _ => {
                    exact.push(rel.clone());
                    if watch.is_some_and(|w| w.forget_dir(&abs)) {
                        prefixes.insert(rel.clone());
                    }
                }
            }
        }
        let sub = walk::walk_from(root, &self.ws.state_dir, cache, jobs, on_dir);
        found.files.extend(sub.files);
        found.skipped.extend(sub.skipped);
        found.ignored.extend(sub.ignored);
        (found, Scope::Partial { exact, prefixes })
    }

    fn cache_matches(&self, cache: &StatCache, head: Option<Oid>) -> bool {
        match (cache.commit, head) {
            (None, None) => true,
            (Some(c), Some(h)) => c == h || self.repo.graph_descendant_of(h, c).unwrap_or(false),
            _ => false,
        }
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The proper ancestors of a workspace-relative path, nearest first: `a/b/c` → `a/b`, `a`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    let mut rest = rel;
    std::iter::from_fn(move || {
        let (parent, _) = rest.rsplit_once('/')?;
        rest = parent;
        Some(parent)
    })
}

/// The ignore rules in force inside each directory a watched scan looks into, built as the walk
/// builds them (parents first, deepest last) and memoised for the scan.
struct RuleCache<'a> {
    root: &'a Path,
    state_dir: &'a Path,
    memo: HashMap<String, Option<Rules>>,
}

impl RuleCache<'_> {
    /// `None` when `rel` is ignored, internal, or below such a directory.
    fn rules_in(&mut self, rel: &str) -> Option<Rules> {
        if let Some(r) = self.memo.get(rel) {
            return r.clone();
        }
        let abs = self.root.join(rel);
        let rules = if rel.is_empty() {
            Some(walk::with_ignore_files(
                walk::base_rules(self.root),
                self.root,
            ))
        } else {
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
            match self.rules_in(parent) {
                Some(p)
                    if !walk::is_internal(parent, name)
                        && !abs.starts_with(self.state_dir)
                        && !walk::is_ignored(&p, &abs, true) =>
                {
                    Some(walk::with_ignore_files(p, &abs))
                }
                _ => None,
            }
        };
        self.memo.insert(rel.to_string(), rules.clone());
        rules
    }
}
