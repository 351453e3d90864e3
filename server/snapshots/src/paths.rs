//! Paths the store accepts: workspace-relative, `/`-separated, never reaching `.git/` or `.jingu/`.
//! The store is a second line of defence behind `Workspace::confine`: tree paths are also written
//! back to disk on rollback, so a forged `../` here would be a write outside the workspace.

use super::SnapshotError;

pub(crate) fn check_rel(path: &str) -> Result<(), SnapshotError> {
    let refuse = |reason: &str| {
        Err(SnapshotError::BadPath {
            path: path.to_string(),
            reason: reason.to_string(),
        })
    };
    if path.is_empty() {
        return refuse("empty path");
    }
    if path.contains('\0') {
        return refuse("contains a NUL byte");
    }
    if path.starts_with('/') {
        return refuse("absolute paths are not workspace-relative");
    }
    if path.contains('\\') {
        return refuse("backslash separator");
    }
    for (i, part) in path.split('/').enumerate() {
        match part {
            "" => return refuse("empty path component"),
            "." | ".." => return refuse("`.` or `..` component"),
            _ if part.eq_ignore_ascii_case(".git") => {
                return refuse("names a `.git` directory");
            }
            ".jingu" if i == 0 => return refuse("names Jingu's configuration"),
            _ => {}
        }
    }
    Ok(())
}

/// Git file mode for unix permission bits.
pub(crate) fn git_mode(unix_mode: u32) -> git2::FileMode {
    if unix_mode & 0o111 != 0 {
        git2::FileMode::BlobExecutable
    } else {
        git2::FileMode::Blob
    }
}

/// Unix permission bits to restore for a git file mode.
pub(crate) fn unix_mode(git_mode: i32) -> u32 {
    if git_mode == i32::from(git2::FileMode::BlobExecutable) {
        0o755
    } else {
        0o644
    }
}
