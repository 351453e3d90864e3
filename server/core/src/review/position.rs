//! Exact positions in the three conventions a finding is shown in:
//! LSP (0-based line, character in the negotiated encoding, UTF-16 by default), SARIF 2.1.0
//! (1-based line and column, columns in UTF-16 code units, end exclusive) and reviewdog rdjson
//! (1-based line and column, columns in UTF-8 bytes, end exclusive).

use ropey::Rope;
use serde::Serialize;
use serde_json::{Value, json};
use tower_lsp_server::ls_types::{Position, Range};

use jingu_docs::Encoding;
use jingu_docs::position::to_position;

/// A point in a text, 0-based, with the column in both encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    pub line: u32,
    /// UTF-8 bytes from the line start.
    pub byte_col: u32,
    /// UTF-16 code units from the line start.
    pub utf16_col: u32,
}

/// A half-open region `[start, end)` of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: Point,
    pub end: Point,
}

impl Point {
    fn at(rope: &Rope, byte: usize) -> Self {
        let p8 = to_position(rope, byte, Encoding::Utf8);
        let p16 = to_position(rope, byte, Encoding::Utf16);
        Self {
            line: p8.line,
            byte_col: p8.character,
            utf16_col: p16.character,
        }
    }

    pub fn lsp(&self, enc: Encoding) -> Position {
        let character = match enc {
            Encoding::Utf8 => self.byte_col,
            Encoding::Utf16 => self.utf16_col,
        };
        Position::new(self.line, character)
    }
}

impl Span {
    /// The span of byte range `start..end` of the text held in `rope` (clamped to it).
    pub fn of_bytes(rope: &Rope, start: usize, end: usize) -> Self {
        Self {
            start: Point::at(rope, start),
            end: Point::at(rope, end.max(start)),
        }
    }

    pub fn lsp(&self, enc: Encoding) -> Range {
        Range::new(self.start.lsp(enc), self.end.lsp(enc))
    }

    /// SARIF `region` (the run declares `columnKind: utf16CodeUnits`).
    pub fn sarif_region(&self) -> Value {
        json!({
            "startLine": self.start.line + 1,
            "startColumn": self.start.utf16_col + 1,
            "endLine": self.end.line + 1,
            "endColumn": self.end.utf16_col + 1,
        })
    }

    /// rdjson `Range`.
    pub fn rdjson_range(&self) -> Value {
        json!({
            "start": {"line": self.start.line + 1, "column": self.start.byte_col + 1},
            "end": {"line": self.end.line + 1, "column": self.end.byte_col + 1},
        })
    }
}

/// Byte range of 1-based inclusive lines `start..=end`: from the first line's start to the end of
/// the last line's content (its terminator excluded). `None` when the lines do not exist.
pub fn line_span_bytes(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if start == 0 || end < start {
        return None;
    }
    let mut offsets = vec![0usize];
    offsets.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    // A final newline does not start another line.
    if offsets.last() == Some(&text.len()) && !text.is_empty() {
        offsets.pop();
    }
    let line_count = if text.is_empty() { 0 } else { offsets.len() };
    if end > line_count {
        return None;
    }
    let begin = offsets[start - 1];
    let mut stop = offsets.get(end).copied().unwrap_or(text.len());
    let bytes = text.as_bytes();
    while stop > begin && matches!(bytes[stop - 1], b'\n' | b'\r') {
        stop -= 1;
    }
    Some((begin, stop))
}
