//! Spawning, watching and reaping one command: wall timeout, output cap, process cap.

use super::child::ChildSetup;
use super::output::{Captured, CommandOutput, KillReason};
use super::pids_cgroup::PidsCgroup;
use super::{Backend, Limits, SandboxError, procs};
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How often the process count is checked.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

pub(crate) struct Spawn<'a> {
    pub argv: Vec<OsString>,
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    pub setup: ChildSetup,
    pub limits: &'a Limits,
    pub backend: Backend,
    pub warnings: Vec<String>,
    /// Kernel-enforced process cap, when a pids cgroup could be created.
    pub cgroup: Option<PidsCgroup>,
}

pub(crate) async fn spawn_and_wait(s: Spawn<'_>) -> Result<CommandOutput, SandboxError> {
    let program = s.argv[0].clone();
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&s.argv[1..])
        .current_dir(s.cwd)
        .env_clear()
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let setup = s.setup;
    // SAFETY: `ChildSetup::apply` only performs async-signal-safe syscalls on prepared data.
    unsafe {
        cmd.pre_exec(move || setup.apply());
    }
    let mut child = cmd.spawn().map_err(|source| SandboxError::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
    })?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    let mut guard = KillGuard { pid, alive: true };

    let max = s.limits.max_output_bytes;
    let kill_at = (max.max(1) * super::config::OUTPUT_KILL_FACTOR) as u64;
    let (mut out, mut err) = (Captured::default(), Captured::default());
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let (mut b1, mut b2) = (vec![0u8; 16384], vec![0u8; 16384]);
    let deadline = tokio::time::sleep(s.limits.wall);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(WATCH_INTERVAL);
    let mut status: Option<ExitStatus> = None;
    let mut reason: Option<KillReason> = None;
    let mut timed_out = false;

    while status.is_none() || so.is_some() || se.is_some() {
        tokio::select! {
            r = read_opt(&mut so, &mut b1) => match r {
                Some(n) if n > 0 => out.push(&b1[..n], max),
                _ => so = None,
            },
            r = read_opt(&mut se, &mut b2) => match r {
                Some(n) if n > 0 => err.push(&b2[..n], max),
                _ => se = None,
            },
            w = child.wait(), if status.is_none() => {
                status = Some(w.map_err(SandboxError::Wait)?);
                guard.alive = false;
                // Whatever the command left behind (background jobs holding the pipes) dies now.
                procs::kill_tree(pid, pid, false);
            },
            _ = &mut deadline, if !timed_out => {
                timed_out = true;
                if status.is_some() {
                    break; // unconfined leftovers escaped the group and still hold a pipe
                }
                reason.get_or_insert(KillReason::WallTimeout);
                guard.kill();
            },
            _ = tick.tick(), if status.is_none() && reason.is_none() => {
                let over = match &s.cgroup {
                    // The cgroup already refuses the extra forks; a refusal ends the command.
                    Some(cg) => cg.limit_hit(),
                    None => procs::tree(pid, pid).len() > s.limits.max_processes,
                };
                if over {
                    reason = Some(KillReason::ProcessLimit);
                    guard.kill();
                }
            },
        }
        if reason.is_none() && (out.total > kill_at || err.total > kill_at) {
            reason = Some(KillReason::OutputLimit);
            guard.kill();
        }
    }
    // A refused fork can end the command before the next tick looked (the shell gives up when
    // it cannot fork): the cgroup still remembers that the limit was hit.
    if reason.is_none() && s.cgroup.as_ref().is_some_and(|cg| cg.limit_hit()) {
        reason = Some(KillReason::ProcessLimit);
    }
    let status = status.unwrap_or_else(|| ExitStatus::from_raw(libc::SIGKILL));
    // bwrap reports its child's death by signal N as exit code 128 + N.
    // The namespace inits (bwrap's, or ours for Landlock) report it as exit code 128 + N.
    let xcpu = status.signal() == Some(libc::SIGXCPU)
        || (s.backend != Backend::None && status.code() == Some(128 + libc::SIGXCPU));
    if reason.is_none() && xcpu {
        reason = Some(KillReason::CpuLimit);
    }
    Ok(CommandOutput {
        status,
        stdout: out,
        stderr: err,
        timed_out: reason == Some(KillReason::WallTimeout),
        killed_reason: reason,
        backend: s.backend,
        warnings: s.warnings,
    })
}

async fn read_opt<R: tokio::io::AsyncRead + Unpin>(
    r: &mut Option<R>,
    buf: &mut [u8],
) -> Option<usize> {
    match r {
        Some(r) => r.read(buf).await.ok(),
        None => std::future::pending().await,
    }
}

/// Kills the whole tree if the future is dropped (e.g. the agent's turn was cancelled).
struct KillGuard {
    pid: i32,
    alive: bool,
}

impl KillGuard {
    fn kill(&mut self) {
        if self.pid > 0 {
            procs::kill_tree(self.pid, self.pid, self.alive);
        }
    }
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if self.alive {
            self.kill();
        }
    }
}
