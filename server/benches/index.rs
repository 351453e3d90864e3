//! Workspace symbol index on real corpora (the Rust std sources and CPython's stdlib), against
//! universal-ctags on the same trees in the same run, plus the cost of re-indexing one file.
//!
//! `cargo bench --bench index`; `JINGU_BENCH_QUICK=1` indexes a few sub-trees only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jingu_docs::{Document, Encoding};
use jingu_index::Index;
use jingu_syntax::Language;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The corpora present on this machine: (label, root).
fn corpora(quick: bool) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    if let Some(sysroot) = command_output("rustc", &["--print", "sysroot"]) {
        let lib = Path::new(&sysroot).join("lib/rustlib/src/rust/library");
        let root = if quick { lib.join("alloc") } else { lib };
        if root.is_dir() {
            out.push(("rust std", root));
        } else {
            eprintln!("rust std sources missing: run `rustup component add rust-src`");
        }
    }
    let script = "import sysconfig;print(sysconfig.get_paths()['stdlib'])";
    if let Some(stdlib) = command_output("python3", &["-c", script]) {
        let lib = PathBuf::from(stdlib);
        let root = if quick { lib.join("asyncio") } else { lib };
        if root.is_dir() {
            out.push(("cpython stdlib", root));
        }
    }
    out
}

/// Best of `runs` wall-clock timings.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ctags_time(root: &Path, runs: usize) -> Option<Duration> {
    let version = command_output("ctags", &["--version"])?;
    if !version.contains("Universal Ctags") {
        return None;
    }
    let out = std::env::temp_dir().join(format!("jingu-bench-tags-{}", std::process::id()));
    let out_arg = out.to_string_lossy().to_string();
    let root_arg = root.to_string_lossy().to_string();
    let langs = "--languages=Rust,Python,JavaScript,TypeScript,Go,Java,C,C++";
    let mut ok = true;
    let t = best_of(runs, || {
        ok &= Command::new("ctags")
            .args(["-R", langs, "-f", &out_arg, &root_arg])
            .status()
            .is_ok_and(|s| s.success());
    });
    let _ = std::fs::remove_file(&out);
    ok.then_some(t)
}

/// py-tree-sitter tagging the same tree (Rust and Python files): (files, tags, best time).
fn py_tags_time(root: &Path, runs: usize) -> Option<(usize, usize, Duration)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py_tags.py");
    let mut best: Option<(usize, usize, Duration)> = None;
    for _ in 0..runs {
        let out = command_output(
            "python3",
            &[&script.to_string_lossy(), &root.to_string_lossy()],
        )?;
        let mut it = out.split_whitespace();
        let files = it.next()?.parse().ok()?;
        let tags = it.next()?.parse().ok()?;
        let t = Duration::from_secs_f64(it.next()?.parse().ok()?);
        if best.is_none_or(|(_, _, b)| t < b) {
            best = Some((files, tags, t));
        }
    }
    best
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Median time to re-index `rel` from in-memory text, alternating two versions so each update
/// really changes the file.
fn reindex(index: &Index, root: &Path, rel: &str, iterations: usize) -> Option<(usize, Duration)> {
    let text = std::fs::read_to_string(root.join(rel)).ok()?;
    let edited = format!("{text}\n// edited\n");
    let times: Vec<Duration> = (0..iterations)
        .map(|i| {
            let t = Instant::now();
            index.update_file(rel, if i % 2 == 0 { &edited } else { &text });
            t.elapsed()
        })
        .collect();
    Some((text.lines().count(), median(times)))
}

/// Median time to re-index `rel` the way the LSP server does while the user types: one character
/// typed into the editor buffer mid-file, the mirror re-parsed incrementally from its previous tree,
/// the symbols put into the index.
fn reindex_typing(index: &Index, root: &Path, rel: &str, iterations: usize) -> Option<Duration> {
    let text = std::fs::read_to_string(root.join(rel)).ok()?;
    let language = Language::from_path(Path::new(rel))?;
    let mut doc = Document::new(&text, 1, Some(language));
    doc.symbols()?;
    let line = (text.lines().count() / 2) as u32;
    let times: Vec<Duration> = (0..iterations)
        .map(|i| {
            let change = TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(line, 0), Position::new(line, 0))),
                range_length: None,
                text: if i % 2 == 0 { " " } else { "\n" }.to_string(),
            };
            let t = Instant::now();
            if doc.apply_change(&change, Encoding::Utf16).is_ok()
                && let Some(symbols) = doc.symbols()
            {
                index.put_symbols(rel, symbols);
            }
            t.elapsed()
        })
        .collect();
    Some(median(times))
}

/// Wall time to only parse every indexed file on `threads` threads: what any tree-sitter index
/// pays before extracting a single symbol.
fn parse_floor(index: &Index, root: &Path, threads: usize) -> Duration {
    let texts: Vec<(Language, String)> = index
        .paths()
        .into_iter()
        .filter_map(|rel| {
            let language = Language::from_path(Path::new(&rel))?;
            Some((language, std::fs::read_to_string(root.join(&rel)).ok()?))
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((language, text)) = texts.get(i) else {
                        break;
                    };
                    std::hint::black_box(jingu_syntax::parse(*language, text, None));
                }
            });
        }
    });
    t.elapsed()
}

/// A typical big source file (closest to 40 KB, about 1,000 lines) and the largest file.
fn sample_files(root: &Path, index: &Index) -> Vec<String> {
    let sized: Vec<(u64, String)> = index
        .paths()
        .into_iter()
        .filter_map(|rel| Some((std::fs::metadata(root.join(&rel)).ok()?.len(), rel)))
        .collect();
    let typical = sized.iter().min_by_key(|(len, _)| len.abs_diff(40_000));
    let largest = sized.iter().max_by_key(|(len, _)| *len);
    typical
        .into_iter()
        .chain(largest)
        .map(|(_, rel)| rel.clone())
        .collect()
}

fn main() {
    let quick = std::env::var_os("JINGU_BENCH_QUICK").is_some();
    let runs = if quick { 1 } else { 3 };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("symbol index benchmark ({threads} threads, best of {runs}, quick={quick})");
    for (label, root) in corpora(quick) {
        let mut index = None;
        let ours = best_of(runs, || index = Some(Index::build(&root)));
        let Some(index) = index else { continue };
        let stats = index.build_stats();
        let secs = ours.as_secs_f64().max(1e-9);
        println!(
            "{label}: {} files, {:.1} MB, {} symbols, {} skipped in {:.3} s = {:.0} files/s, {:.1} MB/s",
            stats.files,
            stats.bytes as f64 / 1e6,
            stats.symbols,
            stats.skipped,
            secs,
            stats.files as f64 / secs,
            stats.bytes as f64 / 1e6 / secs,
        );
        // Reopening the workspace: the index saved by the last session vouches for unchanged files.
        let state = tempfile::tempdir().expect("tempdir");
        let saved = state.path().join("symbols");
        let _ = Index::build_saved(&root, &saved);
        let mut reused = 0;
        let warm = best_of(runs, || {
            reused = Index::build_saved(&root, &saved).build_stats().reused;
        });
        println!(
            "{label}: reopened with the saved index ({reused} of {} files unchanged) in {:.3} s",
            stats.files,
            warm.as_secs_f64()
        );
        let floor = parse_floor(&index, &root, threads);
        println!(
            "{label}: tree-sitter parsing alone on {threads} threads (the floor of a cold index) {:.3} s",
            floor.as_secs_f64()
        );
        match ctags_time(&root, runs) {
            Some(ct) => {
                let ct_s = ct.as_secs_f64().max(1e-9);
                println!(
                    "{label}: ctags -R {ct_s:.3} s; jingu/ctags time ratio: cold {:.2}x, reopened {:.2}x, parse floor {:.2}x (target <= 2x)",
                    secs / ct_s,
                    warm.as_secs_f64() / ct_s,
                    floor.as_secs_f64() / ct_s,
                );
            }
            None => println!("{label}: universal-ctags not on PATH, no baseline"),
        }
        match py_tags_time(&root, runs) {
            Some((files, tags, py)) => println!(
                "{label}: py-tree-sitter tagging ({files} Rust/Python files, {tags} tags, one thread) {:.3} s; py/jingu speed-up: cold {:.2}x, reopened {:.2}x (target >= 3x)",
                py.as_secs_f64(),
                py.as_secs_f64() / secs,
                py.as_secs_f64() / warm.as_secs_f64().max(1e-9),
            ),
            None => println!(
                "{label}: py-tree-sitter not installed (scripts/bench.sh installs it), no baseline"
            ),
        }
        let iterations = if quick { 50 } else { 200 };
        for rel in sample_files(&root, &index) {
            if let Some((lines, t)) = reindex(&index, &root, &rel, iterations) {
                println!(
                    "{label}: re-index {rel} ({lines} lines), median of {iterations}: {:.3} ms from new text (full parse)",
                    t.as_secs_f64() * 1e3
                );
            }
            if let Some(t) = reindex_typing(&index, &root, &rel, iterations) {
                println!(
                    "{label}: re-index {rel} while typing in the editor, median of {iterations}: {:.3} ms (target <= 2 ms)",
                    t.as_secs_f64() * 1e3
                );
            }
        }
    }
}
