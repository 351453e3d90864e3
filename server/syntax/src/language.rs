//! Supported languages: file detection, tree-sitter grammars and the `queries/<lang>/symbols.scm`
//! query that defines each language's symbols.

use std::path::Path;
use std::sync::OnceLock;

use sha2::Digest;
use tree_sitter::Query;

use super::pattern::Patterns;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
}

pub const ALL: [Language; 9] = [
    Language::Rust,
    Language::Python,
    Language::JavaScript,
    Language::TypeScript,
    Language::Tsx,
    Language::Go,
    Language::Java,
    Language::C,
    Language::Cpp,
];

impl Language {
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        Self::from_extension(ext)
    }

    /// Like [`Self::from_path`], but a `.h` header holding C++ (classes, templates, namespaces,
    /// `::`) is C++: C++ projects commonly name their headers `.h`.
    pub fn detect(path: &Path, text: &str) -> Option<Self> {
        match Self::from_path(path)? {
            Self::C if path.extension().is_some_and(|e| e == "h") && looks_like_cpp(text) => {
                Some(Self::Cpp)
            }
            other => Some(other),
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        Some(match ext {
            "rs" => Self::Rust,
            "py" | "pyi" => Self::Python,
            "js" | "mjs" | "cjs" | "jsx" => Self::JavaScript,
            "ts" | "mts" | "cts" => Self::TypeScript,
            "tsx" => Self::Tsx,
            "go" => Self::Go,
            "java" => Self::Java,
            "c" | "h" => Self::C,
            "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Self::Cpp,
            _ => return None,
        })
    }

    /// The LSP `languageId` an editor sends for this language.
    pub fn from_language_id(id: &str) -> Option<Self> {
        Some(match id {
            "rust" => Self::Rust,
            "python" => Self::Python,
            "javascript" | "javascriptreact" => Self::JavaScript,
            "typescript" => Self::TypeScript,
            "typescriptreact" => Self::Tsx,
            "go" => Self::Go,
            "java" => Self::Java,
            "c" => Self::C,
            "cpp" => Self::Cpp,
            _ => return None,
        })
    }

    /// The name used in `jingu symbols` output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::JavaScript => "javascript",
            Self::TypeScript => "typescript",
            Self::Tsx => "tsx",
            Self::Go => "go",
            Self::Java => "java",
            Self::C => "c",
            Self::Cpp => "cpp",
        }
    }

    /// Folder under `queries/` holding this language's queries (TSX shares TypeScript's).
    pub fn query_dir(self) -> &'static str {
        match self {
            Self::Tsx => "typescript",
            other => other.name(),
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Self::Rust => tree_sitter_rust::LANGUAGE.into(),
            Self::Python => tree_sitter_python::LANGUAGE.into(),
            Self::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Self::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Self::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Self::Go => tree_sitter_go::LANGUAGE.into(),
            Self::Java => tree_sitter_java::LANGUAGE.into(),
            Self::C => tree_sitter_c::LANGUAGE.into(),
            Self::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        }
    }

    /// The symbols query compiled into the binary.
    pub fn builtin_query(self) -> &'static str {
        match self {
            Self::Rust => include_str!("../../../queries/rust/symbols.scm"),
            Self::Python => include_str!("../../../queries/python/symbols.scm"),
            Self::JavaScript => include_str!("../../../queries/javascript/symbols.scm"),
            Self::TypeScript | Self::Tsx => include_str!("../../../queries/typescript/symbols.scm"),
            Self::Go => include_str!("../../../queries/go/symbols.scm"),
            Self::Java => include_str!("../../../queries/java/symbols.scm"),
            Self::C => include_str!("../../../queries/c/symbols.scm"),
            Self::Cpp => include_str!("../../../queries/cpp/symbols.scm"),
        }
    }

    /// The compiled symbols query: the installed `queries/<lang>/symbols.scm` when present and valid,
    /// else the copy compiled into the binary. Compiled once per process.
    pub fn symbols_query(self) -> &'static SymbolsQuery {
        static QUERIES: [OnceLock<SymbolsQuery>; ALL.len()] =
            [const { OnceLock::new() }; ALL.len()];
        let slot = &QUERIES[ALL.iter().position(|l| *l == self).unwrap_or(0)];
        slot.get_or_init(|| self.load_query())
    }

    /// SHA-256 of the symbols query text [`symbols_query`](Self::symbols_query) compiles (the
    /// installed text when one was handed in, else the built-in copy), without compiling it: a
    /// reopened workspace checks its saved index against every language's digest, but compiles
    /// only the queries of the files it parses.
    pub fn query_digest(self) -> [u8; 32] {
        static DIGESTS: [OnceLock<[u8; 32]>; ALL.len()] = [const { OnceLock::new() }; ALL.len()];
        let slot = &DIGESTS[ALL.iter().position(|l| *l == self).unwrap_or(0)];
        *slot.get_or_init(|| match self.installed_query_text() {
            Some(text) => sha2::Sha256::digest(text).into(),
            None => sha2::Sha256::digest(self.builtin_query()).into(),
        })
    }

    fn installed_query_text(self) -> Option<&'static str> {
        INSTALLED
            .get()
            .and_then(|texts| texts.iter().find(|(l, _)| *l == self))
            .map(|(_, text)| text.as_str())
    }

    fn load_query(self) -> SymbolsQuery {
        let grammar = self.grammar();
        if let Some(text) = self.installed_query_text() {
            match SymbolsQuery::new(&grammar, text) {
                Ok(q) => return q,
                Err(e) => tracing::warn!(
                    "ignoring the installed {} query: {e}; using the built-in one",
                    self.name()
                ),
            }
        }
        // The built-in queries are tested for every language, so this cannot fail in a release.
        SymbolsQuery::new(&grammar, self.builtin_query())
            .unwrap_or_else(|e| panic!("built-in {} query is invalid: {e}", self.name()))
    }
}

/// Query texts installed with Jingu (`queries/<lang>/symbols.scm`), handed in by whoever read them:
/// this crate does no I/O.
static INSTALLED: OnceLock<Vec<(Language, String)>> = OnceLock::new();

/// Use `texts` instead of the compiled-in queries for those languages. Takes effect only before
/// the first query is compiled and only once per process; returns whether it was installed.
pub fn install_queries(texts: Vec<(Language, String)>) -> bool {
    INSTALLED.set(texts).is_ok()
}

/// A language's symbols query, ready to match, and the node kinds its patterns are rooted at.
/// Extraction walks the tree itself and matches only on nodes of those kinds: a query cursor pays
/// for pattern bookkeeping at every node it visits, which cost as much as parsing.
#[derive(Debug)]
pub struct SymbolsQuery {
    pub(super) engine: Engine,
    /// Indexed by kind id: whether some pattern can be rooted at a node of that kind.
    roots: Vec<bool>,
    /// Some pattern is rooted at `(_)`, a supertype or an alternation: every node is a candidate.
    any_root: bool,
    /// Some pattern is rooted at `(ERROR)`.
    error_root: bool,
    pub(super) kinds: super::extent::KindTable,
}

/// Who matches the patterns: Jingu's own matcher for the query subset it knows (no query
/// compilation, see [`super::pattern`]), else a compiled tree-sitter query.
#[derive(Debug)]
pub(super) enum Engine {
    Own(Patterns),
    TreeSitter(Query),
}

impl SymbolsQuery {
    pub fn new(
        grammar: &tree_sitter::Language,
        source: &str,
    ) -> Result<Self, tree_sitter::QueryError> {
        match Patterns::parse(grammar, source) {
            Ok(patterns) => Ok(Self::own(grammar, patterns)),
            Err(why) => {
                tracing::debug!("symbols query compiled by tree-sitter: {}", why.0);
                Self::compiled(grammar, source)
            }
        }
    }

    fn own(grammar: &tree_sitter::Language, patterns: Patterns) -> Self {
        let mut roots = vec![false; grammar.node_kind_count()];
        let (mut any_root, mut error_root) = (false, false);
        for root in patterns.roots() {
            match root {
                Some(Some(ids)) => {
                    for &id in ids {
                        if let Some(r) = roots.get_mut(usize::from(id)) {
                            *r = true;
                        }
                    }
                }
                Some(None) => error_root = true,
                None => any_root = true,
            }
        }
        Self {
            engine: Engine::Own(patterns),
            roots,
            any_root,
            error_root,
            kinds: super::extent::KindTable::new(grammar),
        }
    }

    /// The query compiled by tree-sitter, whatever its syntax (tests compare the two engines).
    pub fn compiled(
        grammar: &tree_sitter::Language,
        source: &str,
    ) -> Result<Self, tree_sitter::QueryError> {
        let query = Query::new(grammar, source)?;
        let mut roots = vec![false; grammar.node_kind_count()];
        let (mut any_root, mut error_root) = (false, false);
        for pattern in 0..query.pattern_count() {
            let text = source
                .get(query.start_byte_for_pattern(pattern)..)
                .unwrap_or("");
            match pattern_root(text) {
                Some("ERROR") => error_root = true,
                Some(kind) if !kind.starts_with('_') => {
                    // Aliases give one kind name several ids: mark them all.
                    for (id, root) in roots.iter_mut().enumerate() {
                        *root |= grammar.node_kind_for_id(id as u16) == Some(kind);
                    }
                }
                _ => any_root = true,
            }
        }
        Ok(Self {
            engine: Engine::TreeSitter(query),
            roots,
            any_root,
            error_root,
            kinds: super::extent::KindTable::new(grammar),
        })
    }

    /// Whether Jingu's own matcher runs this query (not a compiled tree-sitter query).
    pub fn is_own(&self) -> bool {
        matches!(self.engine, Engine::Own(_))
    }

    /// Whether a pattern of the query may match with `node` as its root.
    pub fn may_match_at(&self, node: tree_sitter::Node) -> bool {
        // ERROR's kind id is past the grammar's kinds.
        match self.roots.get(usize::from(node.kind_id())) {
            Some(&root) => root || self.any_root,
            None => self.any_root || (self.error_root && node.is_error()),
        }
    }
}

/// The node kind a pattern's text starts with (`(function_item name: …)` → `function_item`);
/// `None` for anything else (alternations, strings), which callers treat as "any node".
fn pattern_root(pattern: &str) -> Option<&str> {
    let rest = pattern.trim_start().strip_prefix('(')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let kind = &rest[..end];
    // `(expression/identifier)` names a supertype first: treat as any.
    if kind.is_empty() || rest[end..].starts_with('/') {
        return None;
    }
    Some(kind)
}

/// Whether a header's code (comments and strings aside, roughly) uses C++-only constructs.
fn looks_like_cpp(text: &str) -> bool {
    const WORDS: [&str; 8] = [
        "class",
        "template",
        "namespace",
        "public:",
        "private:",
        "protected:",
        "virtual",
        "typename",
    ];
    let mut in_block_comment = false;
    for line in text.lines().take(20_000) {
        let mut code = line.trim();
        if in_block_comment {
            match code.find("*/") {
                Some(i) => {
                    in_block_comment = false;
                    code = &code[i + 2..];
                }
                None => continue,
            }
        }
        if let Some(i) = code.find("//") {
            code = &code[..i];
        }
        if let Some(i) = code.find("/*") {
            in_block_comment = !code[i..].contains("*/");
            code = &code[..i];
        }
        if code.starts_with('#') && !code.contains("::") {
            continue;
        }
        // Outside string literals only: a `"::"` in a C string is not C++.
        let outside: String = code.split('"').step_by(2).collect::<Vec<_>>().join(" ");
        if outside.contains("::") {
            return true;
        }
        if outside
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .any(|w| WORDS.contains(&w))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod detect_tests {
    use super::*;

    #[test]
    fn headers_are_cpp_only_when_they_hold_cpp() {
        let h = Path::new("x/a.h");
        assert_eq!(
            Language::detect(h, "int f(void);\n/* class X */\n"),
            Some(Language::C)
        );
        assert_eq!(
            Language::detect(h, "const char *s = \"a::b\";\n"),
            Some(Language::C)
        );
        assert_eq!(
            Language::detect(h, "class A { public: int x; };\n"),
            Some(Language::Cpp)
        );
        assert_eq!(
            Language::detect(h, "namespace n {\n}\n"),
            Some(Language::Cpp)
        );
        assert_eq!(
            Language::detect(h, "template <typename T> T f();\n"),
            Some(Language::Cpp)
        );
        assert_eq!(
            Language::detect(h, "int x = std::max(1, 2);\n"),
            Some(Language::Cpp)
        );
        assert_eq!(
            Language::detect(Path::new("a.c"), "class A {};"),
            Some(Language::C)
        );
        assert_eq!(
            Language::detect(Path::new("a.rs"), ""),
            Some(Language::Rust)
        );
    }
}
