//! `jingu audit verify [--sink] | log | replay | repair | flush | sink init` over the workspace's
//! audit log and its configured sinks.

use anyhow::{Context, bail};

use super::{CmdResult, print_json};
use crate::audit::{self, LOG_FILE, Record, SnapshotSource, VerifyError};
use crate::workspace::Workspace;

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

/// Opens the snapshot store of a workspace (supplied by the caller so this module does not depend
/// on the store's construction).
pub type OpenSnapshots<'a> = &'a dyn Fn(&Workspace) -> anyhow::Result<Box<dyn SnapshotSource>>;

fn workspace() -> anyhow::Result<Workspace> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Workspace::discover(&cwd)
        .with_context(|| format!("cannot open the workspace at {}", cwd.display()))
}

/// Verify first: `log` and `replay` refuse to present a tampered log as truth.
fn verified_records(ws: &Workspace) -> anyhow::Result<Vec<Record>> {
    let path = ws.state_dir.join(LOG_FILE);
    audit::verify(&path)?;
    Ok(audit::read_records(&path)?)
}

pub fn run(args: Args, open_snapshots: OpenSnapshots<'_>) -> CmdResult {
    if let AuditCommand::Sink {
        command: SinkCommand::Init {
            print_sql: true, ..
        },
    } = &args.command
    {
        // The schema needs no workspace.
        return super::emit(audit::sink::SCHEMA_SQL.trim_end());
    }
    let ws = workspace()?;
    match args.command {
        AuditCommand::Verify { sink, json } => verify(&ws, sink, json),
        AuditCommand::Repair { json } => repair(&ws, json),
        AuditCommand::Flush { json } => flush(&ws, json),
        AuditCommand::Sink {
            command: SinkCommand::Init { print_sql, url },
        } => sink_init(&ws, print_sql, url),
        AuditCommand::Log { run_id, kind, json } => {
            let records: Vec<Record> = verified_records(&ws)?
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
            let records = verified_records(&ws)?;
            let store = open_snapshots(&ws)?;
            let root = ws.root.clone();
            let disk = move |rel: &str| std::fs::read(root.join(rel)).ok();
            let report = audit::replay(&records, &run_id, store.as_ref(), &disk)?;
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

fn policy(ws: &Workspace) -> anyhow::Result<crate::policy::Policy> {
    Ok(crate::policy::Policy::load(&ws.root)?)
}

/// The public half of the configured checkpoint key (unreadable but configured is an error).
fn checkpoint_key(
    p: &crate::policy::Policy,
) -> anyhow::Result<Option<ed25519_dalek::VerifyingKey>> {
    match &p.audit.checkpoint_key_file {
        None => Ok(None),
        Some(k) => Ok(Some(audit::CheckpointKey::read(&k.value)?.verifying_key())),
    }
}

/// An audit handle for maintenance commands, stamped with the caller's identity.
fn open_log(
    ws: &Workspace,
    p: &crate::policy::Policy,
    run: &str,
) -> anyhow::Result<audit::AuditLog> {
    let id = crate::identity::Identity::resolve(&p.identity)?;
    Ok(audit::AuditLog::open_with(
        &ws.state_dir,
        audit::AuditContext {
            run_id: run.to_string(),
            subject: id.subject.clone(),
            verified: id.verified,
            policy_hash: p.hash(),
        },
        &p.audit.options(&ws.root),
    )?)
}

fn local_lines(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    match std::fs::read(path) {
        Ok(b) => Ok(String::from_utf8_lossy(&b)
            .lines()
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn verify(ws: &Workspace, with_sink: bool, json: bool) -> CmdResult {
    let path = ws.state_dir.join(LOG_FILE);
    let p = policy(ws)?;
    let key = checkpoint_key(&p)?;
    let mut problems: Vec<String> = Vec::new();
    let mut out = serde_json::json!({"log": path});
    if with_sink {
        if p.audit.sinks.is_empty() {
            bail!("no [audit.sink] is configured, so there is nothing to compare with");
        }
        let lines = local_lines(&path)?;
        let chain = audit::chain_id(&ws.state_dir);
        let mut sinks = Vec::new();
        for s in &p.audit.sinks {
            let url = s.value.display_url();
            let sink = audit::sink::get(&s.value).map_err(anyhow::Error::new)?;
            match audit::compare_with_sink(&lines, &sink, &chain) {
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
    match audit::verify_with(&path, key.as_ref()) {
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
        Err(VerifyError::Tampered(t)) => {
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

fn repair(ws: &Workspace, json: bool) -> CmdResult {
    let p = policy(ws)?;
    let log = open_log(ws, &p, &audit::new_run_id())?;
    let report = log.repair()?;
    if json {
        print_json(&report)?;
    } else {
        println!("{}", report.message);
    }
    Ok(())
}

fn flush(ws: &Workspace, json: bool) -> CmdResult {
    let p = policy(ws)?;
    if p.audit.sinks.is_empty() {
        bail!("no [audit.sink] is configured");
    }
    let log = open_log(ws, &p, &audit::new_run_id())?;
    let results = log.flush_sinks()?;
    let mut failed = Vec::new();
    let mut rows = Vec::new();
    for (url, r) in results {
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

fn sink_init(ws: &Workspace, _print_sql: bool, url: Option<String>) -> CmdResult {
    let p = policy(ws)?;
    let cfg = match (url, p.audit.sinks.first()) {
        (Some(url), _) => audit::SinkConfig {
            kind: "postgres".into(),
            url,
            password_env: std::env::var_os("PGPASSWORD").map(|_| "PGPASSWORD".to_string()),
            password_file: None,
            required: true,
            organisation: String::new(),
            ca_file: p.audit.sinks.first().and_then(|s| s.value.ca_file.clone()),
        },
        (None, Some(s)) => s.value.clone(),
        (None, None) => bail!("no [audit.sink] is configured; pass --url or use --print-sql"),
    };
    let sink = audit::sink::get(&cfg).map_err(anyhow::Error::new)?;
    sink.init_schema().map_err(anyhow::Error::new)?;
    println!("audit sink schema applied at {}", cfg.display_url());
    Ok(())
}
