//! bubblewrap command line: every namespace unshared (no network at all), system trees
//! read-only, the workspace writable except read-only paths, hidden paths covered, private /tmp.

use super::landlock::{ETC_SECRETS, SYSTEM_READ_ROOTS};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the private temp dir appears inside the sandbox (also `HOME` and `TMPDIR`).
pub(crate) const INNER_TMP: &str = "/tmp";

pub(crate) struct BwrapPlan<'a> {
    pub bwrap: &'a Path,
    pub workspace: &'a Path,
    pub tmp: &'a Path,
    pub cwd: &'a Path,
    pub extra_read: &'a [PathBuf],
    pub readonly: &'a [PathBuf],
    pub hidden: &'a [PathBuf],
    pub seccomp_fd: Option<i32>,
}

/// The full argv: `bwrap [options] -- argv…`.
pub(crate) fn command_line(plan: &BwrapPlan<'_>, argv: &[String]) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![plan.bwrap.into()];
    let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
        a.extend(items.iter().map(|i| i.as_ref().to_os_string()));
    };
    push(&[
        &"--unshare-all",
        &"--die-with-parent",
        &"--new-session",
        &"--cap-drop",
        &"ALL",
    ]);
    for root in SYSTEM_READ_ROOTS {
        let p = Path::new(root);
        if *root == "/proc" || *root == "/sys" {
            continue;
        }
        match std::fs::read_link(p) {
            Ok(target) => push(&[&"--symlink", &target, &p]),
            Err(_) if p.is_dir() => push(&[&"--ro-bind", &p, &p]),
            Err(_) => {}
        }
    }
    // Credentials under the read-only /etc: covered, whatever their type.
    for secret in ETC_SECRETS {
        let p = Path::new(secret);
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => push(&[&"--tmpfs", &p, &"--remount-ro", &p]),
            Ok(_) => push(&[&"--ro-bind", &"/dev/null", &p]),
            Err(_) => {}
        }
    }
    push(&[&"--proc", &"/proc", &"--dev", &"/dev"]);
    // The private /tmp goes first so later mounts under /tmp (a workspace in /tmp) stay visible.
    push(&[&"--bind", &plan.tmp, &INNER_TMP]);
    for p in plan.extra_read.iter().filter(|p| p.exists()) {
        push(&[&"--ro-bind", &p, &p]);
    }
    push(&[&"--bind", &plan.workspace, &plan.workspace]);
    let visible = |p: &Path| {
        p.starts_with(plan.workspace) || plan.extra_read.iter().any(|r| p.starts_with(r))
    };
    for p in plan.readonly.iter().filter(|p| p.exists() && visible(p)) {
        push(&[&"--ro-bind", &p, &p]);
    }
    for p in plan.hidden.iter().filter(|p| visible(p)) {
        if p.is_dir() {
            // An empty read-only tmpfs: nothing to read, nothing written lands anywhere.
            push(&[&"--tmpfs", &p, &"--remount-ro", &p]);
        } else if p.exists() {
            push(&[&"--ro-bind", &"/dev/null", &p]);
        }
    }
    push(&[&"--chdir", &plan.cwd]);
    if let Some(fd) = plan.seccomp_fd {
        push(&[&"--seccomp", &fd.to_string()]);
    }
    push(&[&"--"]);
    a.extend(argv.iter().map(OsString::from));
    a
}

/// True if `dir` exists inside the sandbox (used to filter PATH).
pub(crate) fn visible(dir: &Path, extra_read: &[PathBuf]) -> bool {
    SYSTEM_READ_ROOTS.iter().any(|r| dir.starts_with(r))
        || extra_read.iter().any(|r| dir.starts_with(r))
}
