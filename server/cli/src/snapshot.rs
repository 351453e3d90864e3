//! `jingu snapshot list|show|diff|scan|gc` and `jingu rollback` (DESIGN §2).

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::ops::{AutoApprove, GcPolicy, RollbackTarget, ScanOwner, Session};

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub command: SnapshotCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// List snapshots, newest first.
    List {
        /// Only snapshots touching this path (or anything under it).
        #[arg(long)]
        path: Option<String>,
        /// Only snapshots of this agent run.
        #[arg(long)]
        run: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Show one snapshot's metadata and the paths it changed.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Unified diff of a snapshot against its parent.
    Diff { id: String },
    /// Snapshot every change in the workspace since the last scan.
    Scan {
        #[arg(long)]
        json: bool,
    },
    /// Push the snapshot refs to a git remote as refs/jingu/<user>/<workspace>/… (never forced).
    Push {
        /// Any git URL or path to a repository.
        remote: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete old snapshots (never fewer than --floor).
    Gc {
        #[arg(long, default_value_t = 30)]
        keep_days: u64,
        #[arg(long, default_value_t = 200)]
        keep_count: usize,
        #[arg(long, default_value_t = 50)]
        floor: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["id", "run", "file"])))]
pub struct RollbackArgs {
    /// Undo one snapshot (any unique id prefix).
    pub id: Option<String>,
    /// Undo a whole agent run.
    #[arg(long)]
    pub run: Option<String>,
    /// Restore one file (with --to).
    #[arg(long, requires = "to")]
    pub file: Option<String>,
    /// The snapshot to restore --file to.
    #[arg(long, requires = "file")]
    pub to: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run_snapshot(args: SnapshotArgs) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let session = Session::open(&cwd)?;
    match args.command {
        SnapshotCommand::List {
            path,
            run,
            limit,
            json,
        } => {
            let list = session.snapshots(path.as_deref(), run, limit)?;
            if json {
                return print_json(&list);
            }
            for s in &list {
                println!(
                    "{}  {}  {:<9} {:<16} {}  [{}]{}",
                    s.id,
                    s.time,
                    s.op,
                    s.actor,
                    s.target,
                    s.paths.join(", "),
                    s.run_id
                        .as_deref()
                        .map(|r| format!("  run {r}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        SnapshotCommand::Show { id, json } => {
            let detail = session.snapshot_detail(&id)?;
            if json {
                return print_json(&detail);
            }
            println!("snapshot {}", detail.full_id);
            println!("time     {}", detail.info.time);
            println!("actor    {}", detail.info.actor);
            if let Some(run) = &detail.info.run_id {
                println!("run      {run}");
            }
            println!("op       {} {}", detail.info.op, detail.info.target);
            println!("paths    {}", detail.info.paths.join(", "));
            println!("\n{}", detail.message.trim_end());
            Ok(())
        }
        SnapshotCommand::Diff { id } => {
            print!("{}", session.snapshot_diff(&id)?);
            Ok(())
        }
        SnapshotCommand::Scan { json } => {
            let run = session.begin_run(None, "jingu snapshot scan")?;
            let report = session.scan(&run, "jingu snapshot scan", ScanOwner::Workspace);
            session.end_run(&run, if report.is_ok() { "ok" } else { "failed" });
            let report = report?;
            if json {
                return print_json(&report);
            }
            match &report.snapshot_id {
                Some(id) => println!("{id}"),
                None => println!("no changes"),
            }
            for s in &report.skipped {
                eprintln!("skipped {}: {}", s.path, s.reason);
            }
            Ok(())
        }
        SnapshotCommand::Push { remote, json } => {
            let run = session.begin_run(None, &format!("jingu snapshot push {remote}"))?;
            let pushed = session.push_snapshots(&run, &remote);
            session.end_run(&run, if pushed.is_ok() { "ok" } else { "failed" });
            let pushed = pushed?;
            let rejected: Vec<_> = pushed.iter().filter(|p| p.rejected.is_some()).collect();
            if json {
                print_json(&pushed)?;
            } else {
                for p in &pushed {
                    match &p.rejected {
                        None => println!("{} -> {}", p.local, p.remote),
                        Some(why) => println!("{} -> {} rejected: {why}", p.local, p.remote),
                    }
                }
            }
            if !rejected.is_empty() {
                anyhow::bail!("{} ref(s) rejected by {remote}", rejected.len());
            }
            Ok(())
        }
        SnapshotCommand::Gc {
            keep_days,
            keep_count,
            floor,
            json,
        } => {
            let run = session.begin_run(None, "jingu snapshot gc")?;
            let report = session.gc(
                &run,
                &GcPolicy {
                    keep_days,
                    keep_count,
                    floor,
                },
            );
            session.end_run(&run, if report.is_ok() { "ok" } else { "failed" });
            let report = report?;
            if json {
                return print_json(&report);
            }
            println!(
                "kept {} snapshots, removed {}, pruned {} objects",
                report.kept, report.removed, report.pruned_objects
            );
            Ok(())
        }
    }
}

pub(crate) fn run_rollback(args: RollbackArgs) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let session = Session::open(&cwd)?;
    let target = match (args.id, args.run, args.file, args.to) {
        (Some(id), None, None, None) => RollbackTarget::Snapshot(id),
        (None, Some(run), None, None) => RollbackTarget::Run(run),
        (None, None, Some(path), Some(to)) => RollbackTarget::File { path, to },
        _ => anyhow::bail!("give exactly one of ID, --run RUN_ID, or --file PATH --to ID"),
    };
    let run = session.begin_run(None, &format!("jingu rollback {target}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(session.rollback(&AutoApprove, &run, &target));
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result?;
    if args.json {
        return print_json(&outcome);
    }
    println!("{}", outcome.snapshot_id);
    for p in &outcome.restored {
        let note = if outcome.merged.contains(p) {
            " (merged with your later edits)"
        } else {
            ""
        };
        eprintln!("restored {p}{note}");
    }
    Ok(())
}
