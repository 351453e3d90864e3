//! RealDoc: the edit engine. The model never rewrites whole files; an edit names a target — a
//! tree-sitter symbol, a 1-based inclusive line range, or the line containing a keyword — an
//! operation (`replace | insert-before | insert-after | delete`) and new text.
//!
//! The core is pure: [`plan`] turns (text, request) into a [`Planned`] splice, validated by an
//! incremental tree-sitter re-parse (an edit may not add syntax errors).
//!
//! Invariant: pure — no file system (`std::fs` is banned by clippy.toml), depends only on
//! `jingu-syntax`. Reading and writing happen in `jingu_core::ops` through `jingu_fs::atomic`.
//!
//! Semantics worth knowing:
//! - A symbol's extent is its *full* range: leading doc comments, attributes and decorators are
//!   part of it, so `replace` must resend them and `delete` removes them.
//! - Inserting before/after a symbol adds whole lines, separated by the blank lines the text
//!   carries before/after it, else as many as the symbol has from its siblings (else 1, or
//!   PEP 8's 2 at Python top level; 0 for fields).
//! - New text is re-indented to the target; at line/keyword insertions only when it arrives
//!   flush-left (after a line opening a block, one level deeper). Tabs/spaces follow the file's
//!   code lines (strings and comments do not count); string-literal content is never re-indented.
//! - Line endings (LF/CRLF) and the presence or absence of a final newline are preserved.

mod batch;
mod error;
mod indent;
mod lines;
mod locate;
mod many;
mod plan;
pub mod replay;
mod request;
mod resolve;
mod splice;
mod validate;
pub mod version;

pub use batch::plan_sequence;
pub use error::{EditError, Staleness};
pub use many::{plan_many, plan_many_in};
pub use plan::{ParsedFile, Planned, plan, plan_parsed};
pub use request::{EditRequest, Op, ParseError, Target};
pub use version::{Seen, check_fresh, version};

#[cfg(test)]
mod tests;
