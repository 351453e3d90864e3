//! Workspace symbol index on the fixed corpora (Rust std from rust-src, the pinned CPython
//! stdlib: see `corpus.rs`) against universal-ctags and py-tree-sitter tagging of the same files
//! and the tree-sitter parse floor, each round running every contender once in rotating order
//! (A/B/C/A/B/C…, so load from other processes hits all alike); min/median/max per contender and
//! ratios of medians. Plus the cost of re-indexing one file.
//!
//! `cargo bench --bench index`; `JINGU_BENCH_QUICK=1` indexes a sub-tree of each corpus, 3 rounds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "corpus.rs"]
mod corpus;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jingu_docs::{Document, Encoding};
use jingu_index::Index;
use jingu_syntax::{Language, SymbolsQuery};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

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

/// The texts of every indexed file, for the parse floor.
fn indexed_texts(index: &Index, root: &Path) -> Vec<(Language, String)> {
    index
        .paths()
        .into_iter()
        .filter_map(|rel| {
            let language = Language::from_path(Path::new(&rel))?;
            Some((language, std::fs::read_to_string(root.join(&rel)).ok()?))
        })
        .collect()
}

/// Wall time to only parse `texts` on `threads` threads: what any tree-sitter index pays before
/// extracting a single symbol (the texts are in memory: the floor excludes the walk and reads).
fn parse_floor(texts: &[(Language, String)], threads: usize) -> Duration {
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

fn is_universal_ctags() -> bool {
    Command::new("ctags")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Universal Ctags"))
}

/// One `ctags -R` of `root`.
fn ctags_once(root: &Path) -> Duration {
    let out = std::env::temp_dir().join(format!("jingu-bench-tags-{}", std::process::id()));
    let langs = "--languages=Rust,Python,JavaScript,TypeScript,Go,Java,C,C++";
    let t = Instant::now();
    let status = Command::new("ctags")
        .args(["-R", langs, "-f"])
        .arg(&out)
        .arg(root)
        .status();
    let elapsed = t.elapsed();
    let _ = std::fs::remove_file(&out);
    assert!(status.is_ok_and(|s| s.success()), "ctags -R failed");
    elapsed
}

/// One py-tree-sitter tagging of the files listed in `list`: (files, tags, its own timing).
fn py_tags_once(root: &Path, list: &Path) -> (usize, usize, Duration) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py_tags.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(root)
        .arg(list)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "py_tags.py failed (scripts/bench.sh installs py-tree-sitter): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let mut num = || it.next().expect("py_tags.py output").to_string();
    let (files, tags, secs) = (num(), num(), num());
    (
        files.parse().expect("files"),
        tags.parse().expect("tags"),
        Duration::from_secs_f64(secs.parse().expect("seconds")),
    )
}

/// min / median / max of a contender's rounds.
#[derive(Default)]
struct Samples(Vec<Duration>);

impl Samples {
    fn median(&self) -> f64 {
        median(self.0.clone()).as_secs_f64()
    }

    /// min / median / max in milliseconds, for short operations.
    fn show_ms(&self) -> String {
        let min = self.0.iter().min().copied().unwrap_or_default();
        let max = self.0.iter().max().copied().unwrap_or_default();
        format!(
            "min {:.3} / median {:.3} / max {:.3} ms",
            min.as_secs_f64() * 1e3,
            self.median() * 1e3,
            max.as_secs_f64() * 1e3
        )
    }

    fn show(&self) -> String {
        let min = self.0.iter().min().copied().unwrap_or_default();
        let max = self.0.iter().max().copied().unwrap_or_default();
        format!(
            "min {:.3} / median {:.3} / max {:.3} s",
            min.as_secs_f64(),
            self.median(),
            max.as_secs_f64()
        )
    }
}

/// A typical big source file (closest to 40 KB, about 1,000 lines), the largest file, and the
/// files the LSP bench types into when this corpus has them.
fn sample_files(root: &Path, index: &Index) -> Vec<String> {
    let named = ["tkinter/__init__.py", "core/src/iter/traits/iterator.rs"]
        .into_iter()
        .filter(|rel| index.file(rel).is_some())
        .map(String::from);
    let sized: Vec<(u64, String)> = index
        .paths()
        .into_iter()
        .filter_map(|rel| Some((std::fs::metadata(root.join(&rel)).ok()?.len(), rel)))
        .collect();
    let typical = sized.iter().min_by_key(|(len, _)| len.abs_diff(40_000));
    let largest = sized.iter().max_by_key(|(len, _)| *len);
    let mut out: Vec<String> = typical
        .into_iter()
        .chain(largest)
        .map(|(_, rel)| rel.clone())
        .chain(named)
        .collect();
    out.dedup();
    out
}

/// What a process pays before it can extract symbols: Jingu's own matcher reads the query text;
/// a tree-sitter query is compiled, which analyses the grammar's whole parse table. Interleaved.
fn query_setup(rounds: usize) {
    for language in jingu_syntax::ALL_LANGUAGES {
        let grammar = language.grammar();
        let text = language.builtin_query();
        let (mut own, mut ts) = (Samples::default(), Samples::default());
        for round in 0..rounds.max(3) {
            for k in 0..2 {
                let t = Instant::now();
                if (k + round) % 2 == 0 {
                    let q = SymbolsQuery::new(&grammar, text).expect("query");
                    assert!(q.is_own());
                    own.0.push(t.elapsed());
                } else {
                    std::hint::black_box(SymbolsQuery::compiled(&grammar, text).expect("query"));
                    ts.0.push(t.elapsed());
                }
            }
        }
        println!(
            "query set-up {:<10}: own matcher {}, tree-sitter Query::new {}; {:.0}x less",
            language.name(),
            own.show_ms(),
            ts.show_ms(),
            ts.median() / own.median().max(1e-9)
        );
    }
}

/// Extraction from parsed trees, own matcher vs tree-sitter's, interleaved: the matcher must
/// not make up in matching what it saves in set-up.
fn extraction(label: &str, texts: &[(Language, String)], rounds: usize) {
    let trees: Vec<_> = texts
        .iter()
        .filter_map(|(l, t)| Some((*l, t.as_str(), jingu_syntax::parse(*l, t, None)?)))
        .collect();
    let compiled: Vec<(Language, SymbolsQuery)> = jingu_syntax::ALL_LANGUAGES
        .iter()
        .map(|&l| {
            (
                l,
                SymbolsQuery::compiled(&l.grammar(), l.builtin_query()).expect("query"),
            )
        })
        .collect();
    let (mut own, mut ts) = (Samples::default(), Samples::default());
    for round in 0..rounds {
        for k in 0..2 {
            let use_own = (k + round) % 2 == 0;
            let t = Instant::now();
            for (language, text, tree) in &trees {
                let q = if use_own {
                    language.symbols_query()
                } else {
                    &compiled
                        .iter()
                        .find(|(l, _)| l == language)
                        .expect("language")
                        .1
                };
                std::hint::black_box(jingu_syntax::extract_using(*language, q, text, tree));
            }
            if use_own {
                own.0.push(t.elapsed())
            } else {
                ts.0.push(t.elapsed())
            }
        }
    }
    println!(
        "{label}: extraction from parsed trees: own matcher {}, tree-sitter matcher {}; ratio {:.2}x",
        own.show(),
        ts.show(),
        own.median() / ts.median().max(1e-9)
    );
}

fn main() {
    let quick = jingu_benches::quick();
    let rounds = if quick { 3 } else { 5 };
    query_setup(rounds * 2);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        is_universal_ctags(),
        "universal-ctags is not on PATH (scripts/bench.sh installs it)"
    );
    println!(
        "symbol index benchmark ({threads} threads, {rounds} interleaved rounds, quick={quick}; CPython: {})",
        corpus::cpython_versions()
    );
    for (label, root) in corpus::all(quick) {
        let index = Index::build(&root);
        let stats = index.build_stats();
        println!(
            "{label}: {} files, {:.1} MB, {} symbols, {} skipped",
            stats.files,
            stats.bytes as f64 / 1e6,
            stats.symbols,
            stats.skipped,
        );
        let texts = indexed_texts(&index, &root);
        extraction(label, &texts, rounds);
        // py-tree-sitter tags exactly the Rust and Python files Jingu indexed.
        let list = tempfile::NamedTempFile::new().expect("temp file");
        let listed: Vec<String> = index
            .paths()
            .into_iter()
            .filter(|p| p.ends_with(".rs") || p.ends_with(".py"))
            .collect();
        std::fs::write(list.path(), listed.join("\n")).expect("write file list");
        let state = tempfile::tempdir().expect("tempdir");
        let saved = state.path().join("symbols");
        let _ = Index::build_saved(&root, &saved);

        let names = [
            "jingu cold",
            "jingu reopened",
            "parse floor",
            "ctags -R",
            "py-tree-sitter",
        ];
        let mut samples: Vec<Samples> = names.iter().map(|_| Samples::default()).collect();
        let (mut reused, mut py_counts) = (0, (0, 0));
        for round in 0..rounds {
            for k in 0..names.len() {
                let which = (k + round) % names.len();
                let t = match which {
                    0 => {
                        let t = Instant::now();
                        std::hint::black_box(Index::build(&root));
                        t.elapsed()
                    }
                    1 => {
                        let t = Instant::now();
                        reused = Index::build_saved(&root, &saved).build_stats().reused;
                        t.elapsed()
                    }
                    2 => parse_floor(&texts, threads),
                    3 => ctags_once(&root),
                    _ => {
                        let (files, tags, t) = py_tags_once(&root, list.path());
                        py_counts = (files, tags);
                        t
                    }
                };
                samples[which].0.push(t);
            }
        }
        for (name, s) in names.iter().zip(&samples) {
            println!("{label}: {name:<15} {}", s.show());
        }
        let [cold, warm, floor, ctags, py] = [0, 1, 2, 3, 4].map(|i| samples[i].median());
        println!(
            "{label}: reopened with the saved index: {reused} of {} files unchanged",
            stats.files
        );
        println!(
            "{label}: cold/parse floor {:.2}x (target <= 1.25x); jingu/ctags: cold {:.2}x, reopened {:.2}x (target <= 2x)",
            cold / floor.max(1e-9),
            cold / ctags.max(1e-9),
            warm / ctags.max(1e-9),
        );
        println!(
            "{label}: py-tree-sitter ({} Rust/Python files, {} tags, one thread)/jingu speed-up: cold {:.2}x, reopened {:.2}x (target >= 3x)",
            py_counts.0,
            py_counts.1,
            py / cold.max(1e-9),
            py / warm.max(1e-9),
        );
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
