//! Incremental extraction (the document mirror's) gives exactly what a fresh extraction gives,
//! through hundreds of random edits (typing, deleting, unbalancing braces, adding comments) to
//! real code in every language.

use tree_sitter::{InputEdit, Point};

use crate::{ExtractCache, Language, extract, extract_incremental, parse};

const SNIPPETS: &[&str] = &[
    "x",
    " ",
    "\n",
    "\n\n",
    "}",
    "{",
    "(",
    "\"",
    "// note\n",
    "/// doc\n",
    "# c\n",
    "/* c */",
    "fn q() {}\n",
    "def q():\n    pass\n",
    "class Q {}\n",
    "int q;\n",
    "@dec\n",
    "é𝄞",
];

fn point(text: &str, byte: usize) -> Point {
    let before = &text.as_bytes()[..byte];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let col = byte
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    Point::new(row, col)
}

fn boundary(text: &str, mut byte: usize) -> usize {
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

fn check(language: Language, original: &str, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut text = original.to_string();
    let mut tree = parse(language, &text, None).expect("parse");
    let mut cache = ExtractCache::default();
    for step in 0..150 {
        let got = extract_incremental(language, &text, &tree, &mut cache);
        assert_eq!(
            got,
            extract(language, &text, &tree),
            "{} after {step} edits:\n{text}",
            language.name()
        );
        // Edit: mostly small, sometimes a deletion across lines.
        let start = boundary(&text, rng.usize(..=text.len()));
        let end = if rng.u8(..4) == 0 {
            boundary(&text, (start + rng.usize(..80)).min(text.len()))
        } else {
            start
        };
        let insert = if end == start || rng.bool() {
            SNIPPETS[rng.usize(..SNIPPETS.len())]
        } else {
            ""
        };
        let (start_position, old_end_position) = (point(&text, start), point(&text, end));
        text.replace_range(start..end, insert);
        tree.edit(&InputEdit {
            start_byte: start,
            old_end_byte: end,
            new_end_byte: start + insert.len(),
            start_position,
            old_end_position,
            new_end_position: point(&text, start + insert.len()),
        });
        tree = parse(language, &text, Some(&tree)).expect("reparse");
    }
}

#[test]
fn incremental_extraction_matches_a_fresh_one_through_random_edits() {
    let cases = [
        (Language::Rust, super::rust::SRC),
        (Language::Rust, include_str!("../extract.rs")),
        (Language::Python, super::python::SRC),
        (
            Language::Python,
            include_str!("../../../../tests/support/model_server.py"),
        ),
        (Language::JavaScript, super::javascript::SRC),
        (Language::TypeScript, super::typescript::SRC),
        (
            Language::TypeScript,
            include_str!("../../../../editors/vscode/src/extension.ts"),
        ),
        (Language::Go, super::go::SRC),
        (Language::Java, super::java::SRC),
        (Language::C, super::c::SRC),
        (Language::Cpp, super::cpp::SRC),
    ];
    for (seed, (language, text)) in cases.into_iter().enumerate() {
        check(language, text, seed as u64);
    }
}
