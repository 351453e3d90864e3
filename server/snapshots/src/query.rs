//! Reading the snapshot history: list, resolve, show, diff, content at a snapshot.

use git2::{Commit, Oid};

use super::model::{
    ListFilter, SHORT_LEN, SnapshotDetail, SnapshotId, SnapshotInfo, parse_trailers, rfc3339_utc,
};
use super::{SnapshotError, Store};

impl Store {
    /// Snapshots, newest first, narrowed by `filter`.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<SnapshotInfo>, SnapshotError> {
        let mut out = Vec::new();
        for commit in self.chain()? {
            if filter.limit.is_some_and(|n| out.len() >= n) {
                break;
            }
            let info = self.info(&commit)?;
            if filter
                .run
                .as_ref()
                .is_some_and(|r| info.run_id.as_ref() != Some(r))
            {
                continue;
            }
            if let Some(p) = &filter.path {
                let p = p.trim_end_matches('/');
                let hit = info
                    .paths
                    .iter()
                    .any(|q| q == p || q.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
                if !hit {
                    continue;
                }
            }
            out.push(info);
        }
        Ok(out)
    }

    /// The snapshot a unique id prefix names (among snapshots still in the history).
    pub fn resolve(&self, prefix: &str) -> Result<SnapshotId, SnapshotError> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SnapshotError::NotFound(prefix));
        }
        let mut found: Vec<Oid> = Vec::new();
        for commit in self.chain()? {
            if commit.id().to_string().starts_with(&prefix) {
                found.push(commit.id());
            }
        }
        match found.as_slice() {
            [] => Err(SnapshotError::NotFound(prefix)),
            [one] => Ok(SnapshotId(*one)),
            many => Err(SnapshotError::Ambiguous {
                prefix,
                candidates: many
                    .iter()
                    .map(|o| o.to_string()[..SHORT_LEN].to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Everything known about one snapshot.
    pub fn show(&self, id: SnapshotId) -> Result<SnapshotDetail, SnapshotError> {
        let commit = self.commit(id)?;
        Ok(SnapshotDetail {
            info: self.info(&commit)?,
            full_id: commit.id().to_string(),
            parent: commit.parent_id(0).ok().map(|p| p.to_string()),
            message: commit.message().unwrap_or_default().to_string(),
        })
    }

    /// Unified diff of a snapshot against its parent.
    pub fn diff(&self, id: SnapshotId) -> Result<String, SnapshotError> {
        let commit = self.commit(id)?;
        let diff = self.diff_to_parent(&commit)?;
        let mut out = String::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                out.push(line.origin());
            }
            out.push_str(&String::from_utf8_lossy(line.content()));
            true
        })
        .map_err(SnapshotError::git("printing diff"))?;
        Ok(out)
    }

    /// The content of `path` as of snapshot `id` (`None` if it did not exist then).
    pub fn content_at(&self, id: SnapshotId, path: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        let commit = self.commit(id)?;
        let tree = commit
            .tree()
            .map_err(SnapshotError::git("reading snapshot tree"))?;
        Ok(self.blob_in(&tree, path)?.map(|(bytes, _)| bytes))
    }

    /// The newest snapshot, if any.
    pub fn head(&self) -> Result<Option<SnapshotId>, SnapshotError> {
        Ok(self.head_commit()?.map(|c| SnapshotId(c.id())))
    }

    pub(crate) fn commit(&self, id: SnapshotId) -> Result<Commit<'_>, SnapshotError> {
        self.repo
            .find_commit(id.0)
            .map_err(|_| SnapshotError::NotFound(id.0.to_string()))
    }

    /// The history, newest first, following first parents from the head.
    pub(crate) fn chain(&self) -> Result<Vec<Commit<'_>>, SnapshotError> {
        let mut out = Vec::new();
        let mut next = self.head_commit()?;
        while let Some(c) = next {
            next = c.parent(0).ok();
            out.push(c);
        }
        Ok(out)
    }

    pub(crate) fn diff_to_parent(
        &self,
        commit: &Commit<'_>,
    ) -> Result<git2::Diff<'_>, SnapshotError> {
        let tree = commit
            .tree()
            .map_err(SnapshotError::git("reading snapshot tree"))?;
        let parent_tree = match commit.parent(0) {
            Ok(p) => Some(
                p.tree()
                    .map_err(SnapshotError::git("reading parent tree"))?,
            ),
            Err(_) => None,
        };
        self.repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(SnapshotError::git("diffing snapshot"))
    }

    /// Paths a snapshot changed relative to its parent.
    pub(crate) fn changed_paths(&self, commit: &Commit<'_>) -> Result<Vec<String>, SnapshotError> {
        let diff = self.diff_to_parent(commit)?;
        Ok(diff
            .deltas()
            .filter_map(|d| d.new_file().path().or_else(|| d.old_file().path()))
            .map(|p| p.to_string_lossy().into_owned())
            .collect())
    }

    fn info(&self, commit: &Commit<'_>) -> Result<SnapshotInfo, SnapshotError> {
        let t = parse_trailers(commit.message().unwrap_or_default());
        Ok(SnapshotInfo {
            id: SnapshotId(commit.id()).short(),
            time: rfc3339_utc(commit.time().seconds()),
            run_id: t.run_id,
            actor: t.actor,
            op: t.op,
            target: t.target,
            paths: self.changed_paths(commit)?,
        })
    }
}

/// Audit replay reads file states straight from the snapshots it names.
impl jingu_audit::SnapshotSource for Store {
    fn content_at(&self, id: &str, path: &str) -> Option<Vec<u8>> {
        let id = self.resolve(id).ok()?;
        Store::content_at(self, id, path).ok().flatten()
    }
}
