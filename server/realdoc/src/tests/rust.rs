use super::*;

const RS: &str = "use std::fmt;

/// A parser.
#[derive(Debug)]
pub struct Parser {
    pos: usize,
}

impl Parser {
    /// Parse an expression.
    pub fn parse_expr(&self) -> i32 {
        1
    }

    fn helper(&self) -> i32 {
        2
    }
}

impl fmt::Display for Parser {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, \"p\")
    }
}
";

const R: Option<Language> = Some(Language::Rust);

#[test]
fn every_target_and_op() {
    matrix(
        Language::Rust,
        RS,
        &[
            Case {
                target: sym("impl Parser/helper"),
                old: "fn helper",
                text: "fn added(&self) -> i32 {\n    3\n}\n",
                new: "fn added",
            },
            Case {
                target: lines(15, 17),
                old: "fn helper",
                text: "fn added(&self) -> i32 {\n    3\n}\n",
                new: "fn added",
            },
            Case {
                target: kw("write!", None),
                old: "write!",
                text: "f.write_str(\"q\")?;",
                new: "write_str",
            },
        ],
    );
}

#[test]
fn replace_symbol_reindents_and_replaces_docs_too() {
    let out = edit(
        RS,
        R,
        sym("impl Parser/parse_expr"),
        Op::Replace,
        "/// Doc two.\npub fn parse_expr(&self) -> i32 {\n    42\n}\n",
    );
    assert!(out.contains(
        "impl Parser {\n    /// Doc two.\n    pub fn parse_expr(&self) -> i32 {\n        42\n    }\n\n    fn helper"
    ));
    assert!(
        !out.contains("Parse an expression"),
        "the old doc comment is part of the symbol"
    );
}

#[test]
fn forgiving_names_resolve_uniquely() {
    for name in [
        "Parser/parse_expr",
        "parse_expr",
        "Parser::parse_expr",
        "impl Parser/parse_expr",
    ] {
        let p = try_edit(RS, R, sym(name), Op::Delete, "").expect(name);
        assert!(
            p.summary.contains("`impl Parser/parse_expr`"),
            "{name}: {}",
            p.summary
        );
        assert_eq!((p.start_line, p.end_line), (10, 13));
    }
    // The trait impl answers to its type and to `Trait for Type`.
    let p = try_edit(RS, R, sym("Display for Parser/fmt"), Op::Delete, "").expect("fmt");
    assert!(p.summary.contains("impl fmt::Display for Parser/fmt"));
}

#[test]
fn ambiguous_symbol_lists_candidates() {
    let src = "struct A;\nstruct B;\nimpl A {\n    fn new() -> Self { A }\n}\nimpl B {\n    fn new() -> Self { B }\n}\n";
    match try_edit(src, R, sym("new"), Op::Delete, "") {
        Err(EditError::AmbiguousTarget { candidates, .. }) => {
            assert_eq!(candidates, vec!["impl A/new", "impl B/new"]);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(try_edit(src, R, sym("B/new"), Op::Delete, "").is_ok());
}

#[test]
fn missing_symbol_suggests_closest_never_guesses() {
    match try_edit(RS, R, sym("parse_exp"), Op::Replace, "fn x() {}") {
        Err(EditError::NoSuchSymbol { name, closest }) => {
            assert_eq!(name, "parse_exp");
            assert_eq!(
                closest.first().map(String::as_str),
                Some("impl Parser/parse_expr")
            );
        }
        other => panic!("expected NoSuchSymbol, got {other:?}"),
    }
}

#[test]
fn insert_after_and_before_follow_blank_line_convention() {
    let out = edit(
        RS,
        R,
        sym("parse_expr"),
        Op::InsertAfter,
        "fn mid(&self) {}",
    );
    assert!(
        out.contains("        1\n    }\n\n    fn mid(&self) {}\n\n    fn helper"),
        "{out}"
    );
    // Last member of the impl, text without blank lines: one blank line before it (the
    // neighbours' spacing), none before the closing brace.
    let out = edit(RS, R, sym("helper"), Op::InsertAfter, "fn last(&self) {}\n");
    assert!(
        out.contains("        2\n    }\n\n    fn last(&self) {}\n}\n"),
        "{out}"
    );
    let out = edit(
        RS,
        R,
        sym("parse_expr"),
        Op::InsertBefore,
        "fn first(&self) {}",
    );
    assert!(
        out.contains("impl Parser {\n    fn first(&self) {}\n\n    /// Parse an expression."),
        "{out}"
    );
    // Fields keep no blank lines between them.
    let out = edit(RS, R, sym("Parser/pos"), Op::InsertAfter, "len: usize,");
    assert!(out.contains("    pos: usize,\n    len: usize,\n}"), "{out}");
}

#[test]
fn delete_symbol_removes_docs_and_separating_blank_line() {
    let out = edit(RS, R, sym("parse_expr"), Op::Delete, "");
    assert!(
        out.contains("impl Parser {\n    fn helper(&self) -> i32 {"),
        "{out}"
    );
    let out = edit(RS, R, sym("helper"), Op::Delete, "");
    assert!(
        out.contains("        1\n    }\n}\n\nimpl fmt::Display"),
        "{out}"
    );
    let out = edit(RS, R, sym("Parser"), Op::Delete, "");
    assert!(out.starts_with("use std::fmt;\n\nimpl Parser {"), "{out}");
}

#[test]
fn syntax_error_is_refused_with_location() {
    match try_edit(
        RS,
        R,
        sym("helper"),
        Op::Replace,
        "fn helper(&self) -> i32 {\n    2\n",
    ) {
        Err(EditError::SyntaxError { line, snippet, .. }) => {
            assert!((16..=26).contains(&line), "line {line}");
            assert!(!snippet.is_empty());
        }
        other => panic!("expected SyntaxError, got {other:?}"),
    }
    assert!(matches!(
        try_edit(RS, R, lines(16, 16), Op::Replace, "2 +"),
        Err(EditError::SyntaxError { .. })
    ));
}

#[test]
fn broken_file_only_refuses_more_errors() {
    let broken = "fn a() {\n    let x = ;\n}\n\nfn b() -> i32 {\n    1\n}\n";
    assert!(!parses_cleanly(Language::Rust, broken));
    // An edit elsewhere that keeps the error count is fine.
    let out = edit(
        broken,
        R,
        sym("b"),
        Op::Replace,
        "fn b() -> i32 {\n    2\n}",
    );
    assert!(out.contains("    2\n"));
    // A fix is fine.
    let fixed = edit(broken, R, kw("let x", None), Op::Replace, "let x = 1;");
    assert!(parses_cleanly(Language::Rust, &fixed));
    // Adding another error is not.
    assert!(matches!(
        try_edit(broken, R, sym("b"), Op::Replace, "fn b() -> i32 { (((( }"),
        Err(EditError::MoreSyntaxErrors { before: 1, .. })
    ));
}

#[test]
fn symbol_sharing_its_line_is_spliced_in_place() {
    let src = "fn main() {}\nstruct A; struct B;\n";
    let out = edit(src, R, sym("B"), Op::Replace, "struct C;");
    assert_eq!(out, "fn main() {}\nstruct A; struct C;\n");
    let out = edit(src, R, sym("B"), Op::Delete, "");
    assert_eq!(out, "fn main() {}\nstruct A; \n");
}

#[test]
fn first_line_trimmed_copy_is_restored() {
    // The model copied a method from the file but lost the first line's indentation.
    let out = edit(
        RS,
        R,
        sym("helper"),
        Op::Replace,
        "fn helper(&self) -> i32 {\n        3\n    }",
    );
    assert!(
        out.contains("\n    fn helper(&self) -> i32 {\n        3\n    }\n}"),
        "{out}"
    );
}

#[test]
fn symbol_target_needs_a_language() {
    assert_eq!(
        try_edit(RS, None, sym("helper"), Op::Delete, "").map(|p| p.new_text),
        Err(EditError::NoLanguage)
    );
}

#[test]
fn self_replacement_round_trips() {
    self_replacement_is_identity(Language::Rust, RS);
    let commented =
        "trait T {\n    // Not a doc comment.\n    #[doc(hidden)]\n    fn f(self) -> i32;\n}\n";
    self_replacement_is_identity(Language::Rust, commented);
}
