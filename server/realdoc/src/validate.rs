//! Syntax validation by incremental re-parse: the old tree is edited with the splice and reused, so
//! the cost grows with the size of the change, not of the file.

use std::ops::Range;

use tree_sitter::{InputEdit, Point, Tree};

use jingu_syntax::{Language, error_count, for_each_error, parse};

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
    let new_changed = changed.start..changed.start + inserted.len();
    let introduced = introduced_error(old_tree, &new_tree, changed, &new_changed)
        .or_else(|| introduced_empty_block(language, old_tree, &new_tree));
    match introduced {
        None => Ok(new_tree),
        Some(at) => Err(refusal(
            new_text,
            at,
            error_count(old_tree),
            error_count(&new_tree),
        )),
    }
}

fn refusal(new_text: &str, at: usize, before: usize, after: usize) -> EditError {
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
    if before == 0 {
        EditError::SyntaxError {
            line,
            column,
            snippet,
        }
    } else {
        EditError::MoreSyntaxErrors {
            before,
            after: after.max(before + 1),
            line,
            column,
            snippet,
        }
    }
}

/// One ERROR or MISSING node.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SyntaxFault {
    missing: bool,
    kind: u16,
    range: Range<usize>,
}

/// Where the edit introduced a syntax error, if it did. Errors are compared by kind and position
/// (old ones mapped through the splice), not counted, so a file that already has errors elsewhere
/// still gets a real check. A new error far from the edit in such a file (tree-sitter recovering
/// differently around, say, an unparsable macro) is blamed on the edit only when the edit changed
/// the balance of brackets, which is what moves errors far away (a removed closing brace).
fn introduced_error(
    old_tree: &Tree,
    new_tree: &Tree,
    changed: &Range<usize>,
    new_changed: &Range<usize>,
) -> Option<usize> {
    let new_faults = faults(new_tree);
    if new_faults.is_empty() {
        return None;
    }
    let shift = |b: usize| b + new_changed.end - changed.end;
    // An old fault outside the splice keeps its place (before it) or moves with the text after
    // it; one touching the splice is gone. A zero-width fault at an insertion point may be either.
    let mut old_mapped: Vec<SyntaxFault> = Vec::new();
    for f in faults(old_tree) {
        if f.range.end <= changed.start {
            old_mapped.push(f.clone());
        }
        if f.range.start >= changed.end {
            old_mapped.push(SyntaxFault {
                range: shift(f.range.start)..shift(f.range.end),
                ..f
            });
        }
    }
    let unmatched: Vec<&SyntaxFault> = new_faults
        .iter()
        .filter(|f| !old_mapped.contains(f))
        .collect();
    let first = unmatched.first()?;
    if !old_tree.root_node().has_error()
        || bracket_balance(old_tree, changed) != bracket_balance(new_tree, new_changed)
    {
        // A clean file stays clean; an edit that changes the bracket balance is blamed for
        // every new error, however far away tree-sitter reports it (a removed closing brace).
        return Some(first.range.start);
    }
    // The file already had errors and the edit kept the brackets balanced: new errors near the
    // edit count, except as many as there were old errors touching the edited region (which
    // tree-sitter re-reports in a new shape when the region sits inside unparsable code, such
    // as C macros); errors far away are re-recovery of old ones.
    let dropped = faults(old_tree)
        .iter()
        .filter(|f| f.range.start <= changed.end && f.range.end >= changed.start)
        .count();
    let near: Vec<&&SyntaxFault> = unmatched
        .iter()
        .filter(|f| {
            f.range.start <= new_changed.end.saturating_add(NEAR)
                && f.range.end.saturating_add(NEAR) >= new_changed.start
        })
        .collect();
    if near.len() > dropped {
        return near.get(dropped).map(|f| f.range.start);
    }
    None
}

/// Where the edit left a Python block with no statement (`def f():` and nothing after it), if it
/// did. tree-sitter-python accepts an empty block without an ERROR node, but Python refuses the
/// file ("expected an indented block"), so such an edit is a syntax error like any other.
fn introduced_empty_block(language: Language, old_tree: &Tree, new_tree: &Tree) -> Option<usize> {
    if language != Language::Python {
        return None;
    }
    let new = empty_blocks(new_tree);
    (new.len() > empty_blocks(old_tree).len())
        .then(|| new.first().copied())
        .flatten()
}

/// Start bytes of the blocks (bodies of compound statements) holding no statement: nothing, or
/// only comments.
fn empty_blocks(tree: &Tree) -> Vec<usize> {
    let mut out = Vec::new();
    let mut cursor = tree.root_node().walk();
    loop {
        let node = cursor.node();
        if node.kind() == "block" {
            let mut c = node.walk();
            let statements = node
                .named_children(&mut c)
                .filter(|n| n.kind() != "comment")
                .count();
            if statements == 0 {
                // The block of `def f():` at EOF is zero-width: blame the line of its header.
                out.push(node.parent().map_or(node.start_byte(), |p| p.start_byte()));
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

/// Bytes around the edited region within which a new error is blamed on the edit.
const NEAR: usize = 80;

fn faults(tree: &Tree) -> Vec<SyntaxFault> {
    let mut out = Vec::new();
    for_each_error(tree, |node| {
        out.push(SyntaxFault {
            missing: node.is_missing(),
            kind: node.kind_id(),
            range: node.byte_range(),
        });
    });
    out
}

/// Net `{}`, `()`, `[]` tokens among the leaves lying within `range` (string and comment
/// contents are single leaves, so their brackets do not count).
fn bracket_balance(tree: &Tree, range: &Range<usize>) -> [i64; 3] {
    let mut net = [0i64; 3];
    let mut cursor = tree.root_node().walk();
    loop {
        let node = cursor.node();
        let overlaps = node.start_byte() < range.end && node.end_byte() > range.start;
        if overlaps && node.child_count() > 0 && cursor.goto_first_child() {
            continue;
        }
        if overlaps
            && node.child_count() == 0
            && !node.is_missing()
            && node.start_byte() >= range.start
            && node.end_byte() <= range.end
        {
            match node.kind() {
                "{" => net[0] += 1,
                "}" => net[0] -= 1,
                "(" => net[1] += 1,
                ")" => net[1] -= 1,
                "[" => net[2] += 1,
                "]" => net[2] -= 1,
                _ => {}
            }
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return net;
            }
        }
    }
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
