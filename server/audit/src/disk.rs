//! The few file operations an append makes, behind a seam so that tests can inject the failures a
//! full or failing disk produces (a short write, `ENOSPC`, a failed `fsync`).

use std::fs::File;
use std::io::Write;

pub trait Disk: Send + Sync + std::fmt::Debug {
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
        file.write_all(bytes)
    }
    fn sync(&self, file: &File) -> std::io::Result<()> {
        file.sync_data()
    }
    fn truncate(&self, file: &File, len: u64) -> std::io::Result<()> {
        file.set_len(len)
    }
}

/// The real disk.
#[derive(Debug, Default)]
pub struct RealDisk;

impl Disk for RealDisk {}
