//! Atomic file replacement (DESIGN §5 invariant 1): a file on disk is always its old or its new
//! content. The new content goes to a fresh temp file in the same directory (same filesystem, so
//! the rename is atomic), is fsynced, takes the original's mode (and owner, when permitted), and is
//! renamed over the original; the directory is then fsynced so the rename survives a crash.
//!
//! Optimistic concurrency: the caller passes the SHA-256 of the content it planned against, and the
//! write is refused if the file changed since. The check comes after the temp file's fsync, just
//! before the rename: a writer that sneaks in between the two (microseconds) is not detected;
//! editors do not lock files, so nothing stronger exists. [`stage`] and [`Staged::commit`] split
//! the two halves so the fsync can overlap the audit record that must precede the rename.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::workspace::beneath;

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Files larger than this are not edited (generated code, data): the model cannot reason about them.
pub const MAX_EDIT_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes inspected for a NUL when deciding whether a file is binary.
const BINARY_SNIFF: usize = 8192;
const NEW_FILE_MODE: u32 = 0o644;

pub type Hash = [u8; 32];

pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

#[derive(Debug, Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is {size} bytes; files over {MAX_EDIT_BYTES} bytes are not edited")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{path} looks binary (NUL byte at offset {offset}); only text files are edited")]
    Binary { path: PathBuf, offset: usize },
    #[error("{path} is not valid UTF-8 (first invalid byte at offset {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{path} changed on disk since it was read; re-read it and plan the edit again")]
    ConcurrentModification { path: PathBuf },
    // The cause is in the message, so it is not also a `source` (a `{:#}` chain would repeat it).
    #[error("cannot write {path}: {op}: {cause}")]
    Io {
        path: PathBuf,
        op: &'static str,
        cause: io::Error,
    },
}

/// Read a text file for editing: its content and the SHA-256 to pass back to [`write_atomic`].
pub fn read_for_edit(path: &Path) -> Result<(String, Hash), ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    // By handle: no symlink anywhere on the path is followed (see `workspace::beneath`).
    let (root, rel) = beneath::split_root(path);
    let (dir, name) = beneath::Dir::parent_of(root, rel, false).map_err(io_err)?;
    if dir
        .entry(&name)
        .map_err(io_err)?
        .is_some_and(|e| e.is_dir())
    {
        return Err(ReadError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut file = dir.open_read(&name).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_EDIT_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    // Bounded read: the file may grow between metadata and read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    Read::by_ref(&mut file)
        .take(MAX_EDIT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_EDIT_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
        });
    }
    if let Some(offset) = bytes[..bytes.len().min(BINARY_SNIFF)]
        .iter()
        .position(|&b| b == 0)
    {
        return Err(ReadError::Binary {
            path: path.to_path_buf(),
            offset,
        });
    }
    let hash = sha256(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok((text, hash))
}

/// Replace `path` with `new_content` atomically. With `expected_old_hash`, refuse unless the file
/// still has exactly that content; with `None`, the file must not exist yet (creation).
///
/// Confined by file handle: the parent directory is opened without following any symlink
/// (`workspace::beneath`), and the temp file is created and renamed inside that directory fd, so
/// a symlink swapped into the path after it was checked cannot redirect the write. A symlink at
/// `path` itself is refused, not followed (callers pass paths `Workspace::confine` resolved).
pub fn write_atomic(
    path: &Path,
    new_content: &[u8],
    expected_old_hash: Option<Hash>,
) -> Result<(), WriteError> {
    stage(path, new_content)?.commit(expected_old_hash)
}

/// New content written and fsynced under a temporary name beside its file, not yet in place:
/// [`Staged::commit`] checks the file and renames it over; dropping it removes the temp file. The
/// slow part of a replacement (the temp file's fsync) can so run while the caller makes the record
/// that must precede the write — the file itself changes only at `commit`.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    dir: beneath::Dir,
    name: std::ffi::OsString,
    tmp_name: Option<std::ffi::OsString>,
}

/// Write `new_content` to a fsynced temp file beside `path`, with the mode (and owner, when
/// permitted) of the file there now. Nothing at `path` changes.
pub fn stage(path: &Path, new_content: &[u8]) -> Result<Staged, WriteError> {
    let (root, rel) = beneath::split_root(path);
    let (dir, name) = beneath::Dir::parent_of(root, rel, false)
        .map_err(|e| io_error(path, "open parent directory", e))?;
    let existing = dir.entry(&name).map_err(|e| io_error(path, "stat", e))?;
    if existing.as_ref().is_some_and(|e| !e.is_file()) {
        return Err(not_regular(path));
    }
    let stem = name.to_string_lossy().into_owned();
    let (tmp_name, mut tmp) = dir
        .create_temp(|r| format!(".{stem}.jingu-{}-{r:016x}.tmp", std::process::id()))
        .map_err(|e| io_error(path, "create temp file", e))?;
    // From here the temp file is removed again on every failure (by `Staged`'s drop).
    let staged = Staged {
        path: path.to_path_buf(),
        dir,
        name,
        tmp_name: Some(tmp_name),
    };
    tmp.write_all(new_content)
        .map_err(|e| io_error(path, "write temp file", e))?;
    let mode = existing
        .as_ref()
        .map_or(NEW_FILE_MODE, beneath::Entry::permissions);
    tmp.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| io_error(path, "set permissions", e))?;
    if let Some(meta) = &existing {
        // Keep the owner when we may (running as root); otherwise the file becomes ours, as
        // with any editor that saves by rename.
        let _ = std::os::unix::fs::fchown(&tmp, Some(meta.uid), Some(meta.gid));
    }
    tmp.sync_all()
        .map_err(|e| io_error(path, "fsync temp file", e))?;
    Ok(staged)
}

impl Staged {
    /// Put the staged content in place: refused unless the file still has `expected_old_hash`
    /// (with `None`: still does not exist), checked just before the rename; then the directory is
    /// fsynced so the rename survives a crash.
    pub fn commit(mut self, expected_old_hash: Option<Hash>) -> Result<(), WriteError> {
        self.rename_into_place(expected_old_hash)?;
        self.dir
            .sync()
            .map_err(|e| io_error(&self.path, "fsync directory", e))
    }

    /// As [`Staged::commit`] without the directory fsync: the rename is atomic (the file is its
    /// old or its new content after any crash) but becomes durable with the file system's next
    /// sync. For callers that made the change recoverable otherwise (an edit's audit record and
    /// snapshot journal are fsynced before it).
    pub fn commit_unsynced(mut self, expected_old_hash: Option<Hash>) -> Result<(), WriteError> {
        self.rename_into_place(expected_old_hash)
    }

    fn rename_into_place(&mut self, expected_old_hash: Option<Hash>) -> Result<(), WriteError> {
        let path = &self.path;
        let existing = self
            .dir
            .entry(&self.name)
            .map_err(|e| io_error(path, "stat", e))?;
        if existing.as_ref().is_some_and(|e| !e.is_file()) {
            return Err(not_regular(path));
        }
        let concurrent = || WriteError::ConcurrentModification {
            path: path.to_path_buf(),
        };
        match (&existing, expected_old_hash) {
            (Some(_), Some(expected)) => {
                let mut current = Vec::new();
                self.dir
                    .open_read(&self.name)
                    .and_then(|f| f.take(MAX_EDIT_BYTES + 1).read_to_end(&mut current))
                    .map_err(|e| io_error(path, "re-read", e))?;
                if sha256(&current) != expected {
                    return Err(concurrent());
                }
            }
            // Removed since it was read, or created by someone else since we decided to create it.
            (None, Some(_)) | (Some(_), None) => return Err(concurrent()),
            (None, None) => {}
        }
        let Some(tmp_name) = self.tmp_name.take() else {
            return Err(io_error(
                path,
                "rename",
                io::Error::other("already committed"),
            ));
        };
        if let Err(e) = self.dir.rename(&tmp_name, &self.name) {
            let _ = self.dir.unlink(&tmp_name);
            return Err(io_error(path, "rename", e));
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp_name.take() {
            let _ = self.dir.unlink(&tmp);
        }
    }
}

fn not_regular(path: &Path) -> WriteError {
    io_error(
        path,
        "open",
        io::Error::other("not a regular file (symlinks are not followed)"),
    )
}

fn io_error(path: &Path, op: &'static str, cause: io::Error) -> WriteError {
    WriteError::Io {
        path: path.to_path_buf(),
        op,
        cause,
    }
}
