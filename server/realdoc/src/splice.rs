//! Compute the byte splice for an operation on a located [`Region`]: the new text re-indented,
//! converted to the file's line endings, with blank-line conventions for symbols and the file's
//! trailing-newline state preserved.

use std::ops::Range;

use jingu_syntax::{
    Language, LineKind, line_kind_at, line_kinds, parse, verbatim_at, verbatim_spans,
};
use tree_sitter::Tree;

use super::error::EditError;
use super::indent::{Rebase, Style, reindent};
use super::lines::{
    blank_lines_after, blank_lines_before, detect_eol, eol_len_before, indent_of, line_end,
};
use super::locate::{Region, RegionKind, default_separation};
use super::request::{EditRequest, Op};

/// Blank lines kept between symbols at most, whatever the neighbours do.
const MAX_SEPARATION: usize = 2;

/// `tree` is the parse of `text` (when it has a language): its strings and comments are told
/// apart from code when detecting the file's indentation.
pub(crate) fn splice(
    text: &str,
    language: Option<Language>,
    tree: Option<&Tree>,
    region: &Region,
    req: &EditRequest,
) -> Result<(Range<usize>, String), EditError> {
    let eol = detect_eol(text);
    let is_symbol = matches!(region.kind, RegionKind::Symbol { .. });
    let body = if req.op == Op::Delete {
        String::new()
    } else {
        let mut lines = new_lines(text, language, tree, region, req)?;
        if let (
            RegionKind::Symbol {
                trailer: Some(t), ..
            },
            Op::Replace,
        ) = (region.kind, req.op)
            && let Some(last) = lines.iter_mut().rev().find(|l| !l.trim().is_empty())
            && !last.trim_end().ends_with(t)
        {
            // `pos: u32` replacing `pos: usize,` keeps the field's comma.
            last.truncate(last.trim_end().len());
            last.push(t);
        }
        if !region.whole_lines()
            && let Some(first) = lines.first_mut()
        {
            // Spliced mid-line: the first line continues at the existing column.
            *first = first.trim_start().to_string();
        }
        lines.join(eol)
    };

    if !region.whole_lines() {
        let indent = &region.indent;
        return Ok(match req.op {
            Op::Replace => (region.start..region.end, body),
            Op::Delete => (region.start..region.end, String::new()),
            Op::InsertBefore => (region.start..region.start, format!("{body}{eol}{indent}")),
            Op::InsertAfter => (region.end..region.end, format!("{eol}{indent}{body}")),
        });
    }

    let sep = |prefer_above: bool| -> String {
        let RegionKind::Symbol { kind, .. } = region.kind else {
            return String::new();
        };
        let n = separation(text, region, prefer_above)
            .unwrap_or_else(|| default_separation(language, kind, &region.indent));
        eol.repeat(n.min(MAX_SEPARATION))
    };
    // Blank lines the text itself puts around an inserted symbol win over the neighbours'
    // spacing: leading ones separate it from what is above, trailing ones from what is below
    // (replacing the blank lines already there on that side).
    let (lead, trail) = if is_symbol {
        outer_blank_lines(&req.text)
    } else {
        (0, 0)
    };
    let given = |n: usize| (n > 0).then(|| eol.repeat(n));
    let (range, inserted) = match req.op {
        Op::Replace => (region.start..region.end, format!("{body}{eol}")),
        Op::InsertBefore => {
            let below = given(trail).unwrap_or_else(|| sep(true));
            match given(lead) {
                Some(above) => (
                    blank_lines_before(text, region.start).1..region.start,
                    format!("{above}{body}{eol}{below}"),
                ),
                None => (region.start..region.start, format!("{body}{eol}{below}")),
            }
        }
        Op::InsertAfter => {
            let above = given(lead).unwrap_or_else(|| sep(false));
            match given(trail) {
                Some(below) => (
                    region.end..blank_lines_after(text, region.end).1,
                    format!("{above}{body}{eol}{below}"),
                ),
                None => (region.end..region.end, format!("{above}{body}{eol}")),
            }
        }
        Op::Delete if is_symbol => (tidy_delete(text, region), String::new()),
        Op::Delete => (region.start..region.end, String::new()),
    };
    // A line edit reaching the end of a file without a final newline adds one when its text ends
    // with one (a text without one is the usual way to send a line, so it never removes one).
    let follow_text = (!is_symbol && req.op != Op::Delete).then(|| req.text.ends_with('\n'));
    Ok(keep_final_newline_state(
        text,
        eol,
        range,
        inserted,
        follow_text,
    ))
}

/// The request's text as re-indented lines (LF-split, no line endings).
fn new_lines(
    text: &str,
    language: Option<Language>,
    tree: Option<&Tree>,
    region: &Region,
    req: &EditRequest,
) -> Result<Vec<String>, EditError> {
    let empty = || EditError::EmptyText {
        op: req.op.as_str(),
    };
    if req.text.is_empty() {
        return Err(empty());
    }
    let normalised = req.text.replace("\r\n", "\n");
    let is_symbol = matches!(region.kind, RegionKind::Symbol { .. });
    let body: &str = if is_symbol {
        // Separation around a symbol is the engine's job: drop the text's outer blank lines.
        let trimmed = normalised.trim_end();
        let first_content = trimmed
            .char_indices()
            .find(|&(_, c)| !c.is_whitespace())
            .map_or(trimmed.len(), |(i, _)| i);
        let first_line = trimmed[..first_content].rfind('\n').map_or(0, |i| i + 1);
        &trimmed[first_line..]
    } else {
        normalised.strip_suffix('\n').unwrap_or(&normalised)
    };
    if is_symbol && body.is_empty() {
        return Err(empty());
    }
    // The old text's line kinds are asked of its tree line by line, for the few lines that can
    // decide the style and the region's first line: walking every node of a big file for them was
    // a tenth of a whole `jingu edit`.
    let old_kind = |start: usize| tree.map_or(LineKind::Code, |t| line_kind_at(text, t, start));
    let style = Style::detect_by(text, |_, start| old_kind(start));
    // Which lines of the new text sit inside its own strings: parsed on its own (literals are
    // lexical tokens, found even in a fragment that does not parse as a whole).
    let new_kinds = language
        .and_then(|l| parse(l, body, None))
        .map(|t| line_kinds(body, &verbatim_spans(&t)))
        .unwrap_or_default();
    // Lines replaced inside a string literal are its content: taken exactly as given.
    let in_string = !is_symbol
        && region.start_line >= 1
        && nth_line_start(text, region.start_line - 1)
            .is_some_and(|start| old_kind(start) == LineKind::InString);
    // A line "opens a block" only when its `{`/`:` is code, not the end of a comment or string.
    let opens_block =
        region.opens_block && !tree.is_some_and(|t| ends_in_verbatim(text, region, t));
    // Line and keyword targets take the text as given when inserting (a column-0 line stays at
    // column 0: it may be a new top-level definition), except flush-left text right after a line
    // that opens a block, which goes one level into it; a replacement is re-indented only when it
    // arrives flush-left.
    let (target, rebase) = match (is_symbol, req.op) {
        (true, _) => (region.indent.clone(), Rebase::Always),
        (false, _) if in_string => (String::new(), Rebase::Never),
        (false, Op::Replace) => (region.indent.clone(), Rebase::IfUnindented),
        (false, Op::InsertAfter) if opens_block => (
            format!("{}{}", region.last_indent, style.unit()),
            Rebase::IfUnindented,
        ),
        (false, _) => (String::new(), Rebase::Never),
    };
    Ok(reindent(body, &new_kinds, &target, style, rebase))
}

/// Whether the region's last non-blank byte lies in a string literal or comment.
fn ends_in_verbatim(text: &str, region: &Region, tree: &Tree) -> bool {
    let content = text[region.start..region.end].trim_end();
    if content.is_empty() {
        return false;
    }
    verbatim_at(tree, region.start + content.len() - 1).is_some()
}

/// Byte offset where 0-based line `n` of `text` starts (as `text.split('\n')` counts lines).
fn nth_line_start(text: &str, n: usize) -> Option<usize> {
    match n {
        0 => Some(0),
        _ => text.match_indices('\n').nth(n - 1).map(|(i, _)| i + 1),
    }
}

/// Blank lines before the first and after the last non-blank line of a request's text (its final
/// line ending is not a blank line: `"f()\n\n"` has one after).
fn outer_blank_lines(text: &str) -> (usize, usize) {
    let text = text.replace("\r\n", "\n");
    let content = text.trim();
    if content.is_empty() {
        return (0, 0);
    }
    let before = &text[..text.len() - text.trim_start().len()];
    let after = &text[text.trim_end().len()..];
    (
        before.matches('\n').count(),
        after.matches('\n').count().saturating_sub(1),
    )
}

/// Blank lines between the symbol and its sibling on the preferred side (falling back to the
/// other side); `None` when neither neighbour is a sibling at the same indentation.
fn separation(text: &str, region: &Region, prefer_above: bool) -> Option<usize> {
    let (above, above_start) = blank_lines_before(text, region.start);
    let sibling_above = above_start > 0 && {
        let prev = super::lines::line_start(text, above_start - 1);
        indent_of(&text[prev..]) == region.indent
    };
    let (below, below_end) = blank_lines_after(text, region.end);
    let sibling_below = below_end < text.len() && indent_of(&text[below_end..]) == region.indent;
    let above = sibling_above.then_some(above);
    let below = sibling_below.then_some(below);
    if prefer_above {
        above.or(below)
    } else {
        below.or(above)
    }
}

/// Deleting a symbol also removes the blank lines that separated it: at the start of a block those
/// below it, at the end of a block those above it, between siblings those below it. No double gap
/// or blank line after `{` or before `}` is left behind.
fn tidy_delete(text: &str, region: &Region) -> Range<usize> {
    let (above, above_start) = blank_lines_before(text, region.start);
    let (_, below_end) = blank_lines_after(text, region.end);
    let shallower = |line: &str| indent_of(line).len() < region.indent.len();
    let prev_is_outer = above_start == 0
        || shallower(&text[super::lines::line_start(text, above_start - 1)..above_start]);
    let next_is_outer =
        below_end >= text.len() || shallower(&text[below_end..line_end(text, below_end)]);
    match (prev_is_outer, next_is_outer) {
        (true, true) => above_start..below_end,
        (true, false) => region.start..below_end,
        (false, true) => above_start..region.end,
        (false, false) if above > 0 => region.start..below_end,
        (false, false) => region.start..region.end,
    }
}

/// Whole-line splices assume every line ends with a line ending. A file without a final newline is
/// treated as if it had one, and the splice is then adjusted so the result has none either.
fn keep_final_newline_state(
    text: &str,
    eol: &str,
    mut range: Range<usize>,
    mut inserted: String,
    follow_text: Option<bool>,
) -> (Range<usize>, String) {
    if text.is_empty() || range.end != text.len() {
        return (range, inserted);
    }
    let had_final = text.ends_with('\n');
    if had_final {
        return (range, inserted);
    }
    let want_final = follow_text.unwrap_or(false);
    if inserted.is_empty() {
        // Deleting the last line(s): drop the ending of the line that becomes last.
        range.start -= eol_len_before(text, range.start);
    } else {
        if !want_final {
            inserted.truncate(inserted.len() - eol.len());
        }
        if range.start == text.len() {
            // Appending after the last line: it needs an ending now.
            inserted.insert_str(0, eol);
        }
    }
    (range, inserted)
}
