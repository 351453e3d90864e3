//! The workspace: its root, where Jingu keeps its own state for it, and how a user- or model-named
//! path is turned into a confined, workspace-relative one.
//!
//! Jingu's state (snapshot repository, audit log, stat cache) lives *outside* the workspace, under
//! `$JINGU_STATE_DIR` or `$XDG_STATE_HOME/jingu/workspaces/<name>-<hash>`: a sandboxed command may write
//! anywhere in the workspace, so anything kept there could be forged by the code it runs.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

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
    /// separators. Refuses anything that escapes the root (after following symlinks) or names
    /// `.git/` or `.jingu/`. The file itself need not exist (its parent is resolved instead).
    pub fn confine(&self, raw: &str) -> Result<String, PathError> {
        if raw.is_empty() {
            return Err(PathError::Empty);
        }
        if raw.contains('\0') {
            return Err(PathError::Nul);
        }
        if raw.contains('\\') {
            return Err(PathError::Suspicious(raw.into(), "backslash separator"));
        }
        if raw.chars().any(is_lookalike_separator) {
            return Err(PathError::Suspicious(
                raw.into(),
                "look-alike separator or dot",
            ));
        }
        let p = Path::new(raw);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        // Lexical check first: `..` may not climb out even through directories that do not exist.
        let lexical = normalize_lexically(&joined).ok_or_else(|| PathError::Outside(raw.into()))?;
        if !lexical.starts_with(&self.root) {
            return Err(PathError::Outside(raw.into()));
        }
        let resolved = resolve_existing_prefix(&lexical).map_err(|source| PathError::Io {
            path: raw.into(),
            source,
        })?;
        let rel = resolved
            .strip_prefix(&self.root)
            .map_err(|_| PathError::Outside(raw.into()))?;
        let rel_str = rel
            .to_str()
            .ok_or_else(|| PathError::NotUtf8(raw.into()))?
            .to_string();
        if let Some(first) = rel.components().next() {
            match first.as_os_str().to_str() {
                Some(".git") => {
                    return Err(PathError::Protected(
                        raw.into(),
                        "the user's git repository",
                    ));
                }
                Some(".jingu") => {
                    return Err(PathError::Protected(raw.into(), "Jingu's configuration"));
                }
                _ => {}
            }
        }
        if resolved.starts_with(&self.state_dir) {
            return Err(PathError::Protected(raw.into(), "Jingu's state"));
        }
        Ok(rel_str)
    }

    /// Absolute path of a workspace-relative path returned by [`Workspace::confine`].
    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Characters that render like `/` or `.` but are not, used to smuggle paths past reviewers.
fn is_lookalike_separator(c: char) -> bool {
    matches!(
        c,
        '\u{2215}'
            | '\u{2044}'
            | '\u{FF0F}'
            | '\u{29F8}'
            | '\u{FF0E}'
            | '\u{2024}'
            | '\u{FE52}'
            | '\u{3002}'
    )
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
mod tests {
    use super::*;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canon");
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        std::fs::write(root.join("src/a.rs"), "fn a() {}\n").expect("write");
        (dir, Workspace::at(root))
    }

    #[test]
    fn relative_paths_inside_are_accepted() {
        let (_d, w) = ws();
        assert_eq!(w.confine("src/a.rs").expect("ok"), "src/a.rs");
        assert_eq!(w.confine("./src/../src/new.rs").expect("ok"), "src/new.rs");
    }

    #[test]
    fn escapes_are_refused() {
        let (_d, w) = ws();
        for bad in [
            "../x",
            "src/../../x",
            "/etc/passwd",
            ".git/config",
            ".jingu/config.toml",
            "a\0b",
            "src\\a.rs",
            "src\u{2215}a.rs",
            "",
        ] {
            assert!(w.confine(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn symlink_out_of_the_workspace_is_refused() {
        let (_d, w) = ws();
        let outside = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), w.root.join("link")).expect("symlink");
        assert!(matches!(
            w.confine("link/secret"),
            Err(PathError::Outside(_))
        ));
    }
}
