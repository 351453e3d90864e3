//! RealDoc edit benchmarks (DESIGN §6), each printing a ratio against a baseline measured in the
//! same run:
//! (a) one symbol-addressed edit (locate + splice + incremental re-parse + validate) in a generated
//!     ~20,000-line Rust file, vs a from-scratch parse plus a full-text rewrite of that file;
//! (b) bytes (≈ tokens × 4) an edit request needs vs a whole-file rewrite, on real files over 500
//!     lines (Rust std sources, CPython's stdlib) — and whether replacing each measured symbol with
//!     its own text round-trips byte-identically, a check of the engine on real code.
//!
//! The whole `jingu edit` process (spawn, policy, audit, snapshot, write) against `git add -A &&
//! git commit` and a Cline-style shadow-repository checkpoint, with its fsync and spawn floors,
//! is measured by the snapshot bench (`snapshot.rs`), on the same 1k/10k/100k-file trees.
//!
//! `JINGU_BENCH_QUICK=1` shrinks iteration counts and the real-file sample for CI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jingu_realdoc::{EditRequest, Op, ParsedFile, Target, plan, plan_parsed};
use jingu_syntax::{Language, SymbolKind, file_symbols, parse};

const MIN_LINES: usize = 500;

fn main() {
    let quick = jingu_benches::quick();
    symbol_edit_latency(quick);
    request_size(quick);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(iters: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..iters)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

/// ~20,000 lines: 400 structs, each with an impl of 8 documented methods.
fn generated_rust() -> String {
    let mut s = String::from("use std::fmt;\n\n");
    for t in 0..400 {
        s.push_str(&format!(
            "/// Type {t}.\n#[derive(Debug, Default)]\npub struct Type{t} {{\n    value: u64,\n}}\n\nimpl Type{t} {{\n"
        ));
        for m in 0..8 {
            s.push_str(&format!(
                "    /// Method {m}.\n    pub fn method_{m}(&self, x: u64) -> u64 {{\n        let y = self.value.wrapping_mul({m} + x);\n        y ^ (x >> 3)\n    }}\n\n"
            ));
        }
        s.push_str("}\n\n");
    }
    s
}

fn symbol_edit_latency(quick: bool) {
    let text = generated_rust();
    let lines = text.lines().count();
    let req = EditRequest::new(
        Target::Symbol("Type217/method_5".into()),
        Op::Replace,
        "/// Method 5, faster.\npub fn method_5(&self, x: u64) -> u64 {\n    self.value.rotate_left(x as u32)\n}\n",
    );
    let (warm_iters, cold_iters) = if quick { (30, 3) } else { (300, 15) };

    // What the LSP document mirror / symbol index already holds: the tree and the symbols.
    let doc = ParsedFile::new(&text, Language::Rust).expect("parse");
    let _ = doc.symbols();
    let check = plan_parsed(&doc, &req).expect("edit plans");
    assert!(check.new_text.contains("rotate_left"));
    let warm = time(warm_iters, || plan_parsed(&doc, &req).expect("edit"));
    let cold = time(cold_iters, || {
        plan(&text, Some(Language::Rust), &req).expect("edit")
    });
    let baseline = time(cold_iters, || {
        let tree = parse(Language::Rust, &text, None).expect("parse");
        let rewritten: String = text.lines().flat_map(|l| [l, "\n"]).collect();
        (tree, rewritten)
    });
    println!("edit/symbol: {lines}-line Rust file, replace `Type217/method_5`");
    println!(
        "  warm (tree + symbols held, as in the LSP mirror): {:>9.3} ms   target <= 2 ms",
        ms(warm)
    );
    println!(
        "  cold (parse + extract symbols + edit + validate): {:>9.3} ms",
        ms(cold)
    );
    println!(
        "  baseline (full parse + whole-file rewrite):       {:>9.3} ms",
        ms(baseline)
    );
    println!(
        "  ratio baseline/warm = {:.1}x   baseline/cold = {:.2}x",
        ratio(baseline, warm),
        ratio(baseline, cold)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn request_size(quick: bool) {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()).join("lib/rustlib/src/rust/library"));
    let cpython = PathBuf::from("/root/.pyenv/versions/3.11.7/lib/python3.11");
    let per_lang = if quick { 25 } else { 300 };
    let corpora: Vec<(&str, Option<PathBuf>, &str)> = vec![
        ("Rust std", sysroot.map(|p| p.join("core/src")), "rs"),
        ("CPython stdlib", Some(cpython), "py"),
    ];
    for (name, root, ext) in corpora {
        let Some(root) = root.filter(|r| r.is_dir()) else {
            println!("edit/tokens: {name}: sources not found, skipped");
            continue;
        };
        let mut files = Vec::new();
        collect(&root, ext, &mut files);
        files.sort();
        measure_corpus(name, &files, per_lang);
    }
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() && !p.ends_with("test") && !p.ends_with("tests") {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn measure_corpus(name: &str, files: &[PathBuf], limit: usize) {
    let (mut whole, mut request) = (0usize, 0usize);
    let mut ratios: Vec<f64> = Vec::new();
    let (mut identical, mut planned_ok, mut tried) = (0usize, 0usize, 0usize);
    for path in files {
        if ratios.len() >= limit {
            break;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if text.lines().count() <= MIN_LINES {
            continue;
        }
        let Some(lang) = Language::from_path(path) else {
            continue;
        };
        let symbols = file_symbols(lang, &text);
        let mut funcs: Vec<_> = symbols
            .symbols
            .iter()
            .filter(|s| matches!(s.kind, SymbolKind::Function | SymbolKind::Method))
            .collect();
        if funcs.is_empty() {
            continue;
        }
        // A typical edit: the median-sized function of the file.
        funcs.sort_by_key(|s| s.range.len());
        let sym = funcs[funcs.len() / 2];
        let body = &text[sym.range.clone()];
        let req = EditRequest::new(Target::Symbol(sym.name_path.clone()), Op::Replace, body);
        let wire = serde_json::json!({ "path": path, "edit": &req }).to_string();
        let rewrite = serde_json::json!({ "path": path, "content": &text }).to_string();
        whole += rewrite.len();
        request += wire.len();
        ratios.push(rewrite.len() as f64 / wire.len() as f64);
        tried += 1;
        if let Ok(p) = plan(&text, Some(lang), &req) {
            planned_ok += 1;
            identical += usize::from(p.new_text == text);
        }
    }
    if ratios.is_empty() {
        println!("edit/tokens: {name}: no files over {MIN_LINES} lines");
        return;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "edit/tokens: {name}: {} files > {MIN_LINES} lines, median-size function replaced",
        ratios.len()
    );
    println!(
        "  whole-file rewrite {:>9} tokens   edit requests {:>7} tokens   (bytes/4)",
        whole / 4,
        request / 4
    );
    println!(
        "  ratio: aggregate {:.1}x   median {:.1}x   worst {:.1}x   target >= 10x",
        whole as f64 / request as f64,
        ratios[ratios.len() / 2],
        ratios[0]
    );
    println!(
        "  self-replacement: {planned_ok}/{tried} planned, {identical}/{tried} byte-identical"
    );
}
