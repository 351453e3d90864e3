use super::*;

const RUST: &str = "fn add(a: i32, b: i32) -> i32 {\n    \n}\n\nfn main() {}\n";

fn cursor(text: &str, marker: &str) -> usize {
    text.find(marker).expect("marker") + marker.len()
}

#[test]
fn the_window_cuts_at_line_boundaries_and_keeps_the_cursor_line() {
    let text = "one\ntwo\nthree\nfour\nfive\n";
    let at = cursor(text, "thr");
    let w = window(text, at, 6, 6);
    assert_eq!(w.prefix, "thr");
    assert_eq!(w.suffix, "ee\n");
    let w = window(text, at, 100, 100);
    assert_eq!(w.prefix, "one\ntwo\nthr");
    assert_eq!(w.suffix, "ee\nfour\nfive\n");
    // Never splits a character.
    let w = window("ééé", 3, 1, 1);
    assert!(w.prefix.is_char_boundary(0));
}

#[test]
fn typing_forward_keeps_the_start_of_the_window() {
    let text: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let starts: Vec<usize> = (1000..1100)
        .map(|at| at - window(&text, at, 400, 100).prefix.len())
        .collect();
    // 100 keystrokes move the start at most once (a step is 100 characters).
    let mut distinct = starts.clone();
    distinct.dedup();
    assert!(distinct.len() <= 2, "{distinct:?}");
    for (i, start) in starts.iter().enumerate() {
        let at = 1000 + i;
        assert!(at - start >= 300 - 8 && at - start <= 500, "{at} {start}");
        assert!(*start == 0 || text.as_bytes()[start - 1] == b'\n');
    }
}

#[test]
fn generation_stops_at_the_line_end_mid_line_and_at_the_block_end_otherwise() {
    let py = Some(Language::Python);
    assert_eq!(until(py, "x = f(", ")\n", 12), FillUntil::LineEnd);
    assert_eq!(
        until(py, "def f():\n    ", "\n", 12),
        FillUntil::BlockEnd {
            indent: 4,
            brackets: false,
            max_lines: 12
        }
    );
    // A line that opens a block: lines no deeper than it end the block.
    assert_eq!(
        until(py, "def f():\n    if x:", "\n", 12),
        FillUntil::BlockEnd {
            indent: 5,
            brackets: false,
            max_lines: 12
        }
    );
    assert_eq!(
        until(Some(Language::Rust), "fn f() {\n\t", "\n}\n", 3),
        FillUntil::BlockEnd {
            indent: 4,
            brackets: true,
            max_lines: 3
        }
    );
    // What the stop keeps, the shaping keeps too: a Python body cut at the dedent.
    let prefix = "def f(a):\n    ";
    let suffix = "\n\ndef g():\n    pass\n";
    let raw = "b = a + 1\n    return b\n\ndef h():\n    return 2\n";
    let stop = until(py, prefix, suffix, 12);
    let cut = &raw[..stop.cut(raw).expect("stops at the dedent")];
    assert_eq!(
        shape(py, prefix, cut, suffix),
        shape(py, prefix, raw, suffix)
    );
}

#[test]
fn overlap_with_the_rest_of_the_line_is_trimmed() {
    assert_eq!(trim_overlap("a, b)", ")"), "a, b");
    assert_eq!(trim_overlap("a, b);", ");"), "a, b");
    assert_eq!(trim_overlap("a, b)", ");"), "a, b");
    assert_eq!(trim_overlap("x + 1", ""), "x + 1");
}

#[test]
fn trailing_lines_repeating_the_suffix_are_trimmed() {
    let suffix = "\n    return total\n}\n";
    let completion = "total = a + b\n    return total\n}";
    assert_eq!(trim_overlap(completion, suffix), "total = a + b");
}

#[test]
fn a_completion_that_closes_the_block_is_cut_before_the_closing_line() {
    let at = cursor(RUST, "{\n    ");
    let (prefix, suffix) = RUST.split_at(at);
    let raw = "a + b\n}\n\nfn sub(a: i32, b: i32) -> i32 {\n    a - b";
    let cut = cut_at_block_end(Language::Rust, prefix, raw, suffix);
    assert_eq!(cut, "a + b");
    assert_eq!(
        shape(Some(Language::Rust), prefix, raw, suffix).as_deref(),
        Some("a + b")
    );
}

#[test]
fn python_blocks_end_at_the_dedent() {
    let text = "def total(xs):\n    \n\n\ndef other():\n    pass\n";
    let at = cursor(text, "xs):\n    ");
    let (prefix, suffix) = text.split_at(at);
    let raw = "s = 0\n    for x in xs:\n        s += x\n    return s\n\ndef extra():\n    return 1";
    let got = shape(Some(Language::Python), prefix, raw, suffix).expect("an item");
    assert_eq!(got, "s = 0\n    for x in xs:\n        s += x\n    return s");
}

#[test]
fn an_item_never_adds_a_syntax_error() {
    let at = cursor(RUST, "{\n    ");
    let (prefix, suffix) = RUST.split_at(at);
    // The second line opens a block it never closes: only the first line is kept.
    let raw = "let s = a + b;\n    if s > 0 {";
    assert_eq!(
        shape(Some(Language::Rust), prefix, raw, suffix).as_deref(),
        Some("let s = a + b;")
    );
    assert!(keeps_parse(Language::Rust, prefix, "a + b", suffix));
    assert!(!keeps_parse(Language::Rust, prefix, "a + (b", suffix));
    // Nothing that parses: no item at all.
    assert_eq!(shape(Some(Language::Rust), prefix, "a + (b", suffix), None);
}

#[test]
fn mid_line_items_are_single_line() {
    let text = "fn f() { g(); }\n";
    let at = cursor(text, "g(");
    let (prefix, suffix) = text.split_at(at);
    assert!(mid_line(suffix));
    let got = shape(Some(Language::Rust), prefix, "1, 2)\n    more()", suffix);
    assert_eq!(got.as_deref(), Some("1, 2"));
}

#[test]
fn signatures_are_one_line_without_the_body() {
    let text = "/// Adds.\nfn add(a: i32,\n       b: i32) -> i32 {\n    a + b\n}\n";
    let syms = jingu_syntax::file_symbols(Language::Rust, text);
    let add = syms.get("add").expect("add");
    assert_eq!(signature(text, add), "fn add(a: i32, b: i32) -> i32");
    let py = "def greet(name: str) -> str:\n    return name\n";
    let syms = jingu_syntax::file_symbols(Language::Python, py);
    assert_eq!(
        signature(py, syms.get("greet").expect("greet")),
        "def greet(name: str) -> str"
    );
}

#[test]
fn referenced_names_are_nearest_first_unique_and_skip_keywords() {
    let names = referenced_names("let x = parse_expr(tokens); let y = parse_expr(lexer)", 10);
    assert_eq!(names, vec!["lexer", "parse_expr", "tokens"]);
    assert_eq!(referenced_names("a bb ccc", 10), vec!["ccc"]);
    assert_eq!(
        referenced_names("alpha beta gamma", 2),
        vec!["gamma", "beta"]
    );
}

#[test]
fn the_context_block_is_comments_within_budget() {
    let sigs = vec!["fn a()".to_string(), "fn b(x: u8)".to_string()];
    let block = context_block(Language::Rust, &sigs, 1000);
    assert_eq!(
        block,
        "// Signatures used nearby:\n// fn a()\n// fn b(x: u8)\n"
    );
    assert_eq!(
        context_block(Language::Python, &sigs, 10),
        "# Signatures used nearby:\n# fn a()\n"
    );
    assert_eq!(context_block(Language::Rust, &sigs, 3), "");
}

#[test]
fn typing_forward_reuses_the_shown_completion() {
    let old = "fn f() { let total";
    let h = hash_of(&[old]);
    assert_eq!(
        forward(old.len(), h, " = a + b;", "fn f() { let total = a"),
        Some(" + b;")
    );
    // Typed something else, or changed the text before: no reuse.
    assert_eq!(
        forward(old.len(), h, " = a + b;", "fn f() { let total -"),
        None
    );
    assert_eq!(
        forward(old.len(), h, " = a + b;", "fn g() { let total = a"),
        None
    );
    // Typed it all: nothing left to show.
    assert_eq!(
        forward(old.len(), h, " = a", "fn f() { let total = a"),
        None
    );
}

#[test]
fn a_completion_running_past_the_last_function_into_top_level_code_is_cut() {
    // The embedded model's real answer at the end of a file: the body, then an example.
    let text = "def scale(value, factor):\n    return value * factor\n\n\ndef total(prices, factor):\n    \n";
    let at = text.len() - 1;
    let raw = " return (prices * factor) + (factor * factor)\n\n# Example usage:\nprint(total(prices, 1))  #";
    let got = shape(Some(Language::Python), &text[..at], raw, &text[at..]).expect("an item");
    assert_eq!(got, "return (prices * factor) + (factor * factor)");
}

#[test]
fn a_python_item_never_ends_on_a_block_header_without_a_body() {
    // The embedded model's real answer; tree-sitter parses `else:` with no body, Python does not.
    let text = "def describe(inventory):\n    lines = []\n\ndef restock():\n    pass\n";
    let at = cursor(text, "lines = []");
    let (prefix, suffix) = text.split_at(at);
    let raw =
        "\n    for item in inventory:\n        if item:\n            print(item)\n        else:";
    let got = shape(Some(Language::Python), prefix, raw, suffix).expect("an item");
    assert_eq!(
        got,
        "\n    for item in inventory:\n        if item:\n            print(item)"
    );
}

#[test]
fn a_python_item_cut_by_the_token_limit_does_not_end_on_the_header_before_it() {
    // The embedded model's real answer, cut mid-line by max_tokens right after an `else:`.
    let text = "def describe(inventory):\n    lines = []\n\ndef restock():\n    pass\n";
    let at = cursor(text, "lines = []");
    let (prefix, suffix) = text.split_at(at);
    let raw = "\n    for item in inventory:\n        if item:\n            print(item)\n        else:\n            print(f\"{item";
    let got = shape(Some(Language::Python), prefix, raw, suffix).expect("an item");
    assert_eq!(
        got,
        "\n    for item in inventory:\n        if item:\n            print(item)"
    );
}

#[test]
fn typing_along_a_line_never_moves_the_start_of_the_window() {
    let text: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let line_start = text.find("line 120\n").expect("line");
    // Type a new line's worth of characters at the start of line 120, one at a time.
    let typed = "let value = compute(a, b);";
    let starts: Vec<usize> = (0..=typed.len())
        .map(|k| {
            let doc = format!(
                "{}{}\n{}",
                &text[..line_start],
                &typed[..k],
                &text[line_start..]
            );
            let at = line_start + k;
            at - window(&doc, at, 400, 100).prefix.len()
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{starts:?}");
    // A cursor line longer than a step is reckoned from the cursor: the prefix stays bounded.
    let long = format!("{}{}", text, "x".repeat(2000));
    let w = window(&long, long.len(), 400, 100);
    assert!(w.prefix.len() <= 500, "{}", w.prefix.len());
}

#[test]
fn typed_since_is_what_was_added_to_the_same_prefix() {
    let old = "fn a() {\n    ";
    let h = hash_of(&[old]);
    assert_eq!(typed_since(old.len(), h, "fn a() {\n    ret"), Some("ret"));
    assert_eq!(typed_since(old.len(), h, old), None);
    assert_eq!(typed_since(old.len(), h, "fn b() {\n    ret"), None);
    assert_eq!(typed_since(old.len(), h, "fn"), None);
}
