//! Process-tree accounting through /proc, so limits hold without cgroups and for root (which
//! RLIMIT_NPROC does not bind).

use std::collections::{HashMap, HashSet};

struct Proc {
    pid: i32,
    ppid: i32,
    pgrp: i32,
}

fn snapshot() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may contain spaces and parens: parse after the last ')'.
            let rest = &stat[stat.rfind(')')? + 2..];
            let mut f = rest.split_whitespace();
            let _state = f.next()?;
            let ppid = f.next()?.parse().ok()?;
            let pgrp = f.next()?.parse().ok()?;
            Some(Proc { pid, ppid, pgrp })
        })
        .collect()
}

/// Pids in the command's tree: descendants of `root` plus members of process group `pgid`
/// (orphans are re-parented away from `root` but stay in the group).
pub(crate) fn tree(root: i32, pgid: i32) -> Vec<i32> {
    let procs = snapshot();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut seen: HashSet<i32> = procs
        .iter()
        .filter(|p| p.pgrp == pgid)
        .map(|p| p.pid)
        .collect();
    let mut stack: Vec<i32> = seen.iter().copied().chain([root]).collect();
    while let Some(pid) = stack.pop() {
        seen.insert(pid);
        for &c in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if !seen.contains(&c) {
                stack.push(c);
            }
        }
    }
    seen.into_iter().collect()
}

/// SIGKILLs the group and, while `root` is not yet reaped (its pid can't have been reused), every
/// process of its tree; repeated because a fork may be in flight.
pub(crate) fn kill_tree(root: i32, pgid: i32, root_alive: bool) {
    for _ in 0..3 {
        // SAFETY: signalling pids we spawned (or their descendants); ESRCH is harmless.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
        if !root_alive {
            continue;
        }
        for pid in tree(root, pgid) {
            if pid > 1 {
                // SAFETY: as above.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// Processes owned by `uid` (the owner of `/proc/PID`).
pub(crate) fn count_for_uid(uid: u32) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .count()
}
