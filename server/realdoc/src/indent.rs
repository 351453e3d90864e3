//! Re-indenting new text to its destination: the model usually sends a method flush-left, or with
//! the indentation it saw in a different context, and sometimes with spaces where the file uses tabs.

use jingu_syntax::LineKind;

use super::lines::{indent_of, is_blank};

/// The kind of line `i` (code when the text has no known spans).
fn kind_at(kinds: &[LineKind], i: usize) -> LineKind {
    kinds.get(i).copied().unwrap_or(LineKind::Code)
}

/// How the file indents one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Tabs,
    Spaces(usize),
}

impl Style {
    /// Guess from the text's code lines (`kinds`, from [`jingu_syntax::line_kinds`], tells which
    /// lines are inside strings or comments; empty means all code): tabs if the first indented
    /// line starts with a tab, else the smallest non-zero space indent (4 when nothing is
    /// indented).
    pub(crate) fn detect(text: &str, kinds: &[LineKind]) -> Self {
        Self::detect_by(text, |i, _| kind_at(kinds, i))
    }

    /// As [`Style::detect`], asking `kind(line index, line start byte)` only about the lines
    /// that can still change the answer (a tab, or fewer spaces than the smallest so far).
    pub(crate) fn detect_by(text: &str, mut kind: impl FnMut(usize, usize) -> LineKind) -> Self {
        let mut smallest: Option<usize> = None;
        let mut start = 0;
        for (i, line) in text.split('\n').take(2000).enumerate() {
            let line_start = start;
            start += line.len() + 1;
            if is_blank(line) {
                continue;
            }
            let ind = indent_of(line);
            let tab = ind.starts_with('\t');
            if ind.is_empty() || (!tab && smallest.is_some_and(|s| ind.len() >= s)) {
                continue;
            }
            if kind(i, line_start) != LineKind::Code {
                continue;
            }
            if tab {
                return Self::Tabs;
            }
            smallest = Some(smallest.map_or(ind.len(), |s: usize| s.min(ind.len())));
            if smallest == Some(1) {
                break;
            }
        }
        Self::Spaces(smallest.unwrap_or(4).clamp(1, 8))
    }

    /// One level of indentation as text.
    pub(crate) fn unit(self) -> String {
        match self {
            Self::Tabs => "\t".to_string(),
            Self::Spaces(n) => " ".repeat(n),
        }
    }
}

/// When to move the text's base indentation onto the target's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rebase {
    /// Always: the target's indentation is authoritative (replacing code, inserting a sibling symbol).
    Always,
    /// Only when the text comes flush-left: an indented text at a line target keeps the indentation
    /// its author chose.
    IfUnindented,
    /// Never: the text is inserted exactly as given (a line insertion at column 0 stays there).
    Never,
}

/// Re-indent `text` (LF-normalised lines, no trailing newline) for a destination indented `target`
/// in a file indented with `file_style`. Returns the lines. Lines that start inside a string
/// literal (`kinds`, one per line; empty means all code) are kept exactly as sent, and only code
/// lines tell the text's own style.
pub(crate) fn reindent(
    text: &str,
    kinds: &[LineKind],
    target: &str,
    file_style: Style,
    rebase: Rebase,
) -> Vec<String> {
    if rebase == Rebase::Never {
        return text.split('\n').map(|l| l.to_string()).collect();
    }
    let literal = |i: usize| kind_at(kinds, i) == LineKind::InString;
    let text_style = Style::detect(text, kinds);
    // Tabs/spaces are converted only where the destination itself is indented the other way:
    // spaces inside a raw string of a tab-indented file stay spaces.
    let dest_style = match target.chars().next() {
        Some('\t') => Style::Tabs,
        Some(_) => match file_style {
            Style::Tabs => text_style,
            spaces => spaces,
        },
        None => file_style,
    };
    let mut lines: Vec<String> = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            if literal(i) {
                l.to_string()
            } else {
                convert_style(l, text_style, dest_style)
            }
        })
        .collect();
    let Some(first) = (0..lines.len()).position(|i| !literal(i) && !is_blank(&lines[i])) else {
        return lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| if literal(i) { l } else { String::new() })
            .collect();
    };
    let keep_blank = |(i, line): (usize, String)| {
        if literal(i) { line } else { strip_blank(line) }
    };
    let base = indent_of(&lines[first]).to_string();
    if rebase == Rebase::IfUnindented && !base.is_empty() {
        return lines.into_iter().enumerate().map(keep_blank).collect();
    }
    let code_after: Vec<String> = (first + 1..lines.len())
        .filter(|&i| !literal(i))
        .map(|i| lines[i].clone())
        .collect();
    if base.is_empty()
        && !target.is_empty()
        && first_line_was_trimmed(&lines[first], &code_after, target, file_style)
    {
        // Only the first line lost its indentation (copied from a view of the file): restore it.
        lines[first] = format!("{target}{}", lines[first]);
        return lines.into_iter().enumerate().map(keep_blank).collect();
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            if literal(i) {
                // Inside a string literal: its leading whitespace is part of its value.
                line
            } else if is_blank(&line) {
                String::new()
            } else if let Some(rest) = line.strip_prefix(base.as_str()) {
                format!("{target}{rest}")
            } else {
                // Less indented than the first line: string-literal content, left exactly as sent.
                line
            }
        })
        .collect()
}

fn strip_blank(line: String) -> String {
    if is_blank(&line) { String::new() } else { line }
}

/// A flush-left first line followed by lines that already carry the destination's absolute
/// indentation (a copy of the file's text from the symbol's first byte): every later line is at
/// least at `target`, and either the closing line sits exactly at `target`, or every line is one
/// level deeper than `target`, or the first line does not open a block (a comment, attribute or
/// decorator, whose siblings below would otherwise be wrongly indented relative to it).
fn first_line_was_trimmed(first: &str, rest: &[String], target: &str, style: Style) -> bool {
    let body: Vec<&String> = rest.iter().filter(|l| !is_blank(l)).collect();
    let Some(last) = body.last() else {
        return false;
    };
    if !body.iter().all(|l| l.starts_with(target)) {
        return false;
    }
    let closer = last.trim_start();
    if indent_of(last) == target && closer.starts_with(['}', ')', ']']) {
        return true;
    }
    let head = first.trim_end();
    let opens_block = head.ends_with(['{', '(', '[', ':', ',', '\\', '=']) || head.ends_with("->");
    if !opens_block {
        return true;
    }
    let deeper = format!("{target}{}", style.unit());
    body.iter().all(|l| l.starts_with(&deeper))
}

/// Rewrite the leading whitespace of `line` from the text's style to the file's.
fn convert_style(line: &str, from: Style, to: Style) -> String {
    let ind = indent_of(line);
    let rest = &line[ind.len()..];
    match (from, to) {
        (Style::Spaces(n), Style::Tabs) if !ind.contains('\t') => {
            let (tabs, spaces) = (ind.len() / n, ind.len() % n);
            format!("{}{}{rest}", "\t".repeat(tabs), " ".repeat(spaces))
        }
        (Style::Tabs, Style::Spaces(n)) => {
            let converted: String = ind
                .chars()
                .map(|c| {
                    if c == '\t' {
                        " ".repeat(n)
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            format!("{converted}{rest}")
        }
        _ => line.to_string(),
    }
}
