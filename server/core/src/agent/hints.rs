//! Valid targets for a run, from the syntax index: the files the run may name and the real name
//! paths of the focused file, narrowed to the symbols the instruction names when it names any.
//! They reach the model as `enum`s in the tool schemas (see [`super::tools::specs_with`]), so a
//! grammar-constrained local model cannot name a file or symbol that does not exist.

use std::path::Path;

use super::tools::Hints;
use jingu_providers::SymbolHead;
use jingu_syntax::{self as syntax, Language};

/// Most symbols whose source goes into the first message when the instruction names them.
pub const MAX_NAMED_SOURCES: usize = 3;
/// Longest symbol source (in lines) quoted in the first message.
pub const MAX_NAMED_SOURCE_LINES: usize = 120;

/// The symbols of the focused file the run may target, and the ones the instruction names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FocusSymbols {
    /// Every name path of the file, in file order.
    pub all: Vec<String>,
    /// Name paths the instruction (or `--symbol`) names, in file order.
    pub named: Vec<String>,
}

/// Where `word` first occurs in `text` as a whole identifier.
fn find_ident(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).find_map(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        (!before.is_some_and(is_ident) && !after.is_some_and(is_ident)).then_some(i)
    })
}

/// Whether `word` occurs in `text` as a whole identifier.
fn names(text: &str, word: &str) -> bool {
    find_ident(text, word).is_some()
}

/// Symbols of `text` (at `rel`), and those `instruction` or `symbol` names.
pub fn focus_symbols(
    rel: &str,
    text: &str,
    instruction: &str,
    symbol: Option<&str>,
) -> FocusSymbols {
    let Some(lang) = Language::from_path(Path::new(rel)) else {
        return FocusSymbols::default();
    };
    let file = syntax::file_symbols(lang, text);
    let all: Vec<String> = file.symbols.iter().map(|s| s.name_path.clone()).collect();
    let named: Vec<String> = file
        .symbols
        .iter()
        .filter(|s| match symbol {
            Some(wanted) => s.name_path == wanted || s.name == wanted,
            None => names(instruction, &s.name_path) || names(instruction, &s.name),
        })
        .map(|s| s.name_path.clone())
        .collect();
    FocusSymbols { all, named }
}

/// How a replacement of each named symbol must begin: its first line up to its name (so a
/// rename stays possible), when that line holds the name (not a decorator or doc line).
/// Documentation and attributes go above the declaration except in Python (docstrings).
pub fn symbol_heads(rel: &str, text: &str, named: &[String]) -> Vec<SymbolHead> {
    let Some(lang) = Language::from_path(Path::new(rel)) else {
        return Vec::new();
    };
    let file = syntax::file_symbols(lang, text);
    named
        .iter()
        .filter_map(|np| {
            let s = file.get(np)?;
            let start = text[..s.range.start].rfind('\n').map_or(0, |i| i + 1);
            let first = text.get(start..)?.lines().next()?;
            let at = find_ident(first, &s.name)?;
            let head = &first[..at];
            (!head.trim().is_empty()).then(|| SymbolHead {
                symbol: np.clone(),
                head: head.to_string(),
                lines_before: lang != Language::Python,
            })
        })
        .collect()
}

/// Schema hints for the run: `paths` the files it may name, `symbols` of the focused file.
pub fn hints(paths: Vec<String>, focus: &FocusSymbols) -> Hints {
    let symbols = if !focus.named.is_empty() {
        Some(focus.named.clone())
    } else if !focus.all.is_empty() {
        Some(focus.all.clone())
    } else {
        None
    };
    Hints {
        paths: (!paths.is_empty()).then_some(paths),
        symbols,
        heads: Vec::new(),
    }
}

/// The source of each named symbol (up to [`MAX_NAMED_SOURCES`]), exactly as in the file, for
/// the first message: the model can edit it without another read.
pub fn named_sources(rel: &str, text: &str, named: &[String]) -> Vec<(String, String)> {
    let Some(lang) = Language::from_path(Path::new(rel)) else {
        return Vec::new();
    };
    let file = syntax::file_symbols(lang, text);
    named
        .iter()
        .take(MAX_NAMED_SOURCES)
        .filter_map(|np| {
            let s = file.get(np)?;
            if s.end_line + 1 - s.start_line > MAX_NAMED_SOURCE_LINES {
                return None;
            }
            // From the start of the symbol's first line, so indentation is kept.
            let start = text[..s.range.start].rfind('\n').map_or(0, |i| i + 1);
            let src = text.get(start..s.range.end)?;
            Some((np.clone(), src.trim_end().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY: &str = "class Inventory:\n    def add(self, sku):\n        pass\n\n\ndef restock(inventory, orders):\n    return 1\n";

    #[test]
    fn the_instruction_narrows_to_the_symbols_it_names() {
        let f = focus_symbols("inv.py", PY, "Add a docstring to restock", None);
        assert_eq!(f.all, vec!["Inventory", "Inventory/add", "restock"]);
        assert_eq!(f.named, vec!["restock"]);
        let h = hints(vec!["inv.py".into()], &f);
        assert_eq!(h.symbols, Some(vec!["restock".to_string()]));
        assert_eq!(h.paths, Some(vec!["inv.py".to_string()]));
    }

    #[test]
    fn heads_run_up_to_the_name_and_only_where_the_first_line_holds_it() {
        let heads = symbol_heads("inv.py", PY, &["restock".into(), "Inventory/add".into()]);
        assert_eq!(
            heads,
            vec![
                SymbolHead {
                    symbol: "restock".into(),
                    head: "def ".into(),
                    lines_before: false
                },
                SymbolHead {
                    symbol: "Inventory/add".into(),
                    head: "    def ".into(),
                    lines_before: false
                },
            ]
        );
        let rs = "/// Adds.\npub fn add_one(x: u32) -> u32 {\n    x + 1\n}\n\npub(crate) fn add(a: u32) -> u32 {\n    a\n}\n";
        let heads = symbol_heads("lib.rs", rs, &["add".into(), "add_one".into()]);
        // `add_one`'s source may start at its doc line: then it has no head. `add` must not match
        // inside `add_one`.
        let add = heads
            .iter()
            .find(|h| h.symbol == "add")
            .expect("add has a head");
        assert_eq!(add.head, "pub(crate) fn ");
        assert!(add.lines_before);
        for h in &heads {
            assert!(rs.contains(&format!("{}{}", h.head, h.symbol)), "{h:?}");
        }
        // A decorated Python function whose source starts at the decorator gets no head.
        let deco = "@cache\ndef f(x):\n    return x\n";
        for h in symbol_heads("d.py", deco, &["f".into()]) {
            assert_eq!(h.head, "def ");
        }
    }

    #[test]
    fn whole_words_only_and_all_symbols_when_none_is_named() {
        // "address" contains "add" but does not name it.
        let f = focus_symbols("inv.py", PY, "Fix the address handling", None);
        assert!(f.named.is_empty());
        assert_eq!(hints(vec![], &f).symbols.map(|s| s.len()), Some(3));
        let f = focus_symbols("inv.py", PY, "x", Some("add"));
        assert_eq!(f.named, vec!["Inventory/add"]);
    }

    #[test]
    fn named_sources_quote_the_symbol_with_its_indentation() {
        let src = named_sources("inv.py", PY, &["Inventory/add".into(), "restock".into()]);
        assert_eq!(src[0].1, "    def add(self, sku):\n        pass");
        assert_eq!(src[1].1, "def restock(inventory, orders):\n    return 1");
    }
}
