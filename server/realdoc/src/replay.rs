//! Replaying real changes: given a file before and after a commit, derive the RealDoc batch a
//! developer (or model) would send — symbol operations where whole symbols were added, removed or
//! rewritten, line edits for changes inside a symbol — plan it against the before text and compare
//! the result with the after text byte for byte. Used by the replay benchmark and its CI subset.

use std::fmt::Write as _;

use similar::{DiffTag, TextDiff};

use jingu_syntax::{Language, Symbol, file_symbols};

use super::error::EditError;
use super::many::plan_many;
use super::request::{EditRequest, Op, Target};

/// The outcome of replaying one before/after pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    Identical,
    /// RealDoc refused the batch; the refusal's kind.
    Refused(String),
    /// The result differs from `after`; why, as far as can be told.
    Wrong(&'static str),
}

#[derive(Debug, Clone)]
pub struct Replay {
    pub outcome: Replayed,
    /// JSON bytes of the batch (what a model would send).
    pub request_bytes: usize,
    pub file_bytes: usize,
    /// Bytes of a unified diff with 3 lines of context.
    pub diff_bytes: usize,
    pub edits: usize,
}

/// Replay one change. `None` when there is nothing to replay (identical texts).
pub fn replay(language: Option<Language>, before: &str, after: &str) -> Option<Replay> {
    if before == after {
        return None;
    }
    let batch = derive_batch(language, before, after);
    let request_bytes = serde_json::to_string(&batch).map_or(0, |s| s.len());
    let diff_bytes = TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .to_string()
        .len();
    let outcome = match plan_many(before, language, &batch) {
        Ok(p) if p.new_text == after => Replayed::Identical,
        Ok(p) => Replayed::Wrong(classify(&p.new_text, after)),
        Err(e) => Replayed::Refused(refusal_kind(&e).to_string()),
    };
    Some(Replay {
        outcome,
        request_bytes,
        file_bytes: after.len(),
        diff_bytes,
        edits: batch.len(),
    })
}

fn refusal_kind(e: &EditError) -> &'static str {
    match e {
        EditError::InBatch { error, .. } | EditError::BatchInvalid { error, .. } => {
            refusal_kind(error)
        }
        EditError::NoSuchSymbol { .. } => "no such symbol",
        EditError::AmbiguousTarget { .. } => "ambiguous target",
        EditError::SyntaxError { .. } | EditError::MoreSyntaxErrors { .. } => "syntax check",
        EditError::Overlap { .. } => "overlapping edits",
        EditError::EmptyText { .. } => "empty text",
        EditError::LinesOutOfRange { .. } | EditError::InvalidLines { .. } => "line range",
        EditError::ParseFailed => "parse failed",
        _ => "other",
    }
}

/// Why `got` differs from `want`.
fn classify(got: &str, want: &str) -> &'static str {
    if got.trim_end_matches(['\n', '\r']) == want.trim_end_matches(['\n', '\r']) {
        return "final newline";
    }
    let squash = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    if squash(got) == squash(want) {
        return "blank lines";
    }
    let strip = |s: &str| -> String {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    if strip(got) == strip(want) {
        return "indentation";
    }
    "content"
}

/// The symbol whose whole-line extent is exactly old lines `a..b` (0-based, end exclusive).
fn symbol_spanning(symbols: &[Symbol], a: usize, b: usize) -> Option<&Symbol> {
    symbols
        .iter()
        .filter(|s| s.start_line == a + 1 && s.end_line == b)
        .min_by_key(|s| s.range.len())
}

/// The batch reproducing `after` from `before`: one edit per diff hunk, in file order, all
/// addressed against `before`.
pub fn derive_batch(language: Option<Language>, before: &str, after: &str) -> Vec<EditRequest> {
    let old_symbols = language.map(|l| file_symbols(l, before));
    let old_lines: Vec<&str> = before.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let diff = TextDiff::from_lines(before, after);
    let mut batch = Vec::new();
    for group in grouped(diff.ops()) {
        let (a, b) = (group.0.start, group.0.end);
        let (c, d) = (group.1.start, group.1.end);
        let text: String = new_lines[c..d].concat();
        // A whole symbol removed or rewritten: address it by name (what a model does).
        if let Some(sym) = old_symbols
            .as_ref()
            .and_then(|f| (b > a).then(|| symbol_spanning(&f.symbols, a, b)).flatten())
            && unique(old_symbols.as_ref(), &sym.name_path)
            && (d == c || (text_owns_lines(&text) && indent(&text) == indent(old_lines[a])))
        {
            let op = if d == c { Op::Delete } else { Op::Replace };
            batch.push(EditRequest::new(
                Target::Symbol(sym.name_path.clone()),
                op,
                text,
            ));
            continue;
        }
        let req = if b == a {
            // Pure insertion before old line a (0-based).
            if a < old_lines.len() {
                EditRequest::new(
                    Target::Lines {
                        start: a + 1,
                        end: a + 1,
                    },
                    Op::InsertBefore,
                    text,
                )
            } else {
                EditRequest::new(
                    Target::Lines {
                        start: old_lines.len(),
                        end: old_lines.len(),
                    },
                    Op::InsertAfter,
                    text,
                )
            }
        } else if d == c {
            EditRequest::new(
                Target::Lines {
                    start: a + 1,
                    end: b,
                },
                Op::Delete,
                String::new(),
            )
        } else {
            EditRequest::new(
                Target::Lines {
                    start: a + 1,
                    end: b,
                },
                Op::Replace,
                text,
            )
        };
        batch.push(req);
    }
    batch
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

fn unique(symbols: Option<&jingu_syntax::FileSymbols>, name_path: &str) -> bool {
    symbols.is_some_and(|f| {
        f.symbols
            .iter()
            .filter(|s| s.name_path == name_path)
            .count()
            == 1
    })
}

/// Text that starts and ends with code (symbol replacement text carries no outer blank lines).
fn text_owns_lines(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    let last = text.lines().last().unwrap_or("");
    !first.trim().is_empty() && !last.trim().is_empty()
}

/// Adjacent non-equal diff ops merged into (old range, new range) hunks.
fn grouped(ops: &[similar::DiffOp]) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut out: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> = Vec::new();
    for op in ops {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        match out.last_mut() {
            Some(last) if last.0.end == o.start && last.1.end == n.start => {
                last.0.end = o.end;
                last.1.end = n.end;
            }
            _ => out.push((o, n)),
        }
    }
    out
}

/// Totals over many replays, printed one line per group.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub changes: usize,
    pub identical: usize,
    pub refused: std::collections::BTreeMap<String, usize>,
    pub wrong: std::collections::BTreeMap<&'static str, usize>,
    pub request_bytes: usize,
    pub file_bytes: usize,
    pub diff_bytes: usize,
}

impl Tally {
    pub fn add(&mut self, r: &Replay) {
        self.changes += 1;
        match &r.outcome {
            Replayed::Identical => self.identical += 1,
            Replayed::Refused(k) => *self.refused.entry(k.clone()).or_default() += 1,
            Replayed::Wrong(k) => *self.wrong.entry(k).or_default() += 1,
        }
        self.request_bytes += r.request_bytes;
        self.file_bytes += r.file_bytes;
        self.diff_bytes += r.diff_bytes;
    }

    pub fn merge(&mut self, other: &Tally) {
        self.changes += other.changes;
        self.identical += other.identical;
        for (k, v) in &other.refused {
            *self.refused.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.wrong {
            *self.wrong.entry(k).or_default() += v;
        }
        self.request_bytes += other.request_bytes;
        self.file_bytes += other.file_bytes;
        self.diff_bytes += other.diff_bytes;
    }

    /// `label: N changes, identical X (P%), refused {..}, wrong {..}, request/file R, diff/file D`.
    pub fn line(&self, label: &str) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.changes.max(1) as f64;
        let ratio = |n: usize| n as f64 / self.file_bytes.max(1) as f64;
        let mut out = format!(
            "{label:<11} {:>4} changes, byte-identical {:>4} ({:.1}%)",
            self.changes,
            self.identical,
            pct(self.identical)
        );
        let _ = write!(out, ", refused {:?}", self.refused);
        let _ = write!(out, ", wrong {:?}", self.wrong);
        let _ = write!(
            out,
            ", request/file {:.3}, unified-diff/file {:.3}",
            ratio(self.request_bytes),
            ratio(self.diff_bytes)
        );
        out
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn a_mixed_change_replays_exactly() {
        let before = "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n\nfn c() {\n    3\n}\n";
        let after = "fn a() {\n    let x = 10;\n    x\n}\n\nfn c() {\n    3\n}\n\nfn d() {}\n";
        let r = replay(Some(Language::Rust), before, after).expect("a change");
        assert_eq!(r.outcome, Replayed::Identical, "{r:?}");
        assert!(r.request_bytes < r.file_bytes * 3);
        let batch = derive_batch(Some(Language::Rust), before, after);
        assert!(batch.iter().all(|e| e.expect.is_none()), "{batch:?}");
        assert_eq!(classify("a\n", "a"), "final newline");
        assert_eq!(classify("a\n\nb", "a\nb"), "blank lines");
        assert_eq!(classify("  a", "a"), "indentation");
    }
}
