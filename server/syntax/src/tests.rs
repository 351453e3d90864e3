//! Tests of the symbol layer: one submodule per language on real-looking code, the query compile
//! check, and the workspace index.

mod c;
mod cpp;
mod go;
mod incremental;
mod java;
mod javascript;
mod pattern;
mod python;
mod queries;
mod rust;
mod typescript;
mod verbatim;

use super::{FileSymbols, Language, Symbol, file_symbols};

/// Parse `text` and assert its symbols are exactly `expected`: (name path, kind, first line, last
/// line) in document order.
fn assert_symbols(
    language: Language,
    text: &str,
    expected: &[(&str, &str, usize, usize)],
) -> FileSymbols {
    let file = file_symbols(language, text);
    let got: Vec<(&str, &str, usize, usize)> = file
        .symbols
        .iter()
        .map(|s| {
            (
                s.name_path.as_str(),
                s.kind.as_str(),
                s.start_line,
                s.end_line,
            )
        })
        .collect();
    assert_eq!(got, expected, "{} symbols", language.name());
    for s in &file.symbols {
        assert_eq!(file.get(&s.name_path), Some(s), "name paths are unique");
        assert!(s.range.start <= s.decl_range.start && s.decl_range.end <= s.range.end);
        assert!(s.range.start <= s.name_range.start && s.name_range.end <= s.range.end);
    }
    file
}

/// The symbol at `path`, which must exist.
fn sym<'a>(file: &'a FileSymbols, path: &str) -> &'a Symbol {
    file.get(path).unwrap_or_else(|| panic!("no symbol {path}"))
}

/// Text of a symbol's full range.
fn range_text<'a>(text: &'a str, s: &Symbol) -> &'a str {
    &text[s.range.clone()]
}
