//! The fixed corpora of the benchmarks, so numbers are comparable from run to run and machine to
//! machine: the Rust standard library from `rust-src` (pinned by the toolchain) and CPython 3.11's
//! standard library and test suite from pinned Debian packages, which `scripts/bench.sh` unpacks
//! into `target/bench-corpora/cpython` (see there for the versions). Never whatever happens to be
//! installed in a site-packages directory. For a corpus the size of a big workspace, also the
//! sources of Jingu's own dependencies, pinned by Cargo.lock (what a Rust workspace's symbol
//! search covers: rust-analyzer indexes dependencies too).

#![allow(dead_code)] // Each bench uses some of these.

use std::path::{Path, PathBuf};
use std::process::Command;

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `library/` of the toolchain's `rust-src` component.
pub(crate) fn rust_std() -> PathBuf {
    let sysroot = command_output("rustc", &["--print", "sysroot"])
        .unwrap_or_else(|| panic!("corpus: `rustc --print sysroot` failed"));
    let lib = Path::new(&sysroot).join("lib/rustlib/src/rust/library");
    assert!(
        lib.is_dir(),
        "corpus: {} missing: run `rustup component add rust-src` (scripts/bench.sh does)",
        lib.display()
    );
    lib
}

/// The unpacked CPython stdlib (`JINGU_BENCH_CPYTHON` overrides the directory).
pub(crate) fn cpython_stdlib() -> PathBuf {
    let dir = std::env::var_os("JINGU_BENCH_CPYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-corpora/cpython"),
        PathBuf::from,
    );
    let lib = dir.join("usr/lib/python3.11");
    assert!(
        lib.join("tkinter/__init__.py").is_file() && lib.join("test").is_dir(),
        "corpus: the pinned CPython stdlib is not unpacked at {}: run scripts/bench.sh (or set \
         JINGU_BENCH_CPYTHON to a directory holding usr/lib/python3.11)",
        lib.display()
    );
    lib
}

/// The pinned package versions the CPython corpus was unpacked from (written by bench.sh).
pub(crate) fn cpython_versions() -> String {
    let dir = std::env::var_os("JINGU_BENCH_CPYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-corpora/cpython"),
        PathBuf::from,
    );
    std::fs::read_to_string(dir.join("VERSIONS"))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown versions".into())
}

/// (label, root) of both corpora; quick mode takes one sub-tree of each.
pub(crate) fn all(quick: bool) -> Vec<(&'static str, PathBuf)> {
    let (rust, python) = (rust_std(), cpython_stdlib());
    if quick {
        vec![
            ("rust std (alloc)", rust.join("alloc")),
            ("cpython stdlib (asyncio)", python.join("asyncio")),
        ]
    } else {
        vec![("rust std", rust), ("cpython stdlib", python)]
    }
}

/// `(name-version, source dir)` of every crates.io package in Jingu's Cargo.lock, as Cargo
/// unpacked them for the build.
pub(crate) fn locked_dependencies() -> Vec<(String, PathBuf)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut deps: Vec<(String, PathBuf)> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| {
            p["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .filter_map(|p| {
            let dir = Path::new(p["manifest_path"].as_str()?)
                .parent()?
                .to_path_buf();
            let id = format!("{}-{}", p["name"].as_str()?, p["version"].as_str()?);
            dir.is_dir().then_some((id, dir))
        })
        .collect();
    deps.sort();
    deps
}
