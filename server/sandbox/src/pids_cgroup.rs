//! A kernel-enforced process cap for root, which RLIMIT_NPROC does not bind: a throw-away
//! cgroup (v1 `pids` hierarchy, or a v2 child of our own cgroup when it offers `pids`) with
//! `pids.max`. Optional: without a writable hierarchy the /proc watchdog is the limit.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub(crate) struct PidsCgroup {
    dir: PathBuf,
    /// `cgroup.procs`, opened for writing in the parent; the child writes "0" to join.
    procs: OwnedFd,
}

impl PidsCgroup {
    pub(crate) fn create(max: usize) -> Option<Self> {
        candidates().into_iter().find_map(|parent| {
            let dir = parent.join(format!("jingu-sbx-{:016x}", fastrand::u64(..)));
            std::fs::create_dir(&dir).ok()?;
            let made = std::fs::write(dir.join("pids.max"), max.to_string())
                .ok()
                .and_then(|()| open_wo(&dir.join("cgroup.procs")));
            match made {
                Some(procs) => Some(Self { dir, procs }),
                None => {
                    let _ = std::fs::remove_dir(&dir);
                    None
                }
            }
        })
    }

    /// The fd the child writes "0" to (async-signal-safe join).
    pub(crate) fn join_fd(&self) -> i32 {
        self.procs.as_raw_fd()
    }

    /// True once a fork was refused because of `pids.max` (the "max" count in `pids.events`):
    /// the command tried to exceed the limit. One small read, unlike a /proc scan.
    pub(crate) fn limit_hit(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pids.events")).is_ok_and(|ev| {
            ev.lines()
                .filter_map(|l| l.strip_prefix("max "))
                .any(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))
        })
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // Killed members may linger as zombies for a moment; remove the directory once empty.
        let dir = self.dir.clone();
        if std::fs::remove_dir(&dir).is_err() {
            std::thread::spawn(move || {
                for _ in 0..100 {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    if std::fs::remove_dir(&dir).is_ok() {
                        break;
                    }
                }
            });
        }
    }
}

fn open_wo(path: &Path) -> Option<OwnedFd> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .ok()
        .map(OwnedFd::from)
}

fn candidates() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/sys/fs/cgroup/pids")];
    // cgroup v2: "0::/some/path" in /proc/self/cgroup.
    if let Ok(s) = std::fs::read_to_string("/proc/self/cgroup")
        && let Some(rel) = s.lines().find_map(|l| l.strip_prefix("0::"))
    {
        let own = Path::new("/sys/fs/cgroup").join(rel.trim_start_matches('/'));
        let has_pids = std::fs::read_to_string(own.join("cgroup.subtree_control"))
            .is_ok_and(|c| c.split_whitespace().any(|w| w == "pids"));
        if has_pids {
            out.push(own);
        }
    }
    out.retain(|p| p.is_dir());
    out
}
