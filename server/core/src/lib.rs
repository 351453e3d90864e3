//! Jingu's core: [`ops`] — the only door to disk, snapshots, commands and the audit log — with the
//! [`guard`] every action passes, the [`agent`] loop, [`review`] and [`identity`].
//!
//! Invariant: front ends (lsp, acp, cli) act only through [`ops::Session`]; the snapshot store, the
//! audit log and the guard are not reachable from outside this crate.

pub mod agent;
pub mod complete;
mod guard;
mod guard_mcp;
pub mod identity;
pub mod ops;
pub mod review;

/// Front ends call this at start (`lsp`, `acp`, `ask`, `review`): non-dumpable, no ptrace.
pub use jingu_sandbox::harden_current_process;
