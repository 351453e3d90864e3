//! Errors of the ACP front end, each mapped to a JSON-RPC error with a clear message.

use agent_client_protocol::Error as RpcError;

use jingu_core::agent::AgentError;
use jingu_core::ops::OpsError;

/// JSON-RPC code for "resource not found" used by ACP (`-32002`).
const RESOURCE_NOT_FOUND: i32 = -32002;

#[derive(Debug, thiserror::Error)]
pub enum AcpError {
    #[error("unknown session `{0}` (in this process or saved for this workspace)")]
    UnknownSession(String),
    #[error("session `{0}` is already answering a prompt; cancel it or wait")]
    Busy(String),
    #[error("cwd must be an absolute path, got `{0}`")]
    RelativeCwd(String),
    #[error("cannot open the workspace {0}")]
    Workspace(String),
    #[error("session `{id}` belongs to the workspace {root}")]
    OtherWorkspace { id: String, root: String },
    #[error("the identity changed from `{was}` to `{now}`; start a new session")]
    IdentityChanged { was: String, now: String },
    #[error("unknown mode `{0}` (expected read-only, ask or auto)")]
    UnknownMode(String),
    #[error("model `{model}` is not allowed by the policy (allowed: {allowed})")]
    ModelNotAllowed { model: String, allowed: String },
    #[error("unknown config option `{0}` (this agent offers `model`)")]
    UnknownConfigOption(String),
    #[error("config option `{0}` takes one of its values' ids")]
    BadConfigValue(String),
    #[error("the prompt has no text")]
    EmptyPrompt,
    #[error("invalid session/list cursor `{0}` (pass back a nextCursor this agent returned)")]
    BadCursor(String),
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    Agent(#[from] AgentError),
}

impl From<AcpError> for RpcError {
    fn from(e: AcpError) -> Self {
        let message = e.to_string();
        match e {
            AcpError::UnknownSession(_) => RpcError::new(RESOURCE_NOT_FOUND, message),
            AcpError::RelativeCwd(_)
            | AcpError::UnknownMode(_)
            | AcpError::EmptyPrompt
            | AcpError::ModelNotAllowed { .. }
            | AcpError::UnknownConfigOption(_)
            | AcpError::BadConfigValue(_)
            | AcpError::BadCursor(_) => RpcError::new(-32602, message),
            _ => RpcError::new(-32603, message),
        }
    }
}
