//! Jingu: an LSP-speaking AI coding agent. The binary in `main.rs` is a thin shell over this library.
//!
//! Data flows one way: editor → [`lsp`] → [`agent`] → [`realdoc`] → disk and [`snapshots`],
//! with [`policy`] deciding, [`audit`] recording, and [`syntax`] reading structure.

pub mod acp;
pub mod agent;
pub mod audit;
mod binfmt;
pub mod cli;
pub mod docs;
pub mod identity;
pub mod lsp;
pub mod ops;
pub mod policy;
pub mod providers;
pub mod realdoc;
pub mod review;
pub mod sandbox;
pub mod skills;
pub mod snapshots;
pub mod syntax;
pub mod workspace;
