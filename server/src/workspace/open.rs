//! Opening a confined path with the kernel enforcing confinement (`openat2` with
//! `RESOLVE_BENEATH`): closes the window between checking a path and using it, in which a
//! symlink or hard link could be swapped in.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use super::{Access, PathError, Workspace};

fn os_err(rel: &str) -> PathError {
    PathError::Io {
        path: rel.into(),
        source: std::io::Error::last_os_error(),
    }
}

fn openat2(dir: i32, rel: &str, flags: i32, mode: u32) -> Result<OwnedFd, PathError> {
    let c = CString::new(rel).map_err(|_| PathError::Nul)?;
    // SAFETY: `open_how` is plain data; zero is a valid value for each field.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC | libc::O_NOFOLLOW) as u64;
    how.mode = u64::from(mode);
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_XDEV;
    // SAFETY: pointers are valid for the call; the size matches the struct passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        let source = std::io::Error::last_os_error();
        return Err(match source.raw_os_error() {
            Some(libc::EXDEV) | Some(libc::ELOOP) => PathError::Outside(rel.into()),
            _ => PathError::Io {
                path: rel.into(),
                source,
            },
        });
    }
    // SAFETY: the kernel returned a fresh descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl Workspace {
    /// Open `rel` (a path returned by [`Workspace::confine`] or
    /// [`Workspace::confine_for_tool`]) for reading, or for writing (created if missing,
    /// truncated only after the hard-link check on the opened inode).
    pub fn open_beneath(&self, rel: &str, access: Access) -> Result<File, PathError> {
        let root =
            CString::new(self.root.as_os_str().as_encoded_bytes()).map_err(|_| PathError::Nul)?;
        // SAFETY: `root` is a valid C string for the duration of the call.
        let dir = unsafe {
            libc::open(
                root.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if dir < 0 {
            return Err(os_err(rel));
        }
        // SAFETY: fresh descriptor, owned from here on (closed on drop).
        let dir = unsafe { OwnedFd::from_raw_fd(dir) };
        let flags = match access {
            Access::Read => libc::O_RDONLY,
            Access::Write => libc::O_WRONLY | libc::O_CREAT,
        };
        // The kernel rejects a mode without O_CREAT.
        let mode = if access == Access::Write { 0o644 } else { 0 };
        let file = File::from(openat2(dir.as_raw_fd(), rel, flags, mode)?);
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
