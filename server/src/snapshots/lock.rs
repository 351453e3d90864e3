//! Inter-process lock around every mutation of the store, so the LSP server, the CLI and `gc`
//! never interleave ref updates or prune objects another writer is about to reference.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
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
            // SAFETY: flock on a file descriptor we own for the lifetime of `self`.
            let rc = unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(Guard { lock: self });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // SAFETY: same descriptor as in `acquire`; unlocking cannot violate memory safety.
        unsafe {
            libc::flock(self.lock.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
