//! Fill-in-the-middle for inline completion: the text before and after the cursor in, the text
//! between out. OpenAI-compatible servers get the legacy `POST {base}/completions` with `suffix`
//! (what code models and llama.cpp/vLLM/Ollama servers serve); a server that does not know it
//! (404/405/501, or 400 naming `suffix`) is remembered and asked through chat instead, as are
//! Anthropic and Gemini. The local model renders its own FIM tokens (`local.rs`).

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::config::{Kind, ResolvedProvider};
use super::error::ProviderError;
use super::types::{ChatRequest, Message, Usage};

/// One completion request, already redacted and bounded by the caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FillRequest {
    /// Context lines for the model (signatures from the index), as comments of the file's language;
    /// placed before `prefix`.
    pub context: String,
    pub prefix: String,
    pub suffix: String,
    pub max_tokens: u32,
    /// Generation stops at any of these.
    pub stop: Vec<String>,
}

impl FillRequest {
    /// What precedes the cursor as the model sees it.
    pub fn prompt(&self) -> String {
        format!("{}{}", self.context, self.prefix)
    }
}

/// How the text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FillVia {
    /// `/completions` with `suffix`.
    Completions,
    /// A chat request asking for the missing text.
    Chat,
    /// The in-process model, FIM tokens when its vocabulary has them.
    LocalFim,
    /// The in-process model, prefix only (its vocabulary has no FIM tokens).
    LocalPrefix,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FillResponse {
    pub text: String,
    pub usage: Usage,
    pub via: FillVia,
    /// Prompt tokens decoded for this request and how many the KV cache already held (local only).
    pub decoded: Option<(usize, usize)>,
}

pub(crate) fn completions_url(cfg: &ResolvedProvider) -> String {
    format!("{}/completions", cfg.base_url)
}

pub(crate) fn completions_headers(cfg: &ResolvedProvider) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    if let Some(key) = &cfg.key {
        h.insert(AUTHORIZATION, key.header_value("Bearer ")?);
    }
    Ok(h)
}

pub(crate) fn completions_body(cfg: &ResolvedProvider, req: &FillRequest) -> Value {
    let mut body = json!({
        "model": cfg.model,
        "prompt": req.prompt(),
        "suffix": req.suffix,
        "max_tokens": req.max_tokens,
        "temperature": 0,
        "stream": false,
    });
    if !req.stop.is_empty() {
        // OpenAI accepts at most 4 stop sequences.
        body["stop"] = json!(req.stop.iter().take(4).collect::<Vec<_>>());
    }
    if cfg.inference_only && (cfg.kind == Kind::OpenAi || cfg.quirks.send_store_flag) {
        body["store"] = json!(false);
    }
    body
}

#[derive(Deserialize)]
struct CompletionsReply {
    #[serde(default)]
    choices: Vec<CompletionsChoice>,
    usage: Option<CompletionsUsage>,
}

#[derive(Deserialize)]
struct CompletionsChoice {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct CompletionsUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// The text and usage of a `/completions` reply.
pub(crate) fn parse_completions(body: &[u8]) -> Result<(String, Usage), String> {
    let reply: CompletionsReply = serde_json::from_slice(body)
        .map_err(|e| format!("the /completions reply is not the expected JSON: {e}"))?;
    let text = reply
        .choices
        .into_iter()
        .next()
        .map(|c| c.text)
        .ok_or("the /completions reply has no choices")?;
    let usage = reply.usage.map_or_else(Usage::default, |u| Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
    });
    Ok((text, usage))
}

/// Whether an error means "this server has no `/completions` with `suffix`" (so chat is tried).
pub(crate) fn unsupported(err: &ProviderError) -> bool {
    match err {
        ProviderError::Http { status, body, .. } => {
            matches!(status, 404 | 405 | 501) || (*status == 400 && body.contains("suffix"))
        }
        // A 404 is classified as an unknown model; chat, tried next, says which it really was.
        ProviderError::UnknownModel { .. } => true,
        _ => false,
    }
}

/// Marks the cursor in the chat fallback.
const HOLE: &str = "<CURSOR>";

/// The chat fallback: the file around the cursor, and an instruction to answer with the missing
/// text only.
pub(crate) fn chat_request(req: &FillRequest) -> ChatRequest {
    ChatRequest {
        system: Some(format!(
            "You are a code completion engine. The user sends a source file with {HOLE} marking \
             the cursor. Reply with exactly the text to insert at {HOLE}: no explanation, no \
             code fences, nothing that is already after the cursor."
        )),
        messages: vec![Message::user(format!(
            "{}{}{HOLE}{}",
            req.context, req.prefix, req.suffix
        ))],
        tools: Vec::new(),
        max_tokens: Some(req.max_tokens),
        temperature: Some(0.0),
        tool_choice: Default::default(),
        symbol_heads: Vec::new(),
    }
}

/// A chat answer as inserted text: code fences the model added anyway are removed.
pub(crate) fn unfence(answer: &str) -> String {
    let t = answer.trim_matches('\n');
    if let Some(rest) = t.strip_prefix("```") {
        let body = rest.split_once('\n').map_or("", |(_, b)| b);
        let body = body.trim_end();
        return body
            .strip_suffix("```")
            .unwrap_or(body)
            .trim_end()
            .to_string();
    }
    answer.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completions_reply_yields_the_first_choice_and_usage() {
        let (text, usage) = parse_completions(
            br#"{"choices":[{"text":"a + b","index":0}],"usage":{"prompt_tokens":9,"completion_tokens":3}}"#,
        )
        .expect("parses");
        assert_eq!(text, "a + b");
        assert_eq!(usage.input_tokens, 9);
        assert!(parse_completions(br#"{"choices":[]}"#).is_err());
        assert!(parse_completions(b"<html>").is_err());
    }

    #[test]
    fn fences_are_removed_from_chat_answers_but_plain_text_is_kept() {
        assert_eq!(unfence("```python\nreturn a + b\n```"), "return a + b");
        assert_eq!(unfence("```\nx\n```\n"), "x");
        assert_eq!(unfence("  return a"), "  return a");
    }

    #[test]
    fn only_missing_endpoints_fall_back_to_chat() {
        let http = |status, body: &str| ProviderError::Http {
            provider: "p".into(),
            status,
            body: body.into(),
        };
        assert!(unsupported(&http(404, "not found")));
        assert!(unsupported(&http(400, "unknown field suffix")));
        assert!(!unsupported(&http(400, "bad model")));
        assert!(!unsupported(&http(401, "bad key")));
    }
}
