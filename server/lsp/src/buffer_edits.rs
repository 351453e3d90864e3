//! Minimal `TextEdit`s that turn one buffer text into another: one edit per changed run of lines,
//! so the editor keeps its cursor, marks and undo history outside the changed lines.

use ropey::Rope;
use similar::{DiffOp, TextDiff};
use tower_lsp_server::ls_types::{Range, TextEdit};

use jingu_docs::{Encoding, position};

/// Edits (ranges in `old`, non-overlapping, in order) that make `old` into `new`.
pub(crate) fn minimal_edits(old: &str, new: &str, encoding: Encoding) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
    let old_starts = line_starts(&old_lines);
    let new_starts = line_starts(&new_lines);
    let rope = Rope::from_str(old);
    let mut edits = Vec::new();
    // Consecutive non-equal ops (a delete followed by an insert) make one replacement.
    let mut pending: Option<(usize, usize, usize, usize)> = None;
    let flush = |p: Option<(usize, usize, usize, usize)>, edits: &mut Vec<TextEdit>| {
        if let Some((os, oe, ns, ne)) = p {
            let range = Range::new(
                position::to_position(&rope, old_starts[os], encoding),
                position::to_position(&rope, old_starts[oe], encoding),
            );
            edits.push(TextEdit {
                range,
                new_text: new[new_starts[ns]..new_starts[ne]].to_string(),
            });
        }
    };
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if let DiffOp::Equal { .. } = op {
            flush(pending.take(), &mut edits);
            continue;
        }
        pending = Some(match pending {
            Some((os, _, ns, _)) => (os, o.end, ns, n.end),
            None => (o.start, o.end, n.start, n.end),
        });
    }
    flush(pending.take(), &mut edits);
    edits
}

/// Byte offset of each line's start, plus the end: `starts[i]..starts[i + 1]` is line `i`.
fn line_starts(lines: &[&str]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(lines.len() + 1);
    let mut at = 0;
    starts.push(0);
    for l in lines {
        at += l.len();
        starts.push(at);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apply edits (ranges in the original text) back to front, in UTF-16 positions.
    fn apply(old: &str, edits: &[TextEdit]) -> String {
        let rope = Rope::from_str(old);
        let mut out = old.to_string();
        for e in edits.iter().rev() {
            let s = position::to_byte(&rope, e.range.start, Encoding::Utf16).expect("start");
            let t = position::to_byte(&rope, e.range.end, Encoding::Utf16).expect("end");
            out.replace_range(s..t, &e.new_text);
        }
        out
    }

    #[test]
    fn one_edit_per_changed_run_and_the_result_is_exact() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nB\nc\nd\nE\nE2\nf\n";
        let edits = minimal_edits(old, new, Encoding::Utf16);
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert_eq!(edits[0].range.start.line, 1);
        assert_eq!(edits[1].range.start.line, 4);
        assert_eq!(apply(old, &edits), new);
    }

    #[test]
    fn unchanged_text_needs_no_edit_and_odd_endings_survive() {
        assert!(minimal_edits("x\n", "x\n", Encoding::Utf16).is_empty());
        for (old, new) in [
            ("no newline", "no newline at all"),
            ("é\r\nü\r\n", "é\r\nü\r\nsnow ☃\r\n"),
            ("tail\n", ""),
            ("", "fresh\n"),
            ("𝄞 clef\nx", "𝄞 clef\ny"),
        ] {
            assert_eq!(apply(old, &minimal_edits(old, new, Encoding::Utf16)), new);
        }
    }
}
