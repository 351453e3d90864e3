//! The workspace on disk: its root, Jingu's state directory for it, path confinement, the atomic
//! writers, the one workspace walker, the racy-timestamp rule of the stat caches ([`racy`]) and the
//! bounds-checked reader of Jingu's binary state files.
//!
//! Invariant: a workspace path is confined before it is opened; a file is replaced only whole
//! (temp file, fsync, rename, fsync of the directory): [`atomic`] for edits (hash-checked against
//! concurrent changes), [`durable`] for rollbacks and Jingu's own state.

pub mod atomic;
pub mod binfmt;
pub mod durable;
pub mod filelock;
pub mod racy;
pub mod tempfiles;
#[cfg(test)]
mod tests;
pub mod walk;
pub mod workspace;

pub use workspace::{Access, PathError, Workspace};
