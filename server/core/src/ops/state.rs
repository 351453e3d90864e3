//! Jingu's own state through the session: snapshot history (list, show, diff), and the two
//! maintenance acts on it, a workspace scan (commits what changed) and gc (deletes old history).
//! Queries confine their path filters; acts are audited before they touch the store, then again
//! with what they did. Front ends never hold the store.

use jingu_audit::RecordKind;
use jingu_snapshots::{
    GcPolicy, GcReport, ListFilter, Meta, ScanReport, SnapshotDetail, SnapshotInfo,
};

use super::error::OpsError;
use super::session::{Run, Session};

/// Whose changes a scan finds: a run's side effects are rolled back with the run; changes made
/// outside Jingu (the user's, found before a command runs or by `jingu snapshot scan`) never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOwner {
    Run,
    Workspace,
}

impl Session {
    /// Snapshots, newest first: only those touching `path` (confined first) and of `run` when given.
    pub fn snapshots(
        &self,
        path: Option<&str>,
        run: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<SnapshotInfo>, OpsError> {
        let path = path.map(|p| self.workspace.confine(p)).transpose()?;
        Ok(self.with_store(|s| s.list(&ListFilter { path, run, limit }))?)
    }

    /// One snapshot's metadata (any unique id prefix).
    pub fn snapshot_detail(&self, id: &str) -> Result<SnapshotDetail, OpsError> {
        self.with_store(|store| Ok(store.show(store.resolve(id)?)?))
    }

    /// A snapshot's unified diff against its parent.
    pub fn snapshot_diff(&self, id: &str) -> Result<String, OpsError> {
        self.with_store(|store| Ok(store.diff(store.resolve(id)?)?))
    }

    /// A file's content before (as of the parent snapshot) and after snapshot `id`; `None` where
    /// it did not exist. Editors show the two as a diff.
    #[allow(clippy::type_complexity)] // (before, after), named where it is built and used
    pub fn snapshot_file(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), OpsError> {
        let path = self.workspace.confine(path)?;
        self.with_store(|store| {
            let id = store.resolve(id)?;
            let after = store.content_at(id, &path)?;
            let before = match store.show(id)?.parent {
                Some(parent) => store.content_at(store.resolve(&parent)?, &path)?,
                None => None,
            };
            Ok((before, after))
        })
    }

    /// Snapshot every change in the workspace since the last scan. `why` names the occasion
    /// (`jingu snapshot scan`, `pre-command scan`, `command`).
    pub fn scan(&self, run: &Run, why: &str, owner: ScanOwner) -> Result<ScanReport, OpsError> {
        run.audit.append(RecordKind::Snapshot {
            op: "scan".into(),
            detail: format!("{why} (pending)"),
        })?;
        let meta = Meta {
            run_id: (owner == ScanOwner::Run).then(|| run.id.clone()),
            actor: self.actor(),
            op: "scan".into(),
            target: "workspace".into(),
            message: format!("{why}: changes found in the workspace"),
        };
        let report = self.with_store(|s| s.scan_workspace(&meta))?;
        let changed = report.created.len() + report.modified.len() + report.deleted.len();
        run.audit.append(RecordKind::Snapshot {
            op: "scan".into(),
            detail: match &report.snapshot_id {
                Some(id) if report.baseline => format!(
                    "{why}: snapshot {id}, baseline of {} file(s)",
                    report.files_seen
                ),
                Some(id) => format!("{why}: snapshot {id}, {changed} file(s) changed"),
                None => format!("{why}: no changes"),
            },
        })?;
        Ok(report)
    }

    /// Push the snapshot refs to `remote` under `refs/jingu/<user>/<workspace>/…`; audited
    /// before and after.
    pub fn push_snapshots(
        &self,
        run: &Run,
        remote: &str,
    ) -> Result<Vec<jingu_snapshots::PushedRef>, OpsError> {
        let user = self.identity.subject.clone();
        let workspace = self
            .workspace
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workspace".into());
        run.audit.append(RecordKind::Snapshot {
            op: "push".into(),
            detail: format!("to {remote} as {user}/{workspace} (pending)"),
        })?;
        let pushed = match self.with_store(|s| s.push(remote, &user, &workspace)) {
            Ok(p) => p,
            Err(e) => {
                run.audit.append(RecordKind::Snapshot {
                    op: "push".into(),
                    detail: format!("to {remote}: failed: {e}"),
                })?;
                return Err(e.into());
            }
        };
        let rejected = pushed.iter().filter(|p| p.rejected.is_some()).count();
        run.audit.append(RecordKind::Snapshot {
            op: "push".into(),
            detail: format!(
                "to {remote}: {} ref(s) pushed, {rejected} rejected",
                pushed.len() - rejected
            ),
        })?;
        Ok(pushed)
    }

    /// Delete old snapshots (never fewer than the policy's floor); audited before and after.
    pub fn gc(&self, run: &Run, policy: &GcPolicy) -> Result<GcReport, OpsError> {
        run.audit.append(RecordKind::Snapshot {
            op: "gc".into(),
            detail: format!(
                "keep {} days, keep {}, floor {} (pending)",
                policy.keep_days, policy.keep_count, policy.floor
            ),
        })?;
        let report = self.with_store(|s| s.gc(policy))?;
        run.audit.append(RecordKind::Snapshot {
            op: "gc".into(),
            detail: format!(
                "kept {}, removed {}, pruned {} objects",
                report.kept, report.removed, report.pruned_objects
            ),
        })?;
        Ok(report)
    }
}
