//! `session/load` after a restart: the conversation saved in the state directory (the same store
//! as `jingu ask --continue`) replayed as the updates the client saw live — the user's prompts,
//! the agent's text, and a `tool_call` card per call with its arguments, final status and result.

use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, SessionUpdate, TextContent, ToolCall, ToolCallContent,
    ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields, ToolKind,
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

/// The updates that rebuild `conv` in the client's panel, in order.
pub(crate) fn updates(conv: &Conversation) -> Vec<SessionUpdate> {
    let mut out = Vec::new();
    let mut turn = 0usize;
    for m in &conv.messages {
        match m {
            Message::User { content } => {
                // The stored message carries Jingu's context; the user typed the instruction.
                let text = conv
                    .turns
                    .get(turn)
                    .map(|t| t.instruction.as_str())
                    .unwrap_or(content);
                out.push(SessionUpdate::UserMessageChunk(chunk(text)));
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
                let status = if content.starts_with("error:") {
                    ToolCallStatus::Failed
                } else {
                    ToolCallStatus::Completed
                };
                out.push(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                    format!("replay-{turn}-{tool_call_id}"),
                    ToolCallUpdateFields::new()
                        .status(status)
                        .content(vec![ToolCallContent::from(content.clone())]),
                )));
            }
        }
    }
    out
}
