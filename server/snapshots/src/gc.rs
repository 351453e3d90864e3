//! Garbage collection: drop old snapshots by rewriting the chain without them, then delete the
//! loose objects nothing references any more. Never keeps fewer than the policy floor.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::{Oid, Tree};
use serde::Serialize;

use super::model::{Meta, SnapshotId, compose_message};
use super::statcache::{self, StatCache};
use super::store::{HEAD_REF, RUN_REF_PREFIX};
use super::{SnapshotError, Store};

/// The op of the root commit gc leaves behind: the full state just before the kept history.
pub(crate) const GC_BASE_OP: &str = "gc-base";

#[derive(Debug, Clone, Copy)]
pub struct GcPolicy {
    /// Keep snapshots younger than this many days.
    pub keep_days: u64,
    /// Keep at least the newest this many snapshots.
    pub keep_count: usize,
    /// Never keep fewer than this many, whatever the other two say (the organisation's floor).
    pub floor: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    pub kept: usize,
    pub removed: usize,
    pub pruned_objects: usize,
}

impl Store {
    pub fn gc(&self, policy: &GcPolicy) -> Result<GcReport, SnapshotError> {
        let _guard = self.lock()?;
        let chain = self.chain()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let cutoff = now.saturating_sub(policy.keep_days.saturating_mul(86_400) as i64);
        // Keep the newest prefix up to the last snapshot any rule wants to keep.
        let keep = chain
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                *i < policy.keep_count || *i < policy.floor || c.time().seconds() > cutoff
            })
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0)
            .max(policy.floor.min(chain.len()));
        let mut report = GcReport {
            kept: keep,
            removed: chain.len() - keep,
            pruned_objects: 0,
        };
        if report.removed > 0 {
            let mapping = self.rewrite(&chain[..keep], &chain[keep])?;
            self.remap_runs(&mapping)?;
            self.remap_statcache(&mapping)?;
        }
        report.pruned_objects = self.prune_unreachable()?;
        Ok(report)
    }

    /// Re-create `kept` (newest first) on a new root holding `base`'s tree, so every kept
    /// snapshot still diffs (and rolls back) against the right parent state.
    fn rewrite(
        &self,
        kept: &[git2::Commit<'_>],
        base: &git2::Commit<'_>,
    ) -> Result<HashMap<Oid, Oid>, SnapshotError> {
        let mut mapping = HashMap::new();
        let base_meta = Meta {
            run_id: None,
            actor: "jingu".into(),
            op: GC_BASE_OP.into(),
            target: "history".into(),
            message: format!(
                "state of the workspace before pruned history (last pruned snapshot {})",
                SnapshotId(base.id())
            ),
        };
        let sig = base.committer();
        let base_tree = base.tree().map_err(SnapshotError::git("reading tree"))?;
        let root = self
            .repo
            .commit(
                None,
                &sig,
                &sig,
                &compose_message(&base_meta),
                &base_tree,
                &[],
            )
            .map_err(SnapshotError::git("writing gc base"))?;
        let mut parent: Option<git2::Commit<'_>> = Some(
            self.repo
                .find_commit(root)
                .map_err(SnapshotError::git("reading gc base"))?,
        );
        for old in kept.iter().rev() {
            let tree = old.tree().map_err(SnapshotError::git("reading tree"))?;
            let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
            let oid = self
                .repo
                .commit(
                    None,
                    &old.author(),
                    &old.committer(),
                    old.message().unwrap_or_default(),
                    &tree,
                    &parents,
                )
                .map_err(SnapshotError::git("rewriting snapshot"))?;
            mapping.insert(old.id(), oid);
            parent = Some(
                self.repo
                    .find_commit(oid)
                    .map_err(SnapshotError::git("reading rewritten snapshot"))?,
            );
        }
        if let (Some(head), Some(new_head)) = (kept.first(), &parent) {
            self.move_head(Some(head.id()), new_head.id())?;
        }
        Ok(mapping)
    }

    /// Point retained runs at their rewritten commits; forget runs whose snapshots are gone.
    fn remap_runs(&self, mapping: &HashMap<Oid, Oid>) -> Result<(), SnapshotError> {
        let refs = self
            .repo
            .references_glob(&format!("{RUN_REF_PREFIX}*"))
            .map_err(SnapshotError::git("listing run refs"))?;
        for r in refs {
            let mut r = r.map_err(SnapshotError::git("reading run ref"))?;
            let name = r.name().unwrap_or_default().to_string();
            match r.target().and_then(|t| mapping.get(&t)) {
                Some(new) => {
                    r.set_target(*new, "jingu gc")
                        .map_err(SnapshotError::git(format!("updating {name}")))?;
                }
                None => r
                    .delete()
                    .map_err(SnapshotError::git(format!("deleting {name}")))?,
            }
        }
        Ok(())
    }

    /// Keep the stat cache valid across the rewrite so the next scan is not a full re-hash.
    fn remap_statcache(&self, mapping: &HashMap<Oid, Oid>) -> Result<(), SnapshotError> {
        let path = self.ws.state_dir.join("statcache");
        if let Ok(Some(cache)) = statcache::load(&path)
            && let Some(new) = cache.commit.and_then(|c| mapping.get(&c))
        {
            let cache = StatCache {
                commit: Some(*new),
                entries: cache.entries,
            };
            statcache::save(&path, &cache)?;
        }
        Ok(())
    }

    /// Delete loose objects no ref reaches. Safe because every writer holds the store lock.
    fn prune_unreachable(&self) -> Result<usize, SnapshotError> {
        let mut live: HashSet<Oid> = HashSet::new();
        let refs = self
            .repo
            .references_glob("refs/jingu/*")
            .map_err(SnapshotError::git("listing refs"))?;
        let mut tips: Vec<Oid> = refs.flatten().filter_map(|r| r.target()).collect();
        if let Ok(r) = self.repo.find_reference(HEAD_REF) {
            tips.extend(r.target());
        }
        for tip in tips {
            let mut next = self.repo.find_commit(tip).ok();
            while let Some(c) = next {
                if !live.insert(c.id()) {
                    break;
                }
                let tree = c.tree().map_err(SnapshotError::git("reading tree"))?;
                mark_tree(&self.repo, &tree, &mut live)?;
                next = c.parent(0).ok();
            }
        }
        let objects = self.dir.join("objects");
        let mut pruned = 0;
        let Ok(fanout) = std::fs::read_dir(&objects) else {
            return Ok(0);
        };
        for dir in fanout.flatten() {
            let prefix = dir.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            for f in files.flatten() {
                let rest = f.file_name().to_string_lossy().into_owned();
                let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) else {
                    continue;
                };
                if !live.contains(&oid) && std::fs::remove_file(f.path()).is_ok() {
                    pruned += 1;
                }
            }
        }
        Ok(pruned)
    }
}

fn mark_tree(
    repo: &git2::Repository,
    tree: &Tree<'_>,
    live: &mut HashSet<Oid>,
) -> Result<(), SnapshotError> {
    if !live.insert(tree.id()) {
        return Ok(()); // shared subtree already marked
    }
    for entry in tree.iter() {
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(SnapshotError::git("reading subtree"))?;
                mark_tree(repo, &sub, live)?;
            }
            _ => {
                live.insert(entry.id());
            }
        }
    }
    Ok(())
}
