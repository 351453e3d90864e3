//! Snapshots: a git-backed history of every change Jingu makes (and of side effects it finds),
//! kept in a bare shadow repository under the workspace's state directory — never in the user's
//! `.git`, and working whether or not the workspace is a git repository (DESIGN §5 inv. 2, 3, 7).
//!
//! [`Store::record`] commits changes incrementally, [`Store::scan_workspace`] catches edits made
//! by commands using a stat cache, [`Store::list`]/[`Store::diff`] read history, and the
//! `rollback_*` methods restore content as new snapshots.

mod error;
mod gc;
mod journal;
mod lock;
mod model;
mod paths;
mod push;
mod query;
mod rollback;
mod scan;
mod statcache;
mod store;
mod walk;
mod watch;

#[cfg(test)]
mod tests;

pub use error::SnapshotError;
pub use gc::{GcPolicy, GcReport};
pub use model::{
    BufferRestore, Change, ListFilter, Meta, OpenBuffers, RollbackOutcome, SnapshotDetail,
    SnapshotId, SnapshotInfo,
};
pub use push::{PushedRef, ref_component};
pub use scan::{MAX_FILE_SIZE, ScanReport, Skipped};
pub use store::Store;

/// Unix permission bits of a workspace file, or 0o644 if it does not exist.
pub(crate) fn workspace_meta_mode(ws: &jingu_fs::workspace::Workspace, rel: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(ws.abs(rel))
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644)
}

/// Atomic file replacement (temp, fsync, rename, fsync dir), for callers writing restored content.
pub fn atomic_write(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    jingu_fs::durable::atomic_write(path, bytes, None)
}
