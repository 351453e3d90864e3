//! Turn a [`Target`] into a [`Region`] of the old text.

use jingu_syntax::{FileSymbols, Language, SymbolKind};

use super::error::EditError;
use super::lines::{
    detect_eol, indent_of, is_blank, line_count, line_end, line_start, line_text, nth_line_start,
};
use super::request::Target;
use super::resolve::resolve;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegionKind {
    /// A symbol; `owns_lines` is false when code shares its first or last line (`a(); fn f() {}`),
    /// and the edit then splices exact bytes instead of whole lines.
    Symbol {
        owns_lines: bool,
        kind: SymbolKind,
        /// A `,` or `;` after the node on its last line (a field's comma), kept on replace.
        trailer: Option<char>,
    },
    Lines,
}

/// The addressed part of the old text.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    /// Whole lines (line start → past the last line's ending), or exact bytes for a symbol that
    /// does not own its lines.
    pub start: usize,
    pub end: usize,
    pub start_line: usize,
    pub end_line: usize,
    pub kind: RegionKind,
    /// Indentation of the first non-blank line.
    pub indent: String,
    /// Indentation of the last non-blank line, and whether that line opens a block.
    pub last_indent: String,
    pub opens_block: bool,
    /// How the summary names the target (a symbol's resolved name path).
    pub label: String,
}

impl Region {
    pub(crate) fn whole_lines(&self) -> bool {
        !matches!(
            self.kind,
            RegionKind::Symbol {
                owns_lines: false,
                ..
            }
        )
    }
}

pub(crate) fn locate(
    text: &str,
    symbols: Option<&FileSymbols>,
    target: &Target,
) -> Result<Region, EditError> {
    match target {
        Target::Symbol(name) => symbol_region(text, symbols.ok_or(EditError::NoLanguage)?, name),
        Target::Lines { start, end } => lines_region(text, *start, *end),
        Target::Keyword {
            text: kw,
            occurrence,
        } => keyword_region(text, kw, *occurrence),
    }
}

fn symbol_region(text: &str, symbols: &FileSymbols, name: &str) -> Result<Region, EditError> {
    let sym = resolve(symbols, name)?;
    let range = sym.range.clone();
    let line0 = line_start(text, range.start);
    // A node may end just past a newline; its last line is then the one before.
    let content_end = if range.end > range.start && text.as_bytes()[range.end - 1] == b'\n' {
        range.end - 1
    } else {
        range.end
    };
    let end_of_line = line_end(text, content_end);
    let (trailer, suffix_owned) = owned_suffix(&text[content_end..end_of_line]);
    let owns_lines = is_blank(&text[line0..range.start]) && suffix_owned;
    let indent = indent_of(&text[line0..]).to_string();
    let (start, end) = if owns_lines {
        (line0, end_of_line)
    } else {
        (range.start, range.end)
    };
    let last = line_text(text, content_end.saturating_sub(1).max(range.start));
    Ok(Region {
        start,
        end,
        start_line: sym.start_line,
        end_line: sym.end_line,
        kind: RegionKind::Symbol {
            owns_lines,
            kind: sym.kind,
            trailer,
        },
        last_indent: indent_of(last).to_string(),
        indent,
        opens_block: false,
        label: format!("symbol `{}`", sym.name_path),
    })
}

/// Whether what follows a symbol on its last line still belongs to it: nothing, a separator
/// (`,`/`;`), and/or a trailing comment. Returns the separator.
fn owned_suffix(suffix: &str) -> (Option<char>, bool) {
    let rest = suffix.trim_start();
    let trailer = rest.chars().next().filter(|c| matches!(c, ',' | ';'));
    let rest = rest[trailer.map_or(0, char::len_utf8)..].trim();
    let owned = rest.is_empty()
        || rest.starts_with("//")
        || rest.starts_with("/*")
        || rest.starts_with('#');
    (trailer, owned)
}

fn lines_region(text: &str, start: usize, end: usize) -> Result<Region, EditError> {
    if start == 0 || start > end {
        return Err(EditError::InvalidLines { start, end });
    }
    let out_of_range = || EditError::LinesOutOfRange {
        start,
        end,
        line_count: line_count(text),
    };
    let from = nth_line_start(text, start).ok_or_else(out_of_range)?;
    let mut last = from;
    for _ in start..end {
        last = text[last..]
            .find('\n')
            .map(|i| last + i + 1)
            .filter(|&n| n < text.len())
            .ok_or_else(out_of_range)?;
    }
    let label = super::request::Target::Lines { start, end }.to_string();
    Ok(line_block(
        text,
        from,
        line_end(text, last),
        start,
        end,
        label,
    ))
}

fn keyword_region(
    text: &str,
    keyword: &str,
    occurrence: Option<usize>,
) -> Result<Region, EditError> {
    if keyword.is_empty() {
        return Err(EditError::EmptyKeyword);
    }
    // A multi-line keyword is written with `\n`; match the file's own line endings.
    let needle = keyword
        .replace("\r\n", "\n")
        .replace('\n', detect_eol(text));
    // Distinct line blocks containing a match, in order, with 1-based line numbers counted
    // incrementally so the scan stays linear.
    let mut blocks: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut counted_to, mut line) = (0usize, 1usize);
    for (at, m) in text.match_indices(needle.as_str()) {
        line += text[counted_to..at].bytes().filter(|&b| b == b'\n').count();
        counted_to = at;
        let start = line_start(text, at);
        let end = line_end(text, (at + m.len()).saturating_sub(1).max(at));
        let end_line = line + m.bytes().filter(|&b| b == b'\n').count();
        if blocks.last().is_none_or(|b| b.0 != start) {
            blocks.push((start, end, line, end_line));
        }
    }
    let label = |n: Option<usize>| {
        super::request::Target::Keyword {
            text: keyword.to_string(),
            occurrence: n,
        }
        .to_string()
    };
    let chosen = match (occurrence, blocks.len()) {
        (_, 0) => {
            return Err(EditError::KeywordNotFound {
                text: keyword.to_string(),
            });
        }
        (None, 1) => blocks[0],
        (None, _) => {
            return Err(EditError::AmbiguousTarget {
                target: label(None),
                candidates: blocks.iter().map(|b| format!("line {}", b.2)).collect(),
            });
        }
        (Some(n), count) if n == 0 || n > count => {
            return Err(EditError::NoSuchOccurrence {
                text: keyword.to_string(),
                occurrence: n,
                count,
            });
        }
        (Some(n), _) => blocks[n - 1],
    };
    let (start, end, l0, l1) = chosen;
    Ok(line_block(text, start, end, l0, l1, label(occurrence)))
}

fn line_block(
    text: &str,
    start: usize,
    end: usize,
    start_line: usize,
    end_line: usize,
    label: String,
) -> Region {
    let block = &text[start..end];
    let first = block.lines().find(|l| !is_blank(l)).unwrap_or("");
    let last = block.lines().rev().find(|l| !is_blank(l)).unwrap_or("");
    let opens_block = last.trim_end().ends_with(['{', '(', '[', ':']);
    Region {
        start,
        end,
        start_line,
        end_line,
        kind: RegionKind::Lines,
        indent: indent_of(first).to_string(),
        last_indent: indent_of(last).to_string(),
        opens_block,
        label,
    }
}

/// Blank lines conventionally separating a new sibling of a symbol of `kind` when the neighbours
/// give no hint (PEP 8's two blank lines between top-level Python definitions).
pub(crate) fn default_separation(
    language: Option<Language>,
    kind: SymbolKind,
    indent: &str,
) -> usize {
    match kind {
        SymbolKind::Field | SymbolKind::Variant => 0,
        _ if language == Some(Language::Python) && indent.is_empty() => 2,
        _ => 1,
    }
}
