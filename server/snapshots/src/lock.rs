//! Inter-process lock around every mutation of the store, so the LSP server, the CLI and `gc`
//! never interleave ref updates or prune objects another writer is about to reference.

use std::fs::{File, OpenOptions};
use std::path::Path;

pub(crate) struct StoreLock {
    file: File,
}

/// Held while alive; released (by the kernel, even on SIGKILL) when dropped.
pub(crate) struct Guard<'a> {
    lock: &'a StoreLock,
}

impl StoreLock {
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Ok(Self { file })
    }

    pub(crate) fn acquire(&self) -> std::io::Result<Guard<'_>> {
        loop {
            // flock(LOCK_EX); released by `unlock` or when the descriptor closes.
            match self.file.lock() {
                Ok(()) => return Ok(Guard { lock: self }),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = self.lock.file.unlock();
    }
}
