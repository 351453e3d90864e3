//! Replay benchmark: real file changes (before/after pairs extracted from public repositories'
//! recent commits by `scripts/replay-extract.py`) replayed as RealDoc batches derived from the
//! before/after texts and symbol tables; prints one line per language and a total: changes
//! reproduced byte-identically, refusals by reason, wrong outputs by cause, and request bytes
//! against the whole file and against a unified diff (3 lines of context) of the same change.
//!
//! `JINGU_REPLAY_DIR` (default `target/replay-fixtures`) holds one directory per language label.

use std::path::{Path, PathBuf};

use jingu_realdoc::replay::{Replayed, Tally, replay};
use jingu_syntax::Language;

fn main() {
    let dir = std::env::var_os("JINGU_REPLAY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/replay-fixtures"));
    let verbose = std::env::var_os("JINGU_REPLAY_VERBOSE").is_some();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "replay: no fixtures at {} (extract them with scripts/replay-extract.py)",
            dir.display()
        );
        std::process::exit(1);
    };
    let mut labels: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    labels.sort();
    let mut total = Tally::default();
    for label_dir in labels {
        let label = label_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let mut tally = Tally::default();
        let mut pairs: Vec<PathBuf> = std::fs::read_dir(&label_dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        pairs.retain(|p| p.extension().is_some_and(|e| e == "before"));
        pairs.sort();
        for before_path in pairs {
            let read = |ext: &str| std::fs::read_to_string(before_path.with_extension(ext));
            let (Ok(before), Ok(after), Ok(meta)) = (read("before"), read("after"), read("path"))
            else {
                continue;
            };
            let path = meta
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let language = Language::detect(Path::new(&path), &before);
            let Some(r) = replay(language, &before, &after) else {
                continue;
            };
            if verbose && r.outcome != Replayed::Identical {
                println!(
                    "  {label} {} {path}: {:?}",
                    before_path.display(),
                    r.outcome
                );
                if std::env::var_os("JINGU_REPLAY_SHOW").is_some() {
                    show(language, &before, &after);
                }
            }
            tally.add(&r);
        }
        println!("{}", tally.line(&label));
        total.merge(&tally);
    }
    println!("{}", total.line("total"));
}

/// The batch and how its result differs from the real after text (for investigating).
fn show(language: Option<Language>, before: &str, after: &str) {
    let batch = jingu_realdoc::replay::derive_batch(language, before, after);
    for e in &batch {
        println!("    {} {}: {:?}", e.op, e.target, e.text);
    }
    match jingu_realdoc::plan_many(before, language, &batch) {
        Ok(p) => {
            let d = similar::TextDiff::from_lines(after, &p.new_text);
            println!(
                "{}",
                d.unified_diff().context_radius(1).header("want", "got")
            );
        }
        Err(e) => println!("    refused: {e}"),
    }
}
