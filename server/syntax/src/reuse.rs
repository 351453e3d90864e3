//! Incremental extraction for the document mirror: the symbols of top-level items from the last
//! extraction, reused for items that did not change.

use std::hash::{BuildHasher, Hasher};
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

use super::extract::Raw;

/// The definitions of a document's top-level items, by content. An item with the same text,
/// preceded by the same text back to the last code before it (its extent takes in leading
/// comments, which depend on that), parses to the same subtree at the top level and so has the
/// same definitions, shifted. Items with syntax errors are not kept: error recovery depends on more.
#[derive(Default)]
pub struct ExtractCache {
    /// Seeded per cache: item text cannot be chosen to collide.
    hasher: foldhash::quality::RandomState,
    /// Patterns rooted at the file node match its items too: their output depends on its kind
    /// (an ERROR root after a bad edit matches none of them).
    root_kind: u16,
    pub(super) items: FxHashMap<u64, CachedItem>,
    /// The definitions inside bodies (of classes, functions…) the walk took as regions, by the
    /// body's text: typing into one method of a 2,000-line class re-walks that method alone.
    pub(super) bodies: FxHashMap<u64, CachedItem>,
}

impl std::fmt::Debug for ExtractCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractCache")
            .field("items", &self.items.len())
            .field("bodies", &self.bodies.len())
            .finish()
    }
}

pub(super) struct CachedItem {
    start: usize,
    row: usize,
    pub(super) len: usize,
    /// In the coordinates of `start` and `row`.
    raws: Vec<Raw>,
    /// Keys of the bodies seen inside this when it was filled: kept while this is reused, since
    /// the walk does not see them then.
    nested: Vec<u64>,
}

impl ExtractCache {
    /// Start an extraction of `tree`: forget everything if the file node's kind changed.
    pub(super) fn begin(&mut self, tree: &tree_sitter::Tree) {
        let kind = tree.root_node().kind_id();
        if self.root_kind != kind {
            self.items.clear();
            self.bodies.clear();
            self.root_kind = kind;
        }
    }

    /// A body's definitions depend on its text alone when their extents stay inside it (which
    /// [`refill`] checks): no context is hashed.
    pub(super) fn body_key(&self, body: Node, src: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u16(body.kind_id());
        h.write_usize(body.descendant_count());
        h.write(&src[body.start_byte()..body.end_byte()]);
        h.finish()
    }

    pub(super) fn key(&self, item: Node, context_start: usize, src: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u16(item.kind_id());
        h.write_usize(item.descendant_count());
        h.write_usize(item.start_byte() - context_start);
        h.write(&src[context_start..item.end_byte()]);
        h.finish()
    }
}

/// A top-level item seen by this extraction, for the next one.
pub(super) struct ItemSeen {
    pub(super) key: u64,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) row: usize,
}

impl Raw {
    /// The same definition in an item moved from byte `from` (row `from_row`) to `to` (`to_row`).
    fn shifted(&self, from: usize, to: usize, from_row: usize, to_row: usize) -> Raw {
        // Leading comments lie before `from`: add before subtracting.
        let byte = |b: usize| b + to - from;
        let bytes = |r: &Range<usize>| byte(r.start)..byte(r.end);
        let row = |r: usize| r + to_row - from_row;
        Raw {
            decl: bytes(&self.decl),
            range: bytes(&self.range),
            rows: (row(self.rows.0), row(self.rows.1)),
            body: self.body.as_ref().map(bytes),
            name_range: bytes(&self.name_range),
            ..self.clone()
        }
    }
}

/// Take a cached item's definitions, shifted to where the item is now. Definitions inside it that
/// a pattern rooted at the file already matched this time get their extents from the cache.
pub(super) fn reuse(
    hit: &CachedItem,
    item: &ItemSeen,
    raws: &mut Vec<Raw>,
    seen: &mut FxHashSet<(usize, usize, usize)>,
    awaiting: &mut Vec<(Node, usize)>,
    leftovers: &mut Vec<usize>,
) {
    let shifted: Vec<Raw> = hit
        .raws
        .iter()
        .map(|r| r.shifted(hit.start, item.start, hit.row, item.row))
        .collect();
    while let Some(&(def, i)) = awaiting.last() {
        if def.start_byte() >= item.end {
            break;
        }
        awaiting.pop();
        let key = (raws[i].decl.clone(), raws[i].name_range.start);
        let cached = (def.start_byte() >= item.start)
            .then(|| {
                shifted
                    .iter()
                    .find(|r| (r.decl.clone(), r.name_range.start) == key)
            })
            .flatten();
        match cached {
            Some(r) => (raws[i].range, raws[i].rows) = (r.range.clone(), r.rows),
            None => leftovers.push(i),
        }
    }
    for raw in shifted {
        if seen.insert((raw.decl.start, raw.decl.end, raw.name_range.start)) {
            raws.push(raw);
        }
    }
}

/// Take a cached body's definitions (nested bodies' included), shifted to where it is now.
pub(super) fn reuse_body(
    hit: &CachedItem,
    body: &ItemSeen,
    raws: &mut Vec<Raw>,
    seen: &mut FxHashSet<(usize, usize, usize)>,
) {
    for r in &hit.raws {
        let raw = r.shifted(hit.start, body.start, hit.row, body.row);
        if seen.insert((raw.decl.start, raw.decl.end, raw.name_range.start)) {
            raws.push(raw);
        }
    }
}

/// The cache for the next extraction: each top-level item and body seen with the definitions
/// inside it (`raws` sorted by start). Extents reaching before an item (its leading comments) are
/// covered by the item's key; a body with such a definition is not kept. Entries hit this time
/// move over as they are (their definitions are in their own coordinates), and so do the bodies
/// inside them, which the walk skipped.
pub(super) fn refill(
    cache: &mut ExtractCache,
    items: Vec<ItemSeen>,
    mut bodies: Vec<ItemSeen>,
    raws: &[Raw],
) {
    bodies.sort_unstable_by_key(|b| b.start);
    let mut carried = Vec::new();
    let mut old = std::mem::take(&mut cache.items);
    cache.items = fill(&mut old, &items, &bodies, raws, false, &mut carried);
    let mut old = std::mem::take(&mut cache.bodies);
    let mut next = fill(&mut old, &bodies, &bodies, raws, true, &mut carried);
    while let Some(key) = carried.pop() {
        if let Some(entry) = old.remove(&key) {
            carried.extend_from_slice(&entry.nested);
            next.insert(key, entry);
        }
    }
    cache.bodies = next;
}

/// The entries for `seen`: taken from `old` when hit (their nested keys go to `carried`), else
/// made from `raws`.
fn fill(
    old: &mut FxHashMap<u64, CachedItem>,
    seen: &[ItemSeen],
    bodies: &[ItemSeen],
    raws: &[Raw],
    self_contained: bool,
    carried: &mut Vec<u64>,
) -> FxHashMap<u64, CachedItem> {
    let mut out = FxHashMap::with_capacity_and_hasher(seen.len(), Default::default());
    for item in seen {
        let len = item.end - item.start;
        if let Some(hit) = old.remove(&item.key)
            && hit.len == len
        {
            carried.extend_from_slice(&hit.nested);
            out.insert(item.key, hit);
            continue;
        }
        let first = raws.partition_point(|r| r.decl.start < item.start);
        let count = raws[first..].partition_point(|r| r.decl.start < item.end);
        let inside: Vec<Raw> = raws[first..first + count]
            .iter()
            .filter(|r| r.decl.end <= item.end)
            .cloned()
            .collect();
        if self_contained
            && inside
                .iter()
                .any(|r| r.range.start < item.start || r.range.end > item.end)
        {
            continue;
        }
        let first = bodies.partition_point(|b| b.start < item.start);
        let nested = bodies[first..]
            .iter()
            .take_while(|b| b.start < item.end)
            .filter(|b| b.end <= item.end && b.key != item.key)
            .map(|b| b.key)
            .collect();
        out.insert(
            item.key,
            CachedItem {
                start: item.start,
                row: item.row,
                len,
                raws: inside,
                nested,
            },
        );
    }
    out
}
