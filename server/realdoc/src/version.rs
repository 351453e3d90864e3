//! Versions: short content hashes that every read hands out (of the whole file, and of a symbol's
//! text), so that an edit can say which text it was planned against. An edit whose target changed
//! since is refused with the target's current text instead of being applied to shifted lines or
//! over someone else's change of that symbol.
//!
//! A change elsewhere in the file does not make an edit stale: a symbol edit only needs the
//! symbol's text to be unchanged, a line edit only needs no line at or above its range to have
//! moved or changed (checked by a line diff against the text the line numbers came from).

use std::fmt::Write as _;

use jingu_syntax::{FileSymbols, Language, file_symbols};

use super::error::{EditError, Staleness};
use super::locate::locate;
use super::request::Target;
use super::resolve::resolve;

/// Hex digits of a version: 48 bits, plenty to tell two texts of one file apart.
pub const VERSION_LEN: usize = 12;
/// Shortest prefix accepted as an `expect` value.
const MIN_EXPECT_LEN: usize = 8;
/// Most bytes of the current target quoted in a staleness refusal.
const MAX_QUOTED: usize = 6000;

/// The version of a text: the first [`VERSION_LEN`] hex digits of its SHA-256.
pub fn version(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut hex = hex::encode(sha2::Sha256::digest(bytes));
    hex.truncate(VERSION_LEN);
    hex
}

/// The version of a symbol: the hash of its full text (doc comments and attributes included).
pub fn symbol_version(text: &str, symbols: &FileSymbols, name: &str) -> Option<String> {
    let sym = resolve(symbols, name).ok()?;
    text.get(sym.range.clone()).map(|t| version(t.as_bytes()))
}

/// What the author of an edit last saw of the file.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The version the edit expects: the file's, or (for a symbol or keyword target) the target's.
    pub expect: &'a str,
    /// The text its line numbers came from (its last read of the file), when known.
    pub read: Option<&'a str>,
    /// The newest text it knows (its last read, or the result of its own last edit), when known.
    pub latest: Option<&'a str>,
}

/// Refuse `target` in `current` when it is not what the author saw ([`EditError::Stale`]).
/// A target that cannot be found in `current` passes here: planning reports that precisely.
pub fn check_fresh(
    current: &str,
    language: Option<Language>,
    target: &Target,
    seen: &Seen<'_>,
) -> Result<(), EditError> {
    let expect = seen.expect.trim().to_ascii_lowercase();
    if expect.len() < MIN_EXPECT_LEN || !expect.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EditError::BadVersion { given: expect });
    }
    let matches = |v: &str| v.starts_with(&expect) || expect.starts_with(v);
    let now = version(current.as_bytes());
    if matches(&now) {
        return Ok(());
    }
    let symbols = match (target, language) {
        (Target::Symbol(_), Some(lang)) => Some(file_symbols(lang, current)),
        _ => None,
    };
    let Ok(region) = locate(current, symbols.as_ref(), target) else {
        return Ok(());
    };
    let fresh = match target {
        Target::Symbol(name) => {
            let Some(symbols) = &symbols else {
                return Ok(());
            };
            symbol_version(current, symbols, name).is_some_and(|v| matches(&v))
                || seen
                    .latest
                    .is_some_and(|old| same_symbol(old, current, language, name))
        }
        Target::Keyword { .. } => seen.latest.is_some_and(|old| {
            locate(old, None, target)
                .is_ok_and(|r| old[r.start..r.end] == current[region.start..region.end])
        }),
        Target::Lines { end, .. } => seen
            .read
            .or(seen.latest)
            .is_some_and(|old| lines_unmoved(old, current, *end)),
    };
    if fresh {
        return Ok(());
    }
    let mut quoted = quote(current, region.start, region.end, region.start_line);
    if let (Target::Lines { start, end }, Some(old)) = (target, seen.read.or(seen.latest))
        && let Some((a, b)) = moved_lines(old, current, *start, *end)
        && (a, b) != (*start, *end)
        && let Ok(r) = locate(current, None, &Target::Lines { start: a, end: b })
    {
        let moved = Target::Lines { start: a, end: b };
        quoted = format!(
            "{quoted}(the text you read there is now at {moved}:)\n{}",
            quote(current, r.start, r.end, r.start_line)
        );
    }
    Err(EditError::Stale {
        stale: Box::new(Staleness {
            target: target.to_string(),
            version: now,
            current: quoted,
        }),
    })
}

/// Whether the symbol's lines in `old` equal its lines in `current`.
fn same_symbol(old: &str, current: &str, language: Option<Language>, name: &str) -> bool {
    let Some(lang) = language else { return false };
    let target = Target::Symbol(name.to_string());
    let (old_symbols, new_symbols) = (file_symbols(lang, old), file_symbols(lang, current));
    match (
        locate(old, Some(&old_symbols), &target),
        locate(current, Some(&new_symbols), &target),
    ) {
        (Ok(a), Ok(b)) => old[a.start..a.end] == current[b.start..b.end],
        _ => false,
    }
}

/// Whether lines `1..=end` of `old` are the same lines, at the same numbers, in `current`.
fn lines_unmoved(old: &str, current: &str, end: usize) -> bool {
    let diff = similar::TextDiff::from_lines(old, current);
    diff.ops().iter().all(|op| {
        if matches!(op.tag(), similar::DiffTag::Equal) {
            return true;
        }
        // A change (or insertion) that starts at old line index `i` (0-based) touches line i+1:
        // fine only when it lies wholly below the target.
        op.old_range().start >= end
    })
}

/// The current text of `target` with line numbers (for refusals), or why it cannot be shown.
pub fn target_text(text: &str, language: Option<Language>, target: &Target) -> String {
    let symbols = match (target, language) {
        (Target::Symbol(_), Some(lang)) => Some(file_symbols(lang, text)),
        _ => None,
    };
    match locate(text, symbols.as_ref(), target) {
        Ok(r) => quote(text, r.start, r.end, r.start_line),
        Err(e) => format!("({e})\n"),
    }
}

/// Where lines `start..=end` of `old` are in `current`, when they are all still there, unchanged
/// and contiguous.
fn moved_lines(old: &str, current: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let diff = similar::TextDiff::from_lines(old, current);
    let map = |line: usize| {
        diff.ops().iter().find_map(|op| {
            let (tag, o, n) = (op.tag(), op.old_range(), op.new_range());
            (tag == similar::DiffTag::Equal && o.contains(&(line - 1)))
                .then(|| n.start + (line - 1 - o.start) + 1)
        })
    };
    let (a, b) = (map(start)?, map(end)?);
    (b >= a && b - a == end - start).then_some((a, b))
}

/// Lines of `text` from byte `start` to `end`, numbered from `first_line`, bounded.
fn quote(text: &str, start: usize, end: usize, first_line: usize) -> String {
    let body = &text[start..end];
    let mut out = String::new();
    for (i, line) in body.lines().enumerate() {
        if out.len() > MAX_QUOTED {
            out.push_str("…(truncated; read it again)\n");
            break;
        }
        let _ = writeln!(out, "{}| {}", first_line + i, line.trim_end_matches('\r'));
    }
    if out.is_empty() {
        out.push_str("(empty)\n");
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn versions_are_short_stable_hashes() {
        assert_eq!(version(b"").len(), VERSION_LEN);
        assert_eq!(version(b"a"), version(b"a"));
        assert_ne!(version(b"a"), version(b"b"));
    }

    #[test]
    fn lines_below_the_target_may_change() {
        let old = "a\nb\nc\nd\n";
        assert!(lines_unmoved(old, "a\nb\nc\nX\n", 2));
        assert!(lines_unmoved(old, "a\nb\nnew\nc\nd\n", 2));
        assert!(!lines_unmoved(old, "new\na\nb\nc\nd\n", 2));
        assert!(!lines_unmoved(old, "a\nB\nc\nd\n", 2));
        assert!(!lines_unmoved(old, "a\nc\nd\n", 3));
    }
}
