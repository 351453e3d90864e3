//! `jingu mcp list [SERVER] [--json]` · `jingu mcp approve SERVER [--tool T]`: the MCP servers of
//! the enterprise and user config, their allowlisted tools with the decision each gets and whether
//! its description is pinned; re-approving pins a changed description (audited).

use anyhow::Context;

use super::{CmdResult, emit, print_json};
use jingu_core::agent::mcp::{self, PinStatus};
use jingu_core::ops::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Start the configured servers and list their allowlisted tools (no tool is called).
    List {
        /// Only this server.
        server: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Approve a server's tools as they are now, pinning their descriptions (after a change).
    Approve {
        server: String,
        /// Only this tool (its name on the server, e.g. `read_text_file`).
        #[arg(long)]
        tool: Option<String>,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let session = Session::open(&cwd)?;
    match args.command {
        Cmd::List { server, json } => {
            let reports = runtime()?.block_on(mcp::inspect(&session, server.as_deref()))?;
            if json {
                return print_json(&reports);
            }
            if reports.is_empty() {
                emit("no MCP servers are configured (enterprise or user config, `[mcp.NAME]`)")?;
            }
            for r in &reports {
                match &r.error {
                    Some(e) => emit(&format!("{}: unavailable: {e}", r.server))?,
                    None => emit(&format!("{}: {} tool(s)", r.server, r.tools.len()))?,
                }
                for t in &r.tools {
                    let pin = match t.pin {
                        PinStatus::New => "not yet approved",
                        PinStatus::Pinned => "pinned",
                        PinStatus::Changed => {
                            "CHANGED since approval: refused until `jingu mcp approve`"
                        }
                    };
                    emit(&format!(
                        "  {}  {}  {pin}",
                        t.name,
                        serde_json::to_value(t.decision)?
                            .as_str()
                            .unwrap_or_default()
                    ))?;
                }
            }
            Ok(())
        }
        Cmd::Approve { server, tool } => {
            let done = runtime()?.block_on(mcp::approve(&session, &server, tool.as_deref()))?;
            if done.is_empty() {
                emit("nothing to approve: every tool is pinned as it is")?;
            }
            for name in done {
                emit(&format!("approved {name}"))?;
            }
            Ok(())
        }
    }
}
