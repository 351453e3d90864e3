//! All-or-nothing batches. Atomicity comes from ordering: every edit of every file is planned first
//! (pure, in memory); only when all succeed is anything written. If a write then fails (the file
//! changed on disk meanwhile, disk full), the files already written are restored to their old
//! content, so the batch still lands entirely or not at all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::syntax::Language;
use crate::workspace::Workspace;

use super::atomic::{Hash, ReadError, WriteError, read_for_edit, sha256, write_atomic};
use super::error::EditError;
use super::plan::{ParsedFile, Planned, plan, plan_parsed};
use super::request::EditRequest;

/// The edits for one file, applied in order (each planned against the previous one's result).
#[derive(Debug, Clone)]
pub struct FileEdit {
    /// Relative to the workspace root.
    pub path: PathBuf,
    pub requests: Vec<EditRequest>,
}

/// A file written by [`apply_batch`].
#[derive(Debug, Clone)]
pub struct Applied {
    /// Canonical absolute path.
    pub path: PathBuf,
    pub old_text: String,
    pub new_text: String,
    pub old_hash: Hash,
    pub new_hash: Hash,
    /// One [`Planned::summary`] per request.
    pub summaries: Vec<String>,
}

#[derive(Debug, Error)]
pub enum BatchError {
    #[error("{path}: {reason}")]
    Path { path: PathBuf, reason: String },
    #[error("{path} appears twice in the batch; put all its edits in one FileEdit")]
    DuplicatePath { path: PathBuf },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path}: edit {} ({summary}): {source}", index + 1)]
    Plan {
        path: PathBuf,
        index: usize,
        summary: String,
        source: EditError,
    },
    #[error("{source}; batch rolled back ({} file(s) restored{})", restored.len(),
        if not_restored.is_empty() { String::new() } else { format!(", NOT restored: {not_restored:?}") })]
    Write {
        source: WriteError,
        restored: Vec<PathBuf>,
        not_restored: Vec<PathBuf>,
    },
}

/// Plan a sequence of edits of one file, each against the previous result, reusing the new tree
/// so later edits re-parse incrementally. On failure, the index of the failing request.
pub fn plan_sequence(
    text: &str,
    language: Option<Language>,
    requests: &[EditRequest],
) -> Result<Vec<Planned>, (usize, EditError)> {
    let mut out: Vec<Planned> = Vec::with_capacity(requests.len());
    for (i, req) in requests.iter().enumerate() {
        let (current, tree) = match out.last() {
            Some(p) => (p.new_text.as_str(), p.tree.clone()),
            None => (text, None),
        };
        let planned = match (language, tree) {
            (Some(lang), Some(tree)) => {
                plan_parsed(&ParsedFile::with_tree(current, lang, tree), req)
            }
            _ => plan(current, language, req),
        };
        out.push(planned.map_err(|e| (i, e))?);
    }
    Ok(out)
}

/// Plan every edit, refuse all if any fails, then write all atomically.
pub fn apply_batch(root: &Path, edits: &[FileEdit]) -> Result<Vec<Applied>, BatchError> {
    let planned = plan_batch(root, edits)?;
    commit_batch(&planned)?;
    Ok(planned)
}

/// Phase 1: read and plan every file's edits; nothing is written.
pub fn plan_batch(root: &Path, edits: &[FileEdit]) -> Result<Vec<Applied>, BatchError> {
    let root = root.canonicalize().map_err(|_| BatchError::Path {
        path: root.to_path_buf(),
        reason: "workspace root does not exist".into(),
    })?;
    let mut seen = HashSet::new();
    let mut planned: Vec<Applied> = Vec::with_capacity(edits.len());
    for edit in edits {
        let path = confine(&root, &edit.path)?;
        if !seen.insert(path.clone()) {
            return Err(BatchError::DuplicatePath { path });
        }
        let (old_text, old_hash) = read_for_edit(&path)?;
        let plans = plan_sequence(&old_text, Language::from_path(&path), &edit.requests).map_err(
            |(index, source)| BatchError::Plan {
                path: edit.path.clone(),
                index,
                summary: format!(
                    "{} {}",
                    edit.requests[index].op, edit.requests[index].target
                ),
                source,
            },
        )?;
        let new_text = plans
            .last()
            .map_or_else(|| old_text.clone(), |p| p.new_text.clone());
        planned.push(Applied {
            new_hash: sha256(new_text.as_bytes()),
            summaries: plans.into_iter().map(|p| p.summary).collect(),
            path,
            old_text,
            new_text,
            old_hash,
        });
    }
    Ok(planned)
}

/// Phase 2: write every planned file; on any failure restore those already written.
pub fn commit_batch(planned: &[Applied]) -> Result<(), BatchError> {
    for (i, file) in planned.iter().enumerate() {
        if let Err(source) = write_atomic(&file.path, file.new_text.as_bytes(), Some(file.old_hash))
        {
            let (mut restored, mut not_restored) = (Vec::new(), Vec::new());
            for done in planned[..i].iter().rev() {
                match write_atomic(&done.path, done.old_text.as_bytes(), Some(done.new_hash)) {
                    Ok(()) => restored.push(done.path.clone()),
                    Err(_) => not_restored.push(done.path.clone()),
                }
            }
            return Err(BatchError::Write {
                source,
                restored,
                not_restored,
            });
        }
    }
    Ok(())
}

/// Resolve a workspace-relative path through the workspace's own confinement (symlinks followed;
/// `..` escapes, `.git/`, `.jingu/`, Jingu's state, look-alike and Windows-style paths refused):
/// one rule for every path that reaches the disk. The file must exist: a batch edits files.
pub fn confine(root: &Path, rel: &Path) -> Result<PathBuf, BatchError> {
    let refuse = |reason: String| BatchError::Path {
        path: rel.to_path_buf(),
        reason,
    };
    if rel.is_absolute() {
        return Err(refuse("path must be relative to the workspace".into()));
    }
    let raw = rel
        .to_str()
        .ok_or_else(|| refuse("path is not valid UTF-8".into()))?;
    let inside = Workspace::at(root.to_path_buf())
        .confine(raw)
        .map_err(|e| refuse(e.to_string()))?;
    let full = root.join(inside);
    if !full.is_file() {
        return Err(refuse("file does not exist".into()));
    }
    Ok(full)
}
