//! The workspace: its root, where Jingu keeps its own state for it, and how a user- or model-named
//! path is turned into a confined, workspace-relative one.
//!
//! Jingu's state (snapshot repository, audit log, stat cache) lives *outside* the workspace, under
//! `$JINGU_STATE_DIR` or `$XDG_STATE_HOME/jingu/workspaces/<name>-<hash>`: a sandboxed command may write
//! anywhere in the workspace, so anything kept there could be forged by the code it runs.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

pub mod beneath;
mod forms;
mod open;

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path contains a NUL byte")]
    Nul,
    #[error("path `{0}` is outside the workspace")]
    Outside(String),
    #[error("path `{0}` names a protected location ({1})")]
    Protected(String, &'static str),
    #[error("path `{0}` is not valid UTF-8")]
    NotUtf8(String),
    #[error("path `{0}` uses a form Jingu refuses ({1})")]
    Suspicious(String, &'static str),
    #[error("path `{0}` is denied by policy: {1}")]
    Denied(String, String),
    #[error(
        "path `{0}` is a file with {1} hard links; writing it could alter a file outside the workspace"
    )]
    HardLink(String, u64),
    #[error("cannot resolve `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct Workspace {
    /// Canonical absolute root.
    pub root: PathBuf,
    /// Jingu's private state for this workspace (outside `root`).
    pub state_dir: PathBuf,
}

impl Workspace {
    /// The workspace containing `start`: the nearest ancestor holding `.jingu/` or `.git`, else `start`.
    pub fn discover(start: &Path) -> std::io::Result<Self> {
        let start = start.canonicalize()?;
        let base = if start.is_file() {
            start
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(start.clone())
        } else {
            start.clone()
        };
        let root = base
            .ancestors()
            .find(|d| d.join(".jingu").is_dir() || d.join(".git").exists())
            .map(Path::to_path_buf)
            .unwrap_or(base);
        Ok(Self::at(root))
    }

    /// A workspace rooted exactly at `root` (must already be canonical).
    pub fn at(root: PathBuf) -> Self {
        let state_dir = state_dir_for(&root);
        Self { root, state_dir }
    }

    /// Resolve a path named by a user, the model or a tool to a workspace-relative path with `/`
    /// separators. Refuses anything that escapes the root (after following symlinks), names
    /// `.git/` or `.jingu/` (any case or look-alike spelling), Jingu's state directory, a dangling
    /// symlink, or a suspicious form (see `forms::screen`). The file itself need not exist (its
    /// parent is resolved instead).
    pub fn confine(&self, raw: &str) -> Result<String, PathError> {
        forms::screen(raw)?;
        let p = Path::new(raw);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        // Lexical check first: `..` may not climb out even through directories that do not exist.
        let lexical = normalize_lexically(&joined).ok_or_else(|| PathError::Outside(raw.into()))?;
        let lexical_rel = lexical
            .strip_prefix(&self.root)
            .map_err(|_| PathError::Outside(raw.into()))?;
        check_components(raw, lexical_rel)?;
        let resolved = resolve_existing_prefix(&lexical).map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidInput => {
                PathError::Suspicious(raw.into(), "dangling symlink")
            }
            _ => PathError::Io {
                path: raw.into(),
                source,
            },
        })?;
        let rel = resolved
            .strip_prefix(&self.root)
            .map_err(|_| PathError::Outside(raw.into()))?;
        check_components(raw, rel)?;
        let rel_str = rel
            .to_str()
            .ok_or_else(|| PathError::NotUtf8(raw.into()))?
            .to_string();
        if self.is_state(&resolved) {
            return Err(PathError::Protected(raw.into(), "Jingu's state"));
        }
        Ok(rel_str)
    }

    /// [`Workspace::confine`] plus the policy's `deny_paths`, and for writes the hard-link and
    /// special-file checks: a regular file with more than one link may be the same inode as a file
    /// outside the workspace, so writing it would alter that file too.
    pub fn confine_for_tool(
        &self,
        raw: &str,
        policy: &jingu_policy::Policy,
        access: Access,
    ) -> Result<String, PathError> {
        let rel = self.confine(raw)?;
        if rel.is_empty() && access == Access::Write {
            return Err(PathError::Suspicious(
                raw.into(),
                "the workspace root itself",
            ));
        }
        if let Some(reason) = policy.path_denied(&rel) {
            return Err(PathError::Denied(raw.into(), reason));
        }
        let abs = self.abs(&rel);
        match std::fs::symlink_metadata(&abs) {
            Ok(meta) => {
                use std::os::unix::fs::MetadataExt;
                let ft = meta.file_type();
                if !(ft.is_file() || ft.is_dir()) {
                    return Err(PathError::Suspicious(
                        raw.into(),
                        "not a regular file or directory",
                    ));
                }
                if access == Access::Write && ft.is_file() && meta.nlink() > 1 {
                    return Err(PathError::HardLink(raw.into(), meta.nlink()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PathError::Io {
                    path: raw.into(),
                    source,
                });
            }
        }
        Ok(rel)
    }

    /// Is `abs` (canonical) inside Jingu's state directory, however that directory is spelled?
    fn is_state(&self, abs: &Path) -> bool {
        abs.starts_with(&self.state_dir)
            || self
                .state_dir
                .canonicalize()
                .is_ok_and(|canon| abs.starts_with(canon))
    }

    /// Absolute path of a workspace-relative path returned by [`Workspace::confine`].
    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// What a tool wants to do with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

fn check_components(raw: &str, rel: &Path) -> Result<(), PathError> {
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(PathError::Outside(raw.into()));
        };
        let name = name
            .to_str()
            .ok_or_else(|| PathError::NotUtf8(raw.into()))?;
        if let Some(what) = forms::protected_name(name) {
            return Err(PathError::Protected(raw.into(), what));
        }
    }
    Ok(())
}

fn normalize_lexically(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// Canonicalise the longest existing prefix of `p` (following symlinks) and re-append the rest.
/// A dangling symlink anywhere on the way is an `InvalidInput` error.
fn resolve_existing_prefix(p: &Path) -> std::io::Result<PathBuf> {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(c) => {
                let mut out = c;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A symlink whose target is missing: writing through it would create the target
                // wherever it points, so it cannot be treated as a new file here.
                if existing.symlink_metadata().is_ok() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "dangling symlink",
                    ));
                }
                let name = existing.file_name().map(|n| n.to_os_string());
                match (name, existing.parent()) {
                    (Some(n), Some(parent)) => {
                        rest.push(n);
                        existing = parent.to_path_buf();
                    }
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

fn state_dir_for(root: &Path) -> PathBuf {
    let base = std::env::var_os("JINGU_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("jingu")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/jingu")))
        .unwrap_or_else(|| std::env::temp_dir().join("jingu-state"));
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let name = root
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("root")
        .to_string();
    base.join("workspaces")
        .join(format!("{name}-{}", &hex::encode(digest)[..12]))
}

#[cfg(test)]
mod tests;
