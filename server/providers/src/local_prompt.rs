//! Prompt, grammar and output format of the in-process local model. A small base model has no chat
//! template and rambles, so the transcript is plain text and sampling is constrained by a GBNF
//! grammar: the output is always one JSON object, either `{"tool": NAME, "arguments": {…}}` with
//! NAME one of the offered tools, or `{"answer": TEXT}`. Pure functions, testable without the model.

use serde_json::{Value, json};

use super::types::{ChatRequest, FinishReason, Message, ToolArguments, ToolCall};

/// The transcript the model continues; it ends where the assistant's JSON reply starts.
pub fn render_prompt(req: &ChatRequest) -> String {
    let mut p = String::new();
    if let Some(system) = &req.system {
        p.push_str(system.trim());
        p.push_str("\n\n");
    }
    if req.tools.is_empty() {
        p.push_str("Reply with one JSON object: {\"answer\": TEXT}.\n");
    } else {
        p.push_str("Tools:\n");
        for t in &req.tools {
            p.push_str(&format!(
                "- {}: {} Arguments: {}\n",
                t.name, t.description, t.parameters
            ));
        }
        p.push_str(
            "Reply with one JSON object: {\"tool\": NAME, \"arguments\": {...}} to call a tool, \
             or {\"answer\": TEXT} to answer.\n",
        );
    }
    p.push('\n');
    for m in &req.messages {
        match m {
            Message::User { content } => p.push_str(&format!("User: {}\n", content.trim())),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                if !content.is_empty() {
                    p.push_str(&format!("Assistant: {}\n", json!({ "answer": content })));
                }
                for c in tool_calls {
                    p.push_str(&format!(
                        "Assistant: {}\n",
                        json!({ "tool": c.name, "arguments": c.arguments.to_value() })
                    ));
                }
            }
            Message::Tool { name, content, .. } => {
                p.push_str(&format!("Tool {name} returned: {}\n", content.trim()));
            }
        }
    }
    p.push_str("Assistant: ");
    p
}

/// A GBNF literal for `text` (a JSON string literal, quotes included, escaped for GBNF).
fn gbnf_json_literal(text: &str) -> String {
    let json = Value::String(text.to_owned()).to_string();
    let mut out = String::from("\"");
    for c in json.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The grammar every reply must match: a tool call naming an offered tool, or an answer.
pub fn grammar(req: &ChatRequest) -> String {
    let mut g = String::new();
    if req.tools.is_empty() {
        g.push_str("root ::= \"{\" ws answer ws \"}\"\n");
    } else {
        g.push_str("root ::= \"{\" ws ( call | answer ) ws \"}\"\n");
        let names: Vec<String> = req
            .tools
            .iter()
            .map(|t| gbnf_json_literal(&t.name))
            .collect();
        g.push_str(&format!("name ::= {}\n", names.join(" | ")));
        g.push_str("call ::= \"\\\"tool\\\"\" ws \":\" ws name ws \",\" ws \"\\\"arguments\\\"\" ws \":\" ws object\n");
    }
    g.push_str(concat!(
        "answer ::= \"\\\"answer\\\"\" ws \":\" ws string\n",
        "value ::= object | array | string | number | \"true\" | \"false\" | \"null\"\n",
        "object ::= \"{\" ws ( member ( \",\" ws member )* )? \"}\"\n",
        "member ::= string ws \":\" ws value ws\n",
        "array ::= \"[\" ws ( value ws ( \",\" ws value ws )* )? \"]\"\n",
        "string ::= \"\\\"\" ( [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] ) )* \"\\\"\"\n",
        "number ::= \"-\"? ( \"0\" | [1-9] [0-9]* ) ( \".\" [0-9]+ )? ( [eE] [-+]? [0-9]+ )?\n",
        "ws ::= [ ]?\n",
    ));
    g
}

/// What a finished generation means: an answer, a tool call, or (cut off by the token limit)
/// the raw text with finish reason `Length`.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Answer(String),
    Call(ToolCall),
}

pub fn parse_reply(output: &str, call_index: usize) -> (Reply, Option<FinishReason>) {
    let parsed: Option<Value> = serde_json::from_str(output.trim()).ok();
    match parsed {
        Some(v) if v.get("tool").is_some() => {
            let name = v["tool"].as_str().unwrap_or_default().to_owned();
            let arguments = v
                .get("arguments")
                .cloned()
                .map_or(ToolArguments::Json(json!({})), ToolArguments::Json);
            (
                Reply::Call(ToolCall {
                    id: format!("call_{call_index}"),
                    name,
                    arguments,
                }),
                Some(FinishReason::ToolCalls),
            )
        }
        Some(v) if v.get("answer").and_then(Value::as_str).is_some() => (
            Reply::Answer(v["answer"].as_str().unwrap_or_default().to_owned()),
            None,
        ),
        _ => (Reply::Answer(output.to_owned()), Some(FinishReason::Length)),
    }
}
