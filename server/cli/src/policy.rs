//! `jingu policy show [--json]`: each effective policy value and the layer it came from.
//! A malformed or badly signed enterprise policy is reported and exits 1 (fail closed).

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::ops::Workspace;
use jingu_policy::Policy;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print every effective value with the layer (enterprise, user, workspace, default) it came from.
    Show {
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(args: Args) -> CmdResult {
    match args.command {
        PolicyCommand::Show { json } => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let ws = Workspace::discover(&cwd)
                .with_context(|| format!("cannot open the workspace at {}", cwd.display()))?;
            let policy = Policy::load(&ws.root)?;
            if json {
                return print_json(&policy.show_json());
            }
            print!("{}", policy.show_text());
            Ok(())
        }
    }
}
