//! A session: one workspace with its effective policy, acting identity and snapshot store, opened
//! once per CLI command or LSP server.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::error::OpsError;
use crate::policy::{Decision, Policy, Tool};
use crate::snapshots::Store;
use crate::workspace::Workspace;

pub struct Session {
    pub workspace: Workspace,
    pub policy: Policy,
    /// Behind a mutex: git2 repositories are not `Sync`, and sessions are shared by async tasks.
    store: Mutex<Store>,
    /// Who acts: bound to every snapshot and audit record.
    pub actor: String,
}

impl Session {
    /// Open the workspace containing `start`. A malformed or badly signed enterprise policy fails
    /// closed here: no session, so no tool can run.
    pub fn open(start: &Path) -> Result<Self, OpsError> {
        let workspace = Workspace::discover(start).map_err(|error| OpsError::Workspace {
            path: start.display().to_string(),
            error,
        })?;
        Self::open_workspace(workspace)
    }

    pub fn open_workspace(workspace: Workspace) -> Result<Self, OpsError> {
        let policy = Policy::load(&workspace.root)?;
        let store = Store::open(&workspace)?;
        Ok(Self {
            workspace,
            policy,
            store: Mutex::new(store),
            actor: os_user(),
        })
    }

    /// The snapshot store. Never hold the guard across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the repository half-written (git objects and
        // refs are written atomically), so a poisoned lock is still safe to use.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Confine a path named by a user, the model or a tool, and decide whether `tool` may act on
    /// it. Returns the workspace-relative path and whether the user must be asked first.
    pub fn authorize(&self, raw: &str, tool: Tool) -> Result<(String, bool), OpsError> {
        let rel = self.workspace.confine(raw)?;
        match self.policy.decide(tool, Some(&rel)) {
            Decision::Allow => Ok((rel, false)),
            Decision::Ask => Ok((rel, true)),
            Decision::Deny(why) => Err(OpsError::Denied(why)),
        }
    }
}

/// The OS user, for actions without a verified identity.
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|_| format!("uid:{}", unsafe { libc::getuid() }))
}

/// A new run id: UTC time plus randomness, sortable and unique enough to name a `refs/jingu/runs/`.
pub fn new_run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("run-{secs:x}-{:06x}", fastrand::u32(..0x100_0000))
}
