//! `jingu audit verify [--sink] | log | replay | repair | flush | sink init` over the workspace's
//! audit log and its configured sinks.

use anyhow::{Context, bail};

use super::{CmdResult, print_json};
use jingu_core::ops::{AuditTrail, Record, SCHEMA_SQL, VerifyError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and checkpoints; names the first bad record and exits 1 if the log
    /// was tampered with. `--sink` also compares it with every configured sink's copy.
    Verify {
        #[arg(long)]
        sink: bool,
        #[arg(long)]
        json: bool,
    },
    /// Seal a torn tail (a write cut off by a crash or a full disk) or rebuild an unreadable
    /// head, keeping what was cut in a `repair` record. Refuses any other damage.
    Repair {
        #[arg(long)]
        json: bool,
    },
    /// Send spooled records (written while a sink was unreachable) to every sink, in order.
    Flush {
        #[arg(long)]
        json: bool,
    },
    /// The sink's schema.
    Sink {
        #[command(subcommand)]
        command: SinkCommand,
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

#[derive(Debug, clap::Subcommand)]
pub enum SinkCommand {
    /// Apply the append-only schema to the configured sink (or print it with --print-sql).
    Init {
        #[arg(long)]
        print_sql: bool,
        /// Apply as this (owner) URL instead of the configured sink's writer URL; the password
        /// comes from $PGPASSWORD.
        #[arg(long)]
        url: Option<String>,
    },
}

fn trail() -> anyhow::Result<AuditTrail> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    AuditTrail::open(&cwd)
        .with_context(|| format!("cannot open the workspace at {}", cwd.display()))
}

pub(crate) fn run(args: Args) -> CmdResult {
    if let AuditCommand::Sink {
        command: SinkCommand::Init {
            print_sql: true, ..
        },
    } = &args.command
    {
        // The schema needs no workspace.
        return super::emit(SCHEMA_SQL.trim_end());
    }
    let trail = trail()?;
    match args.command {
        AuditCommand::Verify { sink, json } => verify(&trail, sink, json),
        AuditCommand::Repair { json } => {
            let report = trail.repair()?;
            if json {
                print_json(&report)
            } else {
                println!("{}", report.message);
                Ok(())
            }
        }
        AuditCommand::Flush { json } => flush(&trail, json),
        AuditCommand::Sink {
            command: SinkCommand::Init { url, .. },
        } => {
            let at = trail.init_sink_schema(url)?;
            println!("audit sink schema applied at {at}");
            Ok(())
        }
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

fn verify(trail: &AuditTrail, with_sink: bool, json: bool) -> CmdResult {
    let path = trail.log_path().to_path_buf();
    let mut problems: Vec<String> = Vec::new();
    let mut out = serde_json::json!({"log": path});
    if with_sink {
        if !trail.has_sinks()? {
            bail!("no [audit.sink] is configured, so there is nothing to compare with");
        }
        let mut sinks = Vec::new();
        for check in trail.compare_with_sinks()? {
            let url = check.url;
            match check.result {
                Ok(None) => sinks.push(serde_json::json!({"url": url, "ok": true})),
                Ok(Some(d)) => {
                    problems.push(format!("the sink {url} disagrees at {d}"));
                    sinks.push(serde_json::json!({"url": url, "ok": false, "divergence": d}));
                }
                Err(e) => {
                    problems.push(e.to_string());
                    sinks
                        .push(serde_json::json!({"url": url, "ok": false, "error": e.to_string()}));
                }
            }
        }
        out["sinks"] = serde_json::Value::Array(sinks);
    }
    match trail.verify_signed() {
        Ok(report) => {
            if !json {
                println!(
                    "audit log {}: {} records in {} runs, {} signed checkpoints checked ({})",
                    if problems.is_empty() {
                        "intact"
                    } else {
                        "chain consistent"
                    },
                    report.records,
                    report.runs,
                    report.checkpoints,
                    path.display()
                );
                for n in &report.notes {
                    println!("note: {n}");
                }
            }
            out["report"] = serde_json::to_value(&report)?;
        }
        Err(jingu_core::ops::TrailError::Verify(VerifyError::Tampered(t))) => {
            out["first_bad_seq"] = t.first_bad_seq.into();
            out["reason"] = t.reason.clone().into();
            problems.insert(0, t.to_string());
        }
        Err(e) => return Err(e.into()),
    }
    if with_sink && problems.is_empty() && !json {
        println!("every configured sink holds exactly this chain");
    }
    out["ok"] = problems.is_empty().into();
    if json {
        print_json(&out)?;
    }
    if !problems.is_empty() {
        bail!("{} ({})", problems.join("; "), path.display());
    }
    Ok(())
}

fn flush(trail: &AuditTrail, json: bool) -> CmdResult {
    if !trail.has_sinks()? {
        bail!("no [audit.sink] is configured");
    }
    let mut failed = Vec::new();
    let mut rows = Vec::new();
    for (url, r) in trail.flush()? {
        match r {
            Ok(n) => {
                if !json {
                    println!("{url}: {n} spooled records sent");
                }
                rows.push(serde_json::json!({"url": url, "sent": n}));
            }
            Err(e) => {
                rows.push(serde_json::json!({"url": url, "error": e.to_string()}));
                failed.push(e.to_string());
            }
        }
    }
    if json {
        print_json(&rows)?;
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}
