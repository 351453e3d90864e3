//! `jingu policy show [--json]`: each effective policy value and the layer it came from.
//! A malformed or badly signed enterprise policy is reported and exits 1 (fail closed).
//! `jingu policy sync`: the enterprise policy and skills from the configured git repository.
//! `jingu policy sign DIR --key KEY --serial N`: write the signed manifest of a policy checkout.

use std::path::PathBuf;

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::ops::{AuditTrail, Workspace};
use jingu_policy::Policy;
use jingu_policy::manifest;

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
    /// Fetch the enterprise policy and skills from `[enterprise] policy_repo` at `ref`, check
    /// their signatures against `trusted_key`, and install them atomically (audited).
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Sign a policy repository checkout: writes DIR/jingu-policy.sig over every file but `.git/`.
    Sign {
        dir: PathBuf,
        /// Secret key file (`ed25519-secret:<hex>`, as made by `jingu skills keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Release number; must grow with every release (sync refuses one not newer).
        #[arg(long)]
        serial: u64,
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
        PolicyCommand::Sync { json } => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let trail = AuditTrail::open(&cwd)
                .with_context(|| format!("cannot open the workspace at {}", cwd.display()))?;
            let report = trail.policy_sync()?;
            if json {
                return print_json(&report);
            }
            let i = &report.installed;
            match report.status {
                "up-to-date" => println!(
                    "policy up to date: serial {} at commit {} ({} {})",
                    i.serial, i.commit, i.repo, i.reference
                ),
                _ => println!(
                    "installed policy serial {} at commit {} from {} {} ({} skill(s)) into {}{}",
                    i.serial,
                    i.commit,
                    i.repo,
                    i.reference,
                    i.skills.len(),
                    report.path.display(),
                    report
                        .previous
                        .as_ref()
                        .map(|p| format!("; was serial {}", p.serial))
                        .unwrap_or_default()
                ),
            }
            Ok(())
        }
        PolicyCommand::Sign { dir, key, serial } => {
            let key = manifest::read_secret_key(&key)?;
            let files = manifest::hash_dir(&dir).map_err(anyhow::Error::msg)?;
            if !files.contains_key(manifest::POLICY_FILE) {
                anyhow::bail!("{} has no {}", dir.display(), manifest::POLICY_FILE);
            }
            let n = files.len();
            let m = manifest::sign(files, serial, &key);
            let path = dir.join(manifest::MANIFEST_FILE);
            let text = serde_json::to_string_pretty(&m)? + "\n";
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "signed {n} file(s), serial {serial}, with {} into {}",
                m.key,
                path.display()
            );
            Ok(())
        }
    }
}
