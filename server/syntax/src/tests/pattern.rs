//! Jingu's own pattern matcher against tree-sitter's compiled queries: every built-in query runs
//! on the own matcher, and both give the same symbols on real code of every language found on the
//! machine (this repository and its npm test servers, the cargo registry's crate sources, the
//! Python standard library, the system C and C++ headers).

#![allow(clippy::disallowed_methods)] // the corpus is read from disk

use std::path::{Path, PathBuf};

use crate::language::SymbolsQuery;
use crate::{ALL_LANGUAGES, Language, extract::extract_by, parse};

/// Bytes of source compared per language: enough for thousands of definitions, small enough
/// for a debug build.
const BUDGET: usize = 6 << 20;
const MAX_FILE: u64 = 256 << 10;

#[test]
fn every_builtin_query_runs_on_the_own_matcher() {
    for language in ALL_LANGUAGES {
        let parsed = crate::pattern::Patterns::parse(&language.grammar(), language.builtin_query());
        assert!(parsed.is_ok(), "{}: {parsed:?}", language.name());
        assert!(language.symbols_query().is_own(), "{}", language.name());
    }
}

#[test]
fn syntax_outside_the_subset_goes_to_tree_sitter_and_bad_names_are_errors() {
    let grammar = Language::Rust.grammar();
    for (text, own) in [
        (
            "(function_item name: (identifier) @name) @definition.function",
            true,
        ),
        (
            "((function_item name: (identifier) @name) @definition.function)",
            false,
        ),
        (
            "(function_item name: (identifier) @name (#match? @name \"^a\")) @definition.function",
            false,
        ),
        ("(source_file (function_item)* @definition.function)", false),
        (
            "(function_item . (identifier) @name) @definition.function",
            false,
        ),
        (
            "(function_item !body name: (identifier) @name) @definition.function",
            false,
        ),
    ] {
        let q = SymbolsQuery::new(&grammar, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(q.is_own(), own, "{text}");
    }
    // Names the grammar does not have are reported by tree-sitter's compiler, as before.
    for bad in [
        "(function_itm name: (identifier) @name) @definition.function",
        "(function_item nam: (identifier) @name) @definition.function",
        "(function_item name: (identifier) @name",
    ] {
        assert!(SymbolsQuery::new(&grammar, bad).is_err(), "{bad}");
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        if ft.is_dir() && name != "target" && name != ".git" {
            walk(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

fn python_stdlib() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}

#[test]
fn the_own_matcher_finds_what_tree_sitter_finds_on_real_code() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let mut roots = vec![repo, cargo_home.join("registry/src"), "/usr/include".into()];
    roots.extend(python_stdlib());
    let mut files = Vec::new();
    for root in &roots {
        walk(root, &mut files);
    }
    let compiled: Vec<(Language, SymbolsQuery)> = ALL_LANGUAGES
        .iter()
        .map(|&l| {
            let q = SymbolsQuery::compiled(&l.grammar(), l.builtin_query()).expect("query");
            (l, q)
        })
        .collect();
    let mut used = [0usize; ALL_LANGUAGES.len()];
    let mut counts = [(0usize, 0usize); ALL_LANGUAGES.len()];
    for path in &files {
        if std::fs::metadata(path).map_or(true, |m| m.len() > MAX_FILE) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(detected) = Language::detect(path, &text) else {
            continue;
        };
        // TypeScript sources also run through the TSX grammar (no .tsx files are around).
        let languages: &[Language] = match detected {
            Language::TypeScript => &[Language::TypeScript, Language::Tsx],
            _ => std::slice::from_ref(&detected),
        };
        for &language in languages {
            let i = ALL_LANGUAGES
                .iter()
                .position(|l| *l == language)
                .expect("known");
            if used[i] > BUDGET {
                continue;
            }
            used[i] += text.len();
            let Some(tree) = parse(language, &text, None) else {
                continue;
            };
            let own = extract_by(language, language.symbols_query(), &text, &tree, None);
            let theirs = extract_by(language, &compiled[i].1, &text, &tree, None);
            if own != theirs {
                let first = own
                    .iter()
                    .zip(&theirs)
                    .position(|(a, b)| a != b)
                    .unwrap_or(own.len().min(theirs.len()));
                panic!(
                    "{} ({}): {} symbols vs tree-sitter's {}; first difference at {first}:\n own: {:?}\n  ts: {:?}",
                    path.display(),
                    language.name(),
                    own.len(),
                    theirs.len(),
                    own.get(first),
                    theirs.get(first)
                );
            }
            counts[i].0 += 1;
            counts[i].1 += own.len();
        }
    }
    for (i, l) in ALL_LANGUAGES.iter().enumerate() {
        eprintln!(
            "{}: {} files, {} symbols",
            l.name(),
            counts[i].0,
            counts[i].1
        );
    }
    // Go and Java sources are rare on a build machine: their queries are covered by the
    // per-language tests, which now run on the own matcher.
    for l in [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::C,
        Language::Cpp,
    ] {
        let i = ALL_LANGUAGES.iter().position(|x| *x == l).expect("known");
        assert!(
            counts[i].0 >= 30 && counts[i].1 >= 300,
            "too little {} code to compare on: {:?}",
            l.name(),
            counts[i]
        );
    }
}
