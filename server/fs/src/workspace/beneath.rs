//! File-handle confinement: every path is resolved by the kernel from an open directory, one that
//! was itself reached without following a symlink, so a symlink swapped in after a path was
//! checked cannot redirect a read, a write or a rename (the check-then-use race of name-based code).
//!
//! Directories are opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`; where openat2 is
//! missing (Linux < 5.6, or filtered by seccomp) the same guarantee comes from an `O_NOFOLLOW`
//! walk, one component at a time. Files are opened, created, renamed and removed *inside* the
//! directory fd (`openat`/`renameat`/`unlinkat` with a single name, never a path).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, fsync, unlinkat};

/// What was found at a name, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub size: u64,
}

impl Entry {
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// An open directory reached without following any symlink below the root.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

fn refused(what: &Path) -> io::Error {
    io::Error::other(format!(
        "refusing to follow a symlink or leave the directory at `{}`",
        what.display()
    ))
}

/// A single path component: not empty, not `.`/`..`, no `/`, no NUL.
fn single_name(name: &OsStr) -> io::Result<&OsStr> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(io::Error::other(format!(
            "`{}` is not a plain file name",
            name.to_string_lossy()
        )));
    }
    Ok(name)
}

fn open_at(dir: &OwnedFd, name: &OsStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    nix::fcntl::openat(
        dir,
        name,
        flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::from_bits_truncate(mode),
    )
    .map_err(io::Error::from)
}

/// `openat2` with the strict resolve flags; `Ok(None)` when the syscall itself is unavailable.
fn openat2_beneath(dir: &OwnedFd, rel: &OsStr, flags: OFlag) -> io::Result<Option<OwnedFd>> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    match nix::fcntl::openat2(dir, rel, how) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOSYS) | Err(Errno::EPERM) => Ok(None),
        Err(e) => Err(io::Error::from(e)),
    }
}

thread_local! {
    /// Tests force the `O_NOFOLLOW` walk to cover the pre-openat2 path too.
    static FORCE_WALK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
pub fn force_walk_for_tests(on: bool) {
    FORCE_WALK.with(|f| f.set(on));
}

const DIR_FLAGS: OFlag = OFlag::O_RDONLY.union(OFlag::O_DIRECTORY);

impl Dir {
    /// Open `rel` (relative, no `..`) beneath `root`, creating missing directories (mode 0755)
    /// when `create`. `root` itself is trusted and may be spelled through symlinks.
    pub fn open(root: &Path, rel: &Path, create: bool) -> io::Result<Dir> {
        let mut cur: OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(root)?
            .into();
        let mut names = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => names.push(n.to_os_string()),
                Component::CurDir => {}
                _ => return Err(refused(rel)),
            }
        }
        if names.is_empty() {
            return Ok(Dir { fd: cur });
        }
        if !FORCE_WALK.with(std::cell::Cell::get) {
            let mut joined = OsString::new();
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    joined.push("/");
                }
                joined.push(single_name(n)?);
            }
            match openat2_beneath(&cur, &joined, DIR_FLAGS) {
                Ok(Some(fd)) => return Ok(Dir { fd }),
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {}
                Err(e) => return Err(map_escape(e, rel)),
            }
        }
        for name in &names {
            let n = single_name(name)?;
            let next = match open_at(&cur, n, DIR_FLAGS, 0) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                    match mkdirat(&cur, n, Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(io::Error::from(e)),
                    }
                    open_at(&cur, n, DIR_FLAGS, 0)
                }
                r => r,
            }
            .map_err(|e| map_escape(e, rel))?;
            cur = next;
        }
        Ok(Dir { fd: cur })
    }

    /// The parent directory of `rel` beneath `root`, and `rel`'s last component.
    pub fn parent_of(root: &Path, rel: &Path, create: bool) -> io::Result<(Dir, OsString)> {
        let name = match rel.components().next_back() {
            Some(Component::Normal(n)) => n.to_os_string(),
            _ => return Err(refused(rel)),
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        Ok((Dir::open(root, parent, create)?, name))
    }

    /// What `name` is, without following it; `None` when absent.
    pub fn entry(&self, name: &OsStr) -> io::Result<Option<Entry>> {
        match fstatat(&self.fd, single_name(name)?, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Entry {
                mode: st.st_mode,
                uid: st.st_uid,
                gid: st.st_gid,
                nlink: st.st_nlink,
                size: u64::try_from(st.st_size).unwrap_or(0),
            })),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// Open the regular file `name` for reading (a symlink is refused, not followed).
    pub fn open_read(&self, name: &OsStr) -> io::Result<File> {
        let fd = open_at(
            &self.fd,
            single_name(name)?,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK,
            0,
        )
        .map_err(|e| map_escape(e, Path::new(name)))?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(io::Error::other(format!(
                "`{}` is not a regular file",
                name.to_string_lossy()
            )));
        }
        Ok(file)
    }

    /// Create a fresh file (O_EXCL) named by `make_name(random)`, private (0600).
    pub fn create_temp(&self, make_name: impl Fn(u64) -> String) -> io::Result<(OsString, File)> {
        let mut last = None;
        for _ in 0..16 {
            let name = OsString::from(make_name(fastrand::u64(..)));
            match open_at(
                &self.fd,
                single_name(&name)?,
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
                0o600,
            ) {
                Ok(fd) => return Ok((name, File::from(fd))),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no unique temp name")))
    }

    /// `renameat` within this directory (replaces `to` atomically; `to` is never followed).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        nix::fcntl::renameat(&self.fd, single_name(from)?, &self.fd, single_name(to)?)
            .map_err(io::Error::from)
    }

    /// Remove the non-directory `name`; absent is fine.
    pub fn unlink(&self, name: &OsStr) -> io::Result<()> {
        match unlinkat(&self.fd, single_name(name)?, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// fsync the directory, so a rename or removal survives a crash.
    pub fn sync(&self) -> io::Result<()> {
        fsync(&self.fd).map_err(io::Error::from)
    }
}

fn map_escape(e: io::Error, rel: &Path) -> io::Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::EXDEV) | Some(libc::ENOTDIR) => refused(rel),
        _ => e,
    }
}

/// Split an absolute path into (`/`, the rest) so it can be opened with no symlink anywhere; a
/// relative path is taken beneath the current directory.
pub fn split_root(path: &Path) -> (&Path, &Path) {
    match path.strip_prefix("/") {
        Ok(rest) => (Path::new("/"), rest),
        Err(_) => (Path::new("."), path),
    }
}

/// Read the whole regular file `rel` beneath `root` (no symlink followed), at most `max` bytes
/// (`Err` past that).
pub fn read(root: &Path, rel: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let (dir, name) = Dir::parent_of(root, rel, false)?;
    let file = dir.open_read(&name)?;
    let mut out = Vec::new();
    file.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(io::Error::other(format!(
            "`{}` is larger than {max} bytes",
            rel.display()
        )));
    }
    Ok(out)
}

/// [`read`] for text: refuses binary (a NUL byte) and non-UTF-8 content.
pub fn read_text(root: &Path, rel: &Path, max: u64) -> io::Result<String> {
    let bytes = read(root, rel, max)?;
    if bytes.contains(&0) {
        return Err(io::Error::other(format!(
            "`{}` looks binary",
            rel.display()
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::other(format!("`{}` is not valid UTF-8", rel.display())))
}

/// Atomically replace (or create) `rel` beneath `root` with `bytes`: temp file + fsync +
/// `renameat` in the same directory fd + directory fsync. `mode` applies when given, else an
/// existing file keeps its permissions (new files get 0644). Missing parents are created when
/// `create_dirs`. A symlink at `rel` is replaced as a name, never written through.
pub fn replace(
    root: &Path,
    rel: &Path,
    bytes: &[u8],
    mode: Option<u32>,
    create_dirs: bool,
    temp_name: impl Fn(&str, u64) -> String,
) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let (dir, name) = Dir::parent_of(root, rel, create_dirs)?;
    let existing = dir.entry(&name)?;
    if existing.is_some_and(|e| e.is_dir()) {
        return Err(io::Error::other(format!(
            "`{}` is a directory",
            rel.display()
        )));
    }
    let perms = mode
        .map(|m| m & 0o7777)
        .or(existing.filter(Entry::is_file).map(|e| e.permissions()))
        .unwrap_or(0o644);
    let stem = name.to_string_lossy().into_owned();
    let (tmp, mut f) = dir.create_temp(|r| temp_name(&stem, r))?;
    let result = (|| {
        f.write_all(bytes)?;
        f.set_permissions(std::fs::Permissions::from_mode(perms))?;
        f.sync_all()?;
        dir.rename(&tmp, &name)?;
        dir.sync()
    })();
    if result.is_err() {
        let _ = dir.unlink(&tmp);
    }
    result
}

/// Remove `rel` beneath `root` durably; absent is fine, a symlink is removed as a name.
pub fn remove(root: &Path, rel: &Path) -> io::Result<()> {
    let (dir, name) = match Dir::parent_of(root, rel, false) {
        Ok(x) => x,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    dir.unlink(&name)?;
    dir.sync()
}

#[cfg(test)]
#[path = "beneath_tests.rs"]
mod tests;
