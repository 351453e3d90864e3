//! Name tables: name paths and simple names → the files that define them (hash lookups, so
//! lookups by name never scan the workspace), and the `workspace/symbol` search structure.
//!
//! Search: every distinct simple name has an id. Ids live in immutable [`Segment`]s, each laid out
//! so every ranking tier has a candidate list walked shortest name first (see there), plus a short
//! list of ids added since the last segment was built, scored one by one. Hits go through a
//! bounded heap of `limit` entries; the tiers are walked best first, and a walk stops once the
//! heap holds `limit` hits it cannot beat. Segments are merged like an LSM tree (a new one folds
//! into the last while it is at least half that one's size), so a name costs O(log n) rebuilds
//! and a query visits O(log n) segments. A name whose last definition goes away is hidden (its
//! mask loses [`LIVE`]) rather than removed, so retyping a file's symbols on every edit costs no
//! rebuild; hidden names are compacted away in bulk.

mod segment;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use super::rank::{LIVE, Query, Score, char_mask};
use super::{FileSymbols, Symbol};
use segment::Segment;

#[derive(Debug, Default)]
pub struct NameTables {
    /// Exact name path → files defining it (usually one).
    by_path: HashMap<String, Vec<Arc<str>>>,
    /// Simple name → its id in `slots`/`masks`.
    ids: HashMap<Arc<str>, u32>,
    slots: Vec<Slot>,
    /// Per id: [`char_mask`] of the lowercase name, `| LIVE` while some file defines it.
    masks: Vec<u64>,
    /// Oldest (largest) first.
    segments: Vec<Segment>,
    /// Ids created since the last segment was built, in no order.
    pending: Vec<u32>,
    /// Ids without definitions.
    hidden: usize,
    /// Ids in segments.
    indexed: usize,
    /// While a bulk load runs, pending ids wait until they are half as many as the indexed ones.
    bulk: bool,
}

#[derive(Debug)]
struct Slot {
    name: Arc<str>,
    lower: Box<str>,
    /// Per file (in path order, so results need no sorting), its symbols and the name paths with
    /// this name, each with its index in them (so a search reads a hit without a lookup).
    defs: BTreeMap<Arc<str>, Defs>,
}

#[derive(Debug)]
struct Defs {
    symbols: Arc<FileSymbols>,
    paths: Vec<(String, u32)>,
}

/// Pending ids become a segment past this many (each query scores all of them).
const PENDING_MAX: usize = if cfg!(test) { 48 } else { 2048 };
/// Hidden ids are compacted away past this many, when they also outnumber the live ones.
const HIDDEN_MIN: usize = if cfg!(test) { 64 } else { 4096 };

/// A ranked hit: ordered by tier, then shorter names, then name.
#[derive(Debug, PartialEq, Eq)]
struct Hit<'a> {
    score: Score,
    len: usize,
    name: &'a str,
    id: u32,
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
struct TopK<'a, 'q> {
    query: &'q Query,
    limit: usize,
    heap: BinaryHeap<Hit<'a>>,
}

impl<'a> TopK<'a, '_> {
    fn keep(&mut self, hit: Hit<'a>) {
        if self.heap.len() < self.limit {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            self.heap.pop();
            self.heap.push(hit);
        }
    }

    fn into_sorted(self) -> Vec<Hit<'a>> {
        self.heap.into_sorted_vec()
    }
}

impl<'a> segment::Sink<'a> for TopK<'a, '_> {
    /// Once the heap is full, a name that cannot beat the worst kept one is not worth scoring.
    fn could_take(&self, score: Score, len: usize) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|worst| (score, len) <= (worst.score, worst.len))
    }

    fn offer(
        &mut self,
        id: u32,
        name: &'a str,
        lower: &str,
        only: Option<Score>,
        live: &dyn Fn() -> bool,
    ) {
        if let Some(score) = self.query.score(name, lower)
            && only.is_none_or(|o| o == score)
        {
            segment::Sink::push(self, id, name, score, live);
        }
    }

    fn push(&mut self, id: u32, name: &'a str, score: Score, live: &dyn Fn() -> bool) {
        if live() {
            self.keep(Hit {
                score,
                len: name.len(),
                name,
                id,
            });
        }
    }
}

impl segment::Names for NameTables {
    fn name(&self, id: u32) -> &str {
        &self.slots[id as usize].name
    }

    fn lower(&self, id: u32) -> &str {
        &self.slots[id as usize].lower
    }

    fn mask(&self, id: u32) -> u64 {
        self.masks[id as usize]
    }
}

impl NameTables {
    pub fn insert(&mut self, file: &Arc<str>, symbols: &Arc<FileSymbols>) {
        for (at, s) in symbols.symbols.iter().enumerate() {
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
                .or_insert_with(|| Defs {
                    symbols: symbols.clone(),
                    paths: Vec::new(),
                })
                .paths
                .push((s.name_path.clone(), at as u32));
        }
        let most = if self.bulk {
            PENDING_MAX.max(self.indexed / 2)
        } else {
            PENDING_MAX
        };
        if self.pending.len() > most {
            self.merge_pending();
        }
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

    /// Bulk loading (an index fill): segments are built from geometrically growing batches, so a
    /// name is rebuilt about three times instead of once per level; queries meanwhile score up to
    /// a third of the names one by one. Ending it builds what is pending.
    pub fn set_bulk(&mut self, on: bool) {
        self.bulk = on;
        if !on {
            self.merge_pending();
        }
    }

    /// Build the pending ids into a segment, folding segments together while the newest is at
    /// least half the size of the one before it.
    fn merge_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut order = std::mem::take(&mut self.pending);
        Segment::sort(self, &mut order);
        while let Some(last) = self.segments.last()
            && last.len() <= 2 * order.len()
        {
            order = Segment::merge_orders(self, last.ids(), &order);
            self.segments.pop();
        }
        self.indexed = self.segments.iter().map(Segment::len).sum::<usize>() + order.len();
        let segment = Segment::from_sorted(self, order);
        self.segments.push(segment);
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
        self.slots = slots;
        self.segments.clear();
        self.indexed = 0;
        self.pending = (0..self.slots.len() as u32).collect();
        self.hidden = 0;
        self.merge_pending();
    }

    /// Bytes held by the search segments (not the name and definition tables they index).
    pub fn search_bytes(&self) -> usize {
        self.segments.iter().map(Segment::bytes).sum()
    }

    /// Files defining exactly `name_path`.
    pub fn files_with_path(&self, name_path: &str) -> &[Arc<str>] {
        self.by_path.get(name_path).map_or(&[], Vec::as_slice)
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
            .flat_map(|(file, defs)| defs.paths.iter().map(move |(p, _)| (file, p)))
    }

    /// Workspace symbol search: the definitions of the best names matching `query` (see
    /// [`Self::matching_names`]), each name's by file and then in file order; at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(&Arc<str>, &Symbol)> {
        let mut out = Vec::with_capacity(limit);
        for hit in self.ranked(query, limit) {
            for (file, defs) in &self.slots[hit.id as usize].defs {
                for &(_, at) in &defs.paths {
                    if out.len() >= limit {
                        return out;
                    }
                    // The symbols the paths were inserted from, so the index always holds.
                    if let Some(symbol) = defs.symbols.symbols.get(at as usize) {
                        out.push((file, symbol));
                    }
                }
            }
        }
        out
    }

    /// At most `limit` simple names matching `query`, best first ([`Score`] tier, then shorter
    /// names, then by name).
    pub fn matching_names(&self, query: &str, limit: usize) -> Vec<&str> {
        self.ranked(query, limit)
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    fn ranked(&self, query: &str, limit: usize) -> Vec<Hit<'_>> {
        use segment::Sink;
        if limit == 0 {
            return Vec::new();
        }
        let q = Query::new(query);
        let mut top = TopK {
            query: &q,
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        };
        for &id in &self.pending {
            if self.masks[id as usize] & LIVE != 0 {
                let slot = &self.slots[id as usize];
                top.offer(id, &slot.name, &slot.lower, None, &|| true);
            }
        }
        // Tiers best first; each walk skips what the one before took.
        for s in &self.segments {
            s.prefix(self, &q, &mut top);
        }
        if top.could_take(Score::WordStart, 0) {
            for s in &self.segments {
                s.word_starts(self, &q, &mut top);
            }
        }
        if top.could_take(Score::Substring, 0) {
            for s in &self.segments {
                s.substrings(self, &q, &mut top);
            }
        }
        if top.could_take(Score::Subsequence, 0) {
            for s in &self.segments {
                s.subsequences(self, &q, &mut top);
            }
        }
        top.into_sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Language, Symbol, SymbolKind};

    fn file_of(names: &[&str]) -> Arc<FileSymbols> {
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
        Arc::new(FileSymbols::new(Language::Rust, symbols, None))
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
                    id: 0,
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
            "Öffnen", "straße", "İx", "$el", "v2", "IO",
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
        let mut files: Vec<(Arc<str>, Arc<FileSymbols>)> = Vec::new();
        for round in 0..60 {
            // The first rounds load in bulk, as an index fill does.
            t.set_bulk(round < 20);
            let file: Arc<str> = Arc::from(format!("f{}.rs", round % 25).as_str());
            if let Some(pos) = files.iter().position(|(f, _)| *f == file) {
                let (_, old) = files.remove(pos);
                t.remove(&file, &old);
            }
            let mut names: Vec<String> = (0..rng.usize(50..400)).map(|_| name(&mut rng)).collect();
            // Past the word-start matcher's length limit.
            names.push(format!("get{}Map", "x".repeat(130 + round)));
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let symbols = file_of(&refs);
            t.insert(&file, &symbols);
            files.push((file, symbols));
            // Queries drawn from this round's names: a prefix, a middle piece, letters dropped.
            let mut drawn = Vec::new();
            for _ in 0..8 {
                let n: Vec<char> = names[rng.usize(..names.len())].chars().collect();
                let (a, b) = (rng.usize(..n.len()), rng.usize(..n.len()));
                let (a, b) = (a.min(b), a.max(b) + 1);
                drawn.push(n[..b].iter().collect::<String>());
                drawn.push(n[a..b].iter().collect::<String>());
                drawn.push(n.iter().step_by(2).collect::<String>());
            }
            for query in drawn.iter().map(String::as_str).chain([
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
                "hashm",
                "ttp",
                "rver",
                "erve",
                "ashma",
                "node_len",
                "xm",
                "getxxx",
                "öff",
                "STRASSE",
                "traß",
                "i̇x",
                "$",
                "2",
                "io",
                "zq",
                "qqq",
            ]) {
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
