//! `workspace/symbol` search latency on three indexes — the fixed corpora (Rust std + CPython
//! stdlib); those with the sources of the first Cargo.lock dependencies (≥ 400k symbols, the
//! target's scale); those with every locked dependency (2.27M symbols) — against the previous
//! algorithm — score every distinct name, sort all hits, take
//! `limit` — kept here only as the baseline. Each query is run by both, alternating
//! which goes first, so load from other processes hits both alike; the ratio is what counts.
//!
//! Queries are drawn (fixed seed) from the corpus's own names the way people type them: every
//! prefix while typing a name, camelCase/snake_case initials, a piece from the middle, a name with
//! letters dropped, and strings that match nothing.
//!
//! `cargo bench -p jingu-benches --bench workspace_symbol`; `JINGU_BENCH_QUICK=1` runs one round
//! instead of five, on a subset of the corpora; `JINGU_BENCH_ROUNDS=N` sets the rounds;
//! `JINGU_BENCH_ONLY=1` runs only the index of that number (0, 1 or 2, smallest first).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "corpus.rs"]
mod corpus;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jingu_index::Index;
use jingu_syntax::{FileSymbols, Symbol};

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

/// The first this many locked dependencies (Cargo.lock order) join the corpora for the index
/// of at least 400k symbols, the scale; quick mode takes fewer.
const MID_DEPS: usize = 170;

/// Three trees, hard-linked (copied across file systems): both corpora; those and the first
/// [`MID_DEPS`] locked dependencies' sources; those and every dependency. (label, root) each.
/// Quick mode (CI's time budget) takes one sub-tree of each corpus and 10 / 40 dependencies.
fn trees(dest: &Path, quick: bool) -> Vec<(String, PathBuf)> {
    let corpora = corpus::all(quick);
    // The dependencies' Rust sources only (their vendored C and C++ would dwarf the rest).
    let mut deps = corpus::locked_dependencies();
    let (mid, all) = if quick {
        (10, 40)
    } else {
        (MID_DEPS, deps.len())
    };
    deps.truncate(all);
    let names: Vec<&str> = corpora.iter().map(|(name, _)| *name).collect();
    let base = format!("{} ({})", names.join(" + "), corpus::cpython_versions());
    let mut out = Vec::new();
    for (n, label) in [
        (0, base.clone()),
        (
            mid,
            format!("{base} + the Rust sources of the first {mid} locked dependencies"),
        ),
        (
            all,
            format!("{base} + the Rust sources of all {all} locked dependencies"),
        ),
    ] {
        let root = dest.join(format!("deps{n}"));
        for (i, (_, src)) in corpora.iter().enumerate() {
            link_tree(src, &root.join(["rust", "python"][i.min(1)]));
        }
        for (id, src) in &deps[..n] {
            link_tree_only(src, &root.join("deps").join(id), Some("rs"));
        }
        out.push((label, root));
    }
    out
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

/// (class, query) pairs drawn from the corpus's names.
fn queries(names: &[&str], rng: &mut fastrand::Rng) -> Vec<(&'static str, String)> {
    let ascii: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.is_ascii() && n.len() >= 4)
        .collect();
    let mut out = Vec::new();
    for _ in 0..60 {
        let name = ascii[rng.usize(..ascii.len())];
        for len in 1..=name.len().min(10) {
            out.push(("typing a name", name[..len].to_string()));
        }
    }
    let multi: Vec<&str> = ascii
        .iter()
        .copied()
        .filter(|n| words(n).len() >= 2)
        .collect();
    for _ in 0..150 {
        let name = multi[rng.usize(..multi.len())];
        let initials: String = words(name)
            .iter()
            .filter_map(|w| w.chars().next())
            .collect();
        out.push(("initials", initials.to_lowercase()));
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
    for _ in 0..60 {
        let q: String = (0..rng.usize(3..8))
            .map(|_| char::from(b'a' + rng.u8(..26)))
            .collect();
        out.push(("random (mostly misses)", q));
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
    let quick = jingu_benches::quick();
    let rounds = std::env::var("JINGU_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let tmp = tempfile::tempdir().expect("tempdir");
    let only: Option<usize> = std::env::var("JINGU_BENCH_ONLY")
        .ok()
        .map(|n| n.parse().expect("JINGU_BENCH_ONLY: 0, 1 or 2"));
    let trees = trees(tmp.path(), quick);
    let symbols: Vec<usize> = trees
        .iter()
        .enumerate()
        .map(|(i, (label, root))| {
            if only.is_none_or(|o| o == i) {
                run(label, root, rounds)
            } else {
                0
            }
        })
        .collect();
    // For scale: the peak is the largest index with the baseline's own copy of its tables.
    if let Some(rss) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
    {
        println!(
            "\npeak resident memory (the largest index and its baseline): {}",
            rss.trim_start_matches("VmHWM:").trim()
        );
    }
    assert!(
        quick || only.is_some_and(|o| o != 1) || symbols[1] >= 400_000,
        "the middle index must hold at least 400k symbols: raise MID_DEPS"
    );
    println!("target: p99 <= 2 ms on >= 400k symbols");
}

/// The bench on one index of `root`; its symbol count.
fn run(label: &str, root: &Path, rounds: usize) -> usize {
    let index = Index::build(root);
    let stats = index.build_stats();
    let baseline = Baseline::new(&index);
    let names: Vec<&str> = {
        let mut v: Vec<&str> = baseline.by_name.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    };
    println!(
        "\nworkspace/symbol on {label}: {} files, {} symbols, {} distinct names, limit {LIMIT}; index built in {:.1} s, search structure {:.0} MB",
        stats.files,
        stats.symbols,
        names.len(),
        stats.elapsed.as_secs_f64(),
        index.search_bytes() as f64 / 1e6
    );
    let mut rng = fastrand::Rng::with_seed(2026);
    let qs = queries(&names, &mut rng);
    // For a profiler: only these queries (comma-separated), ours only, for about ten seconds;
    // each one's median. Between queries 64 MB are read, so caches are as cold as the baseline
    // leaves them in the A/B runs.
    if let Ok(list) = std::env::var("JINGU_BENCH_PROFILE") {
        let list: Vec<&str> = list.split(',').collect();
        let mut times = vec![Vec::new(); list.len()];
        let flush = vec![1u64; 8 << 20];
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            for (q, times) in list.iter().zip(&mut times) {
                std::hint::black_box(flush.iter().sum::<u64>());
                let t = Instant::now();
                std::hint::black_box(index.search(q, LIMIT));
                times.push(t.elapsed());
            }
        }
        for (q, times) in list.iter().zip(&mut times) {
            times.sort();
            println!("{q:?}: median {:.3} ms", ms(times[times.len() / 2]));
        }
        return stats.symbols;
    }
    let mut ours: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut old: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut agree = 0usize;
    // Per query: our timings over the rounds (for the slowest-queries list).
    let mut per_query: Vec<Vec<Duration>> = vec![Vec::new(); qs.len()];
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
            per_query[i].push(a);
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
    // Where the tail comes from: the queries slowest at their median over the rounds.
    let mut slowest: Vec<(Duration, usize)> = per_query
        .iter_mut()
        .enumerate()
        .map(|(i, t)| {
            t.sort();
            (t[t.len() / 2], i)
        })
        .collect();
    slowest.sort_unstable_by(|a, b| b.cmp(a));
    let shown: Vec<String> = slowest
        .iter()
        .take(8)
        .map(|&(t, i)| format!("{:?} ({}) {:.2} ms", qs[i].1, qs[i].0, ms(t)))
        .collect();
    println!("slowest queries (median): {}", shown.join(", "));
    stats.symbols
}
