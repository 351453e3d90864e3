//! The open-document mirror: the editor's buffers as ropes, kept in sync by incremental
//! `didChange` events, each with a tree-sitter tree that is edited in place so re-parsing is
//! incremental and symbols are computed lazily (once per version).

pub mod position;

use std::sync::{Arc, Mutex};

use dashmap::DashMap;
use ropey::Rope;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};
use tree_sitter::{InputEdit, Point, Tree};

pub use position::{Encoding, PositionError};

use jingu_syntax::{self as syntax, FileSymbols, Language};

/// Buffers larger than this are mirrored but not parsed.
pub const MAX_PARSE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug)]
pub struct Document {
    pub rope: Rope,
    pub version: i32,
    pub language: Option<Language>,
    tree: Option<Tree>,
    /// Symbols for `symbols_version`, invalidated by any change.
    symbols: Option<Arc<FileSymbols>>,
    /// Top-level items' symbols from the last extraction, reused for unchanged items.
    extracted: syntax::ExtractCache,
}

impl Document {
    pub fn new(text: &str, version: i32, language: Option<Language>) -> Self {
        Self {
            rope: Rope::from_str(text),
            version,
            language,
            tree: None,
            symbols: None,
            extracted: syntax::ExtractCache::default(),
        }
    }

    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// Apply one content change (full replacement when it has no range).
    pub fn apply_change(
        &mut self,
        change: &TextDocumentContentChangeEvent,
        enc: Encoding,
    ) -> Result<(), PositionError> {
        self.symbols = None;
        let Some(range) = change.range else {
            self.rope = Rope::from_str(&change.text);
            self.tree = None;
            return Ok(());
        };
        let start = position::to_byte(&self.rope, range.start, enc)?;
        let end = position::to_byte(&self.rope, range.end, enc)?.max(start);
        let start_point = self.point(start);
        let old_end_point = self.point(end);
        let start_char = self.rope.byte_to_char(start);
        let end_char = self.rope.byte_to_char(end);
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, &change.text);
        let new_end = start + change.text.len();
        if let Some(tree) = self.tree.as_mut() {
            tree.edit(&InputEdit {
                start_byte: start,
                old_end_byte: end,
                new_end_byte: new_end,
                start_position: start_point,
                old_end_position: old_end_point,
                new_end_position: point_in(&self.rope, new_end),
            });
        }
        Ok(())
    }

    fn point(&self, byte: usize) -> Point {
        point_in(&self.rope, byte)
    }

    /// The document's symbols, parsing incrementally from the previous tree when needed.
    pub fn symbols(&mut self) -> Option<Arc<FileSymbols>> {
        let language = self.language?;
        if let Some(s) = &self.symbols {
            return Some(s.clone());
        }
        if self.rope.len_bytes() > MAX_PARSE_BYTES {
            return None;
        }
        let text = self.rope.to_string();
        let tree = syntax::parse(language, &text, self.tree.as_ref())?;
        let symbols = syntax::extract_incremental(language, &text, &tree, &mut self.extracted);
        let file = Arc::new(FileSymbols::new(
            language,
            symbols,
            syntax::first_error(&tree),
        ));
        self.tree = Some(tree);
        self.symbols = Some(file.clone());
        Some(file)
    }
}

fn point_in(rope: &Rope, byte: usize) -> Point {
    let row = rope.byte_to_line(byte);
    Point::new(row, byte - rope.line_to_byte(row))
}

/// All open documents, keyed by URI string. Each document has its own lock: the map's shard lock
/// is held only to find it, so parsing a large buffer never blocks requests on other documents.
#[derive(Debug, Default)]
pub struct Documents {
    map: DashMap<String, Arc<Mutex<Document>>>,
}

impl Documents {
    pub fn open(&self, uri: &Uri, doc: Document) {
        self.map
            .insert(uri.as_str().to_string(), Arc::new(Mutex::new(doc)));
    }

    pub fn close(&self, uri: &Uri) {
        self.map.remove(uri.as_str());
    }

    pub fn is_open(&self, uri: &Uri) -> bool {
        self.map.contains_key(uri.as_str())
    }

    /// Run `f` on a document; `None` when it is not open.
    pub fn with<R>(&self, uri: &Uri, f: impl FnOnce(&mut Document) -> R) -> Option<R> {
        let doc = Arc::clone(self.map.get(uri.as_str())?.value());
        // A panic while editing a document leaves its text whole (ropes are edited atomically);
        // the next version resynchronises the tree.
        let mut doc = doc.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut doc))
    }

    pub fn text(&self, uri: &Uri) -> Option<String> {
        self.with(uri, |d| d.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_keep_text_and_symbols_in_sync() {
        let mut doc = Document::new("fn alpha() {}\n", 1, Some(Language::Rust));
        assert_eq!(doc.symbols().expect("rust").symbols[0].name, "alpha");
        doc.apply_change(&change(0, 3, 0, 8, "beta"), Encoding::Utf16)
            .expect("valid range");
        doc.apply_change(&change(1, 0, 1, 0, "struct Ünïcode;\n"), Encoding::Utf16)
            .expect("valid range");
        assert_eq!(doc.text(), "fn beta() {}\nstruct Ünïcode;\n");
        let names: Vec<_> = doc
            .symbols()
            .expect("rust")
            .symbols
            .iter()
            .map(|s| s.name_path.clone())
            .collect();
        assert_eq!(names, ["beta", "Ünïcode"]);
        // The incremental tree must equal a fresh parse.
        let fresh = syntax::file_symbols(Language::Rust, &doc.text());
        assert_eq!(doc.symbols().expect("rust").symbols, fresh.symbols);
    }

    #[test]
    fn utf16_ranges_after_non_ascii_text() {
        let mut doc = Document::new("// 𝄞é\nfn x() {}\n", 1, Some(Language::Rust));
        // Replace "é" (UTF-16 column 3..4 after the 2-unit clef).
        doc.apply_change(&change(0, 5, 0, 6, "e"), Encoding::Utf16)
            .expect("valid range");
        assert_eq!(doc.text(), "// 𝄞e\nfn x() {}\n");
        doc.apply_change(&change(0, 7, 0, 9, "ee"), Encoding::Utf8)
            .expect("valid range");
        assert_eq!(doc.text(), "// 𝄞ee\nfn x() {}\n");
    }

    #[test]
    fn out_of_range_change_is_an_error_and_changes_nothing() {
        let mut doc = Document::new("a\n", 1, None);
        assert!(
            doc.apply_change(&change(9, 0, 9, 1, "x"), Encoding::Utf16)
                .is_err()
        );
        assert_eq!(doc.text(), "a\n");
    }
}
