//! The workspace symbol index: every source file under the root (walked with the workspace's one
//! walker configuration), parsed and extracted with `jingu-syntax`, kept per file and saved in the
//! state directory so a reopened workspace parses only what changed.
//!
//! Invariant: the only crate that reads source files for symbols; the syntax crate it drives stays pure.

mod index;
pub mod queries;
mod saved;
mod source;
#[cfg(test)]
mod tests;

pub use index::*;
