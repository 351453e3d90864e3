//! Cost of confinement per command: `true` under each available backend vs unconfined
//! (`Mode::Off`, which still scrubs the environment and applies limits). Prints the ratios, then
//! runs the divan benchmarks. `JINGU_BENCH_QUICK=1` shrinks the sample for CI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use jingu_sandbox::{Backend, Mode, SandboxConfig, probe, run};
use std::time::{Duration, Instant};

fn config(ws: &std::path::Path, mode: Mode, backend: Backend) -> SandboxConfig {
    let mut cfg = SandboxConfig::for_workspace(mode, ws, None);
    cfg.backends = vec![backend];
    cfg
}

fn backends() -> Vec<(&'static str, Mode, Backend)> {
    let caps = probe();
    let mut v = vec![("unconfined", Mode::Off, Backend::None)];
    if caps.landlock_usable() {
        v.push(("landlock", Mode::Required, Backend::Landlock));
    }
    if caps.bwrap.is_some() {
        v.push(("bubblewrap", Mode::Required, Backend::Bubblewrap));
    }
    v
}

fn time_runs(rt: &tokio::runtime::Runtime, cfg: &SandboxConfig, n: u32) -> Duration {
    let argv = vec!["true".to_string()];
    let start = Instant::now();
    for _ in 0..n {
        let out = rt.block_on(run(cfg, &argv, None)).expect("run");
        assert!(out.status.success());
    }
    start.elapsed() / n
}

fn main() {
    let quick = jingu_benches::quick();
    let n = if quick { 5 } else { 30 };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ws = tempfile::tempdir().expect("ws");
    std::fs::create_dir(ws.path().join(".git")).expect("git");
    let mut base = None;
    for (name, mode, backend) in backends() {
        let per = time_runs(&rt, &config(ws.path(), mode, backend), n);
        let b = *base.get_or_insert(per);
        println!(
            "sandbox `true` {name:>10}: {:>8.2} ms/command, {:.2}x unconfined",
            per.as_secs_f64() * 1e3,
            per.as_secs_f64() / b.as_secs_f64()
        );
    }
    if !quick {
        divan::main();
    }
}

#[divan::bench(args = ["unconfined", "landlock", "bubblewrap"], sample_count = 10)]
fn run_true(bencher: divan::Bencher, name: &str) {
    let Some((_, mode, backend)) = backends().into_iter().find(|(n, ..)| *n == name) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ws = tempfile::tempdir().expect("ws");
    let cfg = config(ws.path(), mode, backend);
    let argv = vec!["true".to_string()];
    bencher.bench_local(|| rt.block_on(run(&cfg, &argv, None)).expect("run"));
}
