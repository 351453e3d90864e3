//! Behaviour independent of the language: line endings, final newline, lines and keyword targets.

use super::*;

#[test]
fn crlf_is_preserved_and_inserted_text_converted() {
    let src = "fn a() {\r\n    1\r\n}\r\n\r\nfn b() {\r\n    2\r\n}\r\n";
    let r = Some(Language::Rust);
    let out = edit(src, r, sym("a"), Op::Replace, "fn a() {\n    10\n}\n");
    assert_eq!(
        out,
        "fn a() {\r\n    10\r\n}\r\n\r\nfn b() {\r\n    2\r\n}\r\n"
    );
    let out = edit(src, r, sym("b"), Op::InsertAfter, "fn c() {}\r\n");
    assert_eq!(out, format!("{src}\r\nfn c() {{}}\r\n"));
    let out = edit(
        src,
        None,
        kw("2", None),
        Op::InsertBefore,
        "// two\n// lines",
    );
    // A line insertion is taken as given (a flush-left line stays at column 0).
    assert!(
        out.contains("fn b() {\r\n// two\r\n// lines\r\n    2\r\n"),
        "{out:?}"
    );
    assert!(
        !out.replace("\r\n", "").contains('\n'),
        "no bare LF: {out:?}"
    );
}

#[test]
fn missing_final_newline_is_preserved() {
    let src = "a\nb\nc";
    assert_eq!(edit(src, None, lines(3, 3), Op::Replace, "C"), "a\nb\nC");
    // An edit reaching the end adds the final newline its text ends with.
    assert_eq!(
        edit(src, None, lines(3, 3), Op::Replace, "C\n"),
        "a\nb\nC\n"
    );
    assert_eq!(
        edit(src, None, lines(3, 3), Op::InsertAfter, "d\n"),
        "a\nb\nc\nd\n"
    );
    // It never removes one: a line is usually sent without its newline.
    assert_eq!(
        edit("a\nb\n", None, lines(2, 2), Op::Replace, "B"),
        "a\nB\n"
    );
    assert_eq!(
        edit(src, None, lines(3, 3), Op::InsertAfter, "d"),
        "a\nb\nc\nd"
    );
    assert_eq!(
        edit(src, None, lines(3, 3), Op::InsertBefore, "x"),
        "a\nb\nx\nc"
    );
    assert_eq!(edit(src, None, lines(3, 3), Op::Delete, ""), "a\nb");
    assert_eq!(edit(src, None, lines(2, 3), Op::Delete, ""), "a");
    assert_eq!(edit(src, None, lines(1, 3), Op::Delete, ""), "");
    let crlf = "a\r\nb";
    assert_eq!(
        edit(crlf, None, lines(2, 2), Op::InsertAfter, "c"),
        "a\r\nb\r\nc"
    );
    assert_eq!(
        edit(crlf, None, lines(2, 2), Op::InsertAfter, "c\n"),
        "a\r\nb\r\nc\r\n"
    );
    assert_eq!(edit(crlf, None, lines(2, 2), Op::Delete, ""), "a");
    // And a present one stays.
    assert_eq!(
        edit("a\nb\n", None, lines(2, 2), Op::Replace, "c"),
        "a\nc\n"
    );
    assert_eq!(
        edit("a\nb\n", None, lines(2, 2), Op::InsertAfter, "c"),
        "a\nb\nc\n"
    );
    let r = Some(Language::Rust);
    let out = edit(
        "fn a() {}\n\nfn b() {}",
        r,
        sym("b"),
        Op::Replace,
        "fn b() { 1; }\n",
    );
    assert_eq!(out, "fn a() {}\n\nfn b() { 1; }");
    let out = edit("fn a() {}\n\nfn b() {}", r, sym("b"), Op::Delete, "");
    assert_eq!(out, "fn a() {}");
}

#[test]
fn line_ranges_are_checked() {
    let src = "a\nb\nc\n";
    assert!(matches!(
        try_edit(src, None, lines(3, 4), Op::Delete, ""),
        Err(EditError::LinesOutOfRange { line_count: 3, .. })
    ));
    assert!(matches!(
        try_edit(src, None, lines(0, 1), Op::Delete, ""),
        Err(EditError::InvalidLines { .. })
    ));
    assert!(matches!(
        try_edit(src, None, lines(3, 2), Op::Delete, ""),
        Err(EditError::InvalidLines { .. })
    ));
    assert!(matches!(
        try_edit("", None, lines(1, 1), Op::Replace, "x"),
        Err(EditError::LinesOutOfRange { line_count: 0, .. })
    ));
    assert_eq!(
        edit(src, None, lines(2, 3), Op::Replace, "x\ny\nz"),
        "a\nx\ny\nz\n"
    );
}

#[test]
fn keyword_targets() {
    let src = "alpha\nbeta gamma\ngamma\n";
    assert!(matches!(
        try_edit(src, None, kw("delta", None), Op::Delete, ""),
        Err(EditError::KeywordNotFound { .. })
    ));
    assert!(matches!(
        try_edit(src, None, kw("", None), Op::Delete, ""),
        Err(EditError::EmptyKeyword)
    ));
    assert_eq!(
        edit(src, None, kw("beta", None), Op::Replace, "BETA"),
        "alpha\nBETA\ngamma\n"
    );
    // Several hits on one line are one target.
    assert_eq!(edit("x x\ny\n", None, kw("x", None), Op::Delete, ""), "y\n");
    // A multi-line keyword addresses every line it spans.
    assert_eq!(
        edit(src, None, kw("alpha\nbeta", None), Op::Delete, ""),
        "gamma\n"
    );
    let p = try_edit(src, None, kw("gamma", Some(2)), Op::Delete, "").expect("occurrence 2");
    assert_eq!(
        (p.start_line, p.end_line, p.new_text.as_str()),
        (3, 3, "alpha\nbeta gamma\n")
    );
    assert!(p.summary.contains("line 3"), "{}", p.summary);
}

#[test]
fn empty_text_is_refused_except_for_delete() {
    for op in [Op::Replace, Op::InsertBefore, Op::InsertAfter] {
        assert!(matches!(
            try_edit("a\n", None, lines(1, 1), op, ""),
            Err(EditError::EmptyText { .. })
        ));
    }
}

#[test]
fn indented_text_at_a_line_target_keeps_its_indentation() {
    let src = "fn f() {\n    if x {\n        y();\n    }\n}\n";
    // Already indented: kept as the author wrote it.
    let out = edit(
        src,
        None,
        lines(3, 3),
        Op::InsertAfter,
        "            deeper();",
    );
    assert!(
        out.contains("        y();\n            deeper();\n"),
        "{out}"
    );
    // Flush-left stays at column 0 (a new top-level item after a function's last line)...
    let out = edit(src, None, lines(5, 5), Op::InsertAfter, "fn g() {}");
    assert_eq!(out, format!("{src}fn g() {{}}\n"));
    // ...except right after a line that opens a block: one level into it.
    let out = edit(src, None, lines(2, 2), Op::InsertAfter, "z();");
    assert!(
        out.contains("    if x {\n        z();\n        y();\n"),
        "{out}"
    );
    // Replacing re-bases onto the replaced lines.
    let out = edit(src, None, lines(2, 4), Op::Replace, "if a {\n    b();\n}");
    assert_eq!(out, "fn f() {\n    if a {\n        b();\n    }\n}\n");
}

#[test]
fn request_names_round_trip() {
    for op in OPS {
        assert_eq!(op.as_str().parse::<Op>(), Ok(op));
        assert_eq!(
            serde_json::to_string(&op).expect("json"),
            format!("\"{op}\"")
        );
    }
    assert!("rewrite".parse::<Op>().is_err());
    assert_eq!(Target::lines_from_str("3-7"), Ok(lines(3, 7)));
    assert_eq!(Target::lines_from_str("4"), Ok(lines(4, 4)));
    assert!(Target::lines_from_str("a-b").is_err());
    let req: EditRequest = serde_json::from_str(
        r#"{"target":{"keyword":{"text":"x"}},"op":"insert-after","text":"y"}"#,
    )
    .expect("parse request");
    assert_eq!(req, EditRequest::new(kw("x", None), Op::InsertAfter, "y"));
}
