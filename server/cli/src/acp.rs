//! `jingu acp`: serve the Agent Client Protocol over stdio (Zed, JetBrains AI Assistant, Neovim
//! agent plugins). The workspace is the `cwd` each session names, not the process's.

use super::CmdResult;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write logs to this file instead of stderr (stdout carries only protocol messages).
    #[arg(long)]
    pub log_file: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", path.display()))?;
            // Fails only if logging is already set up (to stderr), which is still never stdout.
            let _ = tracing_subscriber::fmt()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .try_init();
        }
        None => super::init_cli_logging(),
    }
    jingu_acp::run_stdio()
}
