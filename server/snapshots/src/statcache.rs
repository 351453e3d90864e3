//! The persisted stat cache behind `scan_workspace`: path → (mtime, size, inode, mode, blob oid).
//! A file whose stat matches its entry is not read again (jj's and git's index trick), so a scan
//! of an unchanged workspace costs one `lstat` per file.
//!
//! Format (little-endian): magic `JGSC`, u32 version, 20-byte commit oid the cache was saved
//! against, u64 count, then per entry: u16 path length, path bytes, i64 mtime_ns, u64 size,
//! u64 inode, u32 mode, 20-byte blob oid.

use std::collections::HashMap;
use std::path::Path;

use git2::Oid;

use super::SnapshotError;
use jingu_fs::binfmt::Reader;
use jingu_fs::durable::atomic_write;

const MAGIC: &[u8; 4] = b"JGSC";
const VERSION: u32 = 1;
const ENTRY_FIXED: usize = 8 + 8 + 8 + 4 + 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    pub mtime_ns: i64,
    pub size: u64,
    pub ino: u64,
    pub mode: u32,
    pub oid: Oid,
}

impl CacheEntry {
    /// Same file as far as `lstat` can tell (the oid is what we learn by reading it).
    pub(crate) fn same_stat(&self, other: &CacheEntry) -> bool {
        self.mtime_ns == other.mtime_ns
            && self.size == other.size
            && self.ino == other.ino
            && self.mode == other.mode
    }
}

/// Path → entry. Looked up once per file of the workspace on every scan: foldhash (seeded per
/// process, so file names cannot be chosen to collide) instead of SipHash.
pub(crate) type Entries = HashMap<String, CacheEntry, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
pub(crate) struct StatCache {
    /// The snapshot the cache was saved against; `None` for a fresh cache.
    pub commit: Option<Oid>,
    pub entries: Entries,
}

pub(crate) fn load(path: &Path) -> Result<Option<StatCache>, SnapshotError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SnapshotError::Io {
                context: "cannot read stat cache",
                path: path.display().to_string(),
                source: e,
            });
        }
    };
    decode(&bytes)
        .map(Some)
        .map_err(|reason| SnapshotError::CorruptCache {
            path: path.display().to_string(),
            reason: reason.to_string(),
        })
}

pub(crate) fn save(path: &Path, cache: &StatCache) -> Result<(), SnapshotError> {
    atomic_write(path, &encode(cache), Some(0o600))
        .map_err(SnapshotError::io("cannot write stat cache", path.display()))
}

pub(crate) fn encode(cache: &StatCache) -> Vec<u8> {
    let mut out = Vec::with_capacity(36 + cache.entries.len() * (ENTRY_FIXED + 40));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(cache.commit.unwrap_or(Oid::ZERO_SHA1).as_bytes());
    out.extend_from_slice(&(cache.entries.len() as u64).to_le_bytes());
    for (p, e) in &cache.entries {
        // Paths over 64 KiB cannot exist on Linux (PATH_MAX is 4096); skip rather than truncate.
        let Ok(len) = u16::try_from(p.len()) else {
            continue;
        };
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(&e.mtime_ns.to_le_bytes());
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&e.mode.to_le_bytes());
        out.extend_from_slice(e.oid.as_bytes());
    }
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<StatCache, &'static str> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != MAGIC {
        return Err("bad magic");
    }
    if r.u32()? != VERSION {
        return Err("unsupported version");
    }
    let commit = Oid::from_bytes(r.take(20)?).map_err(|_| "bad commit oid")?;
    let count = r.u64()?;
    // Each entry is at least ENTRY_FIXED + 2 bytes: refuse counts the file cannot hold.
    if count > (bytes.len() / (ENTRY_FIXED + 2)) as u64 {
        return Err("entry count exceeds file size");
    }
    let mut entries = Entries::with_capacity_and_hasher(count as usize, Default::default());
    for _ in 0..count {
        let path = r.str16()?;
        let e = CacheEntry {
            mtime_ns: r.u64()? as i64,
            size: r.u64()?,
            ino: r.u64()?,
            mode: r.u32()?,
            oid: Oid::from_bytes(r.take(20)?).map_err(|_| "bad blob oid")?,
        };
        entries.insert(path.to_string(), e);
    }
    if !r.at_end() {
        return Err("trailing bytes");
    }
    Ok(StatCache {
        commit: (!commit.is_zero()).then_some(commit),
        entries,
    })
}
