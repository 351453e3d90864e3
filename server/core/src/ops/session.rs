//! A session: one workspace with its effective policy, verified identity and snapshot store,
//! opened once per CLI command or LSP server. Actions happen inside a [`Run`], whose audit log
//! handle stamps every record with the run, the subject and the policy hash.

use std::path::Path;
use std::sync::Mutex;

use super::audit_options;
use super::error::OpsError;
use crate::guard::{Guard, Verdict};
use crate::identity::Identity;
use jingu_audit::{AuditContext, AuditLog, RecordKind};
use jingu_fs::workspace::Workspace;
use jingu_policy::{Policy, Tool};
use jingu_snapshots::Store;

pub struct Session {
    pub workspace: Workspace,
    pub policy: Policy,
    pub identity: Identity,
    /// Behind a mutex: git2 repositories are not `Sync`, and sessions are shared by async tasks.
    store: Mutex<Store>,
    /// Inline completion: the warm provider, caches and counts (`complete/`).
    pub(crate) completion: crate::complete::State,
}

/// One unit of work (an agent run, or a single CLI/editor command) and its audit handle.
pub struct Run {
    pub id: String,
    pub(crate) audit: AuditLog,
}

impl Session {
    /// Open the workspace containing `start`. A malformed or badly signed enterprise policy, or a
    /// missing/invalid identity where one is required, fails closed here: no session, no tool.
    pub fn open(start: &Path) -> Result<Self, OpsError> {
        let workspace = Workspace::discover(start).map_err(|error| OpsError::Workspace {
            path: start.display().to_string(),
            error,
        })?;
        Self::open_workspace(workspace)
    }

    pub fn open_workspace(workspace: Workspace) -> Result<Self, OpsError> {
        let policy = Policy::load(&workspace.root)?;
        let identity = Identity::resolve(&policy.identity)?;
        let store = Store::open(&workspace)?;
        Ok(Self {
            workspace,
            policy,
            identity,
            store: Mutex::new(store),
            completion: Default::default(),
        })
    }

    /// For long-running front ends (`jingu lsp`, `jingu acp`): with `[snapshots] watch = true`,
    /// keep an inotify watcher on the workspace (one per workspace per process, shared by the
    /// sessions opened there) so a scan re-checks only what changed. Returns whether it watches.
    pub fn watch_workspace(&self) -> Result<bool, OpsError> {
        if !self.policy.snapshots.watch {
            return Ok(false);
        }
        jingu_audit::off_runtime(|| {
            let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            store.watch()
        })?;
        Ok(true)
    }

    /// Work on the snapshot store (git2: object writes, tree walks, scans) off the async runtime:
    /// waiting for the lock and the git I/O never stall the tasks sharing this worker. The lock
    /// cannot be held across an `.await`, since `f` is synchronous.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        jingu_audit::off_runtime(|| {
            // git objects and refs are written atomically, so a lock poisoned by a panic still
            // guards a consistent repository.
            let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            f(&store)
        })
    }

    /// Who acts, as recorded in snapshots (`unverified:` marks an OS user without a token).
    pub fn actor(&self) -> String {
        if self.identity.verified {
            self.identity.subject.clone()
        } else {
            format!("unverified:{}", self.identity.subject)
        }
    }

    /// Start a run: its first audit record says what started it. No record, no run.
    pub fn begin_run(&self, run_id: Option<String>, instruction: &str) -> Result<Run, OpsError> {
        self.identity.check_current()?;
        let id = run_id.unwrap_or_else(new_run_id);
        let audit = AuditLog::open_with(
            &self.workspace.state_dir,
            AuditContext {
                run_id: id.clone(),
                subject: self.identity.subject.clone(),
                verified: self.identity.verified,
                policy_hash: self.policy.hash(),
            },
            &audit_options(&self.policy, &self.workspace.root),
        )?;
        // Written with the run's first action record (one write, one fsync): starting a run
        // does nothing on its own, and every action appends before it runs.
        audit.stage(RecordKind::RunStart {
            instruction: instruction.to_string(),
        });
        Ok(Run { id, audit })
    }

    /// Close the run: its end record and a signed checkpoint (sent to every sink).
    pub fn end_run(&self, run: &Run, status: &str) {
        if let Err(e) = run.audit.end_run(status) {
            tracing::error!("cannot close run {} in the audit log: {e}", run.id);
        }
    }

    /// Confine `raw`, decide by policy and audit the decision. Returns the workspace-relative path
    /// and whether the user must be asked first.
    pub fn authorize(&self, run: &Run, tool: Tool, raw: &str) -> Result<(String, bool), OpsError> {
        // A long-lived session outlives its token: re-check at every action.
        self.identity.check_current()?;
        let guard = Guard {
            workspace: &self.workspace,
            policy: &self.policy,
            audit: &run.audit,
        };
        // An edit appends its own record before writing, which carries the decision with it.
        let verdict = if tool == Tool::Edit {
            guard.check_staged(tool, Some(raw))
        } else {
            guard.check(tool, Some(raw))
        };
        match verdict {
            Ok(Verdict::Allow { path }) => Ok((path.unwrap_or_else(|| raw.to_string()), false)),
            Ok(Verdict::Ask { path }) => Ok((path.unwrap_or_else(|| raw.to_string()), true)),
            Err(refusal) => Err(OpsError::Denied(refusal.reason)),
        }
    }
}

impl Session {
    /// The text of a workspace file, confined and checked against `deny_paths` like every tool
    /// path (source files only: no binary, oversized or non-UTF-8 files). Returns the
    /// workspace-relative path and the text. For reads whose bytes go to a model, decide first
    /// with [`Session::authorize`] and `Tool::Read`, which audits the decision.
    pub fn read_confined(&self, raw: &str) -> Result<(String, String), OpsError> {
        let rel = self.workspace.confine_for_tool(
            raw,
            &self.policy,
            jingu_fs::workspace::Access::Read,
        )?;
        let text =
            jingu_index::read_source(&self.workspace.abs(&rel)).map_err(|e| OpsError::Source {
                path: rel.clone(),
                reason: e.to_string(),
            })?;
        Ok((rel, text))
    }
}

/// A fresh run (or session) id: time-ordered, random suffix.
pub fn new_run_id() -> String {
    jingu_audit::new_run_id()
}
