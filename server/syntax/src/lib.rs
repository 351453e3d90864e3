//! Structure of source files: tree-sitter parsing and symbol extraction driven by
//! `queries/<lang>/symbols.scm`, names for the
//! workspace-wide symbol table ([`names`]).
//!
//! Invariant: pure — no file system, no environment. Query texts other than the compiled-in ones
//! are handed in ([`install_queries`]) by the crate that read them (`jingu-index`).
//!
//! Name paths join nesting with `/` (`Parser/parse_expr`). A Rust `impl` block is its own segment,
//! `impl Parser` or `impl Display for Parser`; a Go method and a C++ out-of-line member are named
//! under their receiver or qualifier (`Server/Start`, `Foo/bar`). When a name path occurs more than
//! once in a file (overloads, `#[cfg]` twins), every occurrence gets a 0-based `[N]` suffix.

mod extent;
mod extract;
mod language;
pub mod names;
mod pattern;
mod rank;
mod reuse;
#[cfg(test)]
mod tests;
mod verbatim;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

pub use extract::{extract, extract_incremental, extract_using};
pub use language::{ALL as ALL_LANGUAGES, Language, SymbolsQuery, install_queries};
pub use reuse::ExtractCache;
pub use verbatim::{
    LineKind, Verbatim, VerbatimKind, line_kind_at, line_kinds, verbatim_at, verbatim_spans,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    Function,
    Method,
    Constructor,
    Class,
    Struct,
    Enum,
    Variant,
    Interface,
    Trait,
    Impl,
    Module,
    Namespace,
    Constant,
    Variable,
    Field,
    Type,
    Macro,
}

impl SymbolKind {
    pub const ALL: [SymbolKind; 17] = [
        Self::Function,
        Self::Method,
        Self::Constructor,
        Self::Class,
        Self::Struct,
        Self::Enum,
        Self::Variant,
        Self::Interface,
        Self::Trait,
        Self::Impl,
        Self::Module,
        Self::Namespace,
        Self::Constant,
        Self::Variable,
        Self::Field,
        Self::Type,
        Self::Macro,
    ];

    pub fn from_capture(suffix: &str) -> Option<Self> {
        Some(match suffix {
            "function" => Self::Function,
            "method" => Self::Method,
            "constructor" => Self::Constructor,
            "class" => Self::Class,
            "struct" => Self::Struct,
            "enum" => Self::Enum,
            "variant" => Self::Variant,
            "interface" => Self::Interface,
            "trait" => Self::Trait,
            "impl" => Self::Impl,
            "module" => Self::Module,
            "namespace" => Self::Namespace,
            "constant" => Self::Constant,
            "variable" => Self::Variable,
            "field" => Self::Field,
            "type" => Self::Type,
            "macro" => Self::Macro,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Method => "method",
            Self::Constructor => "constructor",
            Self::Class => "class",
            Self::Struct => "struct",
            Self::Enum => "enum",
            Self::Variant => "variant",
            Self::Interface => "interface",
            Self::Trait => "trait",
            Self::Impl => "impl",
            Self::Module => "module",
            Self::Namespace => "namespace",
            Self::Constant => "constant",
            Self::Variable => "variable",
            Self::Field => "field",
            Self::Type => "type",
            Self::Macro => "macro",
        }
    }

    /// Kinds whose body is code rather than declarations.
    fn is_callable(self) -> bool {
        matches!(self, Self::Function | Self::Method | Self::Constructor)
    }

    /// Kinds whose nested functions are methods.
    fn is_container(self) -> bool {
        matches!(
            self,
            Self::Class | Self::Struct | Self::Interface | Self::Trait | Self::Impl | Self::Enum
        )
    }
}

/// One symbol of a file. Byte ranges index the text it was extracted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub name_path: String,
    pub kind: SymbolKind,
    /// Full extent including leading doc comments, attributes and decorators.
    pub range: Range<usize>,
    /// The definition node alone.
    pub decl_range: Range<usize>,
    /// The body (block, class body…), when the definition has one.
    pub body: Option<Range<usize>>,
    pub name_range: Range<usize>,
    /// 1-based inclusive lines of `range`.
    pub start_line: usize,
    pub end_line: usize,
    /// Index of the enclosing symbol in the same list.
    pub parent: Option<usize>,
}

/// The `jingu symbols --json` record (DESIGN §2).
#[derive(Debug, Clone, Serialize)]
pub struct SymbolRecord<'a> {
    pub name_path: &'a str,
    pub name: &'a str,
    pub kind: SymbolKind,
    pub start_line: usize,
    pub end_line: usize,
    pub language: &'static str,
}

impl Symbol {
    pub fn record(&self, language: Language) -> SymbolRecord<'_> {
        SymbolRecord {
            name_path: &self.name_path,
            name: &self.name,
            kind: self.kind,
            start_line: self.start_line,
            end_line: self.end_line,
            language: language.name(),
        }
    }
}

/// A parsed file: its tree and symbols, with name paths resolvable by hash lookup.
#[derive(Debug, Clone)]
pub struct FileSymbols {
    pub language: Language,
    pub symbols: Vec<Symbol>,
    by_path: HashMap<String, usize>,
    /// First syntax error (byte offset), if the file does not parse cleanly.
    pub first_error: Option<usize>,
}

impl FileSymbols {
    pub fn new(language: Language, symbols: Vec<Symbol>, first_error: Option<usize>) -> Self {
        let by_path = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name_path.clone(), i))
            .collect();
        Self {
            language,
            symbols,
            by_path,
            first_error,
        }
    }

    pub fn get(&self, name_path: &str) -> Option<&Symbol> {
        self.by_path.get(name_path).map(|&i| &self.symbols[i])
    }

    pub fn children(&self, parent: Option<usize>) -> impl Iterator<Item = (usize, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.parent == parent)
    }
}

thread_local! {
    static PARSERS: RefCell<HashMap<Language, tree_sitter::Parser>> = RefCell::new(HashMap::new());
}

/// Parse `text` (reusing `old` for an incremental parse when given). `None` only if the parser was
/// cancelled, which Jingu never does.
pub fn parse(
    language: Language,
    text: &str,
    old: Option<&tree_sitter::Tree>,
) -> Option<tree_sitter::Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = parsers.entry(language).or_insert_with(|| {
            let mut p = tree_sitter::Parser::new();
            // Only fails on an ABI mismatch, which the pinned grammar versions rule out (tested).
            let _ = p.set_language(&language.grammar());
            p
        });
        parser.parse(text, old)
    })
}

/// Parse and extract the symbols of one file's text.
pub fn file_symbols(language: Language, text: &str) -> FileSymbols {
    match parse(language, text, None) {
        Some(tree) => {
            let symbols = extract(language, text, &tree);
            FileSymbols::new(language, symbols, first_error(&tree))
        }
        None => FileSymbols::new(language, Vec::new(), Some(0)),
    }
}

/// Byte offset of the first ERROR or MISSING node, if any.
pub fn first_error(tree: &tree_sitter::Tree) -> Option<usize> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return Some(node.start_byte());
        }
        // Descend only into subtrees that contain an error.
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Some(root.start_byte());
            }
        }
    }
}

/// Count of ERROR/MISSING nodes; used to tell whether an edit introduced new syntax errors.
pub fn error_count(tree: &tree_sitter::Tree) -> usize {
    let mut count = 0;
    for_each_error(tree, |_| count += 1);
    count
}

/// Visit every ERROR or MISSING node in document order, descending only into subtrees that hold
/// an error.
pub fn for_each_error<'t>(tree: &'t tree_sitter::Tree, mut f: impl FnMut(tree_sitter::Node<'t>)) {
    let root = tree.root_node();
    if !root.has_error() {
        return;
    }
    let mut cursor = root.walk();
    let mut descend = true;
    loop {
        let node = cursor.node();
        if descend {
            if node.is_error() || node.is_missing() {
                f(node);
            }
            if node.has_error() && cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.goto_next_sibling() {
            descend = true;
            continue;
        }
        if !cursor.goto_parent() {
            return;
        }
        descend = false;
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
