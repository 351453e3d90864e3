//! The `jingu` command line (DESIGN §2): clap definitions here, one module per command group.
//! Exit codes: 0 ok, 1 refused or failed (message on stderr), 2 usage error (clap's own).
//!
//! Invariant: parsing, printing and exit codes only; every action goes through `jingu_core::ops`.

mod acp;
mod ask;
mod audit;
mod doctor;
mod edit;
mod mcp;
mod policy;
mod providers;
mod review;
mod sessions;
mod skills;
mod snapshot;
mod symbols;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "jingu",
    version,
    about = "An enterprise-grade AI coding agent that speaks LSP"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Language Server Protocol over stdio.
    Lsp {
        /// Accepted for clients that append it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
        /// Write logs to this file instead of stderr.
        #[arg(long)]
        log_file: Option<std::path::PathBuf>,
    },
    /// Serve the Agent Client Protocol over stdio (Zed, JetBrains AI Assistant, agent plugins).
    Acp(acp::Args),
    /// Ask the agent to do something; prints the run id.
    Ask(ask::Args),
    /// List the symbols of a file.
    Symbols(symbols::Args),
    /// Apply one RealDoc edit (by symbol, line range or keyword), snapshotted.
    Edit(edit::Args),
    /// Inspect snapshots: list, show, diff, scan, gc.
    Snapshot(snapshot::SnapshotArgs),
    /// List, verify, sign Skills bundles, or make a signing key.
    Skills(skills::Args),
    /// List and check model providers.
    Providers(providers::Args),
    /// Check the set-up: workspace, policy, identity, providers, sandbox, local model.
    Doctor(doctor::Args),
    /// Show the effective policy, each value with the layer it came from.
    Policy(policy::Args),
    /// Verify, list or replay the tamper-evident audit log.
    Audit(audit::Args),
    /// Undo one snapshot, a whole agent run, or restore a file (a rollback is itself a snapshot).
    Rollback(snapshot::RollbackArgs),
    /// Review the working-tree diff against a base revision.
    Review(review::Args),
    /// List the configured MCP servers' tools; re-approve a changed tool description.
    Mcp(mcp::Args),
    /// List, show or remove saved conversations (`jingu ask --continue | --session ID`).
    Sessions(sessions::Args),
}

/// Errors a command reports before exiting with status 1.
pub type CmdResult = anyhow::Result<()>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before the first parse: installed queries replace the compiled-in ones.
    jingu_index::queries::install();
    if !matches!(cli.command, Command::Lsp { .. } | Command::Acp(_)) {
        init_cli_logging();
    }
    // Long-lived or model-talking commands hold provider keys and spawn commands: no core
    // dumps, no ptrace or /proc/PID/mem|environ by same-uid processes (the commands they run).
    if matches!(
        cli.command,
        Command::Lsp { .. } | Command::Acp(_) | Command::Ask(_) | Command::Review(_)
    ) && let Err(e) = jingu_core::harden_current_process()
    {
        eprintln!("jingu: cannot mark the process non-dumpable: {e}");
        return ExitCode::from(1);
    }
    let result = match cli.command {
        Command::Lsp { stdio: _, log_file } => jingu_lsp::run_stdio(log_file.as_deref()),
        Command::Acp(args) => acp::run(args),
        Command::Ask(args) => ask::run(args),
        Command::Review(args) => review::run(args),
        Command::Symbols(args) => symbols::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Providers(args) => providers::run(args),
        Command::Skills(args) => skills::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Edit(args) => edit::run(args),
        Command::Snapshot(args) => snapshot::run_snapshot(args),
        Command::Rollback(args) => snapshot::run_rollback(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Sessions(args) => sessions::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jingu: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs for one-shot commands go to stderr; `JINGU_LOG` (as for `jingu lsp`), else `RUST_LOG`,
/// filters them (default: warnings). `JINGU_LOG=debug` shows, among others, the model's output.
pub fn init_cli_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JINGU_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
}

/// Print a value as one JSON document on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> CmdResult {
    let text = serde_json::to_string_pretty(value)?;
    emit(&text)
}

/// Write one line to stdout. A closed pipe (`jingu symbols … | head`) ends output quietly instead
/// of panicking as `println!` does.
pub fn emit(line: &str) -> CmdResult {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
