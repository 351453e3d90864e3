//! Opening a confined path with the kernel enforcing confinement (`openat2` with
//! `RESOLVE_BENEATH`): closes the window between checking a path and using it, in which a
//! symlink or hard link could be swapped in.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use super::{Access, PathError, Workspace};

fn openat2(dir: &File, rel: &str, flags: OFlag, mode: u32) -> Result<OwnedFd, PathError> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .mode(Mode::from_bits_truncate(mode))
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    nix::fcntl::openat2(dir, rel, how).map_err(|errno| match errno {
        nix::errno::Errno::EXDEV | nix::errno::Errno::ELOOP => PathError::Outside(rel.into()),
        other => PathError::Io {
            path: rel.into(),
            source: std::io::Error::from(other),
        },
    })
}

impl Workspace {
    /// Open `rel` (a path returned by [`Workspace::confine`] or
    /// [`Workspace::confine_for_tool`]) for reading, or for writing (created if missing,
    /// truncated only after the hard-link check on the opened inode).
    pub fn open_beneath(&self, rel: &str, access: Access) -> Result<File, PathError> {
        if rel.contains('\0') {
            return Err(PathError::Nul);
        }
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(&self.root)
            .map_err(|source| PathError::Io {
                path: rel.into(),
                source,
            })?;
        let flags = match access {
            Access::Read => OFlag::O_RDONLY,
            Access::Write => OFlag::O_WRONLY | OFlag::O_CREAT,
        };
        // The kernel rejects a mode without O_CREAT.
        let mode = if access == Access::Write { 0o644 } else { 0 };
        let file = File::from(openat2(&dir, rel, flags, mode)?);
        let meta = file.metadata().map_err(|source| PathError::Io {
            path: rel.into(),
            source,
        })?;
        if !meta.is_file() {
            return Err(PathError::Suspicious(rel.into(), "not a regular file"));
        }
        if access == Access::Write {
            if meta.nlink() > 1 {
                return Err(PathError::HardLink(rel.into(), meta.nlink()));
            }
            file.set_len(0).map_err(|source| PathError::Io {
                path: rel.into(),
                source,
            })?;
        }
        Ok(file)
    }
}
