//! Workspace index: build, update, remove, lookup, search and what the walk skips.

use std::fs;
use std::path::Path;

use crate::Index;
use jingu_syntax::SymbolKind;

fn write(root: &Path, rel: &str, text: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "src/parser.rs",
        b"pub struct Parser;\n\nimpl Parser {\n    pub fn parse(&self) {}\n}\n",
    );
    write(
        root,
        "src/lexer.rs",
        b"pub fn parse() {}\npub fn tokenize() {}\n",
    );
    write(
        root,
        "py/app.py",
        b"class App:\n    def run(self):\n        pass\n",
    );
    write(
        root,
        ".github/scripts/hidden.py",
        b"def hidden_tool():\n    pass\n",
    );
    write(root, ".gitignore", b"generated/\n*.gen.rs\n");
    write(root, "generated/out.rs", b"fn generated_fn() {}\n");
    write(root, "src/skip.gen.rs", b"fn ignored_by_glob() {}\n");
    write(root, "target/debug/build.rs", b"fn in_target() {}\n");
    write(
        root,
        "node_modules/pkg/index.js",
        b"function inNodeModules() {}\n",
    );
    write(root, ".git/hooks/pre.py", b"def in_git():\n    pass\n");
    write(root, ".jingu/cache.rs", b"fn in_jingu() {}\n");
    write(root, "bin/blob.rs", b"fn binary() {}\0\x01\x02");
    write(root, "bin/latin1.py", b"def caf\xe9():\n    pass\n");
    write(root, "README.md", b"# not source\n");
    dir
}

#[test]
fn build_indexes_sources_and_skips_ignored_binary_and_tool_dirs() {
    let dir = workspace();
    let index = Index::build(dir.path());
    let stats = index.build_stats();
    assert_eq!(stats.files, 4, "parser.rs, lexer.rs, app.py, hidden.py");
    assert_eq!(stats.skipped, 2, "the NUL file and the non-UTF-8 file");
    assert_eq!(index.file_count(), 4);
    assert!(stats.symbols >= 7);
    for rel in [
        "src/parser.rs",
        "src/lexer.rs",
        "py/app.py",
        ".github/scripts/hidden.py",
    ] {
        assert!(index.file(rel).is_some(), "{rel} should be indexed");
    }
    for name in [
        "generated_fn",
        "ignored_by_glob",
        "in_target",
        "inNodeModules",
        "in_git",
        "in_jingu",
        "binary",
    ] {
        assert!(index.lookup(name).is_empty(), "{name} must not be indexed");
    }
}

#[test]
fn oversized_files_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut big = b"fn big() {}\n".to_vec();
    big.resize(crate::MAX_SOURCE_BYTES as usize + 1, b' ');
    write(dir.path(), "big.rs", &big);
    write(dir.path(), "small.rs", b"fn small() {}\n");
    let index = Index::build(dir.path());
    assert_eq!(index.build_stats().files, 1);
    assert_eq!(index.build_stats().skipped, 1);
    assert!(index.lookup("big").is_empty());
}

#[test]
fn lookup_by_exact_path_suffix_and_simple_name() {
    let dir = workspace();
    let index = Index::build(dir.path());
    let hits = index.lookup("impl Parser/parse");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, "src/parser.rs");
    assert_eq!(hits[0].1.kind, SymbolKind::Method);
    assert_eq!((hits[0].1.start_line, hits[0].1.end_line), (4, 4));

    let files: Vec<_> = index
        .lookup("parse")
        .into_iter()
        .map(|(f, s)| (f, s.name_path))
        .collect();
    assert_eq!(
        files,
        vec![
            ("src/lexer.rs".to_string(), "parse".to_string()),
            ("src/parser.rs".to_string(), "impl Parser/parse".to_string()),
        ]
    );
    assert_eq!(index.lookup("App/run")[0].0, "py/app.py");
    assert!(index.lookup("Other/run").is_empty());
}

#[test]
fn update_replaces_a_files_symbols_and_remove_drops_them() {
    let dir = workspace();
    let index = Index::build(dir.path());
    index.update_file("src/lexer.rs", "pub fn lex_all() {}\n");
    assert!(index.lookup("tokenize").is_empty(), "old symbols are gone");
    assert_eq!(index.lookup("lex_all")[0].0, "src/lexer.rs");
    assert_eq!(
        index.lookup("parse").len(),
        1,
        "only parser.rs still has parse"
    );

    index.update_file("./src//new.rs", "struct Fresh;\n");
    assert!(index.file("src/new.rs").is_some(), "paths are normalized");

    index.remove_file("src/parser.rs");
    assert!(index.file("src/parser.rs").is_none());
    assert!(index.lookup("Parser").is_empty());
    assert!(index.lookup("impl Parser/parse").is_empty());
    assert!(index.search("pars", 10).is_empty());

    index.update_file("notes.txt", "fn not_indexed() {}");
    assert!(
        index.file("notes.txt").is_none(),
        "unsupported languages are ignored"
    );
}

#[test]
fn refresh_from_disk_reads_changes_and_drops_deleted_files() {
    let dir = workspace();
    let index = Index::build(dir.path());
    write(dir.path(), "src/lexer.rs", b"fn relexed() {}\n");
    index.refresh_from_disk("src/lexer.rs");
    assert_eq!(index.lookup("relexed").len(), 1);
    assert!(index.lookup("tokenize").is_empty());

    fs::remove_file(dir.path().join("src/lexer.rs")).expect("rm");
    index.refresh_from_disk("src/lexer.rs");
    assert!(index.file("src/lexer.rs").is_none());

    // A file turned binary is dropped rather than kept stale.
    write(dir.path(), "py/app.py", b"\0\0");
    index.refresh_from_disk("py/app.py");
    assert!(index.lookup("App").is_empty());
}

#[test]
fn refresh_refuses_paths_outside_the_workspace() {
    let outer = tempfile::tempdir().expect("tempdir");
    write(outer.path(), "secret.rs", b"fn secret_outside() {}\n");
    write(outer.path(), "ws/main.rs", b"fn main() {}\n");
    let index = Index::build(&outer.path().join("ws"));
    index.refresh_from_disk("../secret.rs");
    let abs = outer.path().join("secret.rs");
    index.refresh_from_disk(&abs.to_string_lossy());
    assert!(index.lookup("secret_outside").is_empty());

    // A symlink inside the workspace pointing out of it: neither walked nor refreshed.
    std::os::unix::fs::symlink(&abs, outer.path().join("ws/link.rs")).expect("symlink");
    let index = Index::build(&outer.path().join("ws"));
    assert!(index.file("link.rs").is_none());
    index.refresh_from_disk("link.rs");
    assert!(index.lookup("secret_outside").is_empty());
    assert_eq!(index.file_count(), 1);
}

#[test]
fn search_is_case_insensitive_with_prefix_matches_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a.rs",
        b"fn reparse() {}\nfn parse_expr() {}\nfn Parse() {}\nfn pxarxsxe() {}\nfn other() {}\n",
    );
    let index = Index::build(dir.path());
    let names: Vec<_> = index
        .search("PARSE", 10)
        .into_iter()
        .map(|(_, s)| s.name)
        .collect();
    assert_eq!(names, ["Parse", "parse_expr", "reparse", "pxarxsxe"]);
    assert_eq!(index.search("parse", 2).len(), 2, "limit is honoured");
}

#[test]
fn index_is_shareable_across_threads() {
    let dir = workspace();
    let index = std::sync::Arc::new(Index::build(dir.path()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let index = index.clone();
            std::thread::spawn(move || {
                for n in 0..50 {
                    index.update_file(&format!("t{i}.rs"), &format!("fn f{i}_{n}() {{}}\n"));
                    assert!(!index.lookup(&format!("f{i}_{n}")).is_empty());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(index.file_count(), 4 + 4);
    assert_eq!(index.lookup("f3_49").len(), 1);
    assert!(index.lookup("f3_48").is_empty());
}

#[test]
fn a_saved_index_is_reused_only_for_unchanged_files() {
    let dir = workspace();
    let state = tempfile::tempdir().expect("state");
    let saved = state.path().join("symbols");
    let root = dir.path();
    let first = Index::build_saved(root, &saved);
    assert_eq!(first.build_stats().reused, 0);
    assert!(saved.is_file(), "saved for the next session");

    // Files written just now are too recent to vouch for: age them past the racy window.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for rel in first.paths() {
        let f = fs::File::options()
            .write(true)
            .open(root.join(&rel))
            .expect("open");
        f.set_modified(old).expect("set mtime");
    }
    let settled = Index::build_saved(root, &saved);
    let second = Index::build_saved(root, &saved);
    assert_eq!(settled.build_stats().files, second.build_stats().files);
    assert_eq!(second.build_stats().reused, second.build_stats().files);
    assert_eq!(second.paths(), first.paths());
    for rel in first.paths() {
        assert_eq!(
            second.file(&rel).expect("file").symbols,
            first.file(&rel).expect("file").symbols
        );
    }

    // A changed file is parsed again (its size and mtime changed), the others still reused.
    write(root, "src/lexer.rs", b"pub fn lex() {}\n");
    let third = Index::build_saved(root, &saved);
    assert_eq!(third.build_stats().reused, second.build_stats().files - 1);
    assert!(third.lookup("lex").len() == 1 && third.lookup("tokenize").is_empty());

    // A damaged saved index is ignored, not trusted.
    fs::write(&saved, b"JGSI garbage").expect("corrupt");
    let fourth = Index::build_saved(root, &saved);
    assert_eq!(fourth.build_stats().reused, 0);
    assert_eq!(fourth.paths(), third.paths());
}

#[test]
fn a_fill_keeps_what_was_put_or_removed_while_it_ran() {
    let dir = workspace();
    let index = Index::empty(dir.path());
    assert!(!index.is_complete());
    // The editor's buffer of lexer.rs, put before the walk reaches it: newer than the disk.
    index.update_file("src/lexer.rs", "pub fn from_the_buffer() {}\n");
    // app.py deleted while indexing (the walk may already have read it).
    index.remove_file("py/app.py");
    assert_eq!(
        index.search("from_the", 10).len(),
        1,
        "answers while filling"
    );
    let seen = std::sync::Mutex::new(Vec::new());
    index.fill(None, &|n| seen.lock().expect("lock").push(n));
    assert!(index.is_complete());
    assert_eq!(index.lookup("from_the_buffer").len(), 1);
    assert!(index.lookup("tokenize").is_empty(), "the disk did not win");
    assert!(index.lookup("App").is_empty(), "a removal is not undone");
    assert_eq!(
        index.lookup("impl Parser/parse").len(),
        1,
        "the rest is indexed"
    );
    let seen = seen.into_inner().expect("lock");
    let stats = index.build_stats();
    assert_eq!(
        seen.last(),
        Some(&(stats.files + stats.skipped)),
        "progress counts every file: {seen:?}"
    );
    // After the fill, updates replace as usual.
    index.update_file("src/lexer.rs", "pub fn tokenize() {}\n");
    assert_eq!(index.lookup("tokenize").len(), 1);
}

#[test]
fn search_ranks_word_starts_above_substrings_and_keeps_each_names_definitions_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a.rs",
        b"struct HashMap;\nfn rehash_map() {}\nfn hmac() {}\nfn with_hm() {}\nfn xhmx() {}\n",
    );
    write(dir.path(), "b.rs", b"struct HashMap;\n");
    let index = Index::build(dir.path());
    let hits: Vec<(String, String)> = index
        .search("hm", 10)
        .into_iter()
        .map(|(f, s)| (f, s.name))
        .collect();
    assert_eq!(
        hits,
        [
            ("a.rs".to_string(), "hmac".to_string()),    // prefix
            ("a.rs".to_string(), "HashMap".to_string()), // word starts, both files
            ("b.rs".to_string(), "HashMap".to_string()),
            ("a.rs".to_string(), "with_hm".to_string()), // word start
            ("a.rs".to_string(), "xhmx".to_string()),    // substring
            ("a.rs".to_string(), "rehash_map".to_string()), // subsequence
        ]
    );
}
