//! One immutable run of the `workspace/symbol` search structure: a set of name ids laid out so that
//! every tier of [`Score`] has its own candidate list, walked shortest name first. A tier's walk
//! stops as soon as the top-k heap is full of hits it cannot beat, so a query touches the names it
//! could return rather than every name.
//!
//! - Exact and prefix: one binary search over the names sorted by lowercase gives the range; a
//!   large range is walked by length, since ids are ordered by (name length, lowercase name, name)
//!   and each length is one run sorted for a binary-searched prefix range.
//! - Word starts: posting lists keyed by a pair of characters — a word start and the character
//!   after it, or a word start and any later word start. Every word-start match of a query
//!   `ab…` has `(a, b)` among its name's pairs, so the list of the query's first two characters
//!   holds all of them.
//! - Substring: posting lists keyed by trigram; a name containing the query contains each of its
//!   trigrams, so the shortest of those lists holds all of them.
//! - Subsequence (and substrings of short queries): the positions in order, filtered by the
//!   character, repeated-letter and ordered-pair masks.
//!
//! Keys and masks are built from character classes (`class`), not bytes, so collisions only add
//! candidates; every candidate is matched exactly before it is offered.

use crate::rank::{Query, Score, word_start_match, word_starts};

/// Character classes: a–z, digits, `_`, non-ASCII, two for the rest, and one for "no character".
const CLASSES: usize = 32;
const END: usize = CLASSES - 1;
const PAIR_KEYS: usize = CLASSES * CLASSES;
const TRI_KEYS: usize = CLASSES * CLASSES * CLASSES;
/// `rank::word_start_match` gives up on longer names; so does the pair list.
const WORD_MATCH_MAX: usize = 128;

fn class(b: u8) -> usize {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => usize::from(c - b'a'),
        b'0'..=b'9' => 26,
        b'_' => 27,
        0x80.. => 28,
        c => 29 + usize::from(c % 2),
    }
}

/// What a segment needs to know about a name id.
pub(super) trait Names {
    fn name(&self, id: u32) -> &str;
    fn lower(&self, id: u32) -> &str;
    /// The character mask, `| LIVE` while the name has definitions.
    fn mask(&self, id: u32) -> u64;
}

/// Compressed sparse rows: `starts[k]..starts[k + 1]` of `items` is key `k`'s list, each item a
/// position and, for the lists walked far (word-start pairs), what rejects most candidates
/// without leaving the list's memory.
#[derive(Debug, Default)]
struct Postings<T> {
    starts: Vec<u32>,
    items: Vec<(u32, T)>,
}

impl<T: Copy + Default> Postings<T> {
    /// From `keys_of(position, out)` called twice per position (count, then fill), so no
    /// intermediate list of every (key, position) pair is held.
    fn build(
        keys: usize,
        positions: usize,
        mut keys_of: impl FnMut(usize, &mut Vec<usize>) -> T,
    ) -> Self {
        let mut counts = vec![0u32; keys + 1];
        let mut buf = Vec::new();
        for p in 0..positions {
            buf.clear();
            keys_of(p, &mut buf);
            for &k in &buf {
                counts[k + 1] += 1;
            }
        }
        for k in 0..keys {
            counts[k + 1] += counts[k];
        }
        let mut next = counts.clone();
        let mut items = vec![(0u32, T::default()); counts[keys] as usize];
        for p in 0..positions {
            buf.clear();
            let tag = keys_of(p, &mut buf);
            for &k in &buf {
                items[next[k] as usize] = (p as u32, tag);
                next[k] += 1;
            }
        }
        Postings {
            starts: counts,
            items,
        }
    }

    fn bytes(&self) -> usize {
        std::mem::size_of_val(self.starts.as_slice()) + std::mem::size_of_val(self.items.as_slice())
    }

    fn list(&self, key: usize) -> &[(u32, T)] {
        &self.items[self.starts[key] as usize..self.starts[key + 1] as usize]
    }
}

/// Prefix ranges up to this many names are offered whole rather than walked by length.
const SMALL_RANGE: usize = if cfg!(test) { 8 } else { 512 };

#[derive(Debug, Default)]
pub(super) struct Segment {
    /// Ids by (name length, lowercase name, name).
    order: Vec<u32>,
    /// Per position, in order: the name, then its lowercase — the walks read memory in order
    /// instead of chasing pointers into the tables.
    text: String,
    /// Per position: where its name starts in `text`, the name's length, and where its lowercase
    /// ends.
    spans: Vec<(u32, u32, u32)>,
    /// Per position: the name's character mask, without `LIVE` (read from the tables).
    masks: Vec<u64>,
    /// Per position: [`repeats`] of the lowercase name.
    repeats: Vec<u64>,
    /// Per filter bit ([`filter_rows`]), a bitmap of the positions whose name has it: bit `p % 64`
    /// of word `p / 64` of its row.
    rows: Vec<u64>,
    /// Per length present: (length, first position), ascending.
    runs: Vec<(usize, u32)>,
    /// Positions by lowercase name: one binary search gives a prefix range's size.
    by_lower: Vec<u32>,
    pairs: Postings<Shape>,
    trigrams: Postings<()>,
}

/// What the word-start walk checks before it reads a name: its [`letters`], the classes that
/// start a word, and its contiguous lowercase bigrams hashed into 32 bits (16 bytes an item: a
/// name is in several pair lists). A word-start match reaches each query character after the
/// first either right after the previous one (a bigram of the name) or at a word start, so a name
/// failing that for some character cannot match.
#[derive(Debug, Default, Clone, Copy)]
struct Shape {
    letters: u32,
    initials: u32,
    bigrams: u32,
}

impl Shape {
    fn of(name: &[u8], lower: &[u8]) -> Shape {
        let starts = if name.len() <= WORD_MATCH_MAX && name.is_ascii() {
            word_starts(name)
        } else {
            0
        };
        let initials = name
            .iter()
            .enumerate()
            .filter(|&(i, _)| i < 128 && starts & (1 << i) != 0)
            .fold(0, |m, (_, &b)| m | 1 << class(b));
        let bigrams = lower.windows(2).fold(0, |m, w| m | bigram_bit(w[0], w[1]));
        Shape {
            letters: letters(lower),
            initials,
            bigrams,
        }
    }
}

fn bigram_bit(a: u8, b: u8) -> u32 {
    1 << ((class(a) * CLASSES + class(b)) % 31)
}

/// The heap the walks offer hits to (see `TopK` in the parent).
pub(super) trait Sink<'a> {
    /// Whether a hit of tier `score` for a name of `len` bytes could still be kept.
    fn could_take(&self, score: Score, len: usize) -> bool;
    /// Score `name` (of id `id`) and offer it if `live()`; `only` drops hits of any other tier.
    /// Liveness is asked last: it is a read from the tables, away from the segment's memory.
    fn offer(
        &mut self,
        id: u32,
        name: &'a str,
        lower: &str,
        only: Option<Score>,
        live: &dyn Fn() -> bool,
    );
    /// Offer `name`, already scored, if `live()`.
    fn push(&mut self, id: u32, name: &'a str, score: Score, live: &dyn Fn() -> bool);
}

impl Segment {
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    pub(super) fn ids(&self) -> &[u32] {
        &self.order
    }

    /// Bytes held by the tables.
    pub(super) fn bytes(&self) -> usize {
        use std::mem::size_of_val;
        size_of_val(self.order.as_slice())
            + self.text.len()
            + size_of_val(self.spans.as_slice())
            + size_of_val(self.masks.as_slice())
            + size_of_val(self.repeats.as_slice())
            + size_of_val(self.rows.as_slice())
            + size_of_val(self.runs.as_slice())
            + size_of_val(self.by_lower.as_slice())
            + self.pairs.bytes()
            + self.trigrams.bytes()
    }

    fn name(&self, p: usize) -> &str {
        let (at, len, _) = self.spans[p];
        &self.text[at as usize..(at + len) as usize]
    }

    fn lower(&self, p: usize) -> &str {
        let (at, len, end) = self.spans[p];
        &self.text[(at + len) as usize..end as usize]
    }

    fn name_len(&self, p: usize) -> usize {
        self.spans[p].1 as usize
    }

    /// A segment over `order`, already in (length, lowercase, name) order.
    pub(super) fn from_sorted(names: &impl Names, order: Vec<u32>) -> Segment {
        let mut text = String::new();
        let mut spans = Vec::with_capacity(order.len());
        let mut masks = Vec::with_capacity(order.len());
        let mut repeat_masks = Vec::with_capacity(order.len());
        let mut runs = Vec::new();
        let words = order.len().div_ceil(64);
        let mut rows = vec![0u64; ROWS * words];
        for (p, &id) in order.iter().enumerate() {
            let (name, lower) = (names.name(id), names.lower(id));
            let at = text.len() as u32;
            text.push_str(name);
            text.push_str(lower);
            spans.push((at, name.len() as u32, text.len() as u32));
            masks.push(names.mask(id) & !super::LIVE);
            repeat_masks.push(repeats(lower.as_bytes()));
            filter_rows(lower.as_bytes(), true, |r| {
                rows[r * words + p / 64] |= 1 << (p % 64)
            });
            if runs.last().is_none_or(|&(l, _)| l != name.len()) {
                runs.push((name.len(), p as u32));
            }
        }
        let mut segment = Segment {
            order,
            text,
            spans,
            masks,
            repeats: repeat_masks,
            rows,
            runs,
            ..Segment::default()
        };
        let n = segment.order.len();
        let mut by_lower: Vec<u32> = (0..n as u32).collect();
        by_lower.sort_unstable_by(|&a, &b| {
            segment
                .lower(a as usize)
                .cmp(segment.lower(b as usize))
                .then(a.cmp(&b))
        });
        segment.by_lower = by_lower;
        segment.pairs = Postings::build(PAIR_KEYS, n, |p, out| {
            let (name, lower) = (segment.name(p).as_bytes(), segment.lower(p).as_bytes());
            pair_keys(name, out);
            Shape::of(name, lower)
        });
        segment.trigrams = Postings::build(TRI_KEYS, n, |p, out| {
            trigram_keys(segment.lower(p).as_bytes(), out);
        });
        segment
    }

    /// Sort `ids` into segment order.
    pub(super) fn sort(names: &impl Names, ids: &mut [u32]) {
        ids.sort_unstable_by(|&a, &b| key(names, a).cmp(&key(names, b)));
    }

    /// Two segments' orders merged.
    pub(super) fn merge_orders(names: &impl Names, a: &[u32], b: &[u32]) -> Vec<u32> {
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if key(names, a[i]) <= key(names, b[j]) {
                out.push(a[i]);
                i += 1;
            } else {
                out.push(b[j]);
                j += 1;
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        out
    }

    fn offer<'a>(
        &'a self,
        names: &impl Names,
        p: usize,
        only: Option<Score>,
        sink: &mut impl Sink<'a>,
    ) {
        let live = || names.mask(self.order[p]) & super::LIVE != 0;
        sink.offer(self.order[p], self.name(p), self.lower(p), only, &live);
    }

    /// Exact and prefix matches: a small range whole; a large one its exact matches, then the
    /// rest shortest first until nothing longer could be kept.
    pub(super) fn prefix<'a>(&'a self, names: &impl Names, q: &Query, sink: &mut impl Sink<'a>) {
        let needle = q.lower.as_str();
        let lo = self
            .by_lower
            .partition_point(|&p| self.lower(p as usize) < needle);
        let range = &self.by_lower[lo..];
        let size = range.partition_point(|&p| self.lower(p as usize).starts_with(needle));
        if size <= SMALL_RANGE {
            for &p in &range[..size] {
                self.offer(names, p as usize, None, sink);
            }
            return;
        }
        // The range starts with the names whose lowercase is the query: the exact matches.
        for &p in range
            .iter()
            .take_while(|&&p| self.lower(p as usize) == needle)
        {
            self.offer(names, p as usize, None, sink);
        }
        for (i, &(len, start)) in self.runs.iter().enumerate() {
            if !sink.could_take(Score::Prefix, len) {
                break;
            }
            let end = self
                .runs
                .get(i + 1)
                .map_or(self.order.len(), |&(_, s)| s as usize);
            let (mut from, mut to) = (start as usize, end);
            while from < to {
                let mid = from + (to - from) / 2;
                if self.lower(mid) <= needle {
                    from = mid + 1;
                } else {
                    to = mid;
                }
            }
            for p in from..end {
                if !self.lower(p).starts_with(needle) {
                    break;
                }
                self.offer(names, p, None, sink);
            }
        }
    }

    /// Word-start matches that are not prefix matches.
    pub(super) fn word_starts<'a>(
        &'a self,
        names: &impl Names,
        q: &Query,
        sink: &mut impl Sink<'a>,
    ) {
        let b = q.lower.as_bytes();
        if !q.is_ascii() || b.is_empty() {
            return;
        }
        let key = class(b[0]) * CLASSES + b.get(1).map_or(END, |&c| class(c));
        // Per query character after the first: (its class bit, the bigram bit ending in it).
        let steps: Vec<(u32, u32)> = b
            .windows(2)
            .map(|w| (1 << class(w[1]), bigram_bit(w[0], w[1])))
            .collect();
        let (want, twice) = (letters(b), repeats(b));
        for &(p, shape) in self.pairs.list(key) {
            if shape.letters & want != want
                || !steps
                    .iter()
                    .all(|&(c, bi)| shape.initials & c != 0 || shape.bigrams & bi != 0)
            {
                continue;
            }
            let p = p as usize;
            if !sink.could_take(Score::WordStart, self.name_len(p)) {
                break;
            }
            if self.repeats[p] & twice != twice {
                continue;
            }
            // The score, without the tiers this walk does not take: a prefix match went first.
            let (name, lower) = (self.name(p), self.lower(p));
            if !lower.starts_with(&q.lower) && word_start_match(name.as_bytes(), b) {
                let live = || names.mask(self.order[p]) & super::LIVE != 0;
                sink.push(self.order[p], name, Score::WordStart, &live);
            }
        }
    }

    /// Substring matches that are neither prefix nor word-start matches.
    pub(super) fn substrings<'a>(
        &'a self,
        names: &impl Names,
        q: &Query,
        sink: &mut impl Sink<'a>,
    ) {
        let b = q.lower.as_bytes();
        if b.len() < 3 {
            return self.scan(names, q, Score::Substring, sink);
        }
        let mut keys = Vec::new();
        trigram_keys(b, &mut keys);
        let Some(shortest) = keys
            .iter()
            .map(|&k| self.trigrams.list(k))
            .min_by_key(|l| l.len())
        else {
            return;
        };
        self.walk(names, q, shortest, Score::Substring, sink);
    }

    /// Subsequence matches: every position in order.
    pub(super) fn subsequences<'a>(
        &'a self,
        names: &impl Names,
        q: &Query,
        sink: &mut impl Sink<'a>,
    ) {
        self.scan(names, q, Score::Subsequence, sink);
    }

    fn walk<'a>(
        &'a self,
        names: &impl Names,
        q: &Query,
        list: &[(u32, ())],
        tier: Score,
        sink: &mut impl Sink<'a>,
    ) {
        let needle = q.lower.as_bytes();
        let (want, twice) = (q.mask & !super::LIVE, repeats(needle));
        for &(p, ()) in list {
            let p = p as usize;
            if !sink.could_take(tier, self.name_len(p)) {
                break;
            }
            if self.masks[p] & want != want
                || self.repeats[p] & twice != twice
                || !q.is_subsequence_of(self.lower(p))
            {
                continue;
            }
            self.offer(names, p, Some(tier), sink);
        }
    }

    /// Every position that could hold a match, in order: names too short to hold the query are
    /// skipped, and the bitmaps of the query's [`filter_rows`] are intersected 64 positions at a
    /// time, so the walk reads a few bits per name and touches only the names that pass.
    fn scan<'a>(&'a self, names: &impl Names, q: &Query, tier: Score, sink: &mut impl Sink<'a>) {
        let needle = q.lower.as_bytes();
        // Lowercasing yields at most one ASCII character per character of the name, so a name
        // holding an ASCII query as a subsequence has at least as many bytes as the query.
        let min_len = if q.is_ascii() { needle.len() } else { 0 };
        let from = self
            .runs
            .iter()
            .find(|&&(len, _)| len >= min_len)
            .map_or(self.len(), |&(_, at)| at as usize);
        let n = self.len();
        let words = n.div_ceil(64);
        // Each row once: `filter_rows` visits distinct bits of disjoint ranges.
        let mut rows: Vec<&[u64]> = Vec::new();
        filter_rows(needle, false, |r| {
            rows.push(&self.rows[r * words..(r + 1) * words]);
        });
        for word in from / 64..words {
            let mut candidates = rows.iter().fold(!0u64, |m, row| m & row[word]);
            if word == from / 64 {
                candidates &= !0 << (from % 64);
            }
            if word == n / 64 {
                candidates &= (1 << (n % 64)) - 1;
            }
            while candidates != 0 {
                let p = word * 64 + candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if !sink.could_take(tier, self.name_len(p)) {
                    return;
                }
                if q.is_subsequence_of(self.lower(p)) {
                    self.offer(names, p, Some(tier), sink);
                }
            }
        }
    }
}

/// Bitmap rows of a segment: one per character class, per [`ordered_pairs`] bit and per
/// [`repeats`] bit.
const ROWS: usize = CLASSES + 64 + 52;

/// The rows a lowercase name is in (`name`: its classes, ordered pairs and repeated letters), or
/// those a query needs every match to be in (its classes, adjacent pairs and repeats).
fn filter_rows(lower: &[u8], name: bool, mut row: impl FnMut(usize)) {
    let pairs = if name {
        ordered_pairs(lower)
    } else {
        query_pairs(lower)
    };
    let classes = u64::from(letters(lower));
    let twice = repeats(lower);
    // `repeats` uses bits 0..26 and 32..58.
    let repeat_bits = (twice & 0x3ff_ffff) | (twice >> 32 & 0x3ff_ffff) << 26;
    for (base, bits) in [(0, classes), (CLASSES, pairs), (CLASSES + 64, repeat_bits)] {
        let mut bits = bits;
        while bits != 0 {
            row(base + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

fn key(names: &impl Names, id: u32) -> (usize, &str, &str) {
    (names.name(id).len(), names.lower(id), names.name(id))
}

/// The classes of a lowercase name's characters (see [`class`]), one bit each.
fn letters(lower: &[u8]) -> u32 {
    lower.iter().fold(0, |m, &b| m | 1 << class(b))
}

/// Names longer than this have every [`ordered_pairs`] bit set (the set would be full anyway).
const ORDERED_MAX: usize = 24;

/// The ordered pairs of a lowercase name's characters — `a` somewhere before `b` — by class,
/// hashed into 64 bits. A subsequence match has each adjacent pair of the query among them; the
/// scans that need one run over short names, where the set is sparse.
fn ordered_pairs(lower: &[u8]) -> u64 {
    if lower.len() > ORDERED_MAX {
        return !0;
    }
    let mut m = 0;
    for (i, &a) in lower.iter().enumerate() {
        for &b in &lower[i + 1..] {
            m |= pair_bit(a, b);
        }
    }
    m
}

/// The [`ordered_pairs`] bits a query needs: its adjacent pairs.
fn query_pairs(lower: &[u8]) -> u64 {
    lower.windows(2).fold(0, |m, w| m | pair_bit(w[0], w[1]))
}

fn pair_bit(a: u8, b: u8) -> u64 {
    1 << ((class(a) * 37 + class(b) * 11) % 64)
}

/// Letters a lowercase name repeats: bit `c` for two or more of letter `c`, bit `32 + c` for three
/// or more — a query repeating a letter needs a name that repeats it as often.
fn repeats(lower: &[u8]) -> u64 {
    let mut counts = [0u8; 26];
    let mut m = 0u64;
    for &b in lower {
        if b.is_ascii_lowercase() {
            let c = usize::from(b - b'a');
            counts[c] = counts[c].saturating_add(1);
            match counts[c] {
                2 => m |= 1 << c,
                3 => m |= 1 << (32 + c),
                _ => {}
            }
        }
    }
    m
}

/// Pairs (word start, next character), (word start, later word start) and (word start, END), by
/// class, each once.
fn pair_keys(name: &[u8], out: &mut Vec<usize>) {
    if name.is_empty() || name.len() > WORD_MATCH_MAX || !name.is_ascii() {
        return;
    }
    let starts = word_starts(name);
    let at: Vec<usize> = (0..name.len())
        .filter(|&i| starts & (1 << i) != 0)
        .collect();
    for (n, &i) in at.iter().enumerate() {
        let a = class(name[i]) * CLASSES;
        out.push(a + END);
        if let Some(&next) = name.get(i + 1) {
            out.push(a + class(next));
        }
        for &j in &at[n + 1..] {
            out.push(a + class(name[j]));
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// The trigrams of a lowercase name, by class, each once.
fn trigram_keys(lower: &[u8], out: &mut Vec<usize>) {
    for w in lower.windows(3) {
        out.push((class(w[0]) * CLASSES + class(w[1])) * CLASSES + class(w[2]));
    }
    out.sort_unstable();
    out.dedup();
}
