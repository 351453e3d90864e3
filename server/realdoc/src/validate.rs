//! Syntax validation by incremental re-parse: the old tree is edited with the splice and reused, so
//! the cost grows with the size of the change, not of the file.

use std::ops::Range;

use tree_sitter::{InputEdit, Point, Tree};

use jingu_syntax::{Language, error_count, first_error, parse};

use super::error::EditError;
use super::lines::{line_start, line_text, position};

const SNIPPET_MAX: usize = 120;

/// Re-parse `new_text` (= `old_text` with `changed` replaced by `inserted`) and refuse when the
/// edit adds syntax errors. Returns the new tree.
pub(crate) fn revalidate(
    language: Language,
    old_tree: &Tree,
    old_text: &str,
    new_text: &str,
    changed: &Range<usize>,
    inserted: &str,
) -> Result<Tree, EditError> {
    let start_position = point(old_text, changed.start);
    let old_end_position = advance(start_position, &old_text[changed.start..changed.end]);
    let new_end_position = advance(start_position, inserted);
    let mut tree = old_tree.clone();
    tree.edit(&InputEdit {
        start_byte: changed.start,
        old_end_byte: changed.end,
        new_end_byte: changed.start + inserted.len(),
        start_position,
        old_end_position,
        new_end_position,
    });
    let new_tree = parse(language, new_text, Some(&tree)).ok_or(EditError::ParseFailed)?;
    let before = error_count(old_tree);
    let after = error_count(&new_tree);
    if after <= before {
        return Ok(new_tree);
    }
    let at = first_error(&new_tree).unwrap_or(changed.start);
    let (line, col) = position(new_text, at);
    let mut snippet = line_text(new_text, at).trim().to_string();
    if snippet.len() > SNIPPET_MAX {
        let cut = (0..=SNIPPET_MAX)
            .rev()
            .find(|&i| snippet.is_char_boundary(i))
            .unwrap_or(0);
        snippet.truncate(cut);
        snippet.push('…');
    }
    let column = col + 1;
    Err(if before == 0 {
        EditError::SyntaxError {
            line,
            column,
            snippet,
        }
    } else {
        EditError::MoreSyntaxErrors {
            before,
            after,
            line,
            column,
            snippet,
        }
    })
}

fn point(text: &str, byte: usize) -> Point {
    let (line, _) = position(text, byte);
    Point {
        row: line - 1,
        column: byte - line_start(text, byte),
    }
}

/// The point reached after writing `s` at `p` (columns in bytes, as tree-sitter counts them).
fn advance(p: Point, s: &str) -> Point {
    match s.rfind('\n') {
        Some(last) => Point {
            row: p.row + s.bytes().filter(|&b| b == b'\n').count(),
            column: s.len() - last - 1,
        },
        None => Point {
            row: p.row,
            column: p.column + s.len(),
        },
    }
}
