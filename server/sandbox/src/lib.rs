//! Confined command execution for the agent's `run_command` tool.
//!
//! Two backends, chosen by [`select_backend`]: Landlock + seccomp applied in the child between
//! fork and exec (ABI ≥ 4, so TCP is confined too), or bubblewrap namespaces plus the same seccomp
//! filter. Either way: writes only to the workspace (minus read-only paths such as `.git`) and a
//! private temp dir; hidden paths (`~/.ssh`, …) unreadable; no sockets; CPU, memory, wall-clock,
//! output and process-count limits; an environment built from scratch without secrets.

mod bwrap;
mod child;
mod config;
mod env;
mod error;
mod exec;
mod landlock;
mod namespace;
mod output;
mod pids_cgroup;
mod probe;
mod procs;
mod seccomp;
#[cfg(test)]
mod tests;

pub use config::{Backend, Limits, Mode, OUTPUT_KILL_FACTOR, SandboxConfig};
pub use env::is_secret_name;
pub use error::SandboxError;
pub use output::{Captured, CommandOutput, KillReason};
pub use probe::{Capabilities, probe};

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// Marks the calling process non-dumpable, so a same-uid command cannot read its
/// `/proc/PID/environ` or memory (the server's environment may hold provider keys). Call once at
/// startup, before spawning commands; `exec` resets the flag in children.
pub fn harden_current_process() -> std::io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes a plain integer.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Picks the first allowed backend this machine supports; see [`Mode`] for the fallback.
/// Returns the backend and any warning to surface (and audit).
pub fn select_backend(
    cfg: &SandboxConfig,
    caps: &Capabilities,
) -> Result<(Backend, Vec<String>), SandboxError> {
    if cfg.mode == Mode::Off {
        return Ok((
            Backend::None,
            vec!["sandbox disabled by configuration".into()],
        ));
    }
    for b in &cfg.backends {
        match b {
            Backend::Landlock if caps.landlock_usable() => return Ok((*b, Vec::new())),
            Backend::Bubblewrap if caps.bwrap.is_some() && caps.seccomp => {
                return Ok((*b, Vec::new()));
            }
            _ => {}
        }
    }
    let why = format!(
        "no usable backend among {:?} (Landlock ABI {} needs ≥ 4 with seccomp {}; bwrap {})",
        cfg.backends,
        caps.landlock_abi,
        if caps.seccomp { "available" } else { "missing" },
        caps.bwrap
            .as_ref()
            .map_or("not installed".to_string(), |p| p.display().to_string()),
    );
    match cfg.mode {
        Mode::Required => Err(SandboxError::Unavailable { why }),
        _ => Ok((
            Backend::None,
            vec![format!("command ran unconfined: {why}")],
        )),
    }
}

/// The confinement a command will really get, decided *before* the user is asked to approve it,
/// so the prompt and the audit record say what actually happens.
#[derive(Debug, Clone)]
pub struct Confinement {
    pub backend: Backend,
    /// Downgrades (best-effort fell back to none, sandbox off) to show the user and audit.
    pub warnings: Vec<String>,
}

impl Confinement {
    /// Picks the backend for `cfg` on this machine; `Err` when `required` and none is usable.
    pub fn choose(cfg: &SandboxConfig) -> Result<Self, SandboxError> {
        let (backend, warnings) = select_backend(cfg, &probe())?;
        Ok(Self { backend, warnings })
    }

    /// One line for the approval prompt.
    pub fn describe(&self) -> &'static str {
        match self.backend {
            Backend::Landlock if namespace::available() => {
                "sandboxed by Landlock + seccomp in private pid/mount namespaces with their own \
                 /proc: no network, writes only inside the workspace and a private temp dir, host \
                 credentials and deny_paths unreadable"
            }
            Backend::Landlock => {
                "sandboxed by Landlock + seccomp (no pid namespace here, so no /proc): no network, \
                 writes only inside the workspace and a private temp dir, host credentials and \
                 deny_paths unreadable"
            }
            Backend::Bubblewrap => {
                "sandboxed by bubblewrap + seccomp: own pid/mount/network namespaces and /proc, \
                 no network, writes only inside the workspace, host credentials and deny_paths hidden"
            }
            Backend::None => {
                "NOT sandboxed: the command runs with Jingu's full access to files and network"
            }
        }
    }

    /// Short name for audit records.
    pub fn label(&self) -> &'static str {
        match self.backend {
            Backend::Landlock => "landlock",
            Backend::Bubblewrap => "bubblewrap",
            Backend::None => "none",
        }
    }
}

/// Runs `argv` under exactly the confinement chosen (and shown) before: no re-selection, so a
/// backend cannot silently change between the prompt and the run.
pub async fn run_confined(
    cfg: &SandboxConfig,
    confinement: &Confinement,
    argv: &[String],
    cwd_rel: Option<&str>,
) -> Result<CommandOutput, SandboxError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let chosen = (confinement.backend, confinement.warnings.clone());
    run_chosen(cfg, chosen, argv, cwd_rel, env).await
}

/// Runs `argv` (no shell) in `cwd_rel` (relative to the workspace) under the configured sandbox.
pub async fn run(
    cfg: &SandboxConfig,
    argv: &[String],
    cwd_rel: Option<&str>,
) -> Result<CommandOutput, SandboxError> {
    // Collected first: `Vars` is not `Send`, and this future must be.
    let env: Vec<(String, String)> = std::env::vars().collect();
    run_with_env(cfg, argv, cwd_rel, env).await
}

/// [`run`] with an explicit parent environment to scrub (the process's own in production).
pub async fn run_with_env(
    cfg: &SandboxConfig,
    argv: &[String],
    cwd_rel: Option<&str>,
    parent_env: impl IntoIterator<Item = (String, String)>,
) -> Result<CommandOutput, SandboxError> {
    let chosen = select_backend(cfg, &probe())?;
    run_chosen(cfg, chosen, argv, cwd_rel, parent_env).await
}

async fn run_chosen(
    cfg: &SandboxConfig,
    (backend, warnings): (Backend, Vec<String>),
    argv: &[String],
    cwd_rel: Option<&str>,
    parent_env: impl IntoIterator<Item = (String, String)>,
) -> Result<CommandOutput, SandboxError> {
    if argv.is_empty() {
        return Err(SandboxError::EmptyCommand);
    }
    let workspace =
        std::fs::canonicalize(&cfg.workspace).map_err(|source| SandboxError::Workspace {
            path: cfg.workspace.clone(),
            source,
        })?;
    let cwd = resolve_cwd(&workspace, cwd_rel)?;
    let tmp = PrivateTmp::new()?;
    let rlimits = rlimits(&cfg.limits);
    let cgroup = pids_cgroup::PidsCgroup::create(cfg.limits.max_processes);
    let cgroup_fd = cgroup.as_ref().map(pids_cgroup::PidsCgroup::join_fd);

    match backend {
        Backend::Landlock => {
            // With a private mount namespace, paths inside the workspace are protected by
            // mounts and the workspace is one Landlock rule; otherwise by Landlock carve-outs.
            let ns_ok = cfg.namespaces && namespace::available();
            let canon = |ps: &[PathBuf]| -> Vec<PathBuf> {
                ps.iter()
                    .filter_map(|p| std::fs::canonicalize(p).ok())
                    .collect()
            };
            let (readonly, hidden) = (canon(&cfg.readonly_paths), canon(&cfg.hidden_paths));
            let inside = |ps: &[PathBuf], want: bool| -> Vec<PathBuf> {
                ps.iter()
                    .filter(|p| p.starts_with(&workspace) == want)
                    .cloned()
                    .collect()
            };
            let (plan_ro, plan_hidden, ns) = if ns_ok {
                (
                    inside(&readonly, false),
                    inside(&hidden, false),
                    Some(namespace::NsSetup::new(
                        &inside(&readonly, true),
                        &inside(&hidden, true),
                    )),
                )
            } else {
                (readonly, hidden, None)
            };
            let grants = landlock::grants(&landlock::Plan {
                workspace: &workspace,
                tmp: &tmp.0,
                extra_read: &cfg.extra_read_paths,
                readonly: &plan_ro,
                hidden: &plan_hidden,
                own_proc: ns_ok,
            });
            let ruleset: OwnedFd = landlock::build_ruleset(&grants)?;
            let mut warnings = warnings;
            if !landlock::can_create_in(&workspace, &grants) {
                warnings.push(
                    "Landlock keeps .git read-only by granting the workspace's entries one by one, \
                     so new files or directories cannot be created at the workspace root"
                        .into(),
                );
            }
            let env = env::scrubbed_env(parent_env, &cfg.env_allowlist, &tmp.0, |d| {
                landlock::readable(d, &grants)
            });
            let setup = child::ChildSetup {
                cgroup_fd,
                rlimits,
                landlock_fd: Some(ruleset.as_raw_fd()),
                seccomp: Some(seccomp::build_filter()?),
                keep_fd: None,
                drop_caps: true,
                ns,
            };
            let spawn = exec::Spawn {
                argv: argv.iter().map(Into::into).collect(),
                cwd: &cwd,
                env,
                setup,
                limits: &cfg.limits,
                backend,
                warnings,
                cgroup,
            };
            let out = exec::spawn_and_wait(spawn).await;
            drop(ruleset);
            out
        }
        Backend::Bubblewrap => {
            let caps = probe();
            let bwrap_path = caps.bwrap.ok_or_else(|| SandboxError::Unavailable {
                why: "bwrap disappeared".into(),
            })?;
            let filter = seccomp::build_filter()?;
            let memfd = seccomp_memfd(&seccomp::to_bytes(&filter))?;
            let canon = |ps: &[PathBuf]| -> Vec<PathBuf> {
                ps.iter()
                    .filter_map(|p| std::fs::canonicalize(p).ok())
                    .collect()
            };
            let extra = canon(&cfg.extra_read_paths);
            let plan = bwrap::BwrapPlan {
                bwrap: &bwrap_path,
                workspace: &workspace,
                tmp: &tmp.0,
                cwd: &cwd,
                extra_read: &extra,
                readonly: &canon(&cfg.readonly_paths),
                hidden: &canon(&cfg.hidden_paths),
                seccomp_fd: Some(memfd.as_raw_fd()),
            };
            let argv = bwrap::command_line(&plan, argv);
            let env = env::scrubbed_env(
                parent_env,
                &cfg.env_allowlist,
                Path::new(bwrap::INNER_TMP),
                |d| bwrap::visible(d, &extra),
            );
            let setup = child::ChildSetup {
                cgroup_fd,
                rlimits,
                landlock_fd: None,
                seccomp: None,
                keep_fd: Some(memfd.as_raw_fd()),
                // bwrap needs its capabilities to build the namespaces; it drops them itself.
                drop_caps: false,
                ns: None,
            };
            let spawn = exec::Spawn {
                argv,
                cwd: &cwd,
                env,
                setup,
                limits: &cfg.limits,
                backend,
                warnings,
                cgroup,
            };
            let out = exec::spawn_and_wait(spawn).await;
            drop(memfd);
            out
        }
        Backend::None => {
            let env = env::scrubbed_env(parent_env, &cfg.env_allowlist, &tmp.0, |_| true);
            let setup = child::ChildSetup {
                cgroup_fd,
                rlimits,
                landlock_fd: None,
                seccomp: None,
                keep_fd: None,
                drop_caps: false,
                ns: None,
            };
            let spawn = exec::Spawn {
                argv: argv.iter().map(Into::into).collect(),
                cwd: &cwd,
                env,
                setup,
                limits: &cfg.limits,
                backend,
                warnings,
                cgroup,
            };
            exec::spawn_and_wait(spawn).await
        }
    }
}

/// The working directory: relative, no `..`, and still inside the workspace after symlinks.
fn resolve_cwd(workspace: &Path, cwd_rel: Option<&str>) -> Result<PathBuf, SandboxError> {
    let Some(rel) = cwd_rel.filter(|r| !r.is_empty() && *r != ".") else {
        return Ok(workspace.to_path_buf());
    };
    let escape = || SandboxError::CwdEscape(rel.to_string());
    if rel.contains('\0')
        || Path::new(rel)
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(escape());
    }
    let cwd = std::fs::canonicalize(workspace.join(rel)).map_err(|_| escape())?;
    if cwd.starts_with(workspace) {
        Ok(cwd)
    } else {
        Err(escape())
    }
}

fn rlimits(l: &Limits) -> Vec<(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t)> {
    let mut v = vec![
        (
            libc::RLIMIT_CPU,
            l.cpu_seconds,
            l.cpu_seconds.saturating_add(1),
        ),
        (libc::RLIMIT_AS, l.memory_bytes, l.memory_bytes),
        (libc::RLIMIT_CORE, 0, 0),
    ];
    // RLIMIT_NPROC counts all processes of the real uid and root ignores it, so it is only a
    // backstop for non-root users, set above what they already run; the watchdog is the limit.
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if uid != 0 {
        let mine = procs::count_for_uid(uid) as u64;
        let n = mine.saturating_add(l.max_processes as u64);
        v.push((libc::RLIMIT_NPROC, n, n));
    }
    v
}

fn seccomp_memfd(bytes: &[u8]) -> Result<OwnedFd, SandboxError> {
    use std::io::{Seek, Write};
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create with a static NUL-terminated name; the fd is owned right below.
    let fd = unsafe { libc::memfd_create(c"jingu-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(SandboxError::Seccomp(format!(
            "memfd_create: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: fd is a fresh, valid descriptor we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes)
        .and_then(|()| file.rewind())
        .map_err(|e| SandboxError::Seccomp(format!("writing the filter for bwrap: {e}")))?;
    Ok(file.into())
}

/// A private 0700 temp dir, removed when the command is done.
struct PrivateTmp(PathBuf);

impl PrivateTmp {
    fn new() -> Result<Self, SandboxError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = std::env::temp_dir().join(format!("jingu-sbx-{:016x}", fastrand::u64(..)));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(SandboxError::TempDir)?;
        Ok(Self(dir))
    }
}

impl Drop for PrivateTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
