//! Tokens an agent task costs with Jingu's symbol-addressed context vs sending whole files.
//!
//! Task set: for every real source file over 500 lines in the corpora (Rust `core`/`alloc` sources
//! from rust-src, CPython's standard library), "change the median-size function of this file".
//! Jingu sends what its tools send for that task: the file's outline (`list_symbols`), the symbol
//! (`read_symbol`) and the edit request (the new symbol text). The baseline, computed on the same
//! files in the same run, sends the whole file as context and receives the whole file rewritten.
//! Tokens are estimated as bytes / 4 for both. Target: ≥ 10× fewer. `JINGU_BENCH_QUICK=1` uses
//! fewer files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::{Path, PathBuf};

use jingu_core::agent::read;
use jingu_syntax::{self as syntax, Language, SymbolKind};

fn corpora() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(out) = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
    {
        let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let lib = Path::new(&sysroot).join("lib/rustlib/src/rust/library");
        roots.extend([lib.join("core/src"), lib.join("alloc/src")]);
    }
    if let Ok(out) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
    {
        roots.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    roots.into_iter().filter(|r| r.is_dir()).collect()
}

fn main() {
    let quick = jingu_benches::quick();
    let per_corpus = if quick { 40 } else { 400 };
    let mut tasks = 0usize;
    let (mut jingu_bytes, mut whole_bytes) = (0usize, 0usize);
    let mut ratios = Vec::new();
    for root in corpora() {
        let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
            .build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .filter(|p| Language::from_path(p).is_some())
            .collect();
        files.sort();
        let mut used = 0;
        for path in files {
            if used == per_corpus {
                break;
            }
            let Ok(text) = jingu_index::read_source(&path) else {
                continue;
            };
            if text.lines().count() <= 500 {
                continue;
            }
            let Some(lang) = Language::from_path(&path) else {
                continue;
            };
            let file = syntax::file_symbols(lang, &text);
            let mut funcs: Vec<_> = file
                .symbols
                .iter()
                .filter(|s| matches!(s.kind, SymbolKind::Function | SymbolKind::Method))
                .collect();
            if funcs.is_empty() {
                continue;
            }
            funcs.sort_by_key(|s| s.range.len());
            let target = funcs[funcs.len() / 2];
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .to_string();
            let (Ok(outline), Ok(symbol)) = (
                read::outline(&rel, &text),
                read::symbol(&rel, &text, &target.name_path),
            ) else {
                continue;
            };
            // Context the model reads + the edit it sends back (the new symbol text, same size).
            let edit_request = format!(
                "{{\"path\":\"{rel}\",\"symbol\":\"{}\",\"op\":\"replace\",\"text\":\"\"}}",
                target.name_path
            )
            .len()
                + target.range.len();
            let ours = outline.len() + symbol.len() + edit_request;
            let theirs = 2 * text.len();
            jingu_bytes += ours;
            whole_bytes += theirs;
            ratios.push(theirs as f64 / ours as f64);
            tasks += 1;
            used += 1;
        }
    }
    assert!(
        tasks > 0,
        "no corpus found: install rust-src (rustup component add rust-src) or python3"
    );
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "context tokens per task: {tasks} tasks (change one function in a file over 500 lines)"
    );
    println!(
        "  Jingu (outline + symbol + edit): {:>10} tokens total, {:>8} per task",
        jingu_bytes / 4,
        jingu_bytes / 4 / tasks
    );
    println!(
        "  whole file in + whole file out: {:>10} tokens total, {:>8} per task",
        whole_bytes / 4,
        whole_bytes / 4 / tasks
    );
    println!(
        "  ratio: {:.1}x fewer tokens in aggregate, median {:.1}x, worst {:.1}x (target >= 10x)",
        whole_bytes as f64 / jingu_bytes as f64,
        median,
        ratios[0]
    );
}
