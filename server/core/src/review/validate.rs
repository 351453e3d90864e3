//! Nothing the model says reaches a user unchecked: the file must be one under review, the lines
//! must exist in its current text, and a replacement must apply through RealDoc (a Lines target,
//! the same planner every edit uses) without adding syntax errors. Failures are dropped, with why.

use std::path::Path;

use ropey::Rope;

use super::diff::ChangedFile;
use super::finding::{Dropped, Finding, Fix, Validated};
use super::position::{Span, line_span_bytes};
use crate::ops::unified_diff;
use jingu_realdoc::{self as realdoc, EditRequest, Op, Target};
use jingu_syntax::Language;

/// Split `findings` into those that hold and those dropped (appended to `dropped`).
pub fn validate(
    files: &[ChangedFile],
    findings: Vec<Finding>,
    mut dropped: Vec<Dropped>,
) -> (Vec<Validated>, Vec<Dropped>) {
    let mut valid = Vec::new();
    for mut f in findings {
        f.file = f.file.trim_start_matches("./").to_string();
        match files.iter().find(|c| c.path == f.file) {
            None => dropped.push(drop(
                &f,
                format!("{} is not among the reviewed files", f.file),
            )),
            Some(file) => match check(&file.path, &file.new_text, &f) {
                Ok(v) if !valid.contains(&v) => valid.push(v),
                Ok(_) => dropped.push(drop(&f, "duplicate finding".into())),
                Err(reason) => dropped.push(drop(&f, reason)),
            },
        }
    }
    (valid, dropped)
}

fn drop(f: &Finding, reason: String) -> Dropped {
    Dropped {
        finding: serde_json::to_value(f).unwrap_or_default(),
        reason,
    }
}

/// Validate one finding against the current `text` of `path`.
pub fn check(path: &str, text: &str, f: &Finding) -> Result<Validated, String> {
    let line_count = text.lines().count();
    let (begin, end) = line_span_bytes(text, f.start_line, f.end_line).ok_or_else(|| {
        format!(
            "lines {}-{} do not exist: the file has {line_count} line(s)",
            f.start_line, f.end_line
        )
    })?;
    if f.message.trim().is_empty() {
        return Err("the finding has no message".into());
    }
    let rope = Rope::from_str(text);
    let mut fix = None;
    let mut diff = String::new();
    if let Some(replacement) = &f.replacement {
        // An empty replacement means "remove these lines".
        let op = if replacement.is_empty() {
            Op::Delete
        } else {
            Op::Replace
        };
        let req = EditRequest::new(
            Target::Lines {
                start: f.start_line,
                end: f.end_line,
            },
            op,
            replacement.clone(),
        );
        let planned = realdoc::plan(text, Language::from_path(Path::new(path)), &req)
            .map_err(|e| format!("the replacement does not apply: {e}"))?;
        if planned.new_text != text {
            diff = unified_diff(path, text, &planned.new_text);
            fix = Some(Fix {
                span: Span::of_bytes(&rope, planned.changed.start, planned.changed.end),
                text: planned.inserted,
            });
        }
    }
    Ok(Validated {
        finding: f.clone(),
        span: Span::of_bytes(&rope, begin, end),
        original: text[begin..end].to_string(),
        fix,
        diff,
    })
}
