//! Reading source files for parsing, refusing what is not source text.

use std::path::{Path, PathBuf};

/// Files larger than this are not parsed (generated code, minified bundles, data).
pub const MAX_SOURCE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file was not read as source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {len} bytes is over the {MAX_SOURCE_BYTES} byte limit for source files")]
    TooLarge { path: PathBuf, len: u64 },
    #[error("{path}: binary file (contains NUL bytes)")]
    Binary { path: PathBuf },
    #[error("{path}: not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
}

impl SourceError {}

/// Read a source file for parsing: refuses oversized, binary (NUL bytes) and non-UTF-8 files.
pub fn read_source(path: &Path) -> Result<String, SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(SourceError::TooLarge {
            path: path.to_path_buf(),
            len: meta.len(),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    if bytes.contains(&0) {
        return Err(SourceError::Binary {
            path: path.to_path_buf(),
        });
    }
    String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
