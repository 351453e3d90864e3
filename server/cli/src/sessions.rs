//! `jingu sessions list|show|rm`: the conversations `jingu ask` saved for this workspace (in
//! Jingu's state directory), which `jingu ask --continue | --session ID` resumes.

use anyhow::Context;

use super::{CmdResult, emit, print_json};
use jingu_core::agent::conversation::{self, Conversation};
use jingu_core::ops::Session;
use jingu_providers::Message;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// The saved sessions, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One session's turns: instructions, tool calls and results, answers, run ids.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a saved session (its runs stay in the audit log and snapshots).
    Rm { id: String },
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let session = Session::open(&cwd)?;
    match args.command {
        Cmd::List { json } => {
            let all = conversation::list(&session)?;
            if json {
                return print_json(&all);
            }
            if all.is_empty() {
                emit("no saved sessions in this workspace")?;
            }
            for s in all {
                emit(&format!("{}  {} turn(s)  {}", s.id, s.turns, s.title))?;
            }
            Ok(())
        }
        Cmd::Show { id, json } => {
            let conv = Conversation::load(&session, &id)?;
            if json {
                return print_json(&conv);
            }
            emit(&format!(
                "session {} ({} turn(s))",
                conv.id,
                conv.turns.len()
            ))?;
            for t in &conv.turns {
                emit(&format!("run {}: {}", t.run_id, t.instruction))?;
            }
            for m in &conv.messages {
                let line = match m {
                    Message::User { content } => format!("user: {}", first_line(content)),
                    Message::Assistant {
                        content,
                        tool_calls,
                    } => {
                        let mut s = format!("assistant: {}", first_line(content));
                        for c in tool_calls {
                            s.push_str(&format!(
                                "\n  call {}({})",
                                c.name,
                                cut(&c.arguments.to_json_text(), 160)
                            ));
                        }
                        s
                    }
                    Message::Tool { name, content, .. } => {
                        format!("  result {name}: {}", cut(&first_line(content), 160))
                    }
                };
                emit(&line)?;
            }
            Ok(())
        }
        Cmd::Rm { id } => {
            conversation::remove(&session, &id)?;
            emit(&format!("removed session {id}"))
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push('…');
    s
}
