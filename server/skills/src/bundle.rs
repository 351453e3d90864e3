//! The canonical manifest of a skill bundle: every file (hidden ones too) except the signature file,
//! as sorted `relative/path\tsha256hex` lines. Symlinks and special files are refused outright, so a
//! signed bundle cannot point outside itself or change behind its hashes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::SkillError;

/// Jingu's signature file at the bundle root; the only file the manifest leaves out.
pub const SIGNATURE_FILE: &str = "jingu.sig";
/// Bounds that keep vetting cheap on a hostile bundle.
pub const MAX_FILES: usize = 1000;
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Relative path (always `/`-separated) → lowercase hex SHA-256 of the file's bytes.
pub type FileHashes = BTreeMap<String, String>;

/// Hash every file of the bundle at `dir`.
pub fn hash_bundle(dir: &Path) -> Result<FileHashes, SkillError> {
    let mut out = FileHashes::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel_dir) = stack.pop() {
        let abs_dir = dir.join(&rel_dir);
        let entries = fs::read_dir(&abs_dir).map_err(|e| SkillError::io(&abs_dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| SkillError::io(&abs_dir, e))?;
            let rel = rel_dir.join(entry.file_name());
            let rel_str = relative_string(&rel).ok_or_else(|| SkillError::BadBundle {
                dir: dir.to_path_buf(),
                reason: format!("file name {rel:?} is not UTF-8 or contains a tab or newline"),
            })?;
            // symlink_metadata: never follow a link, so nothing outside the bundle is read.
            let meta =
                fs::symlink_metadata(entry.path()).map_err(|e| SkillError::io(&entry.path(), e))?;
            let kind = meta.file_type();
            if kind.is_symlink() {
                return Err(SkillError::BadBundle {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "`{rel_str}` is a symlink; bundles may contain only regular files"
                    ),
                });
            }
            if kind.is_dir() {
                stack.push(rel);
                continue;
            }
            if !kind.is_file() {
                return Err(SkillError::BadBundle {
                    dir: dir.to_path_buf(),
                    reason: format!("`{rel_str}` is not a regular file"),
                });
            }
            if rel_str == SIGNATURE_FILE {
                continue;
            }
            if meta.len() > MAX_FILE_BYTES {
                return Err(SkillError::BadBundle {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "`{rel_str}` is {} bytes, the limit is {MAX_FILE_BYTES}",
                        meta.len()
                    ),
                });
            }
            if out.len() >= MAX_FILES {
                return Err(SkillError::BadBundle {
                    dir: dir.to_path_buf(),
                    reason: format!("more than {MAX_FILES} files"),
                });
            }
            let bytes = fs::read(entry.path()).map_err(|e| SkillError::io(&entry.path(), e))?;
            out.insert(rel_str, hex::encode(Sha256::digest(&bytes)));
        }
    }
    Ok(out)
}

/// The exact bytes that are signed: one `path\thash\n` line per file, sorted by path.
pub fn canonical_manifest(files: &FileHashes) -> String {
    files.iter().map(|(p, h)| format!("{p}\t{h}\n")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Files whose recorded and actual hashes differ, in three sorted lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BundleDiff {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl BundleDiff {
    pub fn between(recorded: &FileHashes, actual: &FileHashes) -> Self {
        let mut d = BundleDiff::default();
        for (path, hash) in actual {
            match recorded.get(path) {
                None => d.added.push(path.clone()),
                Some(h) if h != hash => d.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        d.removed = recorded
            .keys()
            .filter(|p| !actual.contains_key(*p))
            .cloned()
            .collect();
        d
    }

    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

impl std::fmt::Display for BundleDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (label, list) in [
            ("changed", &self.changed),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            if !list.is_empty() {
                parts.push(format!("{label}: {}", list.join(", ")));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

fn relative_string(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let s = parts?.join("/");
    (!s.contains(['\t', '\n', '\r'])).then_some(s)
}
