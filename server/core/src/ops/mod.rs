//! Operations: the one code path every front end (CLI, LSP, agent) takes to edit, snapshot and roll
//! back, with the workspace confined, the policy deciding and every action audited. Front ends
//! differ only in their [`Frontend`]: how they confirm, report progress and reach open buffers.

mod audit_admin;
mod edit;
mod edit_reviewed;
mod error;
mod files;
mod frontend;
mod mode;
mod policy_sync;
mod rollback;
mod rules;
mod session;
mod state;
mod trail;

pub(crate) use audit_admin::audit_options;
pub use audit_admin::{SCHEMA_SQL, SinkCheck, SinkError};
pub use edit::{EditOutcome, SeenText, unified_diff};
pub use error::OpsError;
pub use files::{FileOp, FileOpOutcome};
pub use frontend::{Approval, AutoApprove, Confirmed, Frontend, PlanItem, PlanStatus, Reviewed};
pub use mode::Mode;
pub use policy_sync::{Installed as SyncedPolicy, SyncError, SyncReport};
pub use rollback::RollbackTarget;
pub use session::{Run, Session, new_run_id};
pub use state::ScanOwner;
pub use trail::{AuditTrail, TrailError};

// The data the session's queries return; the store and the log themselves stay in this crate.
/// Run blocking work (a parse of a large buffer, git, fsync) without stalling the async runtime.
pub use jingu_audit::off_runtime;
pub use jingu_audit::{
    Divergence, Record, RecordKind, RepairReport, ReplayReport, VerifyError, VerifyReport,
};
pub use jingu_fs::workspace::{PathError, Workspace};
/// What the machine offers for confining commands (`jingu doctor`).
pub use jingu_sandbox::{Capabilities as SandboxCapabilities, probe as probe_sandbox};
pub use jingu_snapshots::{
    GcPolicy, GcReport, RollbackOutcome, ScanReport, SnapshotDetail, SnapshotInfo,
};
