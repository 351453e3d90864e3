//! Side-effect detection: find every change in the workspace (made by a build, a formatter, a
//! sandboxed command) and snapshot it. A parallel, gitignore-aware walk `lstat`s each file and
//! reads only those whose stat differs from the persisted [`statcache`](super::statcache) (see `walk`).

use std::collections::HashSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use git2::Oid;
use serde::Serialize;

use super::model::{Meta, SnapshotId};
use super::paths::git_mode;
use super::statcache::{self, StatCache};
use super::walk::{self, Seen};
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
        let found = walk::walk(&self.ws.root, &self.ws.state_dir, &old.entries);
        let mut report = ScanReport {
            baseline,
            ..ScanReport::default()
        };
        report.ignored = found.ignored;
        report.ignored.sort();
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
        if accounted < old_count {
            let walked: HashSet<&str> = found
                .files
                .iter()
                .map(|s| match s {
                    Seen::Same(p) | Seen::Changed { path: p, .. } => p.as_str(),
                })
                .collect();
            let mut gone: Vec<String> = entries
                .keys()
                .filter(|p| !walked.contains(p.as_str()))
                .cloned()
                .collect();
            gone.sort();
            for path in gone {
                touched = true;
                entries.remove(&path);
                if base.get_path(Path::new(&path)).is_ok() {
                    builder.remove(path.as_str());
                    report.deleted.push(path);
                }
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
            statcache::save(&cache_path, &StatCache { commit, entries })?;
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
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
