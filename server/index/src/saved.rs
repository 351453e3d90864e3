//! The workspace index saved between sessions: per file its stat (mtime, size, inode) and its
//! symbols. A file whose stat is unchanged is not parsed again (the stat-cache trick git and the
//! snapshot scan use), so reopening a workspace costs a walk and a read of this file.
//!
//! Format (little-endian): magic `JGSI`, u32 version, 8-byte fingerprint of Jingu's version and the
//! queries in use (other queries give other symbols), u64 file count, then per file: u16 path
//! length, path, i64 mtime_ns, u64 size, u64 inode, u8 language, u32 first error + 1 (0: none),
//! u32 symbol count, then per symbol: u16 + name, u16 + name path, u8 kind, u32 pairs for range,
//! declaration, name range, u8 + u32 pair for the body, u32 start and end line, u32 parent + 1.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use jingu_fs::binfmt::Reader;
use jingu_syntax::{ALL_LANGUAGES, FileSymbols, Symbol, SymbolKind};

const MAGIC: &[u8; 4] = b"JGSI";
const VERSION: u32 = 1;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stat {
    pub mtime_ns: i64,
    pub size: u64,
    pub ino: u64,
}

impl Stat {
    pub(super) fn of(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            size: meta.len(),
            ino: meta.ino(),
        }
    }
}

pub(super) type Saved = HashMap<String, (Stat, Arc<FileSymbols>)>;

/// The fingerprint saved indexes must carry to be used: Jingu's version and every query's text.
fn fingerprint() -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    // The digests of the query texts, not of compiled queries: compiling all nine would cost
    // a reopen more than its walk.
    for language in ALL_LANGUAGES {
        h.update(language.query_digest());
    }
    let digest = h.finalize();
    let mut out = [0; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// The saved index at `path`; empty when there is none or it is unusable (another version,
/// other queries, corrupt): the caller then parses everything.
pub(super) fn load(path: &Path) -> Saved {
    let Ok(bytes) = std::fs::read(path) else {
        return Saved::new();
    };
    decode(&bytes).unwrap_or_else(|why| {
        tracing::info!("not using the saved index {}: {why}", path.display());
        Saved::new()
    })
}

/// Save `files` to `path` (write a temp file, then rename: a reader never sees half of it).
pub(super) fn save<'a>(
    path: &Path,
    files: impl ExactSizeIterator<Item = (&'a str, Stat, &'a FileSymbols)>,
) -> std::io::Result<()> {
    let bytes = encode(files);
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".symbols-{}-{}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn encode<'a>(files: impl ExactSizeIterator<Item = (&'a str, Stat, &'a FileSymbols)>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&fingerprint());
    out.extend_from_slice(&(files.len() as u64).to_le_bytes());
    let u32_of = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    for (path, stat, file) in files {
        put_str(&mut out, path);
        out.extend_from_slice(&stat.mtime_ns.to_le_bytes());
        out.extend_from_slice(&stat.size.to_le_bytes());
        out.extend_from_slice(&stat.ino.to_le_bytes());
        out.push(
            ALL_LANGUAGES
                .iter()
                .position(|l| *l == file.language)
                .unwrap_or(0) as u8,
        );
        out.extend_from_slice(&u32_of(file.first_error.map_or(0, |e| e + 1)));
        out.extend_from_slice(&u32_of(file.symbols.len()));
        for s in &file.symbols {
            put_str(&mut out, &s.name);
            put_str(&mut out, &s.name_path);
            out.push(kind_code(s.kind));
            for r in [&s.range, &s.decl_range, &s.name_range] {
                out.extend_from_slice(&u32_of(r.start));
                out.extend_from_slice(&u32_of(r.end));
            }
            let body = s.body.clone().unwrap_or_default();
            out.push(u8::from(s.body.is_some()));
            out.extend_from_slice(&u32_of(body.start));
            out.extend_from_slice(&u32_of(body.end));
            out.extend_from_slice(&u32_of(s.start_line));
            out.extend_from_slice(&u32_of(s.end_line));
            out.extend_from_slice(&u32_of(s.parent.map_or(0, |p| p + 1)));
        }
    }
    out
}

/// A kind's code: its place in [`SymbolKind::ALL`]. Exhaustive, so a new kind must get one.
fn kind_code(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Function => 0,
        SymbolKind::Method => 1,
        SymbolKind::Constructor => 2,
        SymbolKind::Class => 3,
        SymbolKind::Struct => 4,
        SymbolKind::Enum => 5,
        SymbolKind::Variant => 6,
        SymbolKind::Interface => 7,
        SymbolKind::Trait => 8,
        SymbolKind::Impl => 9,
        SymbolKind::Module => 10,
        SymbolKind::Namespace => 11,
        SymbolKind::Constant => 12,
        SymbolKind::Variable => 13,
        SymbolKind::Field => 14,
        SymbolKind::Type => 15,
        SymbolKind::Macro => 16,
    }
}

/// Strings over 64 KiB (never a name or a path) are cut to nothing rather than misframed.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let s = if s.len() > usize::from(u16::MAX) {
        ""
    } else {
        s
    };
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn decode(bytes: &[u8]) -> Result<Saved, &'static str> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != MAGIC {
        return Err("bad magic");
    }
    if r.u32()? != VERSION {
        return Err("another format version");
    }
    if r.take(8)? != fingerprint() {
        return Err("saved by another Jingu version or with other queries");
    }
    let count = r.u64()?;
    // A file entry is at least 43 bytes: refuse counts the file cannot hold.
    if count > (bytes.len() / 43) as u64 {
        return Err("file count exceeds the size");
    }
    let mut saved = Saved::with_capacity(count as usize);
    for _ in 0..count {
        let path = r.str16()?.to_string();
        let stat = Stat {
            mtime_ns: r.u64()? as i64,
            size: r.u64()?,
            ino: r.u64()?,
        };
        let language = *ALL_LANGUAGES
            .get(usize::from(r.u8()?))
            .ok_or("bad language")?;
        let first_error = r.u32()?.checked_sub(1).map(|e| e as usize);
        let n = r.u32()? as usize;
        if n > bytes.len() / 40 {
            return Err("symbol count exceeds the size");
        }
        let mut symbols = Vec::with_capacity(n);
        for i in 0..n {
            let name = r.str16()?.to_string();
            let name_path = r.str16()?.to_string();
            let kind = *SymbolKind::ALL
                .get(usize::from(r.u8()?))
                .ok_or("bad kind")?;
            let range = read_range(&mut r)?;
            let decl_range = read_range(&mut r)?;
            let name_range = read_range(&mut r)?;
            let has_body = r.u8()? == 1;
            let body = read_range(&mut r)?;
            let (start_line, end_line) = (r.u32()? as usize, r.u32()? as usize);
            let parent = r.u32()?.checked_sub(1).map(|p| p as usize);
            if parent.is_some_and(|p| p >= i) {
                return Err("parent after child");
            }
            symbols.push(Symbol {
                name,
                name_path,
                kind,
                range,
                decl_range,
                body: has_body.then_some(body),
                name_range,
                start_line,
                end_line,
                parent,
            });
        }
        let file = FileSymbols::new(language, symbols, first_error);
        saved.insert(path, (stat, Arc::new(file)));
    }
    if !r.at_end() {
        return Err("trailing bytes");
    }
    Ok(saved)
}

fn read_range(r: &mut Reader) -> Result<std::ops::Range<usize>, &'static str> {
    Ok(r.u32()? as usize..r.u32()? as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingu_syntax::{Language, file_symbols};

    fn sample() -> FileSymbols {
        let text = "/// Doc.\npub struct P { a: u8 }\nimpl P {\n    fn get(&self) {}\n    fn get(&self, x: u8) {}\n}\nfn broken( {\n";
        file_symbols(Language::Rust, text)
    }

    #[test]
    fn symbols_round_trip_exactly() {
        let file = sample();
        assert!(file.first_error.is_some() && file.symbols.len() >= 5);
        let stat = Stat {
            mtime_ns: 1_700_000_000_123_456_789,
            size: 99,
            ino: 7,
        };
        let bytes = encode([("src/ä.rs", stat, &file)].into_iter());
        let saved = decode(&bytes).expect("decodes");
        let (got_stat, got) = &saved["src/ä.rs"];
        assert_eq!(*got_stat, stat);
        assert_eq!(got.symbols, file.symbols);
        assert_eq!(got.first_error, file.first_error);
        assert_eq!(got.language, Language::Rust);
        assert!(got.get("impl P/get[1]").is_some(), "name paths resolve");
    }

    #[test]
    fn every_kind_has_its_own_code() {
        for (i, kind) in SymbolKind::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(kind_code(kind)), i, "{kind:?}");
        }
    }

    #[test]
    fn damaged_or_foreign_files_are_refused_not_trusted() {
        let file = sample();
        let stat = Stat {
            mtime_ns: 1,
            size: 2,
            ino: 3,
        };
        let good = encode([("a.rs", stat, &file)].into_iter());
        // Every truncation, and every single flipped byte in the header, is refused.
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
        for at in 0..24 {
            let mut bad = good.clone();
            bad[at] ^= 0xff;
            assert!(decode(&bad).is_err(), "flipped byte {at}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        // Any other corruption decodes to some index or is refused, never a panic.
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let mut bad = good.clone();
            let at = rng.usize(24..bad.len());
            bad[at] = rng.u8(..);
            let _ = decode(&bad);
        }
    }
}
