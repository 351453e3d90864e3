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

/// Leading siblings that document a definition. Inner doc comments (`//!`, `/*!`) document the
/// enclosing item instead.
fn is_leading_trivia(node: Node, src: &[u8]) -> bool {
    let kind = node.kind();
    if kind.contains("comment") {
        let text = &src[node.start_byte()..node.end_byte().min(node.start_byte() + 3)];
        return text != b"//!" && text != b"/*!";
    }
    matches!(
        kind,
        "attribute_item" | "decorator" | "annotation" | "marker_annotation"
    )
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
