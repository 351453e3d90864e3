//! What this kernel and machine can confine with.

use std::path::PathBuf;

/// Result of [`probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Landlock ABI version (0 = unsupported or disabled).
    pub landlock_abi: u32,
    /// `bwrap` executable, if installed.
    pub bwrap: Option<PathBuf>,
    /// seccomp filter mode is available.
    pub seccomp: bool,
}

impl Capabilities {
    /// ABI 4 is the first that also confines TCP connect/bind.
    pub fn landlock_usable(&self) -> bool {
        self.landlock_abi >= 4 && self.seccomp
    }
}

/// Probes with syscalls, not `/sys/kernel/security` (often not mounted in containers).
pub fn probe() -> Capabilities {
    Capabilities {
        landlock_abi: landlock_abi(),
        bwrap: find_bwrap(),
        seccomp: seccomp_available(),
    }
}

fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a NULL attr, size 0 and the VERSION flag the kernel only returns the ABI number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).unwrap_or(0)
}

fn seccomp_available() -> bool {
    // PR_GET_SECCOMP fails with EINVAL when the kernel lacks CONFIG_SECCOMP.
    // SAFETY: read-only prctl query.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

fn find_bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("bwrap"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
