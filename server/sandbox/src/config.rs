//! What a sandboxed command may touch and how much it may consume.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How strictly a sandbox is demanded (`[security] sandbox` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No backend usable → refuse to run anything.
    Required,
    /// No backend usable → run unconfined, with a warning in [`super::CommandOutput::warnings`].
    BestEffort,
    /// Never confine (limits, timeouts and env scrubbing still apply).
    Off,
}

/// A confinement mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Landlock (filesystem + TCP) and seccomp (sockets, escape syscalls) applied in the child.
    Landlock,
    /// bubblewrap: namespaces (mount, net, pid, ipc, uts) plus the same seccomp filter.
    Bubblewrap,
    /// Unconfined.
    None,
}

/// Resource limits applied to every command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// RLIMIT_CPU per process (SIGXCPU, then SIGKILL one second later).
    pub cpu_seconds: u64,
    /// Wall-clock limit for the whole process tree.
    pub wall: Duration,
    /// RLIMIT_AS per process.
    pub memory_bytes: u64,
    /// Bytes kept per stream; the rest is drained and discarded (the process is killed once it
    /// has written [`OUTPUT_KILL_FACTOR`] times this much, so `yes` cannot run until the timeout).
    pub max_output_bytes: usize,
    /// Processes alive at once in the command's tree. Enforced by the kernel through a throw-away
    /// pids cgroup when one is writable (typically as root), else RLIMIT_NPROC for non-root users
    /// (their current count + this), and always by a /proc watchdog that kills the tree.
    pub max_processes: usize,
}

/// Once a stream has produced this many times `max_output_bytes`, the command is killed.
pub const OUTPUT_KILL_FACTOR: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu_seconds: 300,
            wall: Duration::from_secs(600),
            memory_bytes: 4 << 30,
            max_output_bytes: 1 << 20,
            max_processes: 256,
        }
    }
}

/// Everything [`super::run`] needs to confine one command.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub mode: Mode,
    /// The only tree (besides a private temp dir) a command may write. Must exist.
    pub workspace: PathBuf,
    /// Paths inside the workspace that stay read-only (e.g. `.git`).
    pub readonly_paths: Vec<PathBuf>,
    /// Paths that must be unreadable (`~/.ssh`, `~/.aws`, the Jingu state dir, …).
    pub hidden_paths: Vec<PathBuf>,
    /// Extra read-only roots such as toolchains under `$HOME` (`~/.cargo`, `~/.rustup`).
    pub extra_read_paths: Vec<PathBuf>,
    /// Names of parent environment variables passed through (secret-looking names never are).
    pub env_allowlist: Vec<String>,
    /// Backends allowed, in order of preference; unavailable ones are skipped.
    pub backends: Vec<Backend>,
    /// Landlock inside private pid + mount namespaces where the machine allows them (false:
    /// Landlock alone, as on machines without them; tests use it to cover that path).
    pub namespaces: bool,
    pub limits: Limits,
}

impl SandboxConfig {
    /// The standard policy: `.git` read-only; `~/.ssh`, `~/.aws`, `~/.config`, `~/.gnupg`,
    /// `~/.docker`, `~/.kube`, the workspace's `.jingu/` and `state_dir` hidden.
    pub fn for_workspace(mode: Mode, workspace: &Path, state_dir: Option<&Path>) -> Self {
        let mut hidden = vec![workspace.join(".jingu")];
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
            for d in [
                ".ssh", ".aws", ".config", ".gnupg", ".docker", ".kube", ".netrc",
            ] {
                hidden.push(home.join(d));
            }
        }
        hidden.extend(state_dir.map(Path::to_path_buf));
        Self {
            mode,
            workspace: workspace.to_path_buf(),
            readonly_paths: vec![workspace.join(".git")],
            hidden_paths: hidden,
            extra_read_paths: Vec::new(),
            env_allowlist: Vec::new(),
            backends: vec![Backend::Landlock, Backend::Bubblewrap],
            namespaces: true,
            limits: Limits::default(),
        }
    }
}
