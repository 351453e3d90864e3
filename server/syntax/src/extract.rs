//! Turn a tree and the language's symbols query into [`Symbol`]s with name paths.

use std::collections::HashMap;
use std::ops::Range;

use rustc_hash::FxHashSet;
use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use super::language::Engine;
use super::pattern::Captures;
use super::reuse::{ExtractCache, ItemSeen, refill, reuse, reuse_body};
use super::{Language, Symbol, SymbolKind, extent};

/// How deep below a file or a type/module body definitions may start: enough for `export const
/// f = () => {}`, nested `#ifdef`s and `if TYPE_CHECKING:` blocks; deeper ones are in the body of
/// a definition found on the way.
const CONTAINER_DEPTH: u32 = 5;
/// The same inside a function body, for local functions and classes in statements.
const BODY_DEPTH: u32 = 6;

/// A definition as found, before nesting and name paths.
#[derive(Clone)]
pub(super) struct Raw {
    pub(super) kind: SymbolKind,
    pub(super) name: String,
    /// Extra path segments before the name (Go receiver, C++ qualifier).
    pub(super) qualifier: Vec<String>,
    pub(super) decl: Range<usize>,
    /// Grammar kind of the definition node, to find it again in the extent walk.
    pub(super) kind_id: u16,
    pub(super) range: Range<usize>,
    /// 0-based first and last rows of `range`.
    pub(super) rows: (usize, usize),
    pub(super) body: Option<Range<usize>>,
    pub(super) name_range: Range<usize>,
}

pub fn extract(language: Language, text: &str, tree: &Tree) -> Vec<Symbol> {
    extract_with(language, text, tree, None)
}

/// [`extract`] for a document extracted before: top-level items unchanged since `cache` was
/// filled take their symbols from it, and `cache` is refilled for the next time.
pub fn extract_incremental(
    language: Language,
    text: &str,
    tree: &Tree,
    cache: &mut ExtractCache,
) -> Vec<Symbol> {
    extract_with(language, text, tree, Some(cache))
}

fn extract_with(
    language: Language,
    text: &str,
    tree: &Tree,
    cache: Option<&mut ExtractCache>,
) -> Vec<Symbol> {
    extract_by(language, language.symbols_query(), text, tree, cache)
}

/// [`extract`] with a given query: benchmarks and tests compare the matching engines.
pub fn extract_using(
    language: Language,
    symbols_query: &super::language::SymbolsQuery,
    text: &str,
    tree: &Tree,
) -> Vec<Symbol> {
    extract_by(language, symbols_query, text, tree, None)
}

pub(crate) fn extract_by(
    language: Language,
    symbols_query: &super::language::SymbolsQuery,
    text: &str,
    tree: &Tree,
    mut cache: Option<&mut ExtractCache>,
) -> Vec<Symbol> {
    if let Some(c) = cache.as_deref_mut() {
        c.begin(tree);
    }
    let own_names: Vec<&str>;
    let names: &[&str] = match &symbols_query.engine {
        Engine::Own(p) => {
            own_names = p.capture_names().iter().map(String::as_str).collect();
            &own_names
        }
        Engine::TreeSitter(q) => q.capture_names(),
    };
    let mut found: Vec<Captures<'_>> = Vec::new();
    let src = text.as_bytes();
    let mut raws: Vec<Raw> = Vec::new();
    let mut seen: FxHashSet<(usize, usize, usize)> = FxHashSet::default();

    // Definitions are looked for in a shallow window of the root, then again in the body of each
    // definition found: matching every node of big files (deep expression trees) costs far more
    // than parsing. The walk is by hand; the query runs only on nodes a pattern can be rooted at,
    // and extents come from the sibling context the walk keeps on its path.
    let mut cursor = QueryCursor::new();
    cursor.set_max_start_depth(Some(0));
    let mut regions: Vec<(Node, u32)> = vec![(tree.root_node(), CONTAINER_DEPTH)];
    // Bodies queued as regions of their own and not yet reached by the walk that found them, which
    // skips them (their own walk goes at least as deep). Rarely more than two.
    let mut queued: Vec<usize> = Vec::new();
    // Definitions matched but not yet reached (a pattern rooted above its definition), next last.
    let mut awaiting: Vec<(Node, usize)> = Vec::new();
    // Definitions whose extent the walks could not see: left to the full extent walk.
    let mut leftovers: Vec<usize> = Vec::new();
    let mut path: Vec<extent::Level> = Vec::new();
    let root_id = tree.root_node().id();
    let mut items: Vec<ItemSeen> = Vec::new();
    let mut bodies: Vec<ItemSeen> = Vec::new();
    while let Some((region, depth)) = regions.pop() {
        // A body unchanged since the last extraction: its definitions, nested ones included.
        if let Some(cache) = cache.as_deref()
            && region.id() != root_id
            && !region.has_error()
        {
            let body = ItemSeen {
                key: cache.body_key(region, src),
                start: region.start_byte(),
                end: region.end_byte(),
                row: region.start_position().row,
            };
            let hit = cache
                .bodies
                .get(&body.key)
                .filter(|hit| hit.len == body.end - body.start);
            if let Some(hit) = hit {
                reuse_body(hit, &body, &mut raws, &mut seen);
            }
            let reused = hit.is_some();
            bodies.push(body);
            if reused {
                continue;
            }
        }
        queued.clear();
        path.clear();
        path.push(extent::Level::first(region));
        let mut walk = region.walk();
        'walk: loop {
            let node = walk.node();
            let level = path.len() - 1;
            let skip = (level > 0)
                .then(|| queued.iter().position(|&id| id == node.id()))
                .flatten();
            // A top-level item: seen for the cache, and maybe taken from it.
            let mut reused = false;
            if let Some(cache) = cache.as_deref()
                && level == 1
                && region.id() == root_id
                && !node.has_error()
            {
                let item = ItemSeen {
                    key: cache.key(node, path[1].context_start(), src),
                    start: node.start_byte(),
                    end: node.end_byte(),
                    row: node.start_position().row,
                };
                if let Some(hit) = cache.items.get(&item.key)
                    && hit.len == item.end - item.start
                {
                    reuse(
                        hit,
                        &item,
                        &mut raws,
                        &mut seen,
                        &mut awaiting,
                        &mut leftovers,
                    );
                    reused = true;
                }
                items.push(item);
            }
            if let Some(i) = skip {
                queued.swap_remove(i);
            } else if !reused {
                if symbols_query.may_match_at(node) {
                    found.clear();
                    match &symbols_query.engine {
                        Engine::Own(p) => p.matches_at(node, src, &mut found),
                        Engine::TreeSitter(q) => {
                            let mut matches = cursor.matches(q, node, src);
                            while let Some(m) = matches.next() {
                                found
                                    .push(m.captures().iter().map(|c| (c.index, c.node)).collect());
                            }
                        }
                    }
                    for caps in &found {
                        let Some((raw, def, body)) = raw_of_match(caps, names, src) else {
                            continue;
                        };
                        // Two patterns may match one node (a TS method also matches a field
                        // pattern): keep the first. One declaration may name several symbols
                        // (`int w, h;`): keep each name.
                        if !seen.insert((raw.decl.start, raw.decl.end, raw.name_range.start)) {
                            continue;
                        }
                        if let Some(b) = body {
                            let depth = if raw.kind.is_callable() {
                                BODY_DEPTH
                            } else {
                                CONTAINER_DEPTH
                            };
                            regions.push((b, depth));
                            queued.push(b.id());
                        }
                        awaiting.push((def, raws.len()));
                        raws.push(raw);
                    }
                    // Pre-order: by start, and an enclosing node before the nodes it holds.
                    awaiting.sort_unstable_by(|(a, _), (b, _)| {
                        b.start_byte()
                            .cmp(&a.start_byte())
                            .then(a.end_byte().cmp(&b.end_byte()))
                    });
                }
                while let Some(&(def, i)) = awaiting.last() {
                    if def.id() == node.id() {
                        match extent::extent_on_path(&path, &symbols_query.kinds) {
                            Some((range, rows)) => (raws[i].range, raws[i].rows) = (range, rows),
                            None => leftovers.push(i),
                        }
                    } else if def.start_byte() < node.start_byte() {
                        leftovers.push(i); // passed without reaching it (too deep, or skipped)
                    } else {
                        break;
                    }
                    awaiting.pop();
                }
                if level < depth as usize && walk.goto_first_child() {
                    path.push(extent::Level::first(walk.node()));
                    continue;
                }
            }
            loop {
                if path.len() == 1 {
                    break 'walk;
                }
                if walk.goto_next_sibling() {
                    if let Some(top) = path.last_mut() {
                        top.advance(walk.node(), &symbols_query.kinds, src);
                    }
                    break;
                }
                walk.goto_parent();
                path.pop();
            }
        }
        leftovers.extend(awaiting.drain(..).map(|(_, i)| i));
    }
    if !leftovers.is_empty() {
        let extents = extent::extents(
            tree,
            src,
            leftovers
                .iter()
                .map(|&i| (raws[i].decl.clone(), raws[i].kind_id)),
        );
        for &i in &leftovers {
            let raw = &mut raws[i];
            if let Some((range, rows)) = extents.get(&(raw.decl.start, raw.decl.end, raw.kind_id)) {
                raw.range = range.clone();
                raw.rows = *rows;
            }
        }
    }

    // Parents before children: by start, then by larger extent first.
    raws.sort_by(|a, b| {
        a.decl
            .start
            .cmp(&b.decl.start)
            .then(b.decl.end.cmp(&a.decl.end))
    });
    if let Some(cache) = cache {
        refill(cache, items, bodies, &raws);
    }

    // Pass 1: nesting by containment, kinds, and each symbol's own path segment.
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(raws.len());
    let mut kinds: Vec<SymbolKind> = Vec::with_capacity(raws.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if strictly_contains(&raws[top].decl, &raw.decl) {
                break;
            }
            stack.pop();
        }
        let parent = stack.last().copied();
        // Functions inside a type, or qualified by one (`Foo::bar`, Go receivers), are methods.
        let in_type = parent.is_some_and(|p| kinds[p].is_container());
        let kind = if matches!(raw.kind, SymbolKind::Function | SymbolKind::Method)
            && language == Language::Cpp
            && is_constructor_name(raw, parent.map(|p| raws[p].name.as_str()))
        {
            SymbolKind::Constructor
        } else if raw.kind == SymbolKind::Function && (in_type || !raw.qualifier.is_empty()) {
            SymbolKind::Method
        } else {
            raw.kind
        };
        parents.push(parent);
        kinds.push(kind);
        stack.push(i);
    }
    let segments: Vec<String> = raws
        .iter()
        .map(|r| {
            let mut seg = r.qualifier.join("/");
            if !seg.is_empty() {
                seg.push('/');
            }
            seg.push_str(&r.name);
            seg
        })
        .collect();
    // Unsuffixed full paths: a name path repeated anywhere in the file (overloads, `#[cfg]`
    // twins, a C++ declaration and its out-of-line definition) gets `[N]` on every occurrence.
    let mut plain: Vec<String> = Vec::with_capacity(raws.len());
    for i in 0..raws.len() {
        let p = match parents[i] {
            Some(p) => format!("{}/{}", plain[p], segments[i]),
            None => segments[i].clone(),
        };
        plain.push(p);
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in &plain {
        *counts.entry(p.as_str()).or_default() += 1;
    }

    // Final name paths (parents precede children).
    let mut next_suffix: HashMap<&str, usize> = HashMap::new();
    let mut symbols: Vec<Symbol> = Vec::with_capacity(raws.len());
    for (i, raw) in raws.iter().enumerate() {
        let parent = parents[i];
        let mut path = match parent {
            Some(p) => format!("{}/{}", symbols[p].name_path, segments[i]),
            None => segments[i].clone(),
        };
        if counts.get(plain[i].as_str()).copied().unwrap_or(1) > 1 {
            let n = next_suffix.entry(plain[i].as_str()).or_default();
            path.push_str(&format!("[{n}]"));
            *n += 1;
        }
        // Rows come from the tree: scanning the text per symbol would be quadratic in big files.
        let (start_line, end_line) = (raw.rows.0 + 1, raw.rows.1 + 1);
        symbols.push(Symbol {
            name: raw.name.clone(),
            name_path: path,
            kind: kinds[i],
            range: raw.range.clone(),
            decl_range: raw.decl.clone(),
            body: raw.body.clone(),
            name_range: raw.name_range.clone(),
            start_line,
            end_line,
            parent,
        });
    }
    symbols
}

/// The definition a query match describes, its node and its body node.
fn raw_of_match<'t>(
    caps: &Captures<'t>,
    names: &[&str],
    src: &[u8],
) -> Option<(Raw, Node<'t>, Option<Node<'t>>)> {
    let mut def: Option<(Node, SymbolKind)> = None;
    let mut name: Option<Node> = None;
    let mut qualified: Option<Node> = None;
    let mut body: Option<Node> = None;
    let mut trait_: Option<Node> = None;
    let mut receiver: Option<Node> = None;
    for &(index, node) in caps {
        match names.get(index as usize).copied().unwrap_or_default() {
            "name" => name = Some(node),
            "qualified_name" => qualified = Some(node),
            "body" => body = Some(node),
            "trait" => trait_ = Some(node),
            "receiver" => receiver = Some(node),
            other => {
                if let Some(k) = other
                    .strip_prefix("definition.")
                    .and_then(SymbolKind::from_capture)
                {
                    def = Some((node, k));
                }
            }
        }
    }
    let (node, kind) = def?;
    let node_text = |n: Node| n.utf8_text(src).unwrap_or_default().to_string();
    let (name_str, name_range, mut qualifier) = if let Some(q) = qualified {
        // `ns::Foo::bar` → qualifier [ns, Foo], name `bar`.
        let full = node_text(q);
        let mut parts: Vec<String> = full.split("::").map(|s| s.trim().to_string()).collect();
        let last = parts.pop().unwrap_or_default();
        (last, q.byte_range(), parts)
    } else {
        let n = name?;
        (node_text(n), n.byte_range(), Vec::new())
    };
    let name_str = if kind == SymbolKind::Impl {
        // `impl<'a> Parser<'a>` is `impl Parser`: generic arguments of the type would make paths
        // depend on lifetimes; the trait keeps them (`From<u8>` vs `From<u16>`).
        let ty = name_str.split('<').next().unwrap_or_default().trim_end();
        match trait_ {
            Some(t) => format!("impl {} for {ty}", node_text(t)),
            None => format!("impl {ty}"),
        }
    } else {
        name_str
    };
    if let Some(r) = receiver {
        qualifier = vec![node_text(r)];
    }
    let raw = Raw {
        kind,
        name: name_str.split_whitespace().collect::<Vec<_>>().join(" "),
        qualifier,
        decl: node.byte_range(),
        kind_id: node.kind_id(),
        // Filled in by one walk afterwards: `Node::parent`/`prev_sibling` rescan siblings, which
        // is quadratic in files with thousands of items.
        range: node.byte_range(),
        rows: (node.start_position().row, node.end_position().row),
        body: body.map(|b| b.byte_range()),
        name_range,
    };
    Some((raw, node, body))
}

/// A C++ member named like its class, in the class (`Foo();`) or out of line (`Foo::Foo()`).
fn is_constructor_name(raw: &Raw, parent_name: Option<&str>) -> bool {
    let class = raw.qualifier.last().map(String::as_str).or(parent_name);
    class.is_some_and(|c| c.split('<').next() == Some(raw.name.as_str()))
}

fn strictly_contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer != inner
}
