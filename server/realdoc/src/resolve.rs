//! Symbol resolution: an exact name path, else one unique forgiving match, else a refusal that lists
//! candidates. Never a guess.
//!
//! Forgiving matches compare the query's `/`-separated segments with the *last* segments of each
//! name path, so `parse_expr` and `Parser/parse_expr` both find `mod p/impl Parser<T>/parse_expr`.
//! A segment matches when equal after simplification: generic arguments and `a::b::` path prefixes
//! dropped, a `[N]` duplicate suffix ignored, and an `impl` segment also answering to its type
//! (`impl Display for Parser` ↔ `Parser`, `Display for Parser`). A query without `/` may use `::`
//! or `.` as separators (`Parser::parse_expr`, `Parser.parse_expr`).

use jingu_syntax::{FileSymbols, Symbol};

use super::error::EditError;

const MAX_SUGGESTIONS: usize = 5;

pub(crate) fn resolve<'a>(symbols: &'a FileSymbols, query: &str) -> Result<&'a Symbol, EditError> {
    let query = query.trim();
    if let Some(sym) = symbols.get(query) {
        return Ok(sym);
    }
    let q_segments = split_query(query);
    let matches: Vec<&Symbol> = symbols
        .symbols
        .iter()
        .filter(|s| suffix_matches(&q_segments, &s.name_path))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(EditError::NoSuchSymbol {
            name: query.to_string(),
            closest: closest(symbols, query),
        }),
        many => Err(EditError::AmbiguousTarget {
            target: format!("symbol `{query}`"),
            candidates: many.iter().map(|s| s.name_path.clone()).collect(),
        }),
    }
}

fn split_query(query: &str) -> Vec<String> {
    let parts: Vec<&str> = if query.contains('/') {
        query.split('/').collect()
    } else if query.contains("::") {
        query.split("::").collect()
    } else {
        query.split('.').collect()
    };
    parts.iter().map(|p| simplify(p)).collect()
}

fn suffix_matches(query: &[String], name_path: &str) -> bool {
    let segs: Vec<&str> = name_path.split('/').collect();
    if query.len() > segs.len() {
        return false;
    }
    query
        .iter()
        .rev()
        .zip(segs.iter().rev())
        .all(|(q, s)| aliases(s).iter().any(|a| a == q))
}

/// Every simplified spelling a name-path segment answers to.
fn aliases(segment: &str) -> Vec<String> {
    let base = strip_dup_suffix(segment);
    let mut out = vec![simplify(base)];
    if let Some(rest) = base.strip_prefix("impl ") {
        out.push(simplify(rest));
        if let Some((_, ty)) = rest.rsplit_once(" for ") {
            out.push(simplify(ty));
        }
    }
    out
}

/// `foo[2]` → `foo`.
fn strip_dup_suffix(segment: &str) -> &str {
    match segment.rfind('[') {
        Some(i)
            if segment.ends_with(']')
                && segment[i + 1..segment.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            &segment[..i]
        }
        _ => segment,
    }
}

/// Drop generic arguments and path prefixes, normalise spaces: `impl<T> a::Foo<T>` → `impl Foo`.
fn simplify(segment: &str) -> String {
    let mut depth = 0usize;
    let mut no_generics = String::with_capacity(segment.len());
    for c in segment.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => no_generics.push(c),
            _ => {}
        }
    }
    no_generics
        .split_whitespace()
        .map(|tok| tok.rsplit("::").next().unwrap_or(tok))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Up to [`MAX_SUGGESTIONS`] name paths nearest to `query`: substring hits first, then by edit
/// distance of the simple name and of the whole path.
fn closest(symbols: &FileSymbols, query: &str) -> Vec<String> {
    let q_lower = query.to_lowercase();
    let q_last = q_lower
        .rsplit(['/', '.', ':'])
        .next()
        .unwrap_or(&q_lower)
        .to_string();
    let mut scored: Vec<(usize, &str)> = symbols
        .symbols
        .iter()
        .map(|s| {
            let name = s.name.to_lowercase();
            let path = s.name_path.to_lowercase();
            let substring =
                !q_last.is_empty() && (name.contains(&q_last) || q_last.contains(&name));
            let distance = levenshtein(&q_last, &name).min(levenshtein(&q_lower, &path));
            (
                if substring { 0 } else { 1 + distance },
                s.name_path.as_str(),
            )
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, p)| p.to_string())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn simplify_drops_generics_and_paths() {
        assert_eq!(simplify("impl<T> a::Foo<T>"), "impl Foo");
        assert_eq!(
            aliases("impl std::fmt::Display for Parser<u8>"),
            vec!["impl Display for Parser", "Display for Parser", "Parser"]
        );
        assert_eq!(strip_dup_suffix("foo[12]"), "foo");
        assert_eq!(strip_dup_suffix("arr[i]"), "arr[i]");
        assert_eq!(levenshtein("parse", "parser"), 1);
    }
}
