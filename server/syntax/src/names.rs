//! Name tables: name paths and simple names → the files that define them (hash lookups, so
//! lookups by name never scan the workspace), and the `workspace/symbol` search structure.
//!
//! Search: every distinct simple name has an id; ids sorted by lowercase name give the exact and
//! prefix matches as one binary-searched range, and a dense array of per-name character masks
//! ([`rank::char_mask`]) filters the candidates of the lower tiers with one AND per name. Hits go
//! through a bounded heap of `limit` entries rather than a sort of all of them. A name whose last
//! definition goes away is hidden (its mask loses [`LIVE`]) rather than removed, so retyping a
//! file's symbols on every edit costs no re-sorting; hidden names are compacted away in bulk.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use super::FileSymbols;
use super::rank::{LIVE, Query, Score, char_mask};

#[derive(Debug, Default)]
pub struct NameTables {
    /// Exact name path → files defining it (usually one).
    by_path: HashMap<String, Vec<Arc<str>>>,
    /// Simple name → its id in `slots`/`masks`.
    ids: HashMap<Arc<str>, u32>,
    slots: Vec<Slot>,
    /// Per id: [`char_mask`] of the lowercase name, `| LIVE` while some file defines it.
    masks: Vec<u64>,
    /// The lowercase names end to end, and per id its span: the scan reads memory in order
    /// instead of chasing a pointer per name.
    arena: Vec<u8>,
    spans: Vec<(u32, u32)>,
    /// Ids ordered by (lowercase name, name).
    sorted: Vec<u32>,
    /// Ids created since `sorted` was last merged, in no order.
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

    /// Whether a hit of tier `score` at best, for a name of `len` bytes, could still be kept: once
    /// the heap is full, a name that cannot beat the worst kept one is not worth scoring.
    fn could_take(&self, score: Score, len: usize) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|worst| (score, len) <= (worst.score, worst.len))
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
                self.masks[id as usize] |= LIVE;
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
                    self.masks[id as usize] &= !LIVE;
                    self.hidden += 1;
                }
            }
        }
        if self.hidden > HIDDEN_MIN && self.hidden > self.slots.len() - self.hidden {
            self.compact();
        }
    }

    /// The id of `name`, created hidden (no definitions) when new.
    fn id_of(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.slots.len() as u32;
        let name: Arc<str> = Arc::from(name);
        let lower = name.to_lowercase().into_boxed_str();
        self.masks.push(char_mask(&lower));
        self.spans
            .push((self.arena.len() as u32, lower.len() as u32));
        self.arena.extend_from_slice(lower.as_bytes());
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

    /// Sort the pending ids and merge them into `sorted`.
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
        self.arena.clear();
        self.spans.clear();
        for s in &slots {
            self.spans
                .push((self.arena.len() as u32, s.lower.len() as u32));
            self.arena.extend_from_slice(s.lower.as_bytes());
        }
        self.slots = slots;
        self.sorted.clear();
        self.pending = (0..self.slots.len() as u32).collect();
        self.hidden = 0;
        self.merge_pending();
    }

    /// Files defining exactly `name_path`.
    pub fn files_with_path(&self, name_path: &str) -> &[Arc<str>] {
        self.by_path.get(name_path).map_or(&[], Vec::as_slice)
    }

    fn lower_bytes(&self, id: u32) -> &[u8] {
        let (at, len) = self.spans[id as usize];
        &self.arena[at as usize..(at + len) as usize]
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
        let live = |id: u32| self.masks[id as usize] & LIVE != 0;
        // Exact and prefix matches: one range of the sorted ids, plus the pending ones.
        let start = self
            .sorted
            .partition_point(|&id| &*self.slots[id as usize].lower < q.lower.as_str());
        let mut prefixed = 0;
        for &id in &self.sorted[start..] {
            if !self.lower_bytes(id).starts_with(q.lower.as_bytes()) {
                break;
            }
            if live(id) {
                prefixed += usize::from(self.consider(&q, id, &mut top));
            }
        }
        for &id in &self.pending {
            if live(id) && self.lower_bytes(id).starts_with(q.lower.as_bytes()) {
                prefixed += usize::from(self.consider(&q, id, &mut top));
            }
        }
        // Each name has a definition: `limit` names of the best two tiers fill the answer.
        if prefixed >= limit {
            return top.into_names();
        }
        let needle = q.lower.as_bytes();
        for (id, &mask) in self.masks.iter().enumerate() {
            if mask & q.mask != q.mask {
                continue;
            }
            let lower = self.lower_bytes(id as u32);
            // Prefixes were ranged above; an ASCII query is a subsequence of the bytes or no match.
            if lower.len() < needle.len()
                || lower.starts_with(needle)
                || (q.is_ascii() && !byte_subsequence(needle, lower))
            {
                continue;
            }
            // Past the prefixes the best tier left is a word-start match. A name is at least as
            // long as its lowercase when that is ASCII, so the bound needs no pointer chase.
            if lower.is_ascii() && !top.could_take(Score::WordStart, lower.len()) {
                continue;
            }
            self.consider(&q, id as u32, &mut top);
        }
        top.into_names()
    }
}

/// Whether `needle` occurs in `hay` in order (bytes).
fn byte_subsequence(needle: &[u8], mut hay: &[u8]) -> bool {
    for &c in needle {
        match hay.iter().position(|&h| h == c) {
            Some(i) => hay = &hay[i + 1..],
            None => return false,
        }
    }
    true
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
        let words = [
            "get", "set", "hash", "map", "parse", "expr", "new", "from", "into", "iter", "Http",
            "server", "x", "to", "str", "vec", "Btree", "node", "len", "is", "empty", "a", "b",
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
}
