//! Every built-in query compiles against its grammar and uses only known captures.

use tree_sitter::Query;

use crate::{ALL_LANGUAGES, SymbolKind};

#[test]
fn every_builtin_query_compiles_with_known_captures() {
    for language in ALL_LANGUAGES {
        let query = Query::new(&language.grammar(), language.builtin_query())
            .unwrap_or_else(|e| panic!("{} query: {e}", language.name()));
        assert!(query.pattern_count() > 3, "{}", language.name());
        for name in query.capture_names() {
            let known = matches!(
                *name,
                "name" | "body" | "trait" | "receiver" | "qualified_name"
            ) || name
                .strip_prefix("definition.")
                .and_then(SymbolKind::from_capture)
                .is_some();
            assert!(known, "{}: unknown capture @{name}", language.name());
        }
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // the test reads the repository's query files
fn installed_queries_match_the_builtin_ones() {
    // The repository's queries/ is what gets installed; it must be what the binary embeds.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    for language in ALL_LANGUAGES {
        let path = dir.join(language.query_dir()).join("symbols.scm");
        let text = std::fs::read_to_string(&path).expect("query file");
        assert_eq!(text, language.builtin_query(), "{}", path.display());
    }
}

#[test]
fn the_query_runs_only_where_a_pattern_can_be_rooted() {
    use crate::{Language, language::SymbolsQuery};
    let grammar = Language::Rust.grammar();
    let text = "struct S { a: u32 }\nfn f() {}\n";
    let tree = crate::parse(Language::Rust, text, None).expect("parse");
    let root = tree.root_node();
    let (strukt, func) = (root.child(0).expect("struct"), root.child(1).expect("fn"));

    let q = SymbolsQuery::new(
        &grammar,
        "; comment\n(function_item name: (identifier) @name) @definition.function",
    )
    .expect("query");
    assert!(q.may_match_at(func));
    assert!(!q.may_match_at(strukt) && !q.may_match_at(root));

    // Alternations, wildcards and supertypes root anywhere: every node stays a candidate.
    for any in [
        "[(function_item) (struct_item)] @definition.function",
        "(_ name: (identifier) @name) @definition.function",
        "((function_item name: (identifier) @name) @definition.function)",
    ] {
        let q = SymbolsQuery::new(&grammar, any).expect("query");
        assert!(q.may_match_at(strukt) && q.may_match_at(root), "{any}");
    }
}
