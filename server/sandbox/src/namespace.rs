//! Namespaces for the Landlock backend: a private pid namespace with its own `/proc` (host
//! processes and their command lines are invisible) and a private mount namespace in which
//! read-only paths (`.git`) are re-mounted read-only and hidden or `deny_paths` files inside the
//! workspace are covered (an empty read-only tmpfs over a directory, `/dev/null` over a file).
//! With the workspace protected by mounts, Landlock can grant the whole workspace in one rule, so
//! commands can create `target/`, `.pytest_cache`, `node_modules` at its root.
//!
//! Root uses mount + pid namespaces directly; other users add a user namespace mapping only their
//! own uid/gid. Where neither works, [`available`] is false and Landlock confines alone.
//!
//! Process layout: the spawned child P unshares and forks A (pid 1 of the new namespace), which
//! mounts `/proc` and forks B, the command. P and A close every descriptor and only relay B's
//! exit status (A exits 128 + N when B dies of signal N, as bubblewrap does).

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A mount made in the private namespace before the command starts.
#[derive(Debug)]
pub(crate) enum MountOp {
    /// Bind the path onto itself, then remount it read-only (keeping the flags of the mount it
    /// sits on: a user namespace may not clear locked ones such as `noexec`).
    ReadOnly(CString, libc::c_ulong),
    /// Cover a directory with an empty read-only tmpfs.
    HideDir(CString),
    /// Cover a file with `/dev/null`.
    HideFile(CString),
}

/// Everything the child needs, prepared in the parent (the child may not allocate).
#[derive(Debug)]
pub(crate) struct NsSetup {
    flags: libc::c_int,
    /// `uid_map` and `gid_map` contents when a user namespace is created.
    maps: Option<(Vec<u8>, Vec<u8>)>,
    mounts: Vec<MountOp>,
}

fn c(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_encoded_bytes()).ok()
}

/// Whether Jingu can create the namespaces and mount a `/proc` on this machine (probed once, by
/// running the real setup in a throw-away child).
pub(crate) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let setup = NsSetup::new(&[], &[]);
        // SAFETY: the child only makes raw syscalls on prepared data and exits.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                let code = if setup.enter().is_ok() { 0 } else { 1 };
                libc::_exit(code);
            }
            if pid < 0 {
                return false;
            }
            let mut st = 0;
            while libc::waitpid(pid, &mut st, 0) < 0 {
                if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    return false;
                }
            }
            libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0
        }
    })
}

fn base_flags() -> libc::c_int {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut f = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    if !root {
        f |= libc::CLONE_NEWUSER;
    }
    f
}

impl NsSetup {
    /// Mount plan for `workspace`: `readonly` and `hidden` paths inside it (canonical, existing).
    pub(crate) fn new(readonly: &[PathBuf], hidden: &[PathBuf]) -> Self {
        let flags = base_flags();
        let maps = (flags & libc::CLONE_NEWUSER != 0).then(|| {
            // SAFETY: getuid/getgid cannot fail.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            (
                format!("{uid} {uid} 1\n").into_bytes(),
                format!("{gid} {gid} 1\n").into_bytes(),
            )
        });
        let mut mounts = Vec::new();
        for p in readonly {
            if let Some(cp) = c(p) {
                let kept = inherited_flags(&cp);
                mounts.push(MountOp::ReadOnly(cp, kept));
            }
        }
        for p in hidden {
            let Ok(meta) = std::fs::symlink_metadata(p) else {
                continue;
            };
            let Some(cp) = c(p) else { continue };
            if meta.is_dir() {
                mounts.push(MountOp::HideDir(cp));
            } else if !meta.file_type().is_symlink() {
                mounts.push(MountOp::HideFile(cp));
            }
        }
        Self {
            flags,
            maps,
            mounts,
        }
    }
}

/// Mount flags of the file system `p` is on that a remount must keep.
fn inherited_flags(p: &CString) -> libc::c_ulong {
    // SAFETY: `statvfs` is plain data filled by the kernel; `p` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(p.as_ptr(), &mut st) } != 0 {
        return 0;
    }
    let mut out = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            out |= ms_flag;
        }
    }
    out
}

fn check(rc: libc::c_long) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// # Safety
/// Child side only (between fork and exec): raw syscalls on prepared data.
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: valid C string and buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check(fd as libc::c_long)?;
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        libc::close(fd);
        if n != data.len() as isize {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Wait for `child`, reaping any other process that ends meanwhile (A is an init); the exit
/// code to relay.
///
/// # Safety
/// Child side only.
unsafe fn wait_code(child: libc::pid_t) -> libc::c_int {
    loop {
        let mut st = 0;
        // SAFETY: plain syscall with a valid out pointer.
        let w = unsafe { libc::waitpid(-1, &mut st, 0) };
        if w < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return 127;
        }
        if w == child {
            if libc::WIFEXITED(st) {
                return libc::WEXITSTATUS(st);
            }
            if libc::WIFSIGNALED(st) {
                return 128 + libc::WTERMSIG(st);
            }
        }
    }
}

impl NsSetup {
    /// Enter the namespaces, make the mounts and fork down to the command. Returns only in B
    /// (which goes on to Landlock, seccomp and exec); P and A never return.
    ///
    /// # Safety
    /// Call only between fork and exec. No allocation, no locks.
    pub(crate) unsafe fn enter(&self) -> io::Result<()> {
        // SAFETY (whole block): raw syscalls on data owned by `self`, which outlives the call.
        unsafe {
            check(libc::unshare(self.flags) as libc::c_long)?;
            if let Some((uid_map, gid_map)) = &self.maps {
                write_file(c"/proc/self/setgroups", b"deny")?;
                write_file(c"/proc/self/uid_map", uid_map)?;
                write_file(c"/proc/self/gid_map", gid_map)?;
            }
            let none = std::ptr::null::<libc::c_char>();
            // Nothing mounted here may propagate back to the host.
            check(libc::mount(
                none,
                c"/".as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) as libc::c_long)?;
            let nodev = libc::MS_NOSUID | libc::MS_NODEV;
            for m in &self.mounts {
                match m {
                    MountOp::ReadOnly(p, kept) => {
                        check(libc::mount(
                            p.as_ptr(),
                            p.as_ptr(),
                            none,
                            libc::MS_BIND | libc::MS_REC,
                            std::ptr::null(),
                        ) as libc::c_long)?;
                        check(libc::mount(
                            none,
                            p.as_ptr(),
                            none,
                            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | nodev | kept,
                            std::ptr::null(),
                        ) as libc::c_long)?;
                    }
                    MountOp::HideDir(p) => check(libc::mount(
                        c"tmpfs".as_ptr(),
                        p.as_ptr(),
                        c"tmpfs".as_ptr(),
                        libc::MS_RDONLY | nodev | libc::MS_NOEXEC,
                        c"size=4k,mode=000".as_ptr().cast(),
                    ) as libc::c_long)?,
                    MountOp::HideFile(p) => check(libc::mount(
                        c"/dev/null".as_ptr(),
                        p.as_ptr(),
                        none,
                        libc::MS_BIND,
                        std::ptr::null(),
                    ) as libc::c_long)?,
                }
            }
            // P → A: A is pid 1 of the new pid namespace.
            let a = libc::fork();
            check(a as libc::c_long)?;
            if a > 0 {
                libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
                let mut st = 0;
                loop {
                    if libc::waitpid(a, &mut st, 0) >= 0 {
                        break;
                    }
                    if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                        libc::_exit(127);
                    }
                }
                if libc::WIFSIGNALED(st) {
                    let sig = libc::WTERMSIG(st);
                    libc::signal(sig, libc::SIG_DFL);
                    libc::kill(libc::getpid(), sig);
                    libc::_exit(128 + sig);
                }
                libc::_exit(libc::WEXITSTATUS(st));
            }
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            check(libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                nodev | libc::MS_NOEXEC,
                std::ptr::null(),
            ) as libc::c_long)?;
            // A → B: the command.
            let b = libc::fork();
            check(b as libc::c_long)?;
            if b > 0 {
                libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
                libc::_exit(wait_code(b));
            }
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        }
        Ok(())
    }
}
