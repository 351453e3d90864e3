//! `workspace/executeCommand`: Jingu's commands (DESIGN §3), one JSON object argument each.

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny};

use super::server::Backend;

pub async fn execute(_backend: &Backend, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
    Err(Error::invalid_params(format!(
        "unknown command `{}` (known: {})",
        params.command,
        super::capabilities::COMMANDS.join(", ")
    )))
}
