//! The pure half of inline completion: the prompt window around the cursor, the index context,
//! and shaping what the model returned into an item that fits the file — trimmed of text the
//! file already has after the cursor, cut at the end of the enclosing block, and never adding a
//! syntax error (checked by reparsing). No I/O: everything comes in as arguments.

use std::hash::{Hash, Hasher};

use jingu_providers::FillUntil;
use jingu_syntax::{FileSymbols, Language, Symbol};

/// Rough characters per token for budgeting text we do not tokenize (hosted providers).
pub const CHARS_PER_TOKEN: usize = 4;

/// The text around the cursor sent to the model: whole lines, nearest the cursor first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<'a> {
    pub prefix: &'a str,
    pub suffix: &'a str,
}

/// The prefix and suffix around byte `offset` bounded to `prefix_chars` (a quarter more or less:
/// the start is rounded down to a step) / `suffix_chars`; a cut falls on a line boundary so the
/// model never sees half a line at the edge.
pub fn window(text: &str, offset: usize, prefix_chars: usize, suffix_chars: usize) -> Window<'_> {
    let offset = floor_char(text, offset.min(text.len()));
    let (before, after) = text.split_at(offset);
    let prefix = if before.len() > prefix_chars {
        // The start moves in steps of a quarter of the budget and is reckoned from the cursor's
        // line start (while that line is shorter than a step), so typing along a line never
        // moves it and typing forward rarely does: the prefix keeps its beginning, and the model
        // its KV cache of it.
        let step = (prefix_chars / 4).max(1);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let anchor = if before.len() - line_start <= step {
            line_start + step
        } else {
            before.len()
        };
        let from = floor_char(before, anchor.saturating_sub(prefix_chars) / step * step);
        match before[from..].find('\n') {
            Some(nl) => &before[from + nl + 1..],
            None => &before[from..],
        }
    } else {
        before
    };
    let suffix = if after.len() > suffix_chars {
        let to = floor_char(after, suffix_chars);
        match after[..to].rfind('\n') {
            Some(nl) => &after[..=nl],
            None => &after[..to],
        }
    } else {
        after
    };
    Window { prefix, suffix }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The innermost symbol whose extent holds `offset`.
pub fn enclosing(symbols: &FileSymbols, offset: usize) -> Option<&Symbol> {
    symbols
        .symbols
        .iter()
        .filter(|s| s.range.start <= offset && offset <= s.range.end)
        .min_by_key(|s| s.range.end - s.range.start)
}

/// A symbol's signature: its declaration up to the body, on one line, at most 200 characters.
pub fn signature(text: &str, sym: &Symbol) -> String {
    let end = sym.body.as_ref().map_or(sym.decl_range.end, |b| b.start);
    let raw = text
        .get(sym.decl_range.start..end.max(sym.decl_range.start))
        .unwrap_or("");
    let raw = if sym.body.is_none() {
        raw.lines().next().unwrap_or("")
    } else {
        raw
    };
    let one: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = one.trim_end_matches(['{', ':', ' ']).to_string();
    one.chars().take(200).collect()
}

/// Identifiers in `text` worth looking up in the index, most recent (nearest the cursor) first,
/// without repeats; at most `limit`.
pub fn referenced_names(text: &str, limit: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 3 && !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    for w in words.into_iter().rev() {
        if out.len() >= limit {
            break;
        }
        if !KEYWORDS.contains(&w) && !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    out
}

/// Words that are never worth an index lookup.
const KEYWORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "pub",
    "impl",
    "struct",
    "enum",
    "return",
    "self",
    "Self",
    "def",
    "class",
    "for",
    "while",
    "else",
    "elif",
    "match",
    "None",
    "True",
    "False",
    "true",
    "false",
    "null",
    "const",
    "var",
    "function",
    "import",
    "from",
    "use",
    "crate",
    "super",
    "async",
    "await",
    "static",
    "void",
    "int",
    "char",
    "this",
    "new",
    "func",
    "package",
    "public",
    "private",
    "protected",
    "String",
    "str",
    "usize",
    "i32",
    "u32",
    "i64",
    "u64",
    "bool",
    "Some",
    "Ok",
    "Err",
    "Option",
    "Result",
    "Vec",
    "print",
    "println",
    "len",
    "range",
];

/// The line-comment marker of `language`, for context lines the model reads as part of the file.
pub fn comment_marker(language: Language) -> &'static str {
    match language.name() {
        "python" => "#",
        _ => "//",
    }
}

/// Context signatures as comment lines, within `budget_chars`.
pub fn context_block(language: Language, signatures: &[String], budget_chars: usize) -> String {
    let marker = comment_marker(language);
    let mut out = String::new();
    for sig in signatures {
        let line = format!("{marker} {sig}\n");
        if out.len() + line.len() > budget_chars {
            break;
        }
        out.push_str(&line);
    }
    if !out.is_empty() {
        out.insert_str(0, &format!("{marker} Signatures used nearby:\n"));
    }
    out
}

/// Whether the cursor has code after it on its line: only a single-line item fits there.
pub fn mid_line(suffix: &str) -> bool {
    suffix
        .split('\n')
        .next()
        .is_some_and(|rest| !rest.trim().is_empty())
}

/// Where generation can stop for a cursor between `prefix` and `suffix`: at the line end when
/// code follows on the cursor's line (only one line fits, see [`shape`]), else at the end of the
/// cursor's block — a line indented less than the cursor's line (than the line's body, when the
/// line opens a block), or a closing bracket the completion did not open (not in Python) — in at
/// most `max_lines` lines. [`cut_at_block_end`] still finds the exact end by parsing.
pub fn until(language: Option<Language>, prefix: &str, suffix: &str, max_lines: u32) -> FillUntil {
    if mid_line(suffix) {
        return FillUntil::LineEnd;
    }
    let line = &prefix[prefix.rfind('\n').map_or(0, |i| i + 1)..];
    let body = line.trim_start_matches([' ', '\t']);
    let lead: usize = line[..line.len() - body.len()]
        .chars()
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    let opens = body.trim_end().ends_with([':', '{', '(', '[']);
    let indent = match language {
        // Without a grammar nothing says where a block ends: only the line limit applies.
        None => 0,
        Some(_) => lead + usize::from(opens),
    };
    FillUntil::BlockEnd {
        indent: indent as u32,
        brackets: language.is_some_and(|l| l != Language::Python),
        max_lines,
    }
}

/// Remove from `completion` what the file already has right after the cursor: the rest of the
/// cursor's line when the completion ends with it (`foo(a, b)` typed before an auto-paired `)`),
/// and trailing lines that repeat the suffix's first lines.
pub fn trim_overlap(completion: &str, suffix: &str) -> String {
    let mut text = completion.to_string();
    let rest_of_line = suffix.split('\n').next().unwrap_or("").trim_end();
    if !rest_of_line.trim().is_empty() {
        let first_line_end = text.find('\n').unwrap_or(text.len());
        let first = text[..first_line_end].trim_end();
        if let Some(kept) = first.strip_suffix(rest_of_line.trim_start()) {
            text = kept.to_string();
        } else {
            // A partial overlap: the completion ends with a prefix of the rest of the line.
            let rest = rest_of_line.trim_start();
            for k in (1..rest.len()).rev() {
                if rest.is_char_boundary(k) && first.ends_with(&rest[..k]) {
                    text = first[..first.len() - k].to_string();
                    break;
                }
            }
        }
        return text;
    }
    let next: Vec<&str> = suffix
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .take(8)
        .collect();
    let lines: Vec<&str> = text.split('\n').collect();
    // The longest run of the completion's last lines that equals the suffix's first lines.
    for n in (1..=lines.len().min(next.len())).rev() {
        let tail = &lines[lines.len() - n..];
        if tail.iter().all(|l| !l.trim().is_empty())
            && tail.iter().zip(&next).all(|(a, b)| a.trim() == b.trim())
        {
            let keep = lines[..lines.len() - n].join("\n");
            return keep.trim_end().to_string();
        }
    }
    text
}

/// Cut a multi-line `completion` where the block enclosing the cursor ends: the enclosing
/// definition's body is found in the text with the completion inserted; if it ends inside the
/// completion, everything from that end on is dropped — and a line that only
/// closes the block, since the suffix already closes it.
pub fn cut_at_block_end(
    language: Language,
    prefix: &str,
    completion: &str,
    suffix: &str,
) -> String {
    let cursor = prefix.len();
    let lead = completion.len() - completion.trim_start().len();
    let joined = format!("{prefix}{completion}{suffix}");
    let after = jingu_syntax::file_symbols(language, &joined);
    // The innermost definition that starts before the cursor and whose body holds it (the
    // original text may not parse there yet: an empty Python body is an error until filled).
    let Some(body) = after
        .symbols
        .iter()
        .filter(|s| s.range.start < cursor)
        .filter_map(|s| s.body.clone())
        // The body may start after whitespace the completion begins with.
        .filter(|b| b.start <= cursor + lead && cursor <= b.end)
        .min_by_key(|b| b.end - b.start)
    else {
        return completion.to_string();
    };
    let end = cursor + completion.len();
    if body.end >= end || body.end < cursor {
        return completion.to_string();
    }
    let inside = &completion[..floor_char(completion, body.end - cursor)];
    // The block's closing token on a line of its own: drop the whole line.
    match inside.rfind('\n') {
        Some(nl) if inside[nl + 1..].trim().len() <= 1 => inside[..nl].trim_end().to_string(),
        _ => inside.trim_end().to_string(),
    }
}

/// Whether inserting `completion` at the cursor leaves no more syntax errors than the file had.
pub fn keeps_parse(language: Language, prefix: &str, completion: &str, suffix: &str) -> bool {
    let count = |text: &str| {
        jingu_syntax::parse(language, text, None)
            .map_or(usize::MAX, |t| jingu_syntax::error_count(&t))
    };
    let before = count(&format!("{prefix}{suffix}"));
    count(&format!("{prefix}{completion}{suffix}")) <= before
}

/// Shape raw model output into the text to insert at the cursor, or `None` when nothing of it
/// fits: single-line mid-line, trimmed of overlap, cut at the block end, and the longest
/// line-prefix of that which keeps the file parsing.
pub fn shape(language: Option<Language>, prefix: &str, raw: &str, suffix: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n");
    let mut text = if mid_line(suffix) {
        raw.split('\n').next().unwrap_or("").to_string()
    } else {
        // Runs of blank lines end a completion: what follows is another thought.
        match raw.find("\n\n\n") {
            Some(i) => raw[..i].to_string(),
            None => raw.clone(),
        }
    };
    text = trim_overlap(&text, suffix);
    // The cursor's line is already indented: a model repeating some of that indentation (a
    // prefix-only model often starts with a space) would push the first line off the block's.
    let line_so_far = &prefix[prefix.rfind('\n').map_or(0, |i| i + 1)..];
    if !line_so_far.is_empty() && line_so_far.trim().is_empty() {
        text = text.trim_start_matches([' ', '\t']).to_string();
    }
    let text = text.trim_end().to_string();
    let Some(language) = language else {
        return (!text.trim().is_empty()).then_some(text);
    };
    let text = if text.contains('\n') {
        cut_at_block_end(language, prefix, &text, suffix)
    } else {
        text
    };
    if text.trim().is_empty() {
        return None;
    }
    // Longest prefix of whole lines that adds no syntax error. tree-sitter-python accepts a block
    // header with an empty body (`else:` then a dedent); Python does not, so an item never ends
    // on one.
    let lines: Vec<&str> = text.split('\n').collect();
    let open_header = |cand: &str| language == Language::Python && cand.trim_end().ends_with(':');
    (1..=lines.len())
        .rev()
        .map(|n| lines[..n].join("\n"))
        .find(|cand| {
            !cand.trim().is_empty()
                && !open_header(cand)
                && keeps_parse(language, prefix, cand, suffix)
        })
}

/// A stable hash of texts, for cache keys (not security).
pub fn hash_of(parts: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// Typing forward into a shown completion: if `new_prefix` is `old_prefix` (known by length and
/// hash) plus text the completion began with, the rest of the completion still applies.
pub fn forward<'c>(
    old_prefix_len: usize,
    old_prefix_hash: u64,
    completion: &'c str,
    new_prefix: &str,
) -> Option<&'c str> {
    let typed = typed_since(old_prefix_len, old_prefix_hash, new_prefix)?;
    let rest = completion.strip_prefix(typed)?;
    (!rest.trim().is_empty()).then_some(rest)
}

/// What was added to the old prefix (known by length and hash) to make `new_prefix`, if it is an
/// extension of it.
pub fn typed_since(old_prefix_len: usize, old_prefix_hash: u64, new_prefix: &str) -> Option<&str> {
    if new_prefix.len() <= old_prefix_len || !new_prefix.is_char_boundary(old_prefix_len) {
        return None;
    }
    let (old, typed) = new_prefix.split_at(old_prefix_len);
    (hash_of(&[old]) == old_prefix_hash).then_some(typed)
}

#[cfg(test)]
#[path = "shape_tests.rs"]
mod tests;
