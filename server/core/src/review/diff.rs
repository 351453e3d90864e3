//! The working-tree diff against a base revision, read from the user's repository through git2.
//! Read-only: the repository is opened, never written (no index refresh, no lock files).

use std::path::Path;

use git2::{DiffOptions, Patch, Repository};

use jingu_index::MAX_SOURCE_BYTES;

/// A changed hunk: 1-based first line and line count on each side (a count of 0 is a pure
/// insertion or deletion, positioned after that line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
}

#[derive(Debug, Clone)]
pub struct ChangedFile {
    /// Workspace-relative path.
    pub path: String,
    /// The text at the base revision (empty for an added file).
    pub old_text: String,
    /// The current text: the editor's buffer when open, else the disk.
    pub new_text: String,
    pub hunks: Vec<Hunk>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{root} is not inside a git repository: {source}")]
    NoRepository { root: String, source: git2::Error },
    #[error("the repository at {0} has no working tree (bare)")]
    Bare(String),
    #[error("cannot resolve base revision `{rev}` to a tree: {source}")]
    Base { rev: String, source: git2::Error },
    #[error("cannot diff the working tree against `{rev}`: {source}")]
    Diff { rev: String, source: git2::Error },
}

/// Files changed in the working tree (tracked and untracked, index included) relative to `base`,
/// restricted to the workspace under `root` (and to `only`, a workspace-relative path, if given).
/// Deleted and binary files are skipped: there is nothing left to comment on.
///
/// Everything read here goes to a model, so it passes the same gate as the agent's reads:
/// `allow(rel)` (policy: `deny_paths`, protected dirs, the read decision) for both the old and the
/// new name, symlinks are skipped, and the disk is read by handle (no symlink followed).
pub fn changed_files(
    root: &Path,
    base: &str,
    only: Option<&str>,
    allow: impl Fn(&str) -> bool,
) -> Result<Vec<ChangedFile>, DiffError> {
    let repo = Repository::discover(root).map_err(|source| DiffError::NoRepository {
        root: root.display().to_string(),
        source,
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| DiffError::Bare(repo.path().display().to_string()))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let base_err = |source| DiffError::Base {
        rev: base.to_string(),
        source,
    };
    let tree = repo
        .revparse_single(base)
        .and_then(|o| o.peel_to_tree())
        .map_err(base_err)?;
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .map_err(|source| DiffError::Diff {
            rev: base.to_string(),
            source,
        })?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let Some(repo_rel) = delta.new_file().path() else {
            continue;
        };
        let abs = workdir.join(repo_rel);
        let Ok(rel) = abs.strip_prefix(&root) else {
            continue; // outside the workspace
        };
        let Some(rel) = rel.to_str().map(str::to_string) else {
            continue;
        };
        if only.is_some_and(|o| o != rel) || delta.status() == git2::Delta::Deleted {
            continue;
        }
        let old_rel = delta
            .old_file()
            .path()
            .map(|p| workdir.join(p))
            .and_then(|p| p.strip_prefix(&root).ok().map(Path::to_path_buf))
            .and_then(|p| p.to_str().map(str::to_string));
        let is_link = |f: git2::DiffFile<'_>| f.mode() == git2::FileMode::Link;
        if !allow(&rel)
            || old_rel.as_deref().is_some_and(|o| o != rel && !allow(o))
            || is_link(delta.new_file())
            || is_link(delta.old_file())
        {
            tracing::debug!("review skips {rel}: not readable under the policy");
            continue;
        }
        let Some(new_text) = read_beneath(&root, &rel) else {
            tracing::debug!("review skips {rel}: unreadable, binary or a symlink");
            continue;
        };
        let old_text = delta
            .old_file()
            .path()
            .and_then(|p| tree.get_path(p).ok())
            .and_then(|entry| repo.find_blob(entry.id()).ok())
            .and_then(|blob| String::from_utf8(blob.content().to_vec()).ok())
            .unwrap_or_default();
        let hunks = hunks(&old_text, &new_text);
        if !hunks.is_empty() {
            out.push(ChangedFile {
                path: rel,
                old_text,
                new_text,
                hunks,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Hunks between two texts, by git's own diff, without context lines (each hunk is a change).
pub fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    let Ok(patch) =
        Patch::from_buffers(old.as_bytes(), None, new.as_bytes(), None, Some(&mut opts))
    else {
        return Vec::new();
    };
    (0..patch.num_hunks())
        .filter_map(|i| patch.hunk(i).ok())
        .map(|(h, _)| Hunk {
            old_start: h.old_start() as usize,
            old_lines: h.old_lines() as usize,
            new_start: h.new_start() as usize,
            new_lines: h.new_lines() as usize,
        })
        .collect()
}

/// A text file under `root`, read by handle without following any symlink; `None` when it is
/// missing, too large, binary or not UTF-8.
pub fn read_beneath(root: &Path, rel: &str) -> Option<String> {
    jingu_fs::workspace::beneath::read_text(root, Path::new(rel), MAX_SOURCE_BYTES).ok()
}
