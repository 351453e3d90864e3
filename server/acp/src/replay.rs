//! `session/load` after a restart: the conversation saved in the state directory (the same store
//! as `jingu ask --continue`) replayed as the updates the client saw live — the user's prompts,
//! the agent's text, and a `tool_call` card per call with its arguments, final status and result
//! — for an applied edit, its `diff` (path, old and new text) and location, as it was shown live.

use std::path::Path;

use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, Diff, SessionUpdate, TextContent, ToolCall, ToolCallContent,
    ToolCallLocation, ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};

use jingu_core::agent::conversation::Conversation;
use jingu_providers::Message;

fn chunk(text: &str) -> ContentChunk {
    ContentChunk::new(ContentBlock::Text(TextContent::new(text)))
}

fn kind(tool: &str) -> ToolKind {
    match tool {
        "edit" => ToolKind::Edit,
        "run_command" => ToolKind::Execute,
        "read_symbol" | "read_lines" | "list_symbols" => ToolKind::Read,
        "search" => ToolKind::Search,
        _ => ToolKind::Other,
    }
}

/// The updates that rebuild `conv` (of the workspace at `root`) in the client's panel, in order.
pub(crate) fn updates(conv: &Conversation, root: &Path) -> Vec<SessionUpdate> {
    let mut out = Vec::new();
    let mut turn = 0usize;
    // The names of the calls of the current turn, by id, and the turn's edits not yet shown.
    let mut names: Vec<(String, String)> = Vec::new();
    let mut edits = Vec::new().into_iter();
    for m in &conv.messages {
        match m {
            Message::User { content } => {
                // The stored message carries Jingu's context; the user typed the instruction.
                let info = conv.turns.get(turn);
                let text = info.map(|t| t.instruction.as_str()).unwrap_or(content);
                out.push(SessionUpdate::UserMessageChunk(chunk(text)));
                edits = info
                    .map(|t| t.edits.clone())
                    .unwrap_or_default()
                    .into_iter();
                names.clear();
                turn += 1;
            }
            Message::Assistant {
                content,
                tool_calls,
            } => {
                if !content.trim().is_empty() {
                    out.push(SessionUpdate::AgentMessageChunk(chunk(content)));
                }
                for call in tool_calls {
                    let id = format!("replay-{turn}-{}", call.id);
                    names.push((call.id.clone(), call.name.clone()));
                    out.push(SessionUpdate::ToolCall(
                        ToolCall::new(id, call.name.clone())
                            .kind(kind(&call.name))
                            .status(ToolCallStatus::InProgress)
                            .raw_input(call.arguments.to_value()),
                    ));
                }
            }
            Message::Tool {
                tool_call_id,
                content,
                ..
            } => {
                let failed = content.starts_with("error:");
                let status = if failed {
                    ToolCallStatus::Failed
                } else {
                    ToolCallStatus::Completed
                };
                let is_edit = names
                    .iter()
                    .any(|(id, name)| id == tool_call_id && name == "edit");
                let mut fields = ToolCallUpdateFields::new().status(status);
                let mut parts = Vec::new();
                // Each applied edit call produced the turn's next edit.
                if is_edit
                    && content.starts_with("applied:")
                    && let Some(edit) = edits.next()
                {
                    let abs = root.join(&edit.path);
                    if let (Some(old), Some(new)) = (&edit.old_text, &edit.new_text) {
                        parts.push(ToolCallContent::Diff(
                            Diff::new(abs.clone(), new.clone()).old_text(old.clone()),
                        ));
                        fields = fields.locations(vec![
                            ToolCallLocation::new(abs).line(first_changed_line(old, new)),
                        ]);
                    } else {
                        fields = fields.locations(vec![ToolCallLocation::new(abs)]);
                    }
                    fields = fields.title(format!(
                        "edit {} (snapshot {})",
                        edit.path, edit.snapshot_id
                    ));
                }
                parts.push(ToolCallContent::from(content.clone()));
                out.push(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                    format!("replay-{turn}-{tool_call_id}"),
                    fields.content(parts),
                )));
            }
        }
    }
    out
}

/// The 1-based line of the first difference.
pub(crate) fn first_changed_line(old: &str, new: &str) -> u32 {
    let same = old
        .lines()
        .zip(new.lines())
        .take_while(|(a, b)| a == b)
        .count();
    u32::try_from(same + 1).unwrap_or(u32::MAX)
}
