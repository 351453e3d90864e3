//! Anthropic Messages API: `POST {base}/messages` with `stream: true`. Content arrives in indexed
//! blocks; a tool call's input is streamed as `input_json_delta` fragments until `content_block_stop`.

use std::collections::{BTreeMap, VecDeque};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config::ResolvedProvider;
use super::stream::{Decoder, StreamFault, parse_json};
use super::types::{
    ChatRequest, Event, FinishReason, Message, ToolArguments, ToolCall, ToolChoice, Usage,
};

const API_VERSION: &str = "2023-06-01";

pub(crate) fn url(cfg: &ResolvedProvider) -> String {
    format!("{}/messages", cfg.base_url)
}

pub(crate) fn headers(cfg: &ResolvedProvider) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    if let Some(key) = &cfg.key {
        let v = key.header_value("")?;
        h.insert(HeaderName::from_static("x-api-key"), v);
    }
    Ok(h)
}

pub(crate) fn body(cfg: &ResolvedProvider, req: &ChatRequest) -> Value {
    // Anthropic wants strictly alternating roles, with tool results inside a user turn: merge
    // consecutive same-role turns into one message with several content blocks.
    let mut messages: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, blocks) = match m {
            Message::User { content } => ("user", text_block(content)),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                let mut blocks = text_block(content);
                blocks.extend(tool_calls.iter().map(|c| {
                    json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments.to_value() })
                }));
                ("assistant", blocks)
            }
            Message::Tool {
                tool_call_id,
                content,
                ..
            } => (
                "user",
                vec![
                    json!({ "type": "tool_result", "tool_use_id": tool_call_id, "content": content }),
                ],
            ),
        };
        match messages.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    let mut body = json!({
        "model": cfg.model,
        "max_tokens": req.max_tokens.unwrap_or(cfg.max_tokens),
        "stream": true,
        "messages": messages
            .into_iter()
            .map(|(role, content)| json!({ "role": role, "content": content }))
            .collect::<Vec<_>>(),
    });
    if let Some(system) = &req.system {
        body["system"] = json!(system);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "input_schema": t.parameters }))
            .collect();
        if req.tool_choice == ToolChoice::Required {
            body["tool_choice"] = json!({ "type": "any" });
        }
    }
    body
}

/// Anthropic rejects empty text blocks, so empty text becomes no block.
fn text_block(text: &str) -> Vec<Value> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "type": "text", "text": text })]
    }
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type")]
    kind: String,
    index: Option<usize>,
    message: Option<MessageStart>,
    content_block: Option<Value>,
    delta: Option<Value>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct MessageStart {
    usage: Option<WireUsage>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

struct ToolBlock {
    id: String,
    name: String,
    /// `input` from `content_block_start`, used when no deltas follow.
    initial: Value,
    json: String,
}

#[derive(Default)]
pub(crate) struct AnthropicDecoder {
    tools: BTreeMap<usize, ToolBlock>,
    usage: Usage,
    finish: Option<FinishReason>,
}

impl AnthropicDecoder {
    fn apply_usage(&mut self, u: WireUsage) {
        if let Some(i) = u.input_tokens {
            self.usage.input_tokens = i;
        }
        // Cumulative in `message_delta`: the last value is the total.
        if let Some(o) = u.output_tokens {
            self.usage.output_tokens = o;
        }
    }
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a str, StreamFault> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| StreamFault::Malformed(format!("missing `{key}` in {v}")))
}

impl Decoder for AnthropicDecoder {
    fn on_event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut VecDeque<Event>,
    ) -> Result<bool, StreamFault> {
        if data.trim().is_empty() {
            return Ok(false);
        }
        let ev: WireEvent = parse_json(data)?;
        let index = || {
            ev.index
                .ok_or_else(|| StreamFault::Malformed(format!("`{}` without an index", ev.kind)))
        };
        match ev.kind.as_str() {
            "message_start" => {
                if let Some(u) = ev.message.as_ref().and_then(|m| m.usage) {
                    self.apply_usage(u);
                }
            }
            "content_block_start" => {
                let block = ev.content_block.as_ref().ok_or_else(|| {
                    StreamFault::Malformed("content_block_start without content_block".into())
                })?;
                if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    self.tools.insert(
                        index()?,
                        ToolBlock {
                            id: field(block, "id")?.to_owned(),
                            name: field(block, "name")?.to_owned(),
                            initial: block.get("input").cloned().unwrap_or(json!({})),
                            json: String::new(),
                        },
                    );
                } else if let Some(text) = block
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    out.push_back(Event::TextDelta(text.to_owned()));
                }
            }
            "content_block_delta" => {
                let delta = ev.delta.as_ref().ok_or_else(|| {
                    StreamFault::Malformed("content_block_delta without delta".into())
                })?;
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        out.push_back(Event::TextDelta(field(delta, "text")?.to_owned()));
                    }
                    Some("input_json_delta") => {
                        let i = index()?;
                        let part = field(delta, "partial_json")?;
                        let block = self.tools.get_mut(&i).ok_or_else(|| {
                            StreamFault::Malformed(format!(
                                "input_json_delta for unknown block {i}"
                            ))
                        })?;
                        block.json.push_str(part);
                    }
                    // thinking/signature/citation deltas carry nothing the agent consumes.
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(block) = self.tools.remove(&index()?) {
                    let arguments = if block.json.trim().is_empty() {
                        ToolArguments::Json(block.initial)
                    } else {
                        ToolArguments::parse(&block.json)
                    };
                    out.push_back(Event::ToolCall(ToolCall {
                        id: block.id,
                        name: block.name,
                        arguments,
                    }));
                }
            }
            "message_delta" => {
                if let Some(reason) = ev
                    .delta
                    .as_ref()
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    self.finish = Some(FinishReason::from_vendor(reason));
                }
                if let Some(u) = ev.usage {
                    self.apply_usage(u);
                }
            }
            "message_stop" => {
                out.push_back(Event::Usage(self.usage));
                out.push_back(Event::Done {
                    finish_reason: self.finish.take().unwrap_or(FinishReason::Stop),
                });
                return Ok(true);
            }
            "error" => {
                let error = ev.error.unwrap_or(Value::Null);
                let status = match error.get("type").and_then(Value::as_str) {
                    Some("overloaded_error") => 529,
                    Some("rate_limit_error") => 429,
                    Some("authentication_error") => 401,
                    Some("permission_error") => 403,
                    Some("not_found_error") => 404,
                    Some("invalid_request_error") => 400,
                    _ => 500,
                };
                return Err(StreamFault::Vendor {
                    status,
                    body: json!({ "error": error }).to_string(),
                });
            }
            // `ping` keepalives and event types added later are ignored, per Anthropic's guidance.
            _ => {}
        }
        Ok(false)
    }

    fn on_eof(&mut self, _out: &mut VecDeque<Event>) -> Result<(), StreamFault> {
        Err(StreamFault::Malformed(
            "stream ended before message_stop".into(),
        ))
    }
}
