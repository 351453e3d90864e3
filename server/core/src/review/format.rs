//! Human text and JSON output of a review.

use std::fmt::Write as _;

use serde_json::Value;

use super::ReviewOutcome;

/// Output formats of `jingu review --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Rdjson,
}

/// Render `outcome` in `format`; `color` adds ANSI colours to text diffs (TTY only).
pub fn render(outcome: &ReviewOutcome, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(outcome, color),
        Format::Json => pretty(&json(outcome)),
        Format::Sarif => pretty(&super::sarif::log(outcome)),
        Format::Rdjson => pretty(&super::rdjson::result(outcome)),
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

pub fn json(outcome: &ReviewOutcome) -> Value {
    serde_json::to_value(outcome).unwrap_or_default()
}

pub fn text(outcome: &ReviewOutcome, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for v in &outcome.findings {
        let f = &v.finding;
        let lines = if f.start_line == f.end_line {
            f.start_line.to_string()
        } else {
            format!("{}-{}", f.start_line, f.end_line)
        };
        let sev = match f.severity.as_str() {
            s @ "error" => paint("1;31", s),
            s @ "warning" => paint("1;33", s),
            s => paint("1;36", s),
        };
        let _ = writeln!(
            out,
            "{}:{lines}: {sev} [{}] {}",
            f.file,
            f.category.as_str(),
            f.message
        );
        for line in v.diff.lines() {
            let shown = match line.as_bytes().first() {
                _ if line.starts_with("+++") || line.starts_with("---") => paint("1", line),
                Some(b'+') => paint("32", line),
                Some(b'-') => paint("31", line),
                Some(b'@') => paint("36", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "    {shown}");
        }
    }
    let _ = writeln!(
        out,
        "{} finding(s) in {} file(s) against {}; {} dropped as invalid",
        outcome.findings.len(),
        outcome.files.len(),
        outcome.base,
        outcome.dropped.len()
    );
    for d in &outcome.dropped {
        let _ = writeln!(out, "  dropped: {}", d.reason);
    }
    out
}
