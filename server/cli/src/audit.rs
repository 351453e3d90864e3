//! `jingu audit verify | log | replay` over the workspace's audit log.

use anyhow::{Context, bail};

use super::{CmdResult, print_json};
use jingu_core::ops::{AuditTrail, Record, VerifyError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first bad record and exits 1 if the log was tampered with.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print records, optionally filtered by run and kind.
    Log {
        #[arg(long = "run")]
        run_id: Option<String>,
        /// Record kind, e.g. `edit`, `command`, `policy_decision`.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Re-derive a run's final file states from its snapshots and check they match the log.
    Replay {
        run_id: String,
        #[arg(long)]
        json: bool,
    },
}

fn trail() -> anyhow::Result<AuditTrail> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    AuditTrail::open(&cwd)
        .with_context(|| format!("cannot open the workspace at {}", cwd.display()))
}

pub(crate) fn run(args: Args) -> CmdResult {
    let trail = trail()?;
    let path = trail.log_path().to_path_buf();
    match args.command {
        AuditCommand::Verify { json } => match trail.verify() {
            Ok(report) => {
                if json {
                    print_json(&serde_json::json!({"ok": true, "log": path, "report": report}))?;
                } else {
                    println!(
                        "audit log intact: {} records in {} runs ({})",
                        report.records,
                        report.runs,
                        path.display()
                    );
                    for n in &report.notes {
                        println!("note: {n}");
                    }
                }
                Ok(())
            }
            Err(VerifyError::Tampered(t)) => {
                if json {
                    print_json(
                        &serde_json::json!({"ok": false, "log": path, "first_bad_seq": t.first_bad_seq, "reason": t.reason}),
                    )?;
                }
                bail!("{} ({})", t, path.display())
            }
            Err(e) => Err(e.into()),
        },
        AuditCommand::Log { run_id, kind, json } => {
            let records: Vec<Record> = trail
                .records()?
                .into_iter()
                .filter(|r| run_id.as_deref().is_none_or(|id| r.run_id == id))
                .filter(|r| kind.as_deref().is_none_or(|k| r.kind.name() == k))
                .collect();
            if json {
                return print_json(&records);
            }
            for r in &records {
                let detail = serde_json::to_value(&r.kind).unwrap_or_default();
                let mut detail = detail.as_object().cloned().unwrap_or_default();
                detail.remove("kind");
                println!(
                    "{:>6} {} {} {}{} {:<16} {}",
                    r.seq,
                    r.time,
                    r.run_id,
                    r.subject,
                    if r.verified { "" } else { " (unverified)" },
                    r.kind.name(),
                    serde_json::Value::Object(detail)
                );
            }
            Ok(())
        }
        AuditCommand::Replay { run_id, json } => {
            let report = trail.replay(&run_id)?;
            if json {
                print_json(&report)?;
            } else {
                for f in &report.files {
                    println!(
                        "{:<40} snapshot {}  disk {:?}",
                        f.path, f.final_snapshot, f.disk
                    );
                }
                for p in &report.problems {
                    println!("problem: {p}");
                }
            }
            if !report.ok() {
                bail!(
                    "replay of run {run_id} found {} mismatches",
                    report.problems.len()
                );
            }
            if !json {
                println!(
                    "run {run_id}: {} edits replayed, final states match the log",
                    report.edits
                );
            }
            Ok(())
        }
    }
}
