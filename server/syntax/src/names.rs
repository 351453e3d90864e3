//! Name tables: name paths and simple names → the files that define them (hash lookups, so
//! lookups by name never scan the workspace), and the `workspace/symbol` search structure.
//!
//! Search: every distinct simple name has an id; ids sorted by lowercase name give the exact and
//! prefix matches as one binary-searched range (with the names' lengths alongside, so a big range
//! — one typed letter — is cut to the best `limit` without touching the names). The other tiers
//! (word starts, substring, subsequence) scan the names by length, shortest first, over dense
//! arrays: a character mask per name ([`rank::char_mask`]) rejects a name lacking a query
//! character with one AND, a mask of its word-start characters ([`rank::word_start_mask`])
//! rejects it as a word-start match, and names and lowercase names lie end to end in scan order.
//! Hits go through a bounded heap of `limit` entries; since hits rank by tier, then length, once
//! the heap is full every longer name must reach a better tier than the worst kept one, and the
//! scan stops at the length where not even a word-start match could get in. A name whose last
//! definition goes away is hidden (its mask loses [`LIVE`]) rather than removed, so retyping a
//! file's symbols on every edit costs no re-sorting; hidden names are compacted away in bulk.
//! New names go to the end of the scan order, unsorted, until the next merge.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use super::FileSymbols;
use super::rank::{LIVE, Query, Score, char_mask, word_start_mask};

#[derive(Debug, Default)]
pub struct NameTables {
    /// Exact name path → files defining it (usually one).
    by_path: HashMap<String, Vec<Arc<str>>>,
    /// Simple name → its id in `slots`.
    ids: HashMap<Arc<str>, u32>,
    slots: Vec<Slot>,
    /// Per id: its position in the scan order (the arrays below).
    pos: Vec<u32>,
    /// Per position: the name's id. Positions `..buckets.last()` are the merged names ordered by
    /// length, the rest the pending ones in creation order.
    order: Vec<u32>,
    /// Per position: [`char_mask`] of the lowercase name, `| LIVE` while some file defines it.
    masks: Vec<u64>,
    /// Per position: [`word_start_mask`] of the name.
    starts: Vec<u64>,
    /// Per position: the name's length in bytes, saturated (a lower bound, as pruning needs).
    lens: Vec<u16>,
    /// Per position, end to end: the name, then its lowercase; `spans` has (start, name length,
    /// lowercase length).
    texts: String,
    spans: Vec<(u32, u32, u32)>,
    /// `buckets[l]..buckets[l + 1]`: the positions of merged names of length `l` (the last one:
    /// `LEN_CAP` and longer).
    buckets: Vec<u32>,
    /// Ids ordered by (lowercase name, name), and each one's name length (saturated).
    sorted: Vec<u32>,
    sorted_lens: Vec<u16>,
    /// Ids created since `sorted` was last merged, in creation order.
    pending: Vec<u32>,
    /// Ids without definitions.
    hidden: usize,
}

#[derive(Debug)]
struct Slot {
    name: Arc<str>,
    lower: Box<str>,
    /// Per file (in path order, so results need no sorting), the name paths with this name.
    defs: BTreeMap<Arc<str>, Vec<String>>,
}

/// Pending ids are merged into `sorted` past this many or a quarter of `sorted` (geometric, so a
/// bulk build merges O(log n) times).
const PENDING_MIN: usize = 1024;
/// Hidden ids are compacted away past this many, when they also outnumber the live ones.
const HIDDEN_MIN: usize = 4096;
/// Names this long or longer share the last length bucket.
const LEN_CAP: usize = 64;

fn len16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// A ranked hit: ordered by tier, then shorter names, then name.
#[derive(Debug, PartialEq, Eq)]
struct Hit<'a> {
    score: Score,
    len: usize,
    name: &'a str,
}

impl Ord for Hit<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .cmp(&other.score)
            .then(self.len.cmp(&other.len))
            .then_with(|| self.name.cmp(other.name))
    }
}

impl PartialOrd for Hit<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `limit` best hits seen: a max-heap whose top is the worst kept.
struct TopK<'a> {
    limit: usize,
    heap: BinaryHeap<Hit<'a>>,
}

impl<'a> TopK<'a> {
    fn push(&mut self, hit: Hit<'a>) {
        if self.heap.len() < self.limit {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            self.heap.pop();
            self.heap.push(hit);
        }
    }

    /// Whether a hit of tier `score` at best, for a name of at least `len` bytes, could still be
    /// kept: once the heap is full, a name that cannot beat the worst kept one is not worth
    /// scoring.
    fn could_take(&self, score: Score, len: usize) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|worst| (score, len) <= (worst.score, worst.len))
    }

    /// The worst tier a name of at least `len` bytes below the prefix tiers may have and still be
    /// kept; `None` when not even a word-start match would be.
    fn needed(&self, len: usize) -> Option<Score> {
        if self.heap.len() < self.limit {
            return Some(Score::Subsequence);
        }
        let worst = self.heap.peek()?;
        let tier = if len <= worst.len {
            worst.score
        } else {
            worst.score.better()?
        };
        (tier >= Score::WordStart).then_some(tier)
    }

    fn into_names(self) -> Vec<&'a str> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }
}

impl NameTables {
    pub fn insert(&mut self, file: &Arc<str>, symbols: &FileSymbols) {
        for s in &symbols.symbols {
            let files = self.by_path.entry(s.name_path.clone()).or_default();
            if !files.iter().any(|f| f == file) {
                files.push(file.clone());
            }
            let id = self.id_of(&s.name);
            let slot = &mut self.slots[id as usize];
            if slot.defs.is_empty() {
                self.masks[self.pos[id as usize] as usize] |= LIVE;
                self.hidden -= 1;
            }
            slot.defs
                .entry(file.clone())
                .or_default()
                .push(s.name_path.clone());
        }
        self.maybe_merge();
    }

    pub fn remove(&mut self, file: &str, symbols: &FileSymbols) {
        for s in &symbols.symbols {
            if let Some(files) = self.by_path.get_mut(&s.name_path) {
                files.retain(|f| &**f != file);
                if files.is_empty() {
                    self.by_path.remove(&s.name_path);
                }
            }
            if let Some(&id) = self.ids.get(s.name.as_str()) {
                let slot = &mut self.slots[id as usize];
                if slot.defs.remove(file).is_some() && slot.defs.is_empty() {
                    self.masks[self.pos[id as usize] as usize] &= !LIVE;
                    self.hidden += 1;
                }
            }
        }
        if self.hidden > HIDDEN_MIN && self.hidden > self.slots.len() - self.hidden {
            self.compact();
        }
    }

    /// The id of `name`, created hidden (no definitions) at the end of the scan order when new.
    fn id_of(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.slots.len() as u32;
        let name: Arc<str> = Arc::from(name);
        let lower = name.to_lowercase().into_boxed_str();
        self.pos.push(self.order.len() as u32);
        self.order.push(id);
        self.masks.push(char_mask(&lower));
        self.starts.push(word_start_mask(&name));
        self.lens.push(len16(name.len()));
        self.spans.push((
            self.texts.len() as u32,
            name.len() as u32,
            lower.len() as u32,
        ));
        self.texts.push_str(&name);
        self.texts.push_str(&lower);
        self.ids.insert(name.clone(), id);
        self.slots.push(Slot {
            name,
            lower,
            defs: BTreeMap::new(),
        });
        self.pending.push(id);
        self.hidden += 1;
        id
    }

    fn key(&self, id: u32) -> (&str, &str) {
        let slot = &self.slots[id as usize];
        (&slot.lower, &slot.name)
    }

    fn maybe_merge(&mut self) {
        if self.pending.len() > PENDING_MIN.max(self.sorted.len() / 4) {
            self.merge_pending();
        }
    }

    /// Sort the pending ids and merge them into `sorted` and the scan order.
    pub fn merge_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by(|&a, &b| self.key(a).cmp(&self.key(b)));
        let mut merged = Vec::with_capacity(self.sorted.len() + pending.len());
        let (mut i, mut j) = (0, 0);
        while i < self.sorted.len() && j < pending.len() {
            if self.key(self.sorted[i]) <= self.key(pending[j]) {
                merged.push(self.sorted[i]);
                i += 1;
            } else {
                merged.push(pending[j]);
                j += 1;
            }
        }
        merged.extend_from_slice(&self.sorted[i..]);
        merged.extend_from_slice(&pending[j..]);
        self.sorted = merged;
        self.sorted_lens = self
            .sorted
            .iter()
            .map(|&id| len16(self.slots[id as usize].name.len()))
            .collect();
        self.relayout();
    }

    /// Lay every name out in scan order: by length (a counting sort), then id.
    fn relayout(&mut self) {
        let bucket = |s: &Slot| s.name.len().min(LEN_CAP);
        let mut buckets = vec![0u32; LEN_CAP + 2];
        for s in &self.slots {
            buckets[bucket(s) + 1] += 1;
        }
        for l in 1..buckets.len() {
            buckets[l] += buckets[l - 1];
        }
        let mut next = buckets.clone();
        let mut order = vec![0u32; self.slots.len()];
        for (id, s) in self.slots.iter().enumerate() {
            let b = &mut next[bucket(s)];
            order[*b as usize] = id as u32;
            *b += 1;
        }
        let mut pos = vec![0u32; order.len()];
        let mut masks = Vec::with_capacity(order.len());
        let mut starts = Vec::with_capacity(order.len());
        let mut lens = Vec::with_capacity(order.len());
        let mut spans = Vec::with_capacity(order.len());
        let mut texts = String::with_capacity(self.texts.len());
        for (p, &id) in order.iter().enumerate() {
            let old = self.pos[id as usize] as usize;
            pos[id as usize] = p as u32;
            masks.push(self.masks[old]);
            starts.push(self.starts[old]);
            lens.push(self.lens[old]);
            let (name, lower) = self.text(old);
            spans.push((texts.len() as u32, name.len() as u32, lower.len() as u32));
            texts.push_str(name);
            texts.push_str(lower);
        }
        self.pos = pos;
        self.order = order;
        self.masks = masks;
        self.starts = starts;
        self.lens = lens;
        self.spans = spans;
        self.texts = texts;
        self.buckets = buckets;
    }

    /// Drop the hidden names and renumber the rest.
    fn compact(&mut self) {
        let slots: Vec<Slot> = std::mem::take(&mut self.slots)
            .into_iter()
            .filter(|s| !s.defs.is_empty())
            .collect();
        self.ids = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
        self.masks = slots.iter().map(|s| char_mask(&s.lower) | LIVE).collect();
        self.starts = slots.iter().map(|s| word_start_mask(&s.name)).collect();
        self.lens = slots.iter().map(|s| len16(s.name.len())).collect();
        self.texts.clear();
        self.spans.clear();
        for s in &slots {
            self.spans.push((
                self.texts.len() as u32,
                s.name.len() as u32,
                s.lower.len() as u32,
            ));
            self.texts.push_str(&s.name);
            self.texts.push_str(&s.lower);
        }
        self.pos = (0..slots.len() as u32).collect();
        self.order = self.pos.clone();
        self.slots = slots;
        self.sorted.clear();
        self.pending = self.order.clone();
        self.hidden = 0;
        self.merge_pending();
    }

    /// Files defining exactly `name_path`.
    pub fn files_with_path(&self, name_path: &str) -> &[Arc<str>] {
        self.by_path.get(name_path).map_or(&[], Vec::as_slice)
    }

    /// (name, lowercase name) at scan position `p`.
    fn text(&self, p: usize) -> (&str, &str) {
        let (at, name, lower) = self.spans[p];
        let (at, mid) = (at as usize, (at + name) as usize);
        (&self.texts[at..mid], &self.texts[mid..mid + lower as usize])
    }

    /// `(file, name_path)` of every symbol whose simple name is `name`.
    pub fn defs_named<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (&'a Arc<str>, &'a String)> + 'a {
        self.ids
            .get(name)
            .into_iter()
            .flat_map(|&id| self.slots[id as usize].defs.iter())
            .flat_map(|(file, paths)| paths.iter().map(move |p| (file, p)))
    }

    fn live(&self, id: u32) -> bool {
        self.masks[self.pos[id as usize] as usize] & LIVE != 0
    }

    /// Score name `id` and offer it to `top`; whether it matched.
    fn consider<'a>(&'a self, q: &Query, id: u32, top: &mut TopK<'a>) -> bool {
        let slot = &self.slots[id as usize];
        q.score(&slot.name, &slot.lower).is_some_and(|score| {
            top.push(Hit {
                score,
                len: slot.name.len(),
                name: &slot.name,
            });
            true
        })
    }

    /// At most `limit` simple names matching `query`, best first ([`Score`] tier, then shorter
    /// names, then by name).
    pub fn matching_names(&self, query: &str, limit: usize) -> Vec<&str> {
        if limit == 0 {
            return Vec::new();
        }
        let q = Query::new(query);
        let mut top = TopK {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        };
        // Exact and prefix matches: one range of the sorted ids, plus the pending ones.
        let needle = q.lower.as_str();
        let start = self
            .sorted
            .partition_point(|&id| &*self.slots[id as usize].lower < needle);
        let end = start
            + self.sorted[start..]
                .partition_point(|&id| self.slots[id as usize].lower.starts_with(needle));
        let mut prefixed = 0;
        for (&id, &len) in self.sorted[start..end]
            .iter()
            .zip(&self.sorted_lens[start..end])
        {
            if top.could_take(Score::ExactCase, usize::from(len)) && self.live(id) {
                prefixed += usize::from(self.consider(&q, id, &mut top));
            }
        }
        let merged = self.buckets.last().map_or(0, |&b| b as usize);
        for p in merged..self.order.len() {
            if self.masks[p] & LIVE != 0 && self.text(p).1.starts_with(needle) {
                prefixed += usize::from(self.consider(&q, self.order[p], &mut top));
            }
        }
        // Each name has a definition: `limit` names of the best two tiers fill the answer.
        if prefixed >= limit {
            return top.into_names();
        }
        // The other tiers, shortest names first, until not even a word-start match of this length
        // could be kept; then the pending names.
        for (len, b) in self.buckets.windows(2).enumerate() {
            if top.needed(len).is_none() {
                break;
            }
            self.scan_below_prefix(&q, b[0] as usize..b[1] as usize, &mut top);
        }
        self.scan_below_prefix(&q, merged..self.order.len(), &mut top);
        top.into_names()
    }

    /// Offer the names at scan positions `range` that match below the prefix tiers to `top`.
    fn scan_below_prefix<'a>(&'a self, q: &Query, range: Range<usize>, top: &mut TopK<'a>) {
        let needle = q.lower.as_bytes();
        let masks = &self.masks[range.clone()];
        for (p, &mask) in range.zip(masks) {
            if mask & q.mask != q.mask {
                continue;
            }
            let Some(needed) = top.needed(usize::from(self.lens[p])) else {
                continue;
            };
            let may_word_start = self.starts[p] & q.first_bit != 0;
            if needed == Score::WordStart && !may_word_start {
                continue;
            }
            let (name, lower) = self.text(p);
            // Prefixes were ranged above.
            if lower.len() < needle.len() || lower.as_bytes().starts_with(needle) {
                continue;
            }
            if let Some(score) = q.score_below_prefix(name, lower, may_word_start)
                && score <= needed
            {
                top.push(Hit {
                    score,
                    len: name.len(),
                    name,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Language, Symbol, SymbolKind};

    fn file_of(names: &[&str]) -> FileSymbols {
        let symbols = names
            .iter()
            .map(|n| Symbol {
                name: n.to_string(),
                name_path: format!("m/{n}"),
                kind: SymbolKind::Function,
                range: 0..1,
                decl_range: 0..1,
                body: None,
                name_range: 0..1,
                start_line: 1,
                end_line: 1,
                parent: None,
            })
            .collect();
        FileSymbols::new(Language::Rust, symbols, None)
    }

    /// The reference: score every live name, sort all, take `limit`.
    fn brute_force<'a>(t: &'a NameTables, query: &str, limit: usize) -> Vec<&'a str> {
        let q = Query::new(query);
        let mut hits: Vec<Hit<'_>> = t
            .slots
            .iter()
            .filter(|s| !s.defs.is_empty())
            .filter_map(|s| {
                Some(Hit {
                    score: q.score(&s.name, &s.lower)?,
                    len: s.name.len(),
                    name: &s.name,
                })
            })
            .collect();
        hits.sort();
        hits.into_iter().take(limit).map(|h| h.name).collect()
    }

    #[test]
    fn ranks_exact_prefix_word_starts_substring_subsequence() {
        let mut t = NameTables::default();
        let names = [
            "hashmap_len",
            "HashMap",
            "hashmap",
            "rehash_map",
            "hash_map",
            "HashMapExt",
            "ahashmap",
            "h_a_s_h_m_a_p",
            "HMAP",
            "zzz",
        ];
        t.insert(&Arc::from("a.rs"), &file_of(&names));
        assert_eq!(
            t.matching_names("HashMap", 100),
            [
                "HashMap",       // exact, same case
                "hashmap",       // exact
                "HashMapExt",    // prefix, shorter first
                "hashmap_len",   // prefix
                "hash_map",      // word starts
                "h_a_s_h_m_a_p", // word starts
                "ahashmap",      // substring
                "rehash_map",    // subsequence (the first `h` starts no word)
            ]
        );
        assert_eq!(
            t.matching_names("hm", 100),
            [
                "HMAP",          // prefix
                "HashMap",       // word starts
                "hash_map",      // word starts
                "HashMapExt",    // word starts
                "h_a_s_h_m_a_p", // word starts
                "hashmap",       // substring
                "ahashmap",      // substring
                "hashmap_len",   // substring
                "rehash_map",    // subsequence
            ]
        );
        assert_eq!(t.matching_names("hm", 2), ["HMAP", "HashMap"], "limit");
        assert!(t.matching_names("q", 10).is_empty());
    }

    #[test]
    fn removed_names_vanish_and_come_back() {
        let mut t = NameTables::default();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a.rs"), Arc::from("b.rs"));
        let fa = file_of(&["parse", "parse_expr"]);
        let fb = file_of(&["parse"]);
        t.insert(&a, &fa);
        t.insert(&b, &fb);
        t.remove("a.rs", &fa);
        assert_eq!(t.matching_names("pars", 10), ["parse"]);
        t.remove("b.rs", &fb);
        assert!(t.matching_names("pars", 10).is_empty());
        assert!(t.matching_names("", 10).is_empty());
        t.insert(&a, &fa);
        assert_eq!(t.matching_names("pars", 10), ["parse", "parse_expr"]);
        assert_eq!(t.defs_named("parse").count(), 1);
    }

    /// The index structure (sorted ranges, pending ids, hidden names, compaction, early exit)
    /// returns exactly what scoring every name and sorting would.
    #[test]
    fn top_k_equals_sorting_everything() {
        let mut rng = fastrand::Rng::with_seed(21);
        // Some non-ASCII words and one long enough to push names past `LEN_CAP` and the
        // word-start limit.
        let words = [
            "get",
            "set",
            "hash",
            "map",
            "parse",
            "expr",
            "new",
            "from",
            "into",
            "iter",
            "Http",
            "server",
            "x",
            "to",
            "str",
            "vec",
            "Btree",
            "node",
            "len",
            "is",
            "empty",
            "a",
            "b",
            "été",
            "Straße",
            "extraordinarily_long_words_for_testing_length_buckets",
        ];
        let name = |rng: &mut fastrand::Rng| -> String {
            let n = rng.usize(1..4);
            let parts: Vec<String> = (0..n)
                .map(|_| {
                    let w = words[rng.usize(..words.len())];
                    if rng.bool() {
                        w.to_uppercase()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            parts.join(if rng.bool() { "_" } else { "" })
        };
        let mut t = NameTables::default();
        let mut files: Vec<(Arc<str>, FileSymbols)> = Vec::new();
        for round in 0..60 {
            let file: Arc<str> = Arc::from(format!("f{}.rs", round % 25).as_str());
            if let Some(pos) = files.iter().position(|(f, _)| *f == file) {
                let (_, old) = files.remove(pos);
                t.remove(&file, &old);
            }
            let names: Vec<String> = (0..rng.usize(50..400)).map(|_| name(&mut rng)).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let symbols = file_of(&refs);
            t.insert(&file, &symbols);
            files.push((file, symbols));
            for query in [
                "",
                "g",
                "ge",
                "get",
                "hm",
                "HM",
                "parseexpr",
                "tostr",
                "ie",
                "zz",
                "se_",
                "pe",
                "HsMp",
                "hasmp",
                "gte",
                "ét",
                "STRASSE",
                "straße",
                "eolw",
                "len_bu",
                "xyzzy",
            ] {
                for limit in [1, 7, 256] {
                    assert_eq!(
                        t.matching_names(query, limit),
                        brute_force(&t, query, limit),
                        "query {query:?} limit {limit} round {round}"
                    );
                }
            }
        }
        // Hide most names, forcing a compaction, and check again.
        for (file, symbols) in files.drain(3..) {
            t.remove(&file, &symbols);
        }
        for query in ["", "get", "hm", "s"] {
            assert_eq!(t.matching_names(query, 256), brute_force(&t, query, 256));
        }
    }

    /// A merged table of many names (every length bucket, all tiers competing for the heap)
    /// against the reference, for queries derived from its names the way people type them.
    #[test]
    fn top_k_equals_sorting_everything_on_a_big_random_table() {
        let mut rng = fastrand::Rng::with_seed(2026);
        let syllables = [
            "ka", "ro", "Mi", "ten", "SH", "op", "lu", "Vec", "ix", "_", "map", "Ha", "zu", "n",
        ];
        let names: Vec<String> = (0..6_000)
            .map(|_| {
                (0..rng.usize(1..12))
                    .map(|_| syllables[rng.usize(..syllables.len())])
                    .collect()
            })
            .collect();
        let mut t = NameTables::default();
        for (i, chunk) in names.chunks(300).enumerate() {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            t.insert(&Arc::from(format!("f{i}.rs").as_str()), &file_of(&refs));
        }
        t.merge_pending();
        // Some pending names too.
        t.insert(
            &Arc::from("late.rs"),
            &file_of(&["kaMap", "zzHaro", "Roka"]),
        );
        let mut queries: Vec<String> = Vec::new();
        for _ in 0..60 {
            let name = names[rng.usize(..names.len())].as_bytes();
            let prefix = &name[..rng.usize(1..=name.len().min(4))];
            let dropped: Vec<u8> = name.iter().copied().step_by(2).collect();
            let humps: Vec<u8> = name
                .iter()
                .copied()
                .filter(|b| b.is_ascii_uppercase() || *b == b'_')
                .collect();
            let random: Vec<u8> = (0..rng.usize(1..5)).map(|_| b'a' + rng.u8(..26)).collect();
            for q in [prefix, &dropped, &humps, &random] {
                queries.push(String::from_utf8_lossy(q).into_owned());
            }
        }
        for query in &queries {
            for limit in [1, 10, 256] {
                assert_eq!(
                    t.matching_names(query, limit),
                    brute_force(&t, query, limit),
                    "query {query:?} limit {limit}"
                );
            }
        }
    }
}
