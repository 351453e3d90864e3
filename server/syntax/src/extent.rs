//! The full extent of definitions: the definition climbs out through wrappers (decorators,
//! `export`, `template<>`, single-item declarations) and absorbs adjacent leading comments and
//! attributes. Computed for all definitions in one pruned walk of the tree, because
//! `Node::parent` and `Node::prev_sibling` rescan siblings and would be quadratic.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tree_sitter::{Node, Tree};

/// Nodes that wrap a definition and belong to its extent (decorators, `export`, `template<>`).
const WRAPPERS: &[&str] = &[
    "decorated_definition",
    "export_statement",
    "template_declaration",
    "ambient_declaration",
];

/// Declarations whose extent is the symbol's when they declare only it (`const f = () => {}`,
/// Go `type T struct{}`, a Python class attribute's statement).
const DECLARATIONS: &[&str] = &[
    "lexical_declaration",
    "variable_declaration",
    "type_declaration",
    "const_declaration",
    "var_declaration",
    "expression_statement",
    "field_declaration",
    "constant_declaration",
];

/// Whether `child` is the only named child of its kind in `parent` (`int a;` but not `int a, b;`).
fn sole_of_kind(siblings: &[Node], child: Node) -> bool {
    siblings
        .iter()
        .filter(|c| c.is_named() && c.kind_id() == child.kind_id())
        .count()
        == 1
}

const COMMENT: u8 = 1;
const ATTRIBUTE: u8 = 2;
const WRAPPER: u8 = 4;
const DECLARATION: u8 = 8;

/// What the extent rules make of a node kind.
fn classify(kind: &str) -> u8 {
    let mut class = 0;
    if kind.contains("comment") {
        class |= COMMENT;
    }
    if matches!(
        kind,
        "attribute_item" | "decorator" | "annotation" | "marker_annotation"
    ) {
        class |= ATTRIBUTE;
    }
    if WRAPPERS.contains(&kind) {
        class |= WRAPPER;
    }
    if DECLARATIONS.contains(&kind) {
        class |= DECLARATION;
    }
    class
}

/// Leading siblings that document a definition. Inner doc comments (`//!`, `/*!`) document the
/// enclosing item instead.
fn is_trivia_of_class(class: u8, node: Node, src: &[u8]) -> bool {
    if class & COMMENT != 0 {
        let text = &src[node.start_byte()..node.end_byte().min(node.start_byte() + 3)];
        return text != b"//!" && text != b"/*!";
    }
    class & ATTRIBUTE != 0
}

fn is_leading_trivia(node: Node, src: &[u8]) -> bool {
    is_trivia_of_class(classify(node.kind()), node, src)
}

/// [`classify`] for every kind of one grammar, by kind id: the extraction walk asks at every node.
#[derive(Debug)]
pub(super) struct KindTable {
    class: Vec<u8>,
}

impl KindTable {
    pub(super) fn new(grammar: &tree_sitter::Language) -> Self {
        let class = (0..grammar.node_kind_count())
            .map(|id| grammar.node_kind_for_id(id as u16).map_or(0, classify))
            .collect();
        Self { class }
    }

    fn of(&self, node: Node) -> u8 {
        // ERROR's id is past the grammar's kinds.
        self.class
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(0)
    }
}

/// One node on the extraction walk's path, with what precedes it among its siblings.
pub(super) struct Level<'t> {
    pub(super) node: Node<'t>,
    /// Consecutive leading-trivia siblings right before `node`, in order.
    trivia: Vec<Node<'t>>,
    /// The sibling before `trivia`, when it is not trivia.
    before: Option<Node<'t>>,
}

impl<'t> Level<'t> {
    /// The first child of its parent.
    pub(super) fn first(node: Node<'t>) -> Self {
        Self {
            node,
            trivia: Vec::new(),
            before: None,
        }
    }

    /// Where the text `node`'s extent can depend on begins: the last non-trivia sibling before it,
    /// else the first trivia, else `node` itself.
    pub(super) fn context_start(&self) -> usize {
        self.before
            .or_else(|| self.trivia.first().copied())
            .unwrap_or(self.node)
            .start_byte()
    }

    /// Move on to `next`, the following sibling of `node`.
    pub(super) fn advance(&mut self, next: Node<'t>, table: &KindTable, src: &[u8]) {
        let done = std::mem::replace(&mut self.node, next);
        if is_trivia_of_class(table.of(done), done, src) {
            self.trivia.push(done);
        } else {
            self.trivia.clear();
            self.before = Some(done);
        }
    }
}

/// Extent of the definition at the end of `path` (the walk's path down from its region root), by
/// the same rules as [`extents`]; `None` when it would climb into the region root, whose siblings
/// the walk has not seen.
pub(super) fn extent_on_path(
    path: &[Level],
    table: &KindTable,
) -> Option<(Range<usize>, (usize, usize))> {
    let mut level = path.len().checked_sub(1)?;
    while level > 0 {
        let parent = path[level - 1].node;
        let class = table.of(parent);
        let climb = class & WRAPPER != 0
            || (class & DECLARATION != 0 && {
                let mut cursor = parent.walk();
                let siblings: Vec<Node> = parent.children(&mut cursor).collect();
                sole_of_kind(&siblings, path[level].node)
            });
        if !climb {
            break;
        }
        level -= 1;
    }
    if level == 0 {
        return None;
    }
    let Level {
        node: top,
        trivia,
        before,
    } = &path[level];
    let mut start = top.start_byte();
    let mut start_row = top.start_position().row;
    for (i, p) in trivia.iter().enumerate().rev() {
        if last_row(*p) + 1 < start_row {
            break;
        }
        // A comment sharing its first line with earlier code documents that code.
        if let (0, Some(before)) = (i, before)
            && last_row(*before) == p.start_position().row
        {
            break;
        }
        start = p.start_byte();
        start_row = p.start_position().row;
    }
    Some((start..top.end_byte(), (start_row, last_row(*top))))
}

/// Last row a node occupies: a node ending at column 0 (a line comment with its newline) ends on
/// the previous row.
fn last_row(node: Node) -> usize {
    let end = node.end_position();
    if end.column == 0 && end.row > node.start_position().row {
        end.row - 1
    } else {
        end.row
    }
}

/// Key of a definition node: byte range and grammar kind.
pub(super) type Key = (usize, usize, u16);

/// Full byte range and 0-based first/last rows of each definition.
pub(super) type Extents = HashMap<Key, (Range<usize>, (usize, usize))>;

/// Extents of the given definition nodes.
pub(super) fn extents(
    tree: &Tree,
    src: &[u8],
    defs: impl Iterator<Item = (Range<usize>, u16)>,
) -> Extents {
    let mut targets: Vec<Key> = defs.map(|(r, k)| (r.start, r.end, k)).collect();
    targets.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    targets.dedup();
    let mut walk = Walk {
        wanted: targets.iter().copied().collect(),
        targets,
        src,
        levels: Vec::new(),
        out: HashMap::new(),
    };
    walk.visit(tree.root_node());
    walk.out
}

struct Walk<'t, 's> {
    /// Sorted by start, larger first.
    targets: Vec<Key>,
    wanted: HashSet<Key>,
    src: &'s [u8],
    /// For each open level: the parent node, its children, and the child being visited.
    levels: Vec<(Node<'t>, Vec<Node<'t>>, usize)>,
    out: Extents,
}

impl<'t> Walk<'t, '_> {
    fn key(node: Node) -> Key {
        (node.start_byte(), node.end_byte(), node.kind_id())
    }

    /// Whether some target lies within `node` (itself included).
    fn holds_target(&self, node: Node) -> bool {
        let (start, end) = (node.start_byte(), node.end_byte());
        let first = self.targets.partition_point(|t| t.0 < start);
        self.targets[first..]
            .iter()
            .take_while(|t| t.0 <= end)
            .any(|t| t.1 <= end)
    }

    fn visit(&mut self, parent: Node<'t>) {
        let mut cursor = parent.walk();
        let children: Vec<Node<'t>> = parent.children(&mut cursor).collect();
        self.levels.push((parent, children, 0));
        let count = self.levels.last().map_or(0, |l| l.1.len());
        for i in 0..count {
            let Some(level) = self.levels.last_mut() else {
                break;
            };
            level.2 = i;
            let child = level.1[i];
            if !self.holds_target(child) {
                continue;
            }
            if self.wanted.contains(&Self::key(child)) {
                let extent = self.extent();
                self.out.insert(Self::key(child), extent);
            }
            if child.child_count() > 0 {
                self.visit(child);
            }
        }
        self.levels.pop();
    }

    /// Extent of the node at the current position of the innermost level.
    fn extent(&self) -> (Range<usize>, (usize, usize)) {
        // Climb wrappers: the level above holds the parent as its current child.
        let mut level = self.levels.len() - 1;
        while level > 0 {
            let (parent, siblings, idx) = &self.levels[level];
            let k = parent.kind();
            let climb = WRAPPERS.contains(&k)
                || (DECLARATIONS.contains(&k) && sole_of_kind(siblings, siblings[*idx]));
            if !climb {
                break;
            }
            level -= 1;
        }
        let (_, siblings, idx) = &self.levels[level];
        let top = siblings[*idx];
        let mut start = top.start_byte();
        let mut start_row = top.start_position().row;
        let mut i = *idx;
        while i > 0 {
            let p = siblings[i - 1];
            if !is_leading_trivia(p, self.src) || last_row(p) + 1 < start_row {
                break;
            }
            // A comment sharing its first line with earlier code documents that code.
            if i >= 2 {
                let before = siblings[i - 2];
                if last_row(before) == p.start_position().row
                    && !is_leading_trivia(before, self.src)
                {
                    break;
                }
            }
            start = p.start_byte();
            start_row = p.start_position().row;
            i -= 1;
        }
        (start..top.end_byte(), (start_row, last_row(top)))
    }
}
