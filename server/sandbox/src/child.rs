//! Code that runs in the forked child before `exec`. It must stay async-signal-safe: everything
//! (ruleset fd, BPF program, limit values) is prepared by the parent; here we only make syscalls.

use seccompiler::BpfProgram;
use std::io;
use std::os::fd::RawFd;

/// What the child applies to itself, in this order: new session, rlimits, namespaces, Landlock,
/// seccomp.
pub(crate) struct ChildSetup {
    /// `cgroup.procs` of the pids cgroup to join first, so every later fork is charged to it.
    pub cgroup_fd: Option<RawFd>,
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t)>,
    pub landlock_fd: Option<RawFd>,
    pub seccomp: Option<BpfProgram>,
    /// An fd the child must keep across exec (bwrap's `--seccomp`), so its CLOEXEC is cleared.
    pub keep_fd: Option<RawFd>,
    /// Drop every capability (bounding, ambient, effective, permitted, inheritable). Needed for
    /// root: Landlock lets CAP_SYS_PTRACE holders read `/proc/PID/environ` of processes outside
    /// the domain (our server's secrets), and CAP_DAC_* / CAP_NET_* widen everything else.
    pub drop_caps: bool,
    /// Private pid + mount namespaces (Landlock backend), entered before the capabilities go.
    pub ns: Option<super::namespace::NsSetup>,
}

/// Highest capability number the kernel could define (CAP_LAST_CAP is 40 today).
const CAP_MAX: libc::c_ulong = 63;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn check(rc: libc::c_long) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl ChildSetup {
    /// # Safety
    /// Call only between fork and exec (from `pre_exec`). No allocation, no locks.
    pub(crate) unsafe fn apply(&self) -> io::Result<()> {
        // SAFETY (whole block): plain syscalls on values owned by `self`, which outlives the call.
        unsafe {
            if let Some(fd) = self.cgroup_fd {
                let zero = b"0";
                check(libc::write(fd, zero.as_ptr().cast(), zero.len()) as libc::c_long)?;
            }
            // Own process group and session: the parent kills the group on timeout.
            check(libc::setsid() as libc::c_long)?;
            for &(res, soft, hard) in &self.rlimits {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                check(libc::setrlimit(res, &lim) as libc::c_long)?;
            }
            if let Some(ns) = &self.ns {
                ns.enter()?;
            }
            if let Some(fd) = self.keep_fd {
                check(libc::fcntl(fd, libc::F_SETFD, 0) as libc::c_long)?;
            }
            if self.drop_caps {
                for cap in 0..=CAP_MAX {
                    // EINVAL past the last cap, EPERM when not privileged: both fine.
                    libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
                }
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_CLEAR_ALL,
                    0,
                    0,
                    0,
                );
                let header = CapHeader {
                    version: LINUX_CAPABILITY_VERSION_3,
                    pid: 0,
                };
                let data = [CapData {
                    effective: 0,
                    permitted: 0,
                    inheritable: 0,
                }; 2];
                check(libc::syscall(libc::SYS_capset, &header, data.as_ptr()))?;
            }
            if self.landlock_fd.is_some() || self.seccomp.is_some() {
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long)?;
            }
            if let Some(fd) = self.landlock_fd {
                check(libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32))?;
            }
            if let Some(prog) = &self.seccomp {
                let fprog = libc::sock_fprog {
                    len: prog.len() as libc::c_ushort,
                    // Same layout (code, jt, jf, k) as the kernel's struct sock_filter.
                    filter: prog.as_ptr() as *mut libc::sock_filter,
                };
                check(libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0u32,
                    &fprog as *const libc::sock_fprog,
                ))?;
            }
        }
        Ok(())
    }
}
