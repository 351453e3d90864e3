//! Workspace symbol index.

use std::path::Path;

use anyhow::{Context, bail};

/// Files larger than this are not parsed (generated code, minified bundles, data).
pub const MAX_SOURCE_BYTES: u64 = 4 * 1024 * 1024;

/// Read a source file for parsing: refuses oversized, binary (NUL bytes) and non-UTF-8 files with
/// a message naming the file.
pub fn read_source(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.len() > MAX_SOURCE_BYTES {
        bail!(
            "{}: {} bytes is over the {} byte limit for source files",
            path.display(),
            meta.len(),
            MAX_SOURCE_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    if bytes.contains(&0) {
        bail!("{}: binary file (contains NUL bytes)", path.display());
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{FileSymbols, Language, Symbol};

/// Interim index (replaced by the parallel, hash-indexed one on the `syntax` branch).
#[derive(Debug, Default)]
pub struct Index {
    root: std::path::PathBuf,
    files: RwLock<HashMap<String, Arc<FileSymbols>>>,
}

impl Index {
    pub fn build(root: &Path) -> Index {
        let index = Index {
            root: root.to_path_buf(),
            files: RwLock::default(),
        };
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            if let Ok(rel) = entry.path().strip_prefix(root)
                && let Some(rel) = rel.to_str()
            {
                index.refresh_from_disk(rel);
            }
        }
        index
    }

    pub fn update_file(&self, rel_path: &str, text: &str) {
        let Some(lang) = Language::from_path(Path::new(rel_path)) else {
            return;
        };
        let file = Arc::new(super::file_symbols(lang, text));
        if let Ok(mut files) = self.files.write() {
            files.insert(rel_path.to_string(), file);
        }
    }

    pub fn refresh_from_disk(&self, rel_path: &str) {
        match read_source(&self.root.join(rel_path)) {
            Ok(text) => self.update_file(rel_path, &text),
            Err(_) => self.remove_file(rel_path),
        }
    }

    pub fn remove_file(&self, rel_path: &str) {
        if let Ok(mut files) = self.files.write() {
            files.remove(rel_path);
        }
    }

    pub fn search(&self, query: &str, limit: usize) -> Vec<(String, Symbol)> {
        let q = query.to_lowercase();
        let Ok(files) = self.files.read() else {
            return Vec::new();
        };
        files
            .iter()
            .flat_map(|(p, f)| f.symbols.iter().map(move |s| (p, s)))
            .filter(|(_, s)| s.name.to_lowercase().contains(&q))
            .take(limit)
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect()
    }
}
