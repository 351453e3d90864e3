//! Every built-in query compiles against its grammar and uses only known captures.

use tree_sitter::Query;

use crate::syntax::{ALL_LANGUAGES, SymbolKind};

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
fn installed_queries_match_the_builtin_ones() {
    // The repository's queries/ is what gets installed; it must be what the binary embeds.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../queries");
    for language in ALL_LANGUAGES {
        let path = dir.join(language.query_dir()).join("symbols.scm");
        let text = std::fs::read_to_string(&path).expect("query file");
        assert_eq!(text, language.builtin_query(), "{}", path.display());
    }
}
