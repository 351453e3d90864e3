//! Crash-safe file replacement: a reader (or a crash) sees either the old or the new content,
//! never a torn file (DESIGN §5 invariant 1).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Marks the temp files of in-flight writes (scans skip them).
pub const TEMP_MARKER: &str = ".jingu-tmp-";

/// Write `bytes` to `path` via a temp file in the same directory, fsync, rename, fsync the directory.
/// `mode` (unix permission bits) applies when given; otherwise an existing file keeps its permissions.
pub fn atomic_write(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("path has no file name"))?;
    let perms = match mode {
        Some(m) => m & 0o7777,
        None => match fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(_) => 0o644,
        },
    };
    let tmp = dir.join(format!(
        ".{}{TEMP_MARKER}{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        fastrand::u64(..)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(perms)
            .open(&tmp)?;
        f.write_all(bytes)?;
        // The umask may have narrowed `perms`; set them exactly.
        f.set_permissions(fs::Permissions::from_mode(perms))?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
