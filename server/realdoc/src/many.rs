//! Several edits of one file as one change: every target (symbol names with `[N]` suffixes, line
//! numbers, keywords) is resolved against the file as it was before the batch, the splices are
//! applied in order to an in-memory text, and the result is validated once, so edits that are only
//! valid together (`#if` … `#endif`, a function split in two) are accepted. All or nothing.

use std::ops::Range;

use jingu_syntax::Language;

use super::error::EditError;
use super::locate::locate;
use super::plan::{ParsedFile, Planned};
use super::request::{EditRequest, Target};
use super::splice::splice;
use super::validate::revalidate;

/// Plan `requests` (in order) against `text`; one [`Planned`] covering them all.
pub fn plan_many(
    text: &str,
    language: Option<Language>,
    requests: &[EditRequest],
) -> Result<Planned, EditError> {
    let file = match language {
        Some(lang) => Some(ParsedFile::new(text, lang)?),
        None => None,
    };
    plan_many_in(text, file.as_ref(), requests)
}

/// [`plan_many`] for an already-parsed file (`file.text` must be `text`).
pub fn plan_many_in(
    text: &str,
    file: Option<&ParsedFile<'_>>,
    requests: &[EditRequest],
) -> Result<Planned, EditError> {
    if requests.is_empty() {
        return Err(EditError::EmptyBatch);
    }
    let in_batch = |index: usize, e: EditError| {
        if requests.len() == 1 {
            e
        } else {
            EditError::InBatch {
                index: index + 1,
                error: Box::new(e),
            }
        }
    };
    struct Splice {
        index: usize,
        range: Range<usize>,
        inserted: String,
        start_line: usize,
        end_line: usize,
        summary: String,
    }
    let language = file.map(|f| f.language);
    let mut splices = Vec::with_capacity(requests.len());
    for (index, req) in requests.iter().enumerate() {
        let symbols = match (&req.target, file) {
            (Target::Symbol(_), Some(f)) => Some(f.symbols()),
            _ => None,
        };
        let region = locate(text, symbols, &req.target).map_err(|e| in_batch(index, e))?;
        let (range, inserted) = splice(text, language, file.map(|f| &f.tree), &region, req)
            .map_err(|e| in_batch(index, e))?;
        let lines = if region.start_line == region.end_line {
            format!("line {}", region.start_line)
        } else {
            format!("lines {}-{}", region.start_line, region.end_line)
        };
        let summary = match &req.target {
            Target::Lines { .. } => format!("{} {}", req.op, region.label),
            _ => format!("{} {} ({lines})", req.op, region.label),
        };
        splices.push(Splice {
            index,
            range,
            inserted,
            start_line: region.start_line,
            end_line: region.end_line,
            summary,
        });
    }
    // Apply in file order; edits at one point keep the order they were given in.
    let mut order: Vec<&Splice> = splices.iter().collect();
    order.sort_by_key(|s| (s.range.start, s.range.end, s.index));
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let overlap = a.range.end > b.range.start
            // Two insertions at one point are fine; an insertion inside a replaced range is not.
            || (a.range.start == b.range.start && !a.range.is_empty() && b.range.is_empty());
        if overlap {
            let (first, second) = if a.index < b.index { (a, b) } else { (b, a) };
            return Err(EditError::Overlap {
                first: first.index + 1,
                second: second.index + 1,
                detail: format!("{} / {}", first.summary, second.summary),
            });
        }
    }
    let mut new_text = String::with_capacity(text.len());
    let mut at = 0;
    for s in &order {
        new_text.push_str(&text[at..s.range.start]);
        new_text.push_str(&s.inserted);
        at = s.range.end;
    }
    new_text.push_str(&text[at..]);
    let first = order.first().map_or(0, |s| s.range.start);
    let last = order.last().map_or(0, |s| s.range.end);
    let changed = first..last;
    let inserted = new_text[first..new_text.len() - (text.len() - last)].to_string();
    let tree = match file {
        Some(f) => Some(
            revalidate(f.language, &f.tree, text, &new_text, &changed, &inserted)
                .map_err(|e| in_batch_validation(requests.len(), e))?,
        ),
        None => None,
    };
    let summary = splices
        .iter()
        .map(|s| s.summary.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Planned {
        new_text,
        changed,
        inserted,
        start_line: splices.iter().map(|s| s.start_line).min().unwrap_or(1),
        end_line: splices.iter().map(|s| s.end_line).max().unwrap_or(1),
        summary,
        tree,
    })
}

/// A batch is validated as a whole: say so when the refusal is about the combined result.
fn in_batch_validation(count: usize, e: EditError) -> EditError {
    match e {
        EditError::SyntaxError { .. } | EditError::MoreSyntaxErrors { .. } if count > 1 => {
            EditError::BatchInvalid {
                count,
                error: Box::new(e),
            }
        }
        other => other,
    }
}
