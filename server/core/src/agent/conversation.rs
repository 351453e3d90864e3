//! Conversations that outlive a process: the messages of every turn (instructions, the model's
//! replies and tool calls, tool results) and the run ids, kept in the state directory
//! (`sessions/<id>.json`, outside the workspace, replaced whole on every save). `jingu ask
//! --continue | --session ID` resumes one with the same context; `jingu sessions list|show|rm`.
//!
//! A resumed conversation is compacted to a budget before it is sent: older tool results are
//! replaced by a one-line note first, then the oldest whole turns are dropped, so a long session
//! keeps working instead of failing at the provider's context limit. What is stored stays whole.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ops::Session;
use jingu_providers::Message;

/// Directory (in the state directory) of the saved conversations.
pub const SESSIONS_DIR: &str = "sessions";

/// Default budget for the history sent with a resumed conversation, in estimated tokens.
pub const HISTORY_TOKEN_BUDGET: usize = 48_000;

/// Tool results of this many most recent turns are never compacted.
const KEEP_RECENT_TURNS: usize = 2;

/// One instruction and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnInfo {
    pub instruction: String,
    pub run_id: String,
    pub summary: String,
    /// Seconds since the Unix epoch when the turn ended.
    pub time: u64,
    /// The edits the turn applied, in order, with the file's text before and after (so a client
    /// reloading the session can show each edit's diff). Files too large are kept without text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<TurnEdit>,
}

/// Longest file text kept (each of before and after) for a turn's edit.
pub const MAX_EDIT_TEXT_BYTES: usize = 256 * 1024;

/// One applied edit of a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnEdit {
    /// Workspace-relative path.
    pub path: String,
    pub snapshot_id: String,
    /// The file before and after; `None` when it was larger than [`MAX_EDIT_TEXT_BYTES`].
    #[serde(default)]
    pub old_text: Option<String>,
    #[serde(default)]
    pub new_text: Option<String>,
}

impl TurnEdit {
    pub fn new(path: &str, snapshot_id: &str, old: &str, new: &str) -> Self {
        let keep = |t: &str| (t.len() <= MAX_EDIT_TEXT_BYTES).then(|| t.to_string());
        TurnEdit {
            path: path.to_string(),
            snapshot_id: snapshot_id.to_string(),
            old_text: keep(old),
            new_text: keep(new),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub turns: Vec<TurnInfo>,
    /// Every message of every turn, in order (the system prompt is rebuilt each turn).
    pub messages: Vec<Message>,
    /// The model chosen for this conversation (`provider/model`), when one was picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("no session `{0}` in this workspace (see `jingu sessions list`)")]
    NotFound(String),
    #[error("session id `{0}` is not valid")]
    BadId(String),
    #[error("no earlier session in this workspace to continue")]
    NoneYet,
    #[error("session file {path}: {reason}")]
    Io { path: String, reason: String },
}

fn dir(session: &Session) -> PathBuf {
    session.workspace.state_dir.join(SESSIONS_DIR)
}

/// Ids are Jingu run ids (time-ordered, `[0-9a-z-]`); anything else could name another file.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn path(session: &Session, id: &str) -> Result<PathBuf, ConversationError> {
    if !valid_id(id) {
        return Err(ConversationError::BadId(id.to_string()));
    }
    Ok(dir(session).join(format!("{id}.json")))
}

fn io(path: &std::path::Path, e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl Conversation {
    pub fn new() -> Self {
        Conversation {
            id: crate::ops::new_run_id(),
            turns: Vec::new(),
            messages: Vec::new(),
            model: None,
        }
    }

    pub fn load(session: &Session, id: &str) -> Result<Self, ConversationError> {
        let p = path(session, id)?;
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConversationError::NotFound(id.to_string()));
            }
            Err(e) => return Err(io(&p, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| io(&p, e))
    }

    /// The most recently updated conversation of this workspace.
    pub fn latest(session: &Session) -> Result<Self, ConversationError> {
        let newest = list(session)?
            .into_iter()
            .max_by(|a, b| a.updated.cmp(&b.updated).then(a.id.cmp(&b.id)))
            .ok_or(ConversationError::NoneYet)?;
        Self::load(session, &newest.id)
    }

    /// Record a finished turn: `messages` are the turn's own messages (from its instruction on).
    /// A run stopped between a tool call and its result gets a result saying so, so the history
    /// stays a valid transcript for every provider.
    pub fn push_turn(&mut self, turn: TurnInfo, messages: Vec<Message>) {
        self.turns.push(turn);
        let mut pending: Vec<jingu_providers::ToolCall> = Vec::new();
        for m in messages {
            match &m {
                Message::Tool { tool_call_id, .. } => pending.retain(|c| &c.id != tool_call_id),
                _ => {
                    for call in pending.drain(..) {
                        self.messages.push(Message::tool_result(
                            &call,
                            "error: the run stopped before this call ran",
                        ));
                    }
                }
            }
            if let Message::Assistant { tool_calls, .. } = &m {
                pending = tool_calls.clone();
            }
            self.messages.push(m);
        }
        for call in pending {
            self.messages.push(Message::tool_result(
                &call,
                "error: the run stopped before this call ran",
            ));
        }
    }

    /// Seconds since the Unix epoch, for [`TurnInfo::time`].
    pub fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Written whole (temp file, fsync, rename): a crash leaves the old or the new conversation.
    pub fn save(&self, session: &Session) -> Result<(), ConversationError> {
        let p = path(session, &self.id)?;
        let d = dir(session);
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        let bytes = serde_json::to_vec(self).map_err(|e| io(&p, e))?;
        jingu_fs::durable::atomic_write(&p, &bytes, Some(0o600)).map_err(|e| io(&p, e))
    }

    /// The history to send with the next instruction, compacted to `budget` estimated tokens.
    pub fn history(&self, budget: usize) -> Vec<Message> {
        compact(&self.messages, budget)
    }
}

impl Default for Conversation {
    fn default() -> Self {
        Self::new()
    }
}

/// One line of `jingu sessions list`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: String,
    pub turns: usize,
    /// Seconds since the Unix epoch of the last turn.
    pub updated: u64,
    /// The first instruction, cut to one line.
    pub title: String,
}

impl Listed {
    /// `updated` as RFC 3339 UTC (what ACP's `session/list` reports).
    pub fn updated_at(&self) -> String {
        jingu_audit::format_unix_millis(
            self.updated.saturating_mul(1000).min(i64::MAX as u64) as i64
        )
    }
}

pub fn list(session: &Session) -> Result<Vec<Listed>, ConversationError> {
    let d = dir(session);
    let entries = match std::fs::read_dir(&d) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&d, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".json") else {
            continue;
        };
        if !valid_id(id) {
            continue;
        }
        let conv = Conversation::load(session, id)?;
        out.push(Listed {
            id: conv.id.clone(),
            turns: conv.turns.len(),
            updated: conv.turns.last().map(|t| t.time).unwrap_or_default(),
            title: conv
                .turns
                .first()
                .map(|t| {
                    t.instruction
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .chars()
                        .take(80)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.id.cmp(&a.id)));
    Ok(out)
}

pub fn remove(session: &Session, id: &str) -> Result<(), ConversationError> {
    let p = path(session, id)?;
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ConversationError::NotFound(id.to_string()))
        }
        Err(e) => Err(io(&p, e)),
    }
}

/// Estimated tokens of a message (4 bytes a token, as the audit's request estimate).
fn tokens(m: &Message) -> usize {
    serde_json::to_string(m).map(|s| s.len() / 4).unwrap_or(0)
}

/// Turns start at each user message.
fn turn_starts(messages: &[Message]) -> Vec<usize> {
    messages
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m, Message::User { .. }))
        .map(|(i, _)| i)
        .collect()
}

/// `messages` within `budget` estimated tokens: older tool results become a note, then the oldest
/// whole turns go (a turn's tool calls and results always stay together, as providers require).
pub fn compact(messages: &[Message], budget: usize) -> Vec<Message> {
    let mut out = messages.to_vec();
    let total = |ms: &[Message]| ms.iter().map(tokens).sum::<usize>();
    if total(&out) <= budget {
        return out;
    }
    let starts = turn_starts(&out);
    let protect_from = starts
        .len()
        .checked_sub(KEEP_RECENT_TURNS)
        .and_then(|i| starts.get(i).copied())
        .unwrap_or(0);
    for m in out.iter_mut().take(protect_from) {
        if let Message::Tool { content, .. } = m
            && content.len() > 200
        {
            *content = format!(
                "[earlier tool output omitted to fit the context budget: {} bytes]",
                content.len()
            );
        }
    }
    while total(&out) > budget {
        let starts = turn_starts(&out);
        // Drop the oldest turn, but never the last one (the instruction being answered).
        let Some(&next) = starts.get(1) else { break };
        out.drain(..next);
        out.insert(
            0,
            Message::user("[earlier turns of this session were dropped to fit the context budget]"),
        );
        // The note is a user message of its own: merge it with what follows by removing the
        // now-duplicated boundary if the next message is also a user message.
        if let Some(Message::User { content }) = out.get(1).cloned()
            && let Some(Message::User { content: note }) = out.get_mut(0)
        {
            *note = format!("{note}\n\n{content}");
            out.remove(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingu_providers::{ToolArguments, ToolCall};

    fn turn(i: usize, output: usize) -> Vec<Message> {
        let call = ToolCall {
            id: format!("c{i}"),
            name: "read_lines".into(),
            arguments: ToolArguments::Json(serde_json::json!({"path": "a"})),
        };
        vec![
            Message::user(format!("instruction {i}")),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![call.clone()],
            },
            Message::tool_result(&call, "x".repeat(output)),
            Message::Assistant {
                content: format!("answer {i}"),
                tool_calls: Vec::new(),
            },
        ]
    }

    #[test]
    fn a_small_history_is_kept_whole() {
        let ms: Vec<_> = (0..3).flat_map(|i| turn(i, 10)).collect();
        assert_eq!(compact(&ms, 10_000), ms);
    }

    #[test]
    fn older_tool_output_is_summarised_first_and_recent_turns_stay() {
        let ms: Vec<_> = (0..4).flat_map(|i| turn(i, 8_000)).collect();
        let out = compact(&ms, 5_000);
        assert_eq!(out.len(), ms.len(), "no turn dropped: notes were enough");
        let tool_texts: Vec<_> = out
            .iter()
            .filter_map(|m| match m {
                Message::Tool { content, .. } => Some(content.clone()),
                _ => None,
            })
            .collect();
        assert!(tool_texts[0].starts_with("[earlier tool output omitted"));
        assert!(tool_texts[1].starts_with("[earlier tool output omitted"));
        assert_eq!(tool_texts[3].len(), 8_000, "the latest turn is whole");
    }

    #[test]
    fn whole_turns_go_when_notes_are_not_enough_and_pairs_stay_together() {
        let ms: Vec<_> = (0..6).flat_map(|i| turn(i, 8_000)).collect();
        let out = compact(&ms, 3_000);
        assert!(out.iter().map(tokens).sum::<usize>() <= 3_000);
        // Every tool result still follows the assistant message that called it.
        for (i, m) in out.iter().enumerate() {
            if let Message::Tool { .. } = m {
                assert!(
                    matches!(&out[i - 1], Message::Assistant { tool_calls, .. } if !tool_calls.is_empty())
                );
            }
        }
        assert!(matches!(&out[0], Message::User { content } if content.contains("dropped")));
        assert!(
            matches!(out.last(), Some(Message::Assistant { content, .. }) if content == "answer 5")
        );
    }
}
