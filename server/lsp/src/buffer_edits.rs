//! Minimal `TextEdit`s that turn one buffer text into another: one edit per changed run of lines,
//! so the editor keeps its cursor, marks and undo history outside the changed lines. The same
//! hunks are what a user accepts or rejects one by one (annotated edits), and [`landed`] tells
//! which of them a buffer's text shows were accepted.

use std::collections::HashSet;
use std::ops::Range as Bytes;

use ropey::Rope;
use similar::{DiffOp, TextDiff};
use tower_lsp_server::ls_types::{Range, TextEdit};

use jingu_docs::{Encoding, position};

/// One changed run of lines: the bytes `old` of the old text become `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hunk {
    pub(crate) old: Bytes<usize>,
    pub(crate) new_text: String,
}

/// The hunks (non-overlapping, in order, never adjacent) that make `old` into `new`.
pub(crate) fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    if old == new {
        return Vec::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
    let old_starts = line_starts(&old_lines);
    let new_starts = line_starts(&new_lines);
    let mut out = Vec::new();
    // Consecutive non-equal ops (a delete followed by an insert) make one replacement.
    let mut pending: Option<(usize, usize, usize, usize)> = None;
    let flush = |p: Option<(usize, usize, usize, usize)>, out: &mut Vec<Hunk>| {
        if let Some((os, oe, ns, ne)) = p {
            out.push(Hunk {
                old: old_starts[os]..old_starts[oe],
                new_text: new[new_starts[ns]..new_starts[ne]].to_string(),
            });
        }
    };
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if let DiffOp::Equal { .. } = op {
            flush(pending.take(), &mut out);
            continue;
        }
        pending = Some(match pending {
            Some((os, _, ns, _)) => (os, o.end, ns, n.end),
            None => (o.start, o.end, n.start, n.end),
        });
    }
    flush(pending.take(), &mut out);
    out
}

/// The hunks as LSP edits, ranges in `old` in `encoding`.
pub(crate) fn to_text_edits(old: &str, hunks: &[Hunk], encoding: Encoding) -> Vec<TextEdit> {
    let rope = Rope::from_str(old);
    hunks
        .iter()
        .map(|h| TextEdit {
            range: Range::new(
                position::to_position(&rope, h.old.start, encoding),
                position::to_position(&rope, h.old.end, encoding),
            ),
            new_text: h.new_text.clone(),
        })
        .collect()
}

/// Edits (ranges in `old`, non-overlapping, in order) that make `old` into `new`.
pub(crate) fn minimal_edits(old: &str, new: &str, encoding: Encoding) -> Vec<TextEdit> {
    to_text_edits(old, &hunks(old, new), encoding)
}

/// Which hunks `text` shows applied to `old` (`true` = accepted), or `None` when `text` is not
/// `old` with some subset of them applied (the buffer changed some other way too). When several
/// subsets give the same text, rejection is preferred hunk by hunk from the first.
pub(crate) fn landed(old: &str, hunks: &[Hunk], text: &str) -> Option<Vec<bool>> {
    // Depth-first over the hunks, each either rejected (its old bytes kept) or accepted; a state is
    // (next hunk, bytes of `text` consumed), so no state is explored twice.
    let mut seen = HashSet::new();
    let mut choice = Vec::with_capacity(hunks.len());
    fn walk(
        old: &str,
        hunks: &[Hunk],
        text: &str,
        i: usize,
        at: usize,
        seen: &mut HashSet<(usize, usize)>,
        choice: &mut Vec<bool>,
    ) -> bool {
        let gap_start = if i == 0 { 0 } else { hunks[i - 1].old.end };
        let gap_end = hunks.get(i).map_or(old.len(), |h| h.old.start);
        let gap = &old[gap_start..gap_end];
        if !text[at..].starts_with(gap) {
            return false;
        }
        let at = at + gap.len();
        let Some(h) = hunks.get(i) else {
            return at == text.len();
        };
        if !seen.insert((i, at)) {
            return false;
        }
        for (accept, piece) in [(false, &old[h.old.clone()]), (true, h.new_text.as_str())] {
            if text[at..].starts_with(piece) {
                choice.push(accept);
                if walk(old, hunks, text, i + 1, at + piece.len(), seen, choice) {
                    return true;
                }
                choice.pop();
            }
        }
        false
    }
    walk(old, hunks, text, 0, 0, &mut seen, &mut choice).then_some(choice)
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

    /// `old` with the hunks marked `true` applied.
    fn apply_some(old: &str, hunks: &[Hunk], take: &[bool]) -> String {
        let mut out = old.to_string();
        for (h, t) in hunks.iter().zip(take).rev() {
            if *t {
                out.replace_range(h.old.clone(), &h.new_text);
            }
        }
        out
    }

    #[test]
    fn hunks_are_byte_ranges_of_the_changed_runs() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nB\nc\nd\nE\nE2\nf\n";
        let hs = hunks(old, new);
        assert_eq!(
            hs,
            vec![
                Hunk {
                    old: 2..4,
                    new_text: "B\n".into()
                },
                Hunk {
                    old: 8..10,
                    new_text: "E\nE2\n".into()
                },
            ]
        );
        // An insertion is an empty range; a deletion an empty text.
        let ins = hunks("a\nc\n", "a\nb\nc\n");
        assert_eq!(ins[0].old, 2..2);
        assert_eq!(ins[0].new_text, "b\n");
        let del = hunks("a\nb\nc\n", "a\nc\n");
        assert_eq!(del[0].old, 2..4);
        assert_eq!(del[0].new_text, "");
    }

    #[test]
    fn landed_names_every_subset_of_accepted_hunks() {
        let old = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
        let new = "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";
        let new = new.replace("four\n", "");
        let hs = hunks(old, &new);
        assert_eq!(hs.len(), 3, "{hs:?}");
        for mask in 0..8u8 {
            let take: Vec<bool> = (0..3).map(|i| mask & (1 << i) != 0).collect();
            let text = apply_some(old, &hs, &take);
            assert_eq!(landed(old, &hs, &text), Some(take.clone()), "{text:?}");
        }
        assert_eq!(landed(old, &hs, &new), Some(vec![true; 3]));
        assert_eq!(landed(old, &hs, old), Some(vec![false; 3]));
    }

    #[test]
    fn landed_refuses_a_buffer_changed_some_other_way() {
        let old = "a\nb\nc\nd\n";
        let new = "A\nb\nc\nD\n";
        let hs = hunks(old, new);
        assert_eq!(landed(old, &hs, "A\nb typed\nc\nD\n"), None);
        assert_eq!(landed(old, &hs, "A\nb\nc\nD\nmore\n"), None);
        assert_eq!(landed(old, &hs, ""), None);
        // A hunk whose new text starts with its old text is still told apart.
        let old = "x\ny\n";
        let new = "x\nx\ny\n";
        let hs = hunks(old, new);
        assert_eq!(landed(old, &hs, new), Some(vec![true; hs.len()]));
        assert_eq!(landed(old, &hs, old), Some(vec![false; hs.len()]));
    }

    #[test]
    fn multibyte_hunks_convert_to_exact_edits() {
        let old = "é\r\n𝄞\r\nz\r\n";
        let new = "é\r\n☃\r\nz\r\n";
        let hs = hunks(old, new);
        let edits = to_text_edits(old, &hs, Encoding::Utf16);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].range.start.line, 1);
        assert_eq!(apply(old, &edits), new);
        assert_eq!(landed(old, &hs, new), Some(vec![true]));
    }
}
