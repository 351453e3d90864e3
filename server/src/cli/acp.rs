//! `jingu acp`: serve the Agent Client Protocol over stdio (Zed, JetBrains AI Assistant, Neovim
//! agent plugins). The workspace is the `cwd` each session names, not the process's.

use super::CmdResult;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write logs to this file instead of stderr (stdout carries only protocol messages).
    #[arg(long)]
    pub log_file: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> CmdResult {
    if let Some(path) = &args.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", path.display()))?;
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    }
    crate::acp::run_stdio()
}
