//! How a symbol name matches a `workspace/symbol` query, in tiers like rust-analyzer's and
//! VS Code's fuzzy matchers: exact, prefix, word starts (camelCase/snake_case humps), substring,
//! subsequence. Matching is case-insensitive; an exact match of the query's case ranks first.
//!
//! Also the candidate filter: a 64-bit set of the characters a name contains, so a query skips
//! every name lacking one of its characters with one AND per name.

/// How well a name matches; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Score {
    /// Same name, same case.
    ExactCase,
    /// Same name, other case.
    Exact,
    Prefix,
    /// Every query character continues the previous match or starts a word: `hm` and `hmap` find
    /// `HashMap`, `ue` finds `unwrap_err`, `map` finds `BTreeMap`.
    WordStart,
    Substring,
    /// Query characters in order anywhere.
    Subsequence,
}

/// Set in the mask of every live name and of every query, so clearing it hides a name.
pub(crate) const LIVE: u64 = 1 << 63;

/// The characters of a lowercased name: a–z, 0–9 and `_` one bit each, other ASCII hashed into 16
/// bits, any non-ASCII byte one bit.
pub(crate) fn char_mask(lower: &str) -> u64 {
    lower.bytes().fold(0, |m, b| m | byte_bit(b))
}

fn byte_bit(b: u8) -> u64 {
    1 << match b {
        b'a'..=b'z' => u32::from(b - b'a'),
        b'0'..=b'9' => 26 + u32::from(b - b'0'),
        b'_' => 36,
        0x80.. => 53,
        _ => 37 + u32::from(b % 16),
    }
}

/// A query prepared once for scoring many names.
#[derive(Debug)]
pub(crate) struct Query {
    pub(crate) text: String,
    pub(crate) lower: String,
    /// `char_mask(lower) | LIVE`: a name's mask must contain it.
    pub(crate) mask: u64,
    ascii: bool,
}

impl Query {
    pub(crate) fn new(text: &str) -> Query {
        let lower = text.to_lowercase();
        Query {
            text: text.to_string(),
            mask: char_mask(&lower) | LIVE,
            ascii: lower.is_ascii(),
            lower,
        }
    }

    pub(crate) fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// The tier of `name` (whose lowercase is `lower`), or `None` when it does not match.
    pub(crate) fn score(&self, name: &str, lower: &str) -> Option<Score> {
        let q = self.lower.as_str();
        if let Some(rest) = lower.strip_prefix(q) {
            return Some(if !rest.is_empty() {
                Score::Prefix
            } else if name == self.text {
                Score::ExactCase
            } else {
                Score::Exact
            });
        }
        // Every lower tier is a subsequence: the cheap test rejects most candidates.
        if !self.is_subsequence_of(lower) {
            return None;
        }
        if self.ascii && name.is_ascii() && word_start_match(name.as_bytes(), q.as_bytes()) {
            Some(Score::WordStart)
        } else if lower.contains(q) {
            Some(Score::Substring)
        } else {
            Some(Score::Subsequence)
        }
    }

    pub(crate) fn is_subsequence_of(&self, lower: &str) -> bool {
        if self.ascii {
            let mut hay = lower.as_bytes();
            self.lower
                .as_bytes()
                .iter()
                .all(|&c| match hay.iter().position(|&h| h == c) {
                    Some(i) => {
                        hay = &hay[i + 1..];
                        true
                    }
                    None => false,
                })
        } else {
            let mut hay = lower.chars();
            self.lower.chars().all(|c| hay.any(|h| h == c))
        }
    }
}

/// Names longer than this (in bytes) are not tried for word-start matches (bitsets are 128 wide).
const WORD_MATCH_MAX: usize = 128;

/// Whether `query` (lowercase ASCII) matches `name` (ASCII) so that its first character starts a
/// word and each next one either directly follows the previous match or starts a later word.
/// One 128-bit set of reachable positions per query character: no backtracking.
pub(crate) fn word_start_match(name: &[u8], query: &[u8]) -> bool {
    if query.is_empty() || name.len() > WORD_MATCH_MAX {
        return false;
    }
    if name.len() <= 64 {
        word_start_match_64(name, query)
    } else {
        word_start_match_wide(name, query)
    }
}

fn word_start_match_wide(name: &[u8], query: &[u8]) -> bool {
    let starts = word_starts(name);
    let occurs = |c: u8| -> u128 {
        name.iter()
            .enumerate()
            .filter(|(_, b)| b.to_ascii_lowercase() == c)
            .fold(0, |m, (i, _)| m | (1 << i))
    };
    let mut reach = occurs(query[0]) & starts;
    for &c in &query[1..] {
        if reach == 0 {
            return false;
        }
        let at = occurs(c);
        let first = reach.trailing_zeros();
        // Positions after the earliest match so far (a word start there may begin the next piece).
        let after = if first >= 127 {
            0
        } else {
            !0u128 << (first + 1)
        };
        reach = ((reach << 1) & at) | (at & starts & after);
    }
    reach != 0
}

/// [`word_start_match`] for names of at most 64 bytes: the positions of each character come from
/// one pass over the name (a table by byte) rather than one pass per query character; this runs
/// for every candidate the word-start walk cannot rule out.
fn word_start_match_64(name: &[u8], query: &[u8]) -> bool {
    let mut occurs = [0u64; 128];
    let mut starts = 0u64;
    let mut prev: Option<u8> = None;
    for (i, &b) in name.iter().enumerate() {
        occurs[usize::from(b.to_ascii_lowercase() & 0x7f)] |= 1 << i;
        if starts_word(prev, b, name.get(i + 1).copied()) {
            starts |= 1 << i;
        }
        prev = Some(b);
    }
    let at = |c: u8| occurs[usize::from(c & 0x7f)];
    let mut reach = at(query[0]) & starts;
    for &c in &query[1..] {
        if reach == 0 {
            return false;
        }
        let first = reach.trailing_zeros();
        let after = if first >= 63 { 0 } else { !0u64 << (first + 1) };
        reach = ((reach << 1) & at(c)) | (at(c) & starts & after);
    }
    reach != 0
}

/// Whether a character `b` after `prev` (none at the start) and before `next` starts a word.
fn starts_word(prev: Option<u8>, b: u8, next: Option<u8>) -> bool {
    match prev {
        None => true,
        Some(prev) => {
            (b.is_ascii_alphanumeric() && !prev.is_ascii_alphanumeric())
                || (b.is_ascii_uppercase() && (prev.is_ascii_lowercase() || prev.is_ascii_digit()))
                || (b.is_ascii_uppercase()
                    && prev.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase()))
        }
    }
}

/// Bit `i` set when `name[i]` starts a word: the first character, a letter or digit after a
/// separator, an upper-case letter after a lower-case one or a digit, and the last capital of a
/// run followed by a lower-case letter (`HTTPServer` → `HTTP`, `Server`).
pub(crate) fn word_starts(name: &[u8]) -> u128 {
    let mut m = 0u128;
    for (i, &b) in name.iter().enumerate().take(128) {
        let prev = i.checked_sub(1).map(|p| name[p]);
        if starts_word(prev, b, name.get(i + 1).copied()) {
            m |= 1 << i;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(query: &str, name: &str) -> Option<Score> {
        Query::new(query).score(name, &name.to_lowercase())
    }

    #[test]
    fn tiers() {
        assert_eq!(score("HashMap", "HashMap"), Some(Score::ExactCase));
        assert_eq!(score("hashmap", "HashMap"), Some(Score::Exact));
        assert_eq!(score("hash", "HashMap"), Some(Score::Prefix));
        assert_eq!(score("hm", "HashMap"), Some(Score::WordStart));
        assert_eq!(score("hmap", "HashMap"), Some(Score::WordStart));
        assert_eq!(score("map", "BTreeMap"), Some(Score::WordStart));
        assert_eq!(score("ue", "unwrap_err"), Some(Score::WordStart));
        assert_eq!(score("server", "HTTPServer"), Some(Score::WordStart));
        assert_eq!(score("hs", "HTTPServer"), Some(Score::WordStart));
        assert_eq!(score("ap", "HashMap"), Some(Score::Substring));
        assert_eq!(score("hsmp", "HashMap"), Some(Score::Subsequence));
        assert_eq!(score("mh", "HashMap"), None);
        assert_eq!(score("x", "HashMap"), None);
        assert_eq!(score("", "HashMap"), Some(Score::Prefix));
    }

    /// The 64-bit matcher and the 128-bit one agree on every name both take.
    #[test]
    fn narrow_and_wide_word_start_matchers_agree() {
        let mut rng = fastrand::Rng::with_seed(64);
        let alphabet = b"aAbBhHmM_1xX";
        for _ in 0..20_000 {
            let name: Vec<u8> = (0..rng.usize(1..20))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let query: Vec<u8> = (0..rng.usize(1..5))
                .map(|_| alphabet[rng.usize(..alphabet.len())].to_ascii_lowercase())
                .collect();
            assert_eq!(
                word_start_match_64(&name, &query),
                word_start_match_wide(&name, &query),
                "{:?} {:?}",
                String::from_utf8_lossy(&name),
                String::from_utf8_lossy(&query)
            );
        }
    }

    #[test]
    fn word_start_match_needs_no_backtracking_tricks() {
        // Greedy continuation (a, b) would strand `c`; the set of positions keeps both options.
        assert_eq!(score("abc", "AbXBc"), Some(Score::WordStart));
        // The first character must start a word.
        assert_eq!(score("ash", "HashMap"), Some(Score::Substring));
        assert_eq!(score("sm", "HashMap"), Some(Score::Subsequence));
    }

    #[test]
    fn non_ascii_names_match_case_insensitively() {
        assert_eq!(score("ÉTÉ", "été"), Some(Score::Exact));
        assert_eq!(score("té", "été"), Some(Score::Substring));
        assert_eq!(score("éé", "été"), Some(Score::Subsequence));
        assert_eq!(score("ée", "été"), None);
    }

    #[test]
    fn masks_reject_names_missing_a_query_character() {
        let q = Query::new("hm");
        assert_eq!((char_mask("hashmap") | LIVE) & q.mask, q.mask);
        assert_ne!((char_mask("hash") | LIVE) & q.mask, q.mask);
        assert_ne!(
            char_mask("hashmap") & q.mask,
            q.mask,
            "a dead name never passes"
        );
    }
}
