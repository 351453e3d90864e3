//! Red-team tests: real processes try to break each claim; each asserts the blocked outcome.
//! Backend tests skip (with a printed reason) only when the backend is unavailable here; under
//! `JINGU_STRICT=1` (CI) an unavailable backend fails instead. CI installs bubblewrap.

use super::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

struct Fixture {
    _dirs: Vec<tempfile::TempDir>,
    ws: PathBuf,
    home: PathBuf,
    outside: PathBuf,
}

const SSH_SECRET: &str = "PRIVATE-KEY-MATERIAL-7f3a";
const STATE_SECRET: &str = "JINGU-STATE-SECRET-19c2";

/// Workspace with `.git/` and `.jingu/`, a fake home with a seeded `~/.ssh/id_ed25519`, and a
/// writable directory outside both.
fn fixture() -> Fixture {
    let ws_dir = tempfile::tempdir().expect("ws");
    let home_dir = tempfile::tempdir().expect("home");
    let out_dir = tempfile::tempdir().expect("outside");
    let ws = ws_dir.path().canonicalize().expect("canon");
    let home = home_dir.path().canonicalize().expect("canon");
    std::fs::create_dir_all(ws.join(".git/hooks")).expect("git");
    std::fs::write(ws.join(".git/config"), "[core]\n").expect("git config");
    std::fs::create_dir_all(ws.join(".jingu")).expect("jingu");
    std::fs::write(ws.join(".jingu/state"), STATE_SECRET).expect("state");
    std::fs::create_dir_all(ws.join("src")).expect("src");
    std::fs::write(ws.join("README"), "hello from the workspace\n").expect("readme");
    std::fs::create_dir_all(home.join(".ssh")).expect("ssh");
    std::fs::write(home.join(".ssh/id_ed25519"), SSH_SECRET).expect("key");
    std::fs::write(home.join("notes.txt"), "readable toolchain file\n").expect("notes");
    Fixture {
        ws,
        home,
        outside: out_dir.path().canonicalize().expect("canon"),
        _dirs: vec![ws_dir, home_dir, out_dir],
    }
}

tokio::task_local! {
    /// Set by the `landlock_without_namespaces` tests.
    static NO_NS: bool;
}

/// Whether this test runs Landlock inside namespaces.
fn with_ns(b: Backend) -> bool {
    b == Backend::Landlock
        && !NO_NS.try_with(|v| *v).unwrap_or(false)
        && super::namespace::available()
}

/// The fake home is an extra read root (like `~/.cargo`) so hiding `~/.ssh` inside it is a real
/// carve-out, not just an absent grant.
fn config(fx: &Fixture, backend: Backend) -> SandboxConfig {
    let mut cfg = SandboxConfig::for_workspace(Mode::Required, &fx.ws, None);
    cfg.namespaces = !NO_NS.try_with(|v| *v).unwrap_or(false);
    cfg.hidden_paths.push(fx.home.join(".ssh"));
    cfg.extra_read_paths.push(fx.home.clone());
    cfg.backends = vec![backend];
    cfg.limits = Limits {
        cpu_seconds: 30,
        wall: Duration::from_secs(30),
        memory_bytes: 1 << 30,
        max_output_bytes: 64 * 1024,
        max_processes: 64,
    };
    cfg
}

fn available(backend: Backend) -> bool {
    let caps = probe();
    let ok = match backend {
        Backend::Landlock => caps.landlock_usable(),
        Backend::Bubblewrap => caps.bwrap.is_some(),
        Backend::None => true,
    };
    if !ok {
        assert!(
            std::env::var_os("JINGU_STRICT").is_none(),
            "strict mode: the {backend:?} backend is unavailable here, so its tests cannot run: {caps:?}"
        );
        eprintln!("SKIP: {backend:?} unavailable here: {caps:?}");
    }
    ok
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

fn py(code: &str) -> Vec<String> {
    vec!["python3".into(), "-c".into(), code.into()]
}

async fn run_ok(cfg: &SandboxConfig, argv: &[String]) -> CommandOutput {
    let out = run(cfg, argv, None).await.expect("sandbox run");
    assert_eq!(out.backend, cfg.backends[0], "backend actually used");
    out
}

/// Generates one `#[tokio::test]` per backend for each scenario.
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod landlock_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::available(super::Backend::Landlock) {
                    super::$name(super::Backend::Landlock).await;
                }
            })*
        }
        /// Landlock alone, as on machines without user/mount/pid namespaces.
        mod landlock_without_namespaces {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::available(super::Backend::Landlock) {
                    super::NO_NS.scope(true, super::$name(super::Backend::Landlock)).await;
                }
            })*
        }
        mod bubblewrap_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::available(super::Backend::Bubblewrap) {
                    super::$name(super::Backend::Bubblewrap).await;
                }
            })*
        }
    };
}

per_backend!(
    tcp_connect_to_local_listener_fails,
    unix_socket_outside_workspace_unreachable,
    writes_outside_workspace_fail,
    writes_inside_workspace_succeed,
    git_dir_is_read_only,
    hidden_files_unreadable,
    symlink_to_hidden_dir_does_not_help,
    fork_bomb_is_bounded_and_killed,
    output_flood_is_capped_and_killed,
    infinite_loop_hits_wall_timeout,
    cpu_limit_kills_busy_loop,
    memory_limit_stops_large_allocation,
    secrets_absent_from_environment,
    parent_environment_unreadable_via_proc,
    cwd_outside_workspace_refused,
    escape_syscalls_denied,
    new_top_level_entries_follow_backend_semantics,
    host_credentials_under_etc_are_hidden,
    host_processes_are_invisible,
    sys_is_not_readable,
    deny_paths_files_are_masked,
    toolchain_caches_can_be_created_at_the_root,
);

/// `/etc` is readable (resolv.conf, passwd for toolchains) but not its credentials.
async fn host_credentials_under_etc_are_hidden(b: Backend) {
    let fx = fixture();
    let cfg = config(&fx, b);
    let out = run_ok(&cfg, &sh("cat /etc/passwd >/dev/null && echo PASSWD-OK")).await;
    assert!(
        out.stdout.text().contains("PASSWD-OK"),
        "{}",
        out.stderr.text()
    );
    for secret in [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/sudoers",
        "/etc/ssh/sshd_config",
    ] {
        if !Path::new(secret).exists() {
            continue;
        }
        let real = std::fs::read(secret).unwrap_or_default();
        let out = run_ok(&cfg, &sh(&format!("cat {secret}"))).await;
        assert!(
            out.stdout.bytes.is_empty() || real.is_empty(),
            "{secret} readable in the sandbox ({} bytes)",
            out.stdout.bytes.len()
        );
    }
}

/// Other processes' command lines (the server's, an editor's) are not visible.
async fn host_processes_are_invisible(b: Backend) {
    let fx = fixture();
    let marker = format!("jingu-host-marker-{:x}", fastrand::u64(..));
    let mut host = std::process::Command::new("sleep")
        .arg("30")
        .arg0(&marker)
        .spawn()
        .expect("spawn marker");
    let out = run_ok(
        &config(&fx, b),
        &sh("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'"),
    )
    .await;
    let _ = host.kill();
    let _ = host.wait();
    let text = out.stdout.text();
    assert!(!text.contains(&marker), "host process visible: {text}");
    let me = std::process::id().to_string();
    assert!(
        !std::path::Path::new(&format!("/proc/{me}")).exists() || !text.contains("cargo"),
        "host cmdlines visible: {text}"
    );
}

async fn sys_is_not_readable(b: Backend) {
    let fx = fixture();
    let out = run_ok(
        &config(&fx, b),
        &sh("ls /sys/class/net 2>&1 || true; cat /sys/kernel/uevent_seqnum && echo SYS-READ"),
    )
    .await;
    assert!(
        !out.stdout.text().contains("SYS-READ"),
        "{}",
        out.stdout.text()
    );
}

/// `cat .env` through run_command must not read what the read tool may not, nor may a command
/// move the file out from under the mask.
async fn deny_paths_files_are_masked(b: Backend) {
    let fx = fixture();
    const ENV_SECRET: &str = "DB_PASSWORD=hunter2-seeded-9f1";
    std::fs::write(fx.ws.join(".env"), ENV_SECRET).expect("env");
    std::fs::create_dir_all(fx.ws.join("secrets")).expect("dir");
    std::fs::write(fx.ws.join("secrets/prod.key"), ENV_SECRET).expect("key");
    let mut cfg = config(&fx, b);
    cfg.hidden_paths.push(fx.ws.join(".env"));
    cfg.hidden_paths.push(fx.ws.join("secrets"));
    for script in [
        "cat .env",
        "cat secrets/prod.key",
        "cp .env copy && cat copy",
        "mv .env moved; cat moved",
        "ln .env hard 2>/dev/null; cat hard",
        "ln -s .env soft; cat soft",
        "python3 -c \"print(open('.env').read())\"",
        "tar cf - .env secrets 2>/dev/null | cat",
    ] {
        let out = run_ok(&cfg, &sh(script)).await;
        let all = format!("{}{}", out.stdout.text(), out.stderr.text());
        assert!(
            !all.contains("hunter2"),
            "`{script}` read the secret: {all}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(fx.ws.join(".env")).expect("still there"),
        ENV_SECRET
    );
}

/// `.pytest_cache`, `target/`, `node_modules` at the workspace root, without any write outside.
async fn toolchain_caches_can_be_created_at_the_root(b: Backend) {
    if b == Backend::Landlock && !with_ns(b) {
        // Documented: Landlock alone cannot carve out `.git` and still allow new root entries.
        let fx = fixture();
        let out = run_ok(&config(&fx, b), &sh("mkdir target")).await;
        assert!(out.warnings.iter().any(|w| w.contains("workspace root")));
        return;
    }
    let fx = fixture();
    let out = run_ok(
        &config(&fx, b),
        &sh("mkdir -p .pytest_cache/v target/debug node_modules && touch .pytest_cache/v/x target/debug/y && ls"),
    )
    .await;
    assert!(out.status.success(), "{}", out.stderr.text());
    for p in [".pytest_cache/v/x", "target/debug/y", "node_modules"] {
        assert!(fx.ws.join(p).exists(), "{p} not created");
    }
    // .git is still read-only at the same time.
    let out = run_ok(&config(&fx, b), &sh("touch .git/evil")).await;
    assert!(!out.status.success());
    assert!(!fx.ws.join(".git/evil").exists());
}

async fn tcp_connect_to_local_listener_fails(b: Backend) {
    let fx = fixture();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let code = format!(
        "import socket\ns=socket.create_connection(('127.0.0.1',{port}),timeout=5)\nprint('CONNECTED')"
    );
    let out = run_ok(&config(&fx, b), &py(&code)).await;
    assert!(
        !out.status.success(),
        "connect must fail: {}",
        out.stderr.text()
    );
    assert!(!out.stdout.text().contains("CONNECTED"));
    assert!(
        listener.accept().is_err(),
        "the listener must never see a connection"
    );
}

async fn unix_socket_outside_workspace_unreachable(b: Backend) {
    let fx = fixture();
    let sock = fx.outside.join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind unix");
    listener.set_nonblocking(true).expect("nonblocking");
    let code = format!(
        "import socket\ns=socket.socket(socket.AF_UNIX)\ns.connect({:?})\nprint('CONNECTED')",
        sock.display().to_string()
    );
    let out = run_ok(&config(&fx, b), &py(&code)).await;
    assert!(!out.status.success(), "unix connect must fail");
    assert!(!out.stdout.text().contains("CONNECTED"));
    assert!(
        listener.accept().is_err(),
        "the host socket must never see a connection"
    );
}

async fn writes_outside_workspace_fail(b: Backend) {
    let fx = fixture();
    let tmp_target = std::env::temp_dir().join(format!("jingu-escape-{:x}", fastrand::u64(..)));
    let targets = [
        fx.outside.join("pwned"),
        tmp_target.clone(),
        fx.home.join("pwned"),
        fx.home.join(".ssh/authorized_keys"),
    ];
    for t in &targets {
        let script = format!("echo pwned > '{}'", t.display());
        let out = run_ok(&config(&fx, b), &sh(&script)).await;
        assert!(!t.exists(), "{} was written on the host", t.display());
        // bubblewrap's /tmp is private: the write may "succeed" inside and still never land.
        if !(b == Backend::Bubblewrap && t == &tmp_target) {
            assert!(!out.status.success(), "write to {} must fail", t.display());
        }
    }
}

async fn writes_inside_workspace_succeed(b: Backend) {
    let fx = fixture();
    let script = "echo built > src/out.txt && mkdir -p src/a/b && echo deep > src/a/b/c \
                  && echo more >> README && echo t > \"$TMPDIR/scratch\" && cat \"$TMPDIR/scratch\"";
    let out = run_ok(&config(&fx, b), &sh(script)).await;
    assert!(out.status.success(), "stderr: {}", out.stderr.text());
    assert_eq!(out.stdout.text(), "t\n");
    let read = |p: &str| std::fs::read_to_string(fx.ws.join(p)).expect("written file");
    assert_eq!(read("src/out.txt"), "built\n");
    assert_eq!(read("src/a/b/c"), "deep\n");
    assert!(read("README").ends_with("more\n"));
}

async fn git_dir_is_read_only(b: Backend) {
    let fx = fixture();
    let cfg = config(&fx, b);
    for script in [
        "printf '#!/bin/sh\\necho owned' > .git/hooks/pre-commit",
        "echo '[core] fsmonitor = evil' >> .git/config",
        "mkdir .git/evil",
        "rm .git/config",
        "mv .git .git-moved",
    ] {
        let out = run_ok(&cfg, &sh(script)).await;
        assert!(!out.status.success(), "{script} must fail");
    }
    assert!(!fx.ws.join(".git/hooks/pre-commit").exists());
    assert!(!fx.ws.join(".git/evil").exists());
    assert_eq!(
        std::fs::read_to_string(fx.ws.join(".git/config")).expect("config"),
        "[core]\n"
    );
    // Reading .git stays allowed (git log, git diff).
    let out = run_ok(&cfg, &sh("cat .git/config")).await;
    assert_eq!(out.stdout.text(), "[core]\n");
}

async fn hidden_files_unreadable(b: Backend) {
    let fx = fixture();
    let cfg = config(&fx, b);
    let key = fx.home.join(".ssh/id_ed25519");
    let script = format!(
        "cat '{}'; cat .jingu/state; cat '{}'",
        key.display(),
        fx.home.join("notes.txt").display()
    );
    let out = run_ok(&cfg, &sh(&script)).await;
    let all = format!("{}{}", out.stdout.text(), out.stderr.text());
    assert!(!all.contains(SSH_SECRET), "ssh key leaked: {all}");
    assert!(!all.contains(STATE_SECRET), "state leaked: {all}");
    // The carve-out is narrow: the rest of the extra read root stays readable.
    assert!(
        out.stdout.text().contains("readable toolchain file"),
        "{all}"
    );
}

async fn symlink_to_hidden_dir_does_not_help(b: Backend) {
    let fx = fixture();
    std::os::unix::fs::symlink(fx.home.join(".ssh"), fx.ws.join("src/keys")).expect("symlink");
    let out = run_ok(&config(&fx, b), &sh("cat src/keys/id_ed25519")).await;
    assert!(!out.status.success());
    assert!(!out.stdout.text().contains(SSH_SECRET));
}

fn live_processes_with(marker: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .count()
}

async fn fork_bomb_is_bounded_and_killed(b: Backend) {
    let fx = fixture();
    let marker = format!("jingu-bomb-{:x}", fastrand::u64(..));
    let argv = vec![
        "sh".into(),
        "-c".into(),
        "f() { f | f & }; f; sleep 100".into(),
        marker.clone(),
    ];
    let mut cfg = config(&fx, b);
    cfg.limits.max_processes = 32;
    let out = run_ok(&cfg, &argv).await;
    assert_eq!(out.killed_reason, Some(KillReason::ProcessLimit));
    assert!(!out.status.success());
    // SIGKILL delivery is asynchronous: wait (bounded) for the tree to be gone.
    let mut left = live_processes_with(&marker);
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        left = live_processes_with(&marker);
    }
    assert_eq!(left, 0, "fork bomb survivors");
}

async fn output_flood_is_capped_and_killed(b: Backend) {
    let fx = fixture();
    let cfg = config(&fx, b);
    let out = run_ok(&cfg, &["yes".to_string()]).await;
    assert_eq!(out.killed_reason, Some(KillReason::OutputLimit));
    assert!(out.stdout.truncated);
    assert_eq!(out.stdout.bytes.len(), cfg.limits.max_output_bytes);
    assert!(out.stdout.text().starts_with("y\ny\n"));
    assert!(
        out.stdout.total < 1 << 30,
        "must stop long before gigabytes"
    );
}

async fn infinite_loop_hits_wall_timeout(b: Backend) {
    let fx = fixture();
    let mut cfg = config(&fx, b);
    cfg.limits.wall = Duration::from_millis(500);
    let out = run_ok(&cfg, &sh("while :; do sleep 1; done")).await;
    assert!(out.timed_out);
    assert_eq!(out.killed_reason, Some(KillReason::WallTimeout));
    assert!(!out.status.success());
}

async fn cpu_limit_kills_busy_loop(b: Backend) {
    let fx = fixture();
    let mut cfg = config(&fx, b);
    cfg.limits.cpu_seconds = 1;
    let out = run_ok(&cfg, &sh("exec python3 -c 'while True: pass'")).await;
    assert_eq!(out.killed_reason, Some(KillReason::CpuLimit), "{out:?}");
    assert!(!out.timed_out);
}

async fn memory_limit_stops_large_allocation(b: Backend) {
    let fx = fixture();
    let mut cfg = config(&fx, b);
    cfg.limits.memory_bytes = 256 << 20;
    let out = run_ok(&cfg, &py("b = bytearray(1 << 30)\nprint('ALLOCATED')")).await;
    assert!(!out.status.success());
    assert!(!out.stdout.text().contains("ALLOCATED"));
    assert!(
        out.stderr.text().contains("MemoryError"),
        "{}",
        out.stderr.text()
    );
}

async fn secrets_absent_from_environment(b: Backend) {
    let fx = fixture();
    let mut cfg = config(&fx, b);
    cfg.env_allowlist = vec!["BUILD_MODE".into(), "MY_SERVICE_TOKEN".into()];
    let parent = [
        ("OPENAI_API_KEY", "sk-live-abc"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-xyz"),
        ("MY_SERVICE_TOKEN", "tok-allowlisted-but-secret"),
        ("BUILD_MODE", "release"),
        ("UNLISTED", "not-passed"),
        ("PATH", "/usr/bin:/bin"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let out = run_with_env(&cfg, &["env".to_string()], None, parent)
        .await
        .expect("run");
    let env = out.stdout.text();
    for leaked in [
        "sk-live-abc",
        "aws-secret-xyz",
        "tok-allowlisted",
        "not-passed",
    ] {
        assert!(!env.contains(leaked), "{leaked} visible: {env}");
    }
    assert!(env.contains("BUILD_MODE=release"));
    assert!(env.lines().any(|l| l.starts_with("HOME=")));
    assert!(env.lines().any(|l| l.starts_with("TMPDIR=")));
}

async fn parent_environment_unreadable_via_proc(b: Backend) {
    let fx = fixture();
    // Deliberately without `harden_current_process`: the sandbox alone must block this
    // (Landlock refuses ptrace-class access to processes outside the domain unless the caller
    // holds CAP_SYS_PTRACE, which the child drops; bwrap hides host pids entirely).
    let me = std::process::id();
    let script = format!("cat /proc/{me}/environ /proc/{me}/cmdline > /dev/null && echo READ");
    let out = run_ok(&config(&fx, b), &sh(&script)).await;
    assert!(
        !out.stdout.text().contains("READ"),
        "host process environ readable"
    );
}

async fn cwd_outside_workspace_refused(b: Backend) {
    let fx = fixture();
    let cfg = config(&fx, b);
    for bad in ["..", "../..", "/etc", "src/../../x", "a\0b"] {
        let r = run(&cfg, &sh("touch escaped"), Some(bad)).await;
        assert!(matches!(r, Err(SandboxError::CwdEscape(_))), "{bad}: {r:?}");
    }
    std::os::unix::fs::symlink(&fx.outside, fx.ws.join("src/out")).expect("symlink");
    let r = run(&cfg, &sh("touch escaped"), Some("src/out")).await;
    assert!(matches!(r, Err(SandboxError::CwdEscape(_))));
    assert!(!fx.outside.join("escaped").exists());
    let ok = run(&cfg, &sh("pwd"), Some("src")).await.expect("src cwd");
    assert!(ok.stdout.text().trim_end().ends_with("/src"));
}

/// Leaving the process group (to survive the kill), ptrace, new namespaces: each must fail.
async fn escape_syscalls_denied(b: Backend) {
    let fx = fixture();
    let code = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
try:
    os.setsid(); print("setsid=ok")
except OSError as e:
    print("setsid=denied")
try:
    os.setpgid(0, 0); print("setpgid=ok")
except OSError as e:
    print("setpgid=denied")
print("ptrace=" + ("ok" if libc.ptrace(0, 0, 0, 0) == 0 else "denied"))
print("unshare=" + ("ok" if libc.unshare(0x10000000) == 0 else "denied"))
"#;
    let out = run_ok(&config(&fx, b), &py(code)).await;
    assert!(out.status.success(), "{}", out.stderr.text());
    assert_eq!(
        out.stdout.text(),
        "setsid=denied\nsetpgid=denied\nptrace=denied\nunshare=denied\n"
    );
}

/// bubblewrap, and Landlock inside its mount namespace, protect `.git` with a mount, so the
/// workspace root stays writable; Landlock without namespaces can only carve `.git` out by
/// granting the root's entries one by one, so it refuses new root entries and says so.
async fn new_top_level_entries_follow_backend_semantics(b: Backend) {
    let fx = fixture();
    let out = run_ok(&config(&fx, b), &sh("mkdir target && touch new.txt")).await;
    match b {
        Backend::Landlock if !with_ns(b) => {
            assert!(!out.status.success());
            assert!(!fx.ws.join("target").exists());
            assert!(out.warnings.iter().any(|w| w.contains("workspace root")));
        }
        _ => {
            assert!(out.status.success(), "{}", out.stderr.text());
            assert!(fx.ws.join("target").is_dir() && fx.ws.join("new.txt").is_file());
            assert!(out.warnings.is_empty());
        }
    }
    // Without carve-outs at the root, Landlock grants the whole workspace.
    let mut cfg = config(&fx, b);
    cfg.readonly_paths.clear();
    cfg.hidden_paths.retain(|p| !p.starts_with(&fx.ws));
    let out = run_ok(&cfg, &sh("mkdir target2 && touch new2.txt")).await;
    assert!(out.status.success(), "{}", out.stderr.text());
    assert!(fx.ws.join("target2").is_dir() && fx.ws.join("new2.txt").is_file());
}

#[tokio::test]
async fn required_without_backend_refuses_and_runs_nothing() {
    let fx = fixture();
    let mut cfg = config(&fx, Backend::Landlock);
    cfg.backends.clear(); // simulates a kernel/machine with neither backend
    let marker = fx.ws.join("ran");
    let script = format!("touch '{}'", marker.display());
    let r = run(&cfg, &sh(&script), None).await;
    match r {
        Err(SandboxError::Unavailable { why }) => assert!(why.contains("no usable backend")),
        other => panic!("expected refusal, got {other:?}"),
    }
    assert!(!marker.exists(), "a refused command must not run");
}

#[tokio::test]
async fn best_effort_without_backend_runs_with_warning() {
    let fx = fixture();
    let mut cfg = config(&fx, Backend::Landlock);
    cfg.backends.clear();
    cfg.mode = Mode::BestEffort;
    let out = run(&cfg, &sh("echo hi"), None).await.expect("runs");
    assert_eq!(out.backend, Backend::None);
    assert_eq!(out.stdout.text(), "hi\n");
    assert!(out.warnings.iter().any(|w| w.contains("unconfined")));
}

#[test]
fn backend_selection_follows_capabilities() {
    let none = Capabilities {
        landlock_abi: 3,
        bwrap: None,
        seccomp: true,
    };
    let with_bwrap = Capabilities {
        bwrap: Some("/usr/bin/bwrap".into()),
        ..none.clone()
    };
    let ll = Capabilities {
        landlock_abi: 7,
        ..none.clone()
    };
    let cfg = SandboxConfig::for_workspace(Mode::Required, Path::new("/w"), None);
    // ABI 3 cannot confine TCP, so it does not count as a Landlock sandbox.
    assert!(matches!(
        select_backend(&cfg, &none),
        Err(SandboxError::Unavailable { .. })
    ));
    assert_eq!(
        select_backend(&cfg, &with_bwrap).expect("bwrap").0,
        Backend::Bubblewrap
    );
    assert_eq!(
        select_backend(&cfg, &ll).expect("landlock").0,
        Backend::Landlock
    );
    let off = SandboxConfig {
        mode: Mode::Off,
        ..cfg
    };
    assert_eq!(select_backend(&off, &ll).expect("off").0, Backend::None);
}

/// The carve-out arithmetic behind the Landlock backend, checked without running anything.
#[test]
fn landlock_grants_carve_out_git_and_hidden_paths() {
    use ::landlock::{Access, AccessFs, BitFlags};
    let fx = fixture();
    std::os::unix::fs::symlink(fx.home.join(".ssh"), fx.ws.join("keys")).expect("symlink");
    let tmp = fx.outside.clone();
    let grants = super::landlock::grants(&super::landlock::Plan {
        workspace: &fx.ws,
        tmp: &tmp,
        extra_read: std::slice::from_ref(&fx.home),
        readonly: &[fx.ws.join(".git")],
        hidden: &[fx.ws.join(".jingu"), fx.home.join(".ssh")],
        own_proc: false,
    });
    let rights = |p: &Path| -> BitFlags<AccessFs> {
        grants
            .iter()
            .filter(|g| g.path == p)
            .fold(BitFlags::EMPTY, |a, g| a | g.access)
    };
    let read = super::landlock::read_rights();
    // Ancestors of carve-outs get only what every carve-out below them may have.
    assert_eq!(rights(&fx.ws), BitFlags::from(AccessFs::ReadDir));
    assert_eq!(rights(&fx.ws.join(".git")), read);
    assert_eq!(
        rights(&fx.ws.join(".jingu")),
        BitFlags::from(AccessFs::ReadDir)
    );
    assert!(rights(&fx.ws.join("src")).contains(AccessFs::from_all(::landlock::ABI::V6)));
    assert!(rights(&fx.ws.join("README")).contains(AccessFs::WriteFile));
    // Hidden: names listable, contents never readable.
    assert_eq!(
        rights(&fx.home.join(".ssh")),
        BitFlags::from(AccessFs::ReadDir)
    );
    assert_eq!(
        rights(&fx.home.join("notes.txt")),
        read & AccessFs::from_file(::landlock::ABI::V6)
    );
    // Symlinks are never granted: their target could be anything.
    assert!(grants.iter().all(|g| g.path != fx.ws.join("keys")));
    assert!(!super::landlock::can_create_in(&fx.ws, &grants));
    assert!(super::landlock::can_create_in(&fx.ws.join("src"), &grants));
}

#[test]
fn secret_names_are_recognised() {
    for s in [
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "AWS_REGION",
        "DB_PASSWORD",
        "SSH_AUTH_SOCK",
        "client_secret",
    ] {
        assert!(is_secret_name(s), "{s}");
    }
    for s in ["PATH", "LANG", "CARGO_HOME", "RUST_LOG"] {
        assert!(!is_secret_name(s), "{s}");
    }
}

#[test]
fn probe_reports_this_machine() {
    let caps = probe();
    eprintln!("sandbox capabilities: {caps:?}");
    assert!(caps.seccomp, "seccomp is expected on any supported Linux");
}
