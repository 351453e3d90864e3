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
