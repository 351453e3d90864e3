//! OpenAI Chat Completions (and every OpenAI-compatible server): `POST {base}/chat/completions` with
//! `stream: true`; tool calls arrive as argument fragments keyed by `index` across many chunks.

use std::collections::{BTreeMap, VecDeque};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{Kind, ResolvedProvider};
use super::presets::MaxTokensField;
use super::stream::{Decoder, StreamFault, parse_json};
use super::types::{
    ChatRequest, Event, FinishReason, Message, ToolArguments, ToolCall, ToolChoice, Usage,
};

pub(crate) fn url(cfg: &ResolvedProvider) -> String {
    format!("{}/chat/completions", cfg.base_url)
}

pub(crate) fn headers(cfg: &ResolvedProvider) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if let Some(key) = &cfg.key {
        let v = key.header_value("Bearer ")?;
        h.insert(AUTHORIZATION, v);
    }
    Ok(h)
}

pub(crate) fn body(cfg: &ResolvedProvider, req: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = &req.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for m in &req.messages {
        messages.push(match m {
            Message::User { content } => json!({ "role": "user", "content": content }),
            Message::Assistant {
                content,
                tool_calls,
            } if !tool_calls.is_empty() => json!({
                "role": "assistant",
                "content": if content.is_empty() { Value::Null } else { json!(content) },
                "tool_calls": tool_calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments.to_json_text() },
                })).collect::<Vec<_>>(),
            }),
            Message::Assistant { content, .. } => {
                json!({ "role": "assistant", "content": content })
            }
            Message::Tool {
                tool_call_id,
                content,
                ..
            } => json!({ "role": "tool", "tool_call_id": tool_call_id, "content": content }),
        });
    }
    let mut body = json!({
        "model": cfg.model,
        "messages": messages,
        "stream": true,
    });
    let max = req.max_tokens.unwrap_or(cfg.max_tokens);
    let field = match cfg.quirks.max_tokens_field {
        MaxTokensField::MaxTokens => "max_tokens",
        MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
    };
    body[field] = json!(max);
    if cfg.quirks.stream_usage {
        body["stream_options"] = json!({ "include_usage": true });
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                }})
            })
            .collect();
        if req.tool_choice == ToolChoice::Required {
            body["tool_choice"] = json!("required");
        }
    }
    if cfg.inference_only && (cfg.kind == Kind::OpenAi || cfg.quirks.send_store_flag) {
        body["store"] = json!(false);
    }
    body
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
    /// Moonshot reports usage inside the last choice.
    usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

#[derive(Default)]
pub(crate) struct OpenAiDecoder {
    calls: BTreeMap<usize, PartialCall>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    emitted_calls: bool,
}

impl OpenAiDecoder {
    fn flush_calls(&mut self, out: &mut VecDeque<Event>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            self.emitted_calls = true;
            out.push_back(Event::ToolCall(ToolCall {
                id: call.id.unwrap_or_else(|| format!("call_{index}")),
                name: call.name,
                arguments: ToolArguments::parse(&call.arguments),
            }));
        }
    }

    fn finish(&mut self, out: &mut VecDeque<Event>) {
        self.flush_calls(out);
        if let Some(u) = self.usage {
            out.push_back(Event::Usage(u));
        }
        let reason = match self.finish.take() {
            // Some servers (older Ollama) say "stop" after emitting tool calls.
            Some(FinishReason::Stop) | None if self.emitted_calls => FinishReason::ToolCalls,
            Some(r) => r,
            None => FinishReason::Stop,
        };
        out.push_back(Event::Done {
            finish_reason: reason,
        });
    }
}

impl Decoder for OpenAiDecoder {
    fn on_event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut VecDeque<Event>,
    ) -> Result<bool, StreamFault> {
        let data = data.trim();
        if data == "[DONE]" {
            self.finish(out);
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Chunk = parse_json(data)?;
        if let Some(error) = chunk.error {
            let status = error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..600).contains(c))
                .unwrap_or(500);
            return Err(StreamFault::Vendor {
                status,
                body: json!({ "error": error }).to_string(),
            });
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(Usage {
                input_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
            });
        }
        for choice in chunk.choices {
            if let Some(u) = choice.usage {
                self.usage = Some(Usage {
                    input_tokens: u.prompt_tokens,
                    output_tokens: u.completion_tokens,
                });
            }
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                out.push_back(Event::TextDelta(text));
            }
            for (i, d) in choice.delta.tool_calls.into_iter().flatten().enumerate() {
                let call = self.calls.entry(d.index.unwrap_or(i)).or_default();
                if let Some(id) = d.id.filter(|s| !s.is_empty()) {
                    call.id = Some(id);
                }
                if let Some(f) = d.function {
                    if let Some(name) = f.name {
                        call.name.push_str(&name);
                    }
                    if let Some(args) = f.arguments {
                        call.arguments.push_str(&args);
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(FinishReason::from_vendor(&reason));
                // The calls are complete; hand them over without waiting for the usage chunk.
                self.flush_calls(out);
            }
        }
        Ok(false)
    }

    fn on_eof(&mut self, out: &mut VecDeque<Event>) -> Result<(), StreamFault> {
        if self.finish.is_none() {
            return Err(StreamFault::Malformed(
                "stream ended before a finish_reason or [DONE]".into(),
            ));
        }
        self.finish(out);
        Ok(())
    }
}
