//! Verbatim spans: string literals (plain, raw, multi-line, template, heredoc) and comments, as
//! tree-sitter node ranges. Their bytes are not code, so indentation detection skips lines inside
//! them, and a string's content is never re-indented (its indentation is part of its value).

use std::ops::Range;

use tree_sitter::{Node, Tree};

/// What a verbatim span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerbatimKind {
    /// A string literal: its bytes are a value and must be kept exactly.
    String,
    /// A comment: not code, but free to move with the code around it.
    Comment,
}

/// A string literal or comment node's byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbatim {
    pub range: Range<usize>,
    pub kind: VerbatimKind,
}

/// Every outermost string-literal and comment node of `tree`, in document order and without
/// overlaps (a string inside a template substitution is part of its template). Works on trees
/// with errors too: literals are lexical tokens, found even where the grammar gave up.
pub fn verbatim_spans(tree: &Tree) -> Vec<Verbatim> {
    let mut out = Vec::new();
    let mut cursor = tree.root_node().walk();
    loop {
        let node = cursor.node();
        let kind = classify(node);
        if let Some(kind) = kind {
            out.push(Verbatim {
                range: node.start_byte()..node.end_byte(),
                kind,
            });
        }
        if kind.is_none() && cursor.goto_first_child() {
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

/// The outermost string-literal or comment node containing byte `pos` (`start <= pos < end`):
/// the span of [`verbatim_spans`] holding `pos`, found by descending the tree along `pos` instead
/// of walking all of it (an edit asks about a few lines of a file, not every node).
pub fn verbatim_at(tree: &Tree, pos: usize) -> Option<Verbatim> {
    let mut cursor = tree.root_node().walk();
    loop {
        let node = cursor.node();
        if let Some(kind) = classify(node) {
            return Some(Verbatim {
                range: node.start_byte()..node.end_byte(),
                kind,
            });
        }
        // The first child ending after `pos`; it holds `pos` only if it starts at or before it.
        cursor.goto_first_child_for_byte(pos)?;
        while cursor.node().end_byte() <= pos {
            if !cursor.goto_next_sibling() {
                return None;
            }
        }
        if cursor.node().start_byte() > pos {
            return None;
        }
    }
}

/// The [`LineKind`] of the line of `text` starting at byte `start`, as [`line_kinds`] would say
/// from the spans of `tree`, asking the tree about that line only.
pub fn line_kind_at(text: &str, tree: &Tree, start: usize) -> LineKind {
    let rest = &text[start.min(text.len())..];
    let line = rest.split('\n').next().unwrap_or("");
    let blank_len = line.len() - line.trim_start().len();
    match verbatim_at(tree, start) {
        Some(s) if s.kind == VerbatimKind::String && s.range.start < start => LineKind::InString,
        _ if blank_len == line.len() => LineKind::Code,
        _ => match verbatim_at(tree, start + blank_len) {
            Some(s) if s.kind == VerbatimKind::Comment => LineKind::Comment,
            _ => LineKind::Code,
        },
    }
}

/// Node kinds across the supported grammars: `string` (Python, JS/TS), `template_string` (JS/TS),
/// `string_literal`/`raw_string_literal` (Rust, C, C++, Java text blocks), Go's
/// `interpreted_string_literal`/`raw_string_literal`, `concatenated_string` (Python, C/C++),
/// heredocs; comments are `comment`, `line_comment`, `block_comment`.
fn classify(node: Node<'_>) -> Option<VerbatimKind> {
    if !node.is_named() || node.start_byte() == node.end_byte() {
        return None;
    }
    let kind = node.kind();
    if kind.contains("comment") {
        Some(VerbatimKind::Comment)
    } else if kind == "string"
        || kind.ends_with("string_literal")
        || kind == "template_string"
        || kind == "concatenated_string"
        || kind == "text_block"
        || kind.contains("heredoc")
    {
        Some(VerbatimKind::String)
    } else {
        None
    }
}

/// How a line's leading whitespace is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Code (or blank): its indentation is the file's style.
    Code,
    /// The line starts inside a string literal: its leading whitespace is the string's content.
    InString,
    /// The line's first non-blank byte is in a comment (a comment line, or a block comment's
    /// continuation): not evidence of the indentation style, but re-indented with the code.
    Comment,
}

/// Classify each `\n`-separated line of `text` (as `text.split('\n')` yields them) against its
/// verbatim spans.
pub fn line_kinds(text: &str, spans: &[Verbatim]) -> Vec<LineKind> {
    let containing = |pos: usize| {
        let i = spans.partition_point(|s| s.range.end <= pos);
        spans.get(i).filter(|s| s.range.start <= pos)
    };
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        let blank_len = line.len() - line.trim_start().len();
        let kind = match containing(start) {
            Some(s) if s.kind == VerbatimKind::String && s.range.start < start => {
                LineKind::InString
            }
            _ if blank_len == line.len() => LineKind::Code,
            _ => match containing(start + blank_len) {
                Some(s) if s.kind == VerbatimKind::Comment => LineKind::Comment,
                _ => LineKind::Code,
            },
        };
        out.push(kind);
        start += line.len() + 1;
    }
    out
}
