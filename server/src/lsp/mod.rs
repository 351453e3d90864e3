//! LSP server.
use std::path::Path;
pub fn run_stdio(_log_file: Option<&Path>) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
