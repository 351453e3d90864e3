//! `jingu ask "INSTRUCTION" [--path P] [--symbol S] [--lines A-B] [--provider NAME] [--yes]`:
//! the agent in the terminal. Progress and streamed model text go to stderr, each proposed edit is
//! shown as a diff and applied after a y/n answer (or `--yes`); the run id is printed on stdout.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::agent::conversation::{Conversation, TurnInfo};
use jingu_core::agent::{self, AskRequest, RunConfig, StopReason};
use jingu_core::ops::{Approval, Frontend, Mode, Session};
use jingu_providers::CancelToken;
use jingu_realdoc::Target;

#[derive(Debug, clap::Args)]
pub struct Args {
    pub instruction: String,
    /// The file the instruction is about.
    #[arg(long)]
    pub path: Option<String>,
    /// A symbol in --path to focus on (name path).
    #[arg(long, requires = "path")]
    pub symbol: Option<String>,
    /// A line range `A-B` in --path to focus on.
    #[arg(long, requires = "path")]
    pub lines: Option<String>,
    /// Use this provider (it must be allowed by policy).
    #[arg(long)]
    pub provider: Option<String>,
    /// Follow this skill (see `jingu skills list`); default: the best match, if any.
    #[arg(long)]
    pub skill: Option<String>,
    /// Approve what policy says to ask about (never what it denies).
    #[arg(long)]
    pub yes: bool,
    /// Most model turns.
    #[arg(long, default_value_t = 24)]
    pub max_steps: usize,
    /// Continue this workspace's most recent session (same context: messages, tool calls, results).
    #[arg(long = "continue", conflicts_with = "session")]
    pub continue_last: bool,
    /// Continue session ID (see `jingu sessions list`).
    #[arg(long)]
    pub session: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Also print the project instructions (AGENTS.md, CLAUDE.md, …) the model is given.
    #[arg(long)]
    pub verbose: bool,
    /// `read-only`: edits, commands and MCP tools are denied for this run; `ask`: policy as
    /// configured (the default); `auto`: edits the policy asks about are applied without asking
    /// (commands still ask). No mode overrides a deny or answers an `ask-human`.
    #[arg(long, default_value = "ask", value_parser = parse_mode)]
    pub mode: Mode,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    Mode::parse(s).ok_or_else(|| {
        format!(
            "unknown mode `{s}`; expected one of: {}",
            Mode::ALL.map(Mode::id).join(", ")
        )
    })
}

struct Terminal {
    yes: bool,
    mode: Mode,
    color: bool,
    /// Whether stdin can answer a prompt.
    interactive: bool,
}

impl Frontend for Terminal {
    async fn approve(&self, approval: &Approval) -> bool {
        eprintln!("\n{}", approval.summary);
        eprintln!("{}", colorize(&approval.detail, self.color));
        if self.yes {
            eprintln!("(approved by --yes)");
            return true;
        }
        if self.mode.pre_approves(approval.tool) {
            eprintln!("(approved by --mode {})", self.mode.id());
            return true;
        }
        if !self.interactive {
            eprintln!(
                "not approved: no terminal to ask on (pass --yes to approve what policy asks about)"
            );
            return false;
        }
        confirm(format!("Apply this {}? [y/N] ", approval.tool)).await
    }

    /// `--yes` does not answer this: only a person at a terminal does.
    async fn approve_human(&self, approval: &Approval) -> bool {
        eprintln!("\n{}", approval.summary);
        eprintln!("{}", colorize(&approval.detail, self.color));
        if !self.interactive {
            eprintln!("not approved: this needs a person at a terminal (--yes cannot approve it)");
            return false;
        }
        confirm(format!("Approve this {} yourself? [y/N] ", approval.tool)).await
    }

    fn progress(&self, message: &str) {
        eprintln!("· {message}");
    }

    fn reasoning(&self, delta: &str) {
        eprint!("{delta}");
    }
}

/// Ask `question` on the terminal; only an explicit yes is yes. stdin is read off the runtime.
async fn confirm(question: String) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer
    })
    .await
    .unwrap_or_default();
    matches!(read.trim(), "y" | "Y" | "yes")
}

fn colorize(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.lines()
        .map(|l| match l.as_bytes().first() {
            Some(b'+') if !l.starts_with("+++") => format!("\x1b[32m{l}\x1b[0m"),
            Some(b'-') if !l.starts_with("---") => format!("\x1b[31m{l}\x1b[0m"),
            Some(b'@') => format!("\x1b[36m{l}\x1b[0m"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut session = Session::open(&cwd)?;
    // A mode only tightens the merged policy (read-only), or answers edit confirmations (auto).
    args.mode.restrict(&mut session.policy);
    let lines = match &args.lines {
        Some(spec) => match Target::lines_from_str(spec)? {
            Target::Lines { start, end } => Some((start, end)),
            _ => None,
        },
        None => None,
    };
    let mut conversation = if args.continue_last {
        Conversation::latest(&session)?
    } else if let Some(id) = &args.session {
        Conversation::load(&session, id)?
    } else {
        Conversation::new()
    };
    let req = AskRequest {
        instruction: args.instruction.clone(),
        path: args
            .path
            .as_ref()
            .map(|p| cwd.join(p).display().to_string()),
        symbol: args.symbol.clone(),
        lines,
        provider: args.provider.clone(),
        skill: args.skill.clone(),
        history: conversation.messages.clone(),
        show_context: args.verbose,
        ..Default::default()
    };
    let fe = Terminal {
        yes: args.yes,
        mode: args.mode,
        color: std::io::stderr().is_terminal(),
        interactive: std::io::stdin().is_terminal(),
    };
    let cfg = RunConfig {
        max_steps: args.max_steps,
        ..RunConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let cancel = CancelToken::new();
    let outcome = runtime.block_on(async {
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ncancelling…");
                ctrl_c.cancel();
            }
        });
        agent::ask(&session, &fe, &req, &cfg, cancel).await
    })?;
    eprintln!();
    conversation.push_turn(
        TurnInfo {
            instruction: args.instruction.clone(),
            run_id: outcome.run_id.clone(),
            summary: outcome.summary.clone(),
            time: Conversation::now(),
            edits: Vec::new(),
        },
        outcome.messages.clone(),
    );
    // The run happened whatever the save does; a failed save is reported, not fatal.
    let saved = conversation.save(&session);
    if let Err(e) = &saved {
        eprintln!("warning: the session was not saved: {e}");
    }
    if args.json {
        let mut value = serde_json::to_value(&outcome)?;
        if saved.is_ok()
            && let Some(obj) = value.as_object_mut()
        {
            obj.insert("session".into(), conversation.id.clone().into());
        }
        print_json(&value)?;
    } else {
        if saved.is_ok() {
            eprintln!(
                "session {} (turn {}; continue with `jingu ask --continue \"…\"`)",
                conversation.id,
                conversation.turns.len()
            );
        }
        // The model's words, then what actually happened (from the run, not from the model).
        if !outcome.summary.is_empty() {
            let who = if outcome.stop == StopReason::Finished {
                "model"
            } else {
                "run"
            };
            eprintln!("{who}: {}", outcome.summary);
        }
        for e in &outcome.edits {
            eprintln!("edited {} (snapshot {})", e.path, e.snapshot_id);
        }
        for f in &outcome.failed_edits {
            eprintln!("not applied: {}: {}", f.path, f.reason);
        }
        for f in &outcome.flags {
            eprintln!("warning: {f}");
        }
        eprintln!("{}", facts(&outcome));
        if !outcome.edits.is_empty() {
            eprintln!("undo with `jingu rollback --run {}`", outcome.run_id);
        }
        println!("{}", outcome.run_id);
    }
    match outcome.stop {
        StopReason::Finished if outcome.edits.is_empty() && !outcome.failed_edits.is_empty() => {
            anyhow::bail!(
                "nothing changed: every edit was refused or rejected ({})",
                outcome.failed_edits.len()
            )
        }
        StopReason::Finished => Ok(()),
        other => anyhow::bail!(
            "the run did not finish: {}",
            serde_json::to_string(&other).unwrap_or_default()
        ),
    }
}

/// One line of facts about a run: edits applied and not, invalid calls, steps and tokens.
fn facts(o: &agent::RunOutcome) -> String {
    let changed = if o.edits.is_empty() {
        "no files changed".to_string()
    } else {
        format!("{} edit(s) applied", o.edits.len())
    };
    let mut parts = vec![changed];
    if !o.failed_edits.is_empty() {
        parts.push(format!("{} refused or rejected", o.failed_edits.len()));
    }
    if o.invalid_calls > 0 {
        parts.push(format!("{} invalid tool call(s)", o.invalid_calls));
    }
    parts.push(format!(
        "{} step(s), {} input / {} output tokens",
        o.steps, o.usage.input_tokens, o.usage.output_tokens
    ));
    parts.join("; ")
}
