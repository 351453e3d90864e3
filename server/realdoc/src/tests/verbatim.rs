//! Indentation is read from code lines only, and the content of string literals (Go backticks,
//! Python triple quotes, Rust raw strings, JS templates) is never re-indented.

use super::*;

const PY: Option<Language> = Some(Language::Python);

/// A module docstring whose lines are indented with 2 spaces, and one with a tab, in a file whose
/// code uses 4 spaces: the file's style is still 4 spaces.
#[test]
fn python_style_ignores_docstring_indentation() {
    for doc_indent in ["  ", "\t", "   "] {
        let src = format!(
            "\"\"\"Usage:\n{doc_indent}tool run\n{doc_indent}tool stop\n\"\"\"\n\n\ndef f(x):\n    return x\n"
        );
        let out = edit(&src, PY, lines(7, 7), Op::InsertAfter, "x += 1");
        assert!(
            out.contains("def f(x):\n    x += 1\n    return x\n"),
            "doc indent {doc_indent:?}:\n{out}"
        );
        assert!(parses_cleanly(Language::Python, &out), "{out}");
    }
}

#[test]
fn c_style_ignores_block_comment_continuation_lines() {
    let src = "/*\n * Header.\n */\nint f(int x) {\n    return x;\n}\n";
    let out = edit(src, Some(Language::C), lines(4, 4), Op::InsertAfter, "x++;");
    assert!(
        out.contains("int f(int x) {\n    x++;\n    return x;\n"),
        "{out}"
    );
}

#[test]
fn go_backtick_content_is_never_reindented() {
    let src = "package p\n\nfunc f() string {\n\treturn \"\"\n}\n";
    let text = "s := `\nline one\n  two\n\tthree\n`\nreturn s";
    let out = edit(src, Some(Language::Go), lines(3, 3), Op::InsertAfter, text);
    assert!(
        out.contains(
            "func f() string {\n\ts := `\nline one\n  two\n\tthree\n`\n\treturn s\n\treturn \"\"\n"
        ),
        "{out}"
    );
}

#[test]
fn python_triple_quoted_content_is_never_reindented() {
    let src = "class Store:\n    def size(self):\n        return 0\n";
    let text = "def query(self):\n    sql = \"\"\"\nSELECT *\n  FROM t\n\n\"\"\"\n    return sql\n";
    let out = edit(src, PY, sym("Store/size"), Op::Replace, text);
    assert_eq!(
        out,
        "class Store:\n    def query(self):\n        sql = \"\"\"\nSELECT *\n  FROM t\n\n\"\"\"\n        return sql\n"
    );
}

#[test]
fn rust_raw_string_content_is_never_reindented() {
    let src = "struct S;\n\nimpl S {\n    fn a(&self) -> u8 {\n        0\n    }\n}\n";
    // Flush-left method whose raw string holds column-0, indented and whitespace-only lines.
    let text = "fn a(&self) -> &str {\n    r#\"\nfirst\n    second\n  \n\"#\n}";
    let out = edit(
        src,
        Some(Language::Rust),
        sym("impl S/a"),
        Op::Replace,
        text,
    );
    assert_eq!(
        out,
        "struct S;\n\nimpl S {\n    fn a(&self) -> &str {\n        r#\"\nfirst\n    second\n  \n\"#\n    }\n}\n"
    );
}

#[test]
fn js_template_content_is_never_reindented() {
    let src = "class View {\n  render() {\n    return 1;\n  }\n}\n";
    let text = "render() {\n  return `\n<div>\n    ${this.x}\n</div>`;\n}";
    let out = edit(
        src,
        Some(Language::JavaScript),
        sym("View/render"),
        Op::Replace,
        text,
    );
    assert_eq!(
        out,
        "class View {\n  render() {\n    return `\n<div>\n    ${this.x}\n</div>`;\n  }\n}\n"
    );
}

#[test]
fn tab_file_keeps_spaces_inside_new_strings() {
    // The text uses tabs for code, spaces inside its string: the string is not taken as the
    // text's style nor converted.
    let src = "package p\n\nfunc f() {\n\tprintln()\n}\n";
    let text = "x := `\n    kept`\n_ = x";
    let out = edit(src, Some(Language::Go), lines(3, 3), Op::InsertAfter, text);
    assert!(out.contains("\tx := `\n    kept`\n\t_ = x\n"), "{out}");
}

#[test]
fn text_already_at_the_target_indentation_is_left_alone() {
    let src = "class Store:\n    def size(self):\n        return 0\n";
    let text = "    def size(self):\n        s = \"\"\"\n  raw\n\"\"\"\n        return 1\n";
    let out = edit(src, PY, sym("Store/size"), Op::Replace, text);
    assert_eq!(out, format!("class Store:\n{text}"));
}

#[test]
fn replacing_lines_inside_a_string_takes_the_text_as_given() {
    let src = "def f():\n    return \"\"\"\n    indented line\n\"\"\"\n";
    let out = edit(src, PY, lines(3, 3), Op::Replace, "flush line");
    assert_eq!(out, "def f():\n    return \"\"\"\nflush line\n\"\"\"\n");
}

#[test]
fn brace_at_the_end_of_a_comment_does_not_open_a_block() {
    let src = "const a = 1; // {\nconst b = 2;\n";
    let out = edit(
        src,
        Some(Language::JavaScript),
        lines(1, 1),
        Op::InsertAfter,
        "const c = 3;",
    );
    assert_eq!(out, "const a = 1; // {\nconst c = 3;\nconst b = 2;\n");
}

#[test]
fn column_zero_insert_after_a_function_stays_at_column_zero() {
    let src = "def f(x):\n    return x\n";
    let out = edit(src, PY, lines(2, 2), Op::InsertAfter, "def g():\n    pass");
    assert_eq!(out, "def f(x):\n    return x\ndef g():\n    pass\n");
}

// Blank lines around inserted symbols: the text's own when it has them, else the neighbours'.

const RS_BLANKS: &str = "struct S;\n\nimpl S {\n    fn a(&self) {}\n\n    fn b(&self) {}\n}\n";

#[test]
fn inserted_symbol_without_blank_lines_takes_the_neighbours_spacing() {
    let out = edit(
        RS_BLANKS,
        Some(Language::Rust),
        sym("impl S/a"),
        Op::InsertAfter,
        "fn m(&self) {}",
    );
    assert_eq!(
        out,
        "struct S;\n\nimpl S {\n    fn a(&self) {}\n\n    fn m(&self) {}\n\n    fn b(&self) {}\n}\n"
    );
}

#[test]
fn inserted_symbol_keeps_the_blank_lines_its_text_has() {
    let r = Some(Language::Rust);
    // Two before (instead of the neighbours' one), none after: the existing gap below goes.
    let out = edit(
        RS_BLANKS,
        r,
        sym("impl S/a"),
        Op::InsertAfter,
        "\n\nfn m(&self) {}\n",
    );
    assert_eq!(
        out,
        "struct S;\n\nimpl S {\n    fn a(&self) {}\n\n\n    fn m(&self) {}\n\n    fn b(&self) {}\n}\n"
    );
    // Trailing blank lines replace the gap below; no leading ones: the neighbours' gap above.
    let out = edit(
        RS_BLANKS,
        r,
        sym("impl S/a"),
        Op::InsertAfter,
        "fn m(&self) {}\n\n\n",
    );
    assert_eq!(
        out,
        "struct S;\n\nimpl S {\n    fn a(&self) {}\n\n    fn m(&self) {}\n\n\n    fn b(&self) {}\n}\n"
    );
    // Insert before: leading lines replace the gap above, trailing ones separate it from `b`.
    let out = edit(
        RS_BLANKS,
        r,
        sym("impl S/b"),
        Op::InsertBefore,
        "\n\n\nfn m(&self) {}\n\n\n",
    );
    assert_eq!(
        out,
        "struct S;\n\nimpl S {\n    fn a(&self) {}\n\n\n\n    fn m(&self) {}\n\n\n    fn b(&self) {}\n}\n"
    );
    // One blank line on each side, as the text says (the neighbours have two).
    let py = "def a():\n    pass\n\n\ndef b():\n    pass\n";
    let out = edit(
        py,
        PY,
        sym("a"),
        Op::InsertAfter,
        "\ndef m():\n    pass\n\n",
    );
    assert_eq!(
        out,
        "def a():\n    pass\n\ndef m():\n    pass\n\ndef b():\n    pass\n"
    );
}
