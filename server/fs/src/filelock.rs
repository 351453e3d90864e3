//! Per-file advisory locks in the state directory, held by every Jingu writer of a workspace file
//! (edits and rollbacks, in any process) from reading it to writing it, so two of them never plan
//! against the same text and one silently overwrites the other. Released by the kernel when the
//! holder exits, even on SIGKILL.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Held while alive.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

fn lock_path(state_dir: &Path, rel: &str) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(rel.as_bytes());
    state_dir
        .join("locks")
        .join(format!("{}.lock", hex::encode(&digest[..12])))
}

impl FileLock {
    /// Take the lock of workspace path `rel` if it is free; `Ok(None)` when another writer has it.
    pub fn try_acquire(state_dir: &Path, rel: &str) -> std::io::Result<Option<Self>> {
        let path = lock_path(state_dir, rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        loop {
            // flock(LOCK_EX | LOCK_NB) on a descriptor we own; the lock lives as long as `file`.
            match file.try_lock() {
                Ok(()) => return Ok(Some(Self { _file: file })),
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e))
                    if e.kind() == std::io::ErrorKind::Interrupted =>
                {
                    continue;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }
}

/// The error for a lock still held by another writer after the wait.
pub fn busy(rel: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::WouldBlock,
        format!("another Jingu process has been editing {rel} for too long"),
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn one_holder_at_a_time_per_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = FileLock::try_acquire(dir.path(), "src/a.rs").expect("lock");
        assert!(a.is_some());
        assert!(
            FileLock::try_acquire(dir.path(), "src/a.rs")
                .expect("lock")
                .is_none()
        );
        assert!(
            FileLock::try_acquire(dir.path(), "src/b.rs")
                .expect("lock")
                .is_some()
        );
        drop(a);
        assert!(
            FileLock::try_acquire(dir.path(), "src/a.rs")
                .expect("lock")
                .is_some()
        );
    }
}
