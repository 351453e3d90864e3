//! Google Gemini: `POST {base}/models/{model}:streamGenerateContent?alt=sse`. Each SSE event is a
//! whole `GenerateContentResponse`; function calls arrive complete in one part; the stream has no
//! terminator, so completion is a `finishReason` followed by end of body.

use std::collections::VecDeque;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config::ResolvedProvider;
use super::stream::{Decoder, StreamFault, parse_json};
use super::types::{
    ChatRequest, Event, FinishReason, Message, ToolArguments, ToolCall, ToolChoice, Usage,
};

pub(crate) fn url(cfg: &ResolvedProvider) -> String {
    format!(
        "{}/models/{}:streamGenerateContent?alt=sse",
        cfg.base_url, cfg.model
    )
}

pub(crate) fn headers(cfg: &ResolvedProvider) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // The key goes in a header, never in the URL, so it cannot surface in a URL-bearing error.
    if let Some(key) = &cfg.key {
        let v = key.header_value("")?;
        h.insert(HeaderName::from_static("x-goog-api-key"), v);
    }
    Ok(h)
}

pub(crate) fn body(cfg: &ResolvedProvider, req: &ChatRequest) -> Value {
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, parts) = match m {
            Message::User { content } => ("user", vec![json!({ "text": content })]),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                let mut parts = Vec::new();
                if !content.is_empty() {
                    parts.push(json!({ "text": content }));
                }
                parts.extend(tool_calls.iter().map(|c| {
                    json!({ "functionCall": { "name": c.name, "args": c.arguments.to_value() } })
                }));
                ("model", parts)
            }
            Message::Tool { name, content, .. } => {
                // `response` must be an object: structured results pass through, text is wrapped.
                let response = match serde_json::from_str::<Value>(content) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({ "result": content }),
                };
                (
                    "user",
                    vec![json!({ "functionResponse": { "name": name, "response": response } })],
                )
            }
        };
        match contents.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let mut generation = json!({ "maxOutputTokens": req.max_tokens.unwrap_or(cfg.max_tokens) });
    if let Some(t) = req.temperature {
        generation["temperature"] = json!(t);
    }
    let mut body = json!({
        "contents": contents
            .into_iter()
            .map(|(role, parts)| json!({ "role": role, "parts": parts }))
            .collect::<Vec<_>>(),
        "generationConfig": generation,
    });
    if let Some(system) = &req.system {
        body["systemInstruction"] = json!({ "parts": [{ "text": system }] });
    }
    if !req.tools.is_empty() {
        // `parametersJsonSchema` takes full JSON Schema; `parameters` only an OpenAPI subset.
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "parametersJsonSchema": t.parameters }))
            .collect();
        body["tools"] = json!([{ "functionDeclarations": decls }]);
        if req.tool_choice == ToolChoice::Required {
            body["toolConfig"] = json!({ "functionCallingConfig": { "mode": "ANY" } });
        }
    }
    body
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<WireUsage>,
    prompt_feedback: Option<Value>,
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    text: Option<String>,
    #[serde(default)]
    thought: bool,
    function_call: Option<FunctionCall>,
}

#[derive(Deserialize)]
struct FunctionCall {
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
}

#[derive(Default)]
pub(crate) struct GeminiDecoder {
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    calls: usize,
}

impl Decoder for GeminiDecoder {
    fn on_event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut VecDeque<Event>,
    ) -> Result<bool, StreamFault> {
        if data.trim().is_empty() {
            return Ok(false);
        }
        let chunk: Chunk = parse_json(data)?;
        if let Some(error) = chunk.error {
            let status = error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            return Err(StreamFault::Vendor {
                status,
                body: json!({ "error": error }).to_string(),
            });
        }
        // Cumulative per chunk: the last one wins.
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(Usage {
                input_tokens: u.prompt_token_count,
                output_tokens: u.candidates_token_count,
            });
        }
        if chunk.candidates.is_empty()
            && chunk
                .prompt_feedback
                .as_ref()
                .is_some_and(|f| f.get("blockReason").is_some())
        {
            self.finish = Some(FinishReason::ContentFilter);
        }
        // Only the first candidate: we never ask for more.
        if let Some(candidate) = chunk.candidates.into_iter().next() {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                if let Some(call) = part.function_call {
                    self.calls += 1;
                    out.push_back(Event::ToolCall(ToolCall {
                        id: call
                            .id
                            .unwrap_or_else(|| format!("call_{}", self.calls - 1)),
                        name: call.name,
                        arguments: ToolArguments::Json(if call.args.is_null() {
                            json!({})
                        } else {
                            call.args
                        }),
                    }));
                } else if let Some(text) = part.text.filter(|t| !t.is_empty() && !part.thought) {
                    out.push_back(Event::TextDelta(text));
                }
            }
            if let Some(reason) = candidate.finish_reason {
                self.finish = Some(FinishReason::from_vendor(&reason));
            }
        }
        Ok(false)
    }

    fn on_eof(&mut self, out: &mut VecDeque<Event>) -> Result<(), StreamFault> {
        let Some(reason) = self.finish.take() else {
            return Err(StreamFault::Malformed(
                "stream ended before a finishReason".into(),
            ));
        };
        if let Some(u) = self.usage {
            out.push_back(Event::Usage(u));
        }
        let finish_reason = match reason {
            FinishReason::Stop if self.calls > 0 => FinishReason::ToolCalls,
            r => r,
        };
        out.push_back(Event::Done { finish_reason });
        Ok(())
    }
}
