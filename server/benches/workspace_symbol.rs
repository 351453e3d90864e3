//! `workspace/symbol` search latency on one index of both fixed corpora (Rust std from the
//! toolchain's rust-src, CPython 3.11's stdlib and test suite from pinned Debian packages) and the
//! Rust sources of every crates.io package in Jingu's Cargo.lock (pinned by the lock file, as
//! Cargo fetched them from crates.io for the build): ≥ 400k symbols, printed with the file and
//! distinct-name counts. The baseline is the previous algorithm — score every distinct name, sort
//! all hits, take `limit` — kept here only for that. Each query is run by both, alternating which
//! goes first, so load from other processes hits both alike; the ratio is what counts.
//!
//! Queries are drawn (fixed seed) from the corpus's own names the way people type them: 1–3
//! character prefixes (the first keystrokes), 4–10 character prefixes, full names,
//! camelCase/snake_case initials (`hm`), camel humps (`HsMp`), a piece from the middle, a name with
//! letters dropped, typos (neighbours swapped, a letter replaced), random letters, and random
//! letters that match nothing. Per class: p50/p99/max of both and the p99 ratio. Last, what the LSP
//! server adds: converting the hits (at most `limit`) to `WorkspaceSymbol`s with URIs.
//!
//! `cargo bench -p jingu-benches --bench workspace_symbol`; `JINGU_BENCH_QUICK=1` runs one round
//! instead of five, on a subset of the corpora; `JINGU_BENCH_ROUNDS` sets the rounds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "corpus.rs"]
mod corpus;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jingu_index::Index;
use jingu_syntax::{FileSymbols, Symbol};
use tower_lsp_server::ls_types::{
    Location, OneOf, Position, Range, SymbolKind, Uri, WorkspaceSymbol,
};

/// What the LSP server asks for.
const LIMIT: usize = 256;

/// Per name: its lowercase and, per file, the name paths.
type OldEntry = (String, HashMap<Arc<str>, Vec<String>>);

/// The previous `workspace/symbol` implementation, verbatim in behaviour.
struct Baseline {
    by_name: HashMap<String, OldEntry>,
    files: HashMap<String, Arc<FileSymbols>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OldScore {
    Exact,
    Prefix,
    Substring,
    Fuzzy,
}

impl Baseline {
    fn new(index: &Index) -> Baseline {
        let mut by_name: HashMap<String, OldEntry> = HashMap::new();
        let mut files = HashMap::new();
        for rel in index.paths() {
            let Some(symbols) = index.file(&rel) else {
                continue;
            };
            let key: Arc<str> = Arc::from(rel.as_str());
            for s in &symbols.symbols {
                by_name
                    .entry(s.name.clone())
                    .or_insert_with(|| (s.name.to_lowercase(), HashMap::new()))
                    .1
                    .entry(key.clone())
                    .or_default()
                    .push(s.name_path.clone());
            }
            files.insert(rel, symbols);
        }
        Baseline { by_name, files }
    }

    fn search(&self, query: &str, limit: usize) -> Vec<(String, Symbol)> {
        let q = query.to_lowercase();
        let mut hits: Vec<(OldScore, &str)> = self
            .by_name
            .iter()
            .filter_map(|(name, (lower, _))| old_score(lower, &q).map(|s| (s, name.as_str())))
            .collect();
        hits.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.len().cmp(&b.1.len()))
                .then(a.1.cmp(b.1))
        });
        let mut out = Vec::new();
        for (_, name) in hits {
            let mut defs: Vec<(&Arc<str>, &String)> = self.by_name[name]
                .1
                .iter()
                .flat_map(|(f, paths)| paths.iter().map(move |p| (f, p)))
                .collect();
            defs.sort();
            for (file, path) in defs {
                if out.len() >= limit {
                    return out;
                }
                if let Some(symbol) = self.files.get(&**file).and_then(|f| f.get(path)) {
                    out.push((file.to_string(), symbol.clone()));
                }
            }
        }
        out
    }
}

fn old_score(name: &str, query: &str) -> Option<OldScore> {
    if name == query {
        Some(OldScore::Exact)
    } else if name.starts_with(query) {
        Some(OldScore::Prefix)
    } else if name.contains(query) {
        Some(OldScore::Substring)
    } else {
        let mut hay = name.chars();
        query
            .chars()
            .all(|c| hay.any(|h| h == c))
            .then_some(OldScore::Fuzzy)
    }
}

/// Both corpora and the locked dependencies' sources under one root, hard-linked (copied across
/// file systems); the number of dependency packages. Quick mode (CI's time budget) takes one
/// sub-tree of each corpus and the first 40 dependencies.
fn combined_tree(dest: &Path, quick: bool) -> usize {
    for (i, (_, src)) in corpus::all(quick).into_iter().enumerate() {
        link_tree(&src, &dest.join(["rust", "python"][i.min(1)]));
    }
    // The dependencies' Rust sources only (their vendored C and C++ would dwarf the rest).
    let mut deps = corpus::locked_dependencies();
    if quick {
        deps.truncate(40);
    }
    for (id, src) in &deps {
        link_tree_only(src, &dest.join("deps").join(id), Some("rs"));
    }
    deps.len()
}

fn link_tree(src: &Path, dest: &Path) {
    link_tree_only(src, dest, None);
}

fn link_tree_only(src: &Path, dest: &Path, ext: Option<&str>) {
    std::fs::create_dir_all(dest).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read corpus dir").flatten() {
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        let Ok(ty) = entry.file_type() else { continue };
        let wanted = ext.is_none_or(|e| from.extension().is_some_and(|x| x == e));
        if ty.is_dir() {
            link_tree_only(&from, &to, ext);
        } else if ty.is_file() && wanted && std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).expect("copy corpus file");
        }
    }
}

/// Word pieces of a name: `HashMap` → `Hash`, `Map`; `unwrap_or_else` → `unwrap`, `or`, `else`.
fn words(name: &str) -> Vec<&str> {
    let b = name.as_bytes();
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=b.len() {
        let boundary = i == b.len()
            || !b[i].is_ascii_alphanumeric()
            || (i > 0 && b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase());
        if boundary && let Some(s) = start.take() {
            out.push(&name[s..i]);
        }
        if i < b.len() && b[i].is_ascii_alphanumeric() && start.is_none() {
            start = Some(i);
        }
    }
    out
}

/// (class, query) pairs drawn from the corpus's names, the way people type them.
fn queries(names: &[&str], rng: &mut fastrand::Rng) -> Vec<(&'static str, String)> {
    let ascii: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.is_ascii() && n.len() >= 4)
        .collect();
    let mut out = Vec::new();
    // The first keystrokes: the results while the user has typed 1–3 characters.
    for _ in 0..150 {
        let name = ascii[rng.usize(..ascii.len())];
        let len = rng.usize(1..=3);
        out.push(("prefix 1-3 chars", name[..len].to_string()));
    }
    // Typing on: 4–10 characters of a name.
    for _ in 0..40 {
        let name = ascii[rng.usize(..ascii.len())];
        for len in 4..=name.len().min(10) {
            out.push(("prefix 4-10 chars", name[..len].to_string()));
        }
    }
    for _ in 0..150 {
        let name = ascii[rng.usize(..ascii.len())];
        out.push(("full name", name.to_string()));
    }
    let multi: Vec<&str> = ascii
        .iter()
        .copied()
        .filter(|n| words(n).len() >= 2)
        .collect();
    // `hm` for HashMap.
    for _ in 0..150 {
        let name = multi[rng.usize(..multi.len())];
        let initials: String = words(name)
            .iter()
            .filter_map(|w| w.chars().next())
            .collect();
        out.push(("initials", initials.to_lowercase()));
    }
    // `HsMp` for HashMap: each word's first letter, in its case, and one more of its letters.
    for _ in 0..150 {
        let name = multi[rng.usize(..multi.len())];
        let humps: String = words(name)
            .iter()
            .flat_map(|w| {
                let b = w.as_bytes();
                let more = (b.len() > 1).then(|| char::from(b[rng.usize(1..b.len())]));
                std::iter::once(char::from(b[0])).chain(more)
            })
            .collect();
        out.push(("camel humps", humps));
    }
    for _ in 0..150 {
        let name = ascii[rng.usize(..ascii.len())];
        let at = rng.usize(..=name.len() - 4);
        out.push(("middle piece", name[at..at + 4].to_lowercase()));
    }
    for _ in 0..150 {
        let name = ascii[rng.usize(..ascii.len())];
        let dropped: String = name
            .chars()
            .enumerate()
            .filter(|(i, _)| i % 3 != 1)
            .map(|(_, c)| c)
            .collect();
        out.push(("letters dropped", dropped));
    }
    // Typos: two neighbouring letters swapped, or one replaced.
    for _ in 0..150 {
        let name = ascii[rng.usize(..ascii.len())];
        let mut b = name.as_bytes().to_vec();
        let at = rng.usize(..b.len() - 1);
        if rng.bool() {
            b.swap(at, at + 1);
        } else {
            b[at] = b'a' + rng.u8(..26);
        }
        out.push(("typo", String::from_utf8_lossy(&b).into_owned()));
    }
    for _ in 0..150 {
        let q: String = (0..rng.usize(3..8))
            .map(|_| char::from(b'a' + rng.u8(..26)))
            .collect();
        out.push(("random letters", q));
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let quick = std::env::var_os("JINGU_BENCH_QUICK").is_some();
    // `JINGU_BENCH_ROUNDS` overrides (the baseline's full scans make a full run long).
    let rounds = std::env::var("JINGU_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let tmp = tempfile::tempdir().expect("tempdir");
    let packages = combined_tree(tmp.path(), quick);
    let index = Index::build(tmp.path());
    let stats = index.build_stats();
    let baseline = Baseline::new(&index);
    let names: Vec<&str> = {
        let mut v: Vec<&str> = baseline.by_name.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    };
    println!(
        "workspace/symbol on Rust std + CPython stdlib ({}) + the Rust sources of Jingu's {packages} locked dependencies: {} files, {} symbols, {} distinct names, limit {LIMIT}",
        corpus::cpython_versions(),
        stats.files,
        stats.symbols,
        names.len()
    );
    assert!(
        quick || stats.symbols >= 400_000,
        "the full corpus must hold at least 400k symbols"
    );
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut qs = queries(&names, &mut rng);
    // Random letters that match nothing at all are their own class: the whole index is searched.
    for (class, q) in &mut qs {
        if *class == "random letters" && baseline.search(q, 1).is_empty() {
            *class = "no match";
        }
    }
    let mut ours: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut old: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut agree = 0usize;
    for round in 0..rounds {
        for (i, (class, q)) in qs.iter().enumerate() {
            let run_ours = || {
                let t = Instant::now();
                let hits = std::hint::black_box(index.search(q, LIMIT));
                (t.elapsed(), hits)
            };
            let run_old = || {
                let t = Instant::now();
                let hits = std::hint::black_box(baseline.search(q, LIMIT));
                (t.elapsed(), hits)
            };
            let ((a, hits), (b, old_hits)) = if (i + round) % 2 == 0 {
                let a = run_ours();
                (a, run_old())
            } else {
                let b = run_old();
                (run_ours(), b)
            };
            // Same number of results: the new tiers reorder, they never lose a match.
            if round == 0 && hits.len() == old_hits.len() {
                agree += 1;
            }
            ours.entry(class).or_default().push(a);
            old.entry(class).or_default().push(b);
        }
    }
    println!(
        "{} queries x {rounds} rounds, A/B alternating per query; same result count as the old algorithm for {agree} of {}",
        qs.len(),
        qs.len()
    );
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9}",
        "queries", "p50 ms", "p99 ms", "max ms", "old p50", "old p99", "old max", "p99 old/new"
    );
    let mut all_ours = Vec::new();
    let mut all_old = Vec::new();
    let mut classes: Vec<&str> = ours.keys().copied().collect();
    classes.sort_unstable();
    let row = |label: &str, a: &mut Vec<Duration>, b: &mut Vec<Duration>| {
        a.sort();
        b.sort();
        println!(
            "{label:<24} {:>9.3} {:>9.3} {:>9.3} {:>11.3} {:>11.3} {:>11.3} {:>8.1}x",
            ms(percentile(a, 0.5)),
            ms(percentile(a, 0.99)),
            ms(*a.last().expect("timings")),
            ms(percentile(b, 0.5)),
            ms(percentile(b, 0.99)),
            ms(*b.last().expect("timings")),
            ms(percentile(b, 0.99)) / ms(percentile(a, 0.99)).max(1e-6),
        );
    };
    for class in classes {
        let (mut a, mut b) = (ours[class].clone(), old[class].clone());
        all_ours.extend_from_slice(&a);
        all_old.extend_from_slice(&b);
        row(class, &mut a, &mut b);
    }
    row("all", &mut all_ours, &mut all_old);
    println!("target: p99 <= 2 ms on >= 400k symbols");
    // What the LSP server adds on top (server.rs `to_lsp`, symbols.rs `workspace_symbol`): a URI
    // and a `WorkspaceSymbol` for each of the at most `LIMIT` hits, never for other candidates.
    let mut convert = Vec::new();
    let mut search = Vec::new();
    for (_, q) in &qs {
        let t = Instant::now();
        let hits = index.search(q, LIMIT);
        search.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(to_lsp(tmp.path(), hits));
        convert.push(t.elapsed());
    }
    search.sort();
    convert.sort();
    println!(
        "LSP conversion of the hits (URI + WorkspaceSymbol each): p50 {:.3} ms, p99 {:.3} ms; the search itself: p50 {:.3} ms, p99 {:.3} ms",
        ms(percentile(&convert, 0.5)),
        ms(percentile(&convert, 0.99)),
        ms(percentile(&search, 0.5)),
        ms(percentile(&search, 0.99)),
    );
}

/// The LSP server's conversion of search hits (server.rs `to_lsp` over symbols.rs
/// `workspace_symbol`), restated: both are private to `jingu-lsp`.
fn to_lsp(root: &Path, hits: Vec<(String, Symbol)>) -> Vec<WorkspaceSymbol> {
    hits.into_iter()
        .filter_map(|(rel, s)| {
            let uri = Uri::from_file_path(root.join(&rel))?;
            let start = Position::new(s.start_line.saturating_sub(1) as u32, 0);
            let end = Position::new(s.end_line as u32, 0);
            Some(WorkspaceSymbol {
                name: s.name.clone(),
                kind: SymbolKind::FUNCTION,
                tags: None,
                container_name: s
                    .name_path
                    .rsplit_once('/')
                    .map(|(container, _)| container.to_string()),
                location: OneOf::Left(Location::new(uri, Range::new(start, end))),
                data: None,
            })
        })
        .collect()
}
