//! THE workspace walker: one configuration for every walk that lists or reads workspace files
//! (the symbol index, the agent's search and file list, review's caller search), so they agree on
//! what the workspace is. Ignore rules (`.gitignore`, `.ignore`, git excludes) apply with or
//! without a git repository; hidden files are included; `.git/`, `.jingu/`, Jingu's state
//! directory and build-output bulk (`target/`, `node_modules/`) are never entered; and with a
//! policy, `deny_paths` files and directories are left out, so a denied file is not even named.
//!
//! The snapshot scan is the one walk that does not use this: it must see every file the user
//! could lose, ignored or not, and keeps a stat cache of its own (`jingu-snapshots`).

use std::path::Path;

use ignore::WalkBuilder;
use jingu_policy::Policy;

use crate::workspace::Workspace;

/// Directories no walk enters.
pub const SKIP_DIRS: &[&str] = &[".git", ".jingu", "target", "node_modules"];

/// A walker over `ws` configured the one way; callers add threads, sorting or depth.
pub fn walker(ws: &Workspace, policy: Option<&Policy>) -> WalkBuilder {
    let root = ws.root.clone();
    let state = ws.state_dir.clone();
    let policy = policy.cloned();
    let mut builder = WalkBuilder::new(&ws.root);
    builder
        .hidden(false)
        .require_git(false)
        .filter_entry(move |entry| keep(&root, &state, policy.as_ref(), entry.path()));
    builder
}

fn keep(root: &Path, state: &Path, policy: Option<&Policy>, path: &Path) -> bool {
    if path.starts_with(state) {
        return false;
    }
    let Ok(rel) = path.strip_prefix(root) else {
        return true; // the root itself
    };
    if rel
        .file_name()
        .is_some_and(|name| SKIP_DIRS.iter().any(|d| name == *d))
    {
        return false;
    }
    match (policy, rel.to_str()) {
        (Some(policy), Some(rel)) if !rel.is_empty() => policy.path_denied(rel).is_none(),
        // A non-UTF-8 path cannot be addressed by any tool; leave it out of model-facing walks.
        (Some(_), None) => false,
        _ => true,
    }
}
