//! Rust: impl blocks, traits, enums, modules, attributes and doc comments, `#[cfg]` twins,
//! unicode identifiers and a syntax error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"//! Module docs: not part of any item.

use std::fmt;

/// A parser.
/// Second doc line.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    /// The input.
    pub input: &'a str,
    pos: usize,
}

// unrelated comment

impl<'a> Parser<'a> {
    /// Make one.
    pub fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    #[inline]
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }
}

impl fmt::Display for Parser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.input)
    }
}

pub trait Visitor {
    fn visit(&mut self);
    fn done(&self) -> bool { true }
}

pub enum Token {
    Ident(String),
    Number { value: i64 },
    Eof,
}

pub mod nested {
    pub struct Inner;
    impl Inner {
        pub fn go() {}
    }
}

macro_rules! square {
    ($x:expr) => { $x * $x };
}

pub const LIMIT: usize = 10;
static mut COUNTER: u32 = 0;
type Alias = Vec<u8>;

#[cfg(unix)]
fn platform() {}
#[cfg(windows)]
fn platform() {}

fn größe() -> usize { 1 }

fn broken( {
    let x = ;
}

fn after_error() {}
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::Rust,
        SRC,
        &[
            ("Parser", "struct", 5, 12),
            ("Parser/input", "field", 9, 10),
            ("Parser/pos", "field", 11, 11),
            ("impl Parser", "impl", 16, 26),
            ("impl Parser/new", "method", 17, 20),
            ("impl Parser/peek", "method", 22, 25),
            ("impl fmt::Display for Parser", "impl", 28, 32),
            ("impl fmt::Display for Parser/fmt", "method", 29, 31),
            ("Visitor", "trait", 34, 37),
            ("Visitor/visit", "method", 35, 35),
            ("Visitor/done", "method", 36, 36),
            ("Token", "enum", 39, 43),
            ("Token/Ident", "variant", 40, 40),
            ("Token/Number", "variant", 41, 41),
            ("Token/Number/value", "field", 41, 41),
            ("Token/Eof", "variant", 42, 42),
            ("nested", "module", 45, 50),
            ("nested/Inner", "struct", 46, 46),
            ("nested/impl Inner", "impl", 47, 49),
            ("nested/impl Inner/go", "method", 48, 48),
            ("square", "macro", 52, 54),
            ("LIMIT", "constant", 56, 56),
            ("COUNTER", "constant", 57, 57),
            ("Alias", "type", 58, 58),
            ("platform[0]", "function", 60, 61),
            ("platform[1]", "function", 62, 63),
            ("größe", "function", 65, 65),
            ("broken", "function", 67, 69),
            ("after_error", "function", 71, 71),
        ],
    );
}

#[test]
fn docs_and_attributes_are_in_range_but_inner_docs_and_stray_comments_are_not() {
    let file = file_symbols(Language::Rust, SRC);
    let parser = range_text(SRC, sym(&file, "Parser"));
    assert!(parser.starts_with("/// A parser.\n/// Second doc line.\n#[derive(Debug, Clone)]"));
    assert!(
        !parser.contains("Module docs"),
        "`//!` documents the module"
    );
    let imp = range_text(SRC, sym(&file, "impl Parser"));
    assert!(
        imp.starts_with("impl<'a> Parser<'a>"),
        "a comment after a blank line is not docs"
    );
    assert!(range_text(SRC, sym(&file, "impl Parser/peek")).starts_with("#[inline]"));
    assert!(range_text(SRC, sym(&file, "platform[1]")).starts_with("#[cfg(windows)]"));
}

#[test]
fn bodies_are_set_where_there_is_one() {
    let file = file_symbols(Language::Rust, SRC);
    let new = sym(&file, "impl Parser/new");
    let body = new.body.clone().expect("fn body");
    assert!(SRC[body].starts_with('{'));
    assert!(
        sym(&file, "Visitor/visit").body.is_none(),
        "a signature has no body"
    );
    assert!(sym(&file, "Visitor/done").body.is_some());
    assert!(sym(&file, "impl Parser").body.is_some());
    assert!(file.first_error.is_some(), "the file has a syntax error");
}

#[test]
fn generic_trait_impls_keep_trait_arguments() {
    let src = "struct W;\nimpl From<u8> for W { fn from(_: u8) -> Self { W } }\nimpl From<u16> for W { fn from(_: u16) -> Self { W } }\nimpl<T: Clone> Drop for Vec2<T> { fn drop(&mut self) {} }\n";
    let file = file_symbols(Language::Rust, src);
    let paths: Vec<&str> = file.symbols.iter().map(|s| s.name_path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "W",
            "impl From<u8> for W",
            "impl From<u8> for W/from",
            "impl From<u16> for W",
            "impl From<u16> for W/from",
            "impl Drop for Vec2",
            "impl Drop for Vec2/drop",
        ]
    );
}
