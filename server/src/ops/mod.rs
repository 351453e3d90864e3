//! Operations: the one code path every front end (CLI, LSP, agent) takes to edit, snapshot and roll
//! back, with the workspace confined, the policy deciding and every action audited. Front ends
//! differ only in their [`Frontend`]: how they confirm, report progress and reach open buffers.

mod edit;
mod error;
mod files;
mod frontend;
mod rollback;
mod session;

pub use edit::{EditOutcome, SeenText, unified_diff};
pub use error::OpsError;
pub use files::{FileOp, FileOpOutcome};
pub use frontend::{Approval, AutoApprove, Frontend};
pub use rollback::RollbackTarget;
pub use session::{Run, Session};
