mod anthropic;
mod config;
mod gemini;
mod local;
mod openai;
mod robustness;
mod server;
mod units;

use super::types::{ChatRequest, Message, ToolSpec};

pub(crate) const KEY: &str = "sk-test-SECRET-0123456789abcdef";

/// A request exercising every message role and one tool.
pub(crate) fn request() -> ChatRequest {
    let call = super::ToolCall {
        id: "call_a".into(),
        name: "read_file".into(),
        arguments: super::ToolArguments::Json(serde_json::json!({ "path": "a.rs" })),
    };
    ChatRequest {
        system: Some("be brief".into()),
        messages: vec![
            Message::user("hello"),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![call.clone()],
            },
            Message::tool_result(&call, "fn main() {}"),
            Message::user("now edit it"),
        ],
        tools: vec![ToolSpec {
            name: "read_file".into(),
            description: "Read a file".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": { "path": { "type": "string" } },
                "required": ["path"],
            }),
        }],
        max_tokens: Some(256),
        temperature: Some(0.2),
        ..ChatRequest::default()
    }
}
