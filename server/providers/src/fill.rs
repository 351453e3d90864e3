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
    /// Where the caller's item must end anyway, so generation stops there (the local model checks
    /// it after every token; hosted replies are cut by it afterwards).
    #[serde(default)]
    pub until: FillUntil,
    /// Answer by then if the item has a complete line: past it the local model answers with the
    /// lines it has and goes on generating the rest ahead into [`FillResponse::ahead`] (until a
    /// newer request arrives), so accepting the item can show its next lines without waiting.
    /// Hosted providers answer when they answer.
    #[serde(default)]
    pub first_item_ms: Option<u32>,
}

/// Where a completion ends, decided from the cursor's position: generating past it only costs
/// time, since the caller would cut it off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillUntil {
    /// `max_tokens` and `stop` only.
    #[default]
    Tokens,
    /// The first line end (the cursor has code after it on its line: only one line fits).
    LineEnd,
    /// The end of the block the cursor is in: a non-blank line indented less than `indent`
    /// columns (the cursor line's indentation), or, with `brackets`, a closing bracket the
    /// completion did not open. At most `max_lines` lines.
    BlockEnd {
        indent: u32,
        brackets: bool,
        max_lines: u32,
    },
}

impl FillUntil {
    /// Where `output` (the text generated so far) must be cut, if it has reached the end.
    /// Brackets inside string literals are counted too: a rare early stop, never a late one that
    /// matters, since the caller still cuts the item at the block's end by parsing.
    pub fn cut(self, output: &str) -> Option<usize> {
        match self {
            FillUntil::Tokens => None,
            FillUntil::LineEnd => output.find('\n'),
            FillUntil::BlockEnd {
                indent,
                brackets,
                max_lines,
            } => {
                let mut depth = 0i64;
                let mut line_start = 0;
                for (n, line) in output.split_inclusive('\n').enumerate() {
                    // The first line continues the cursor's line, whose indentation is not here.
                    if n > 0 {
                        if n as u32 >= max_lines.max(1) {
                            return Some(line_start);
                        }
                        let body = line.trim_start_matches([' ', '\t']);
                        let complete = line.ends_with('\n');
                        let blank = body.trim().is_empty();
                        let cols = columns(&line[..line.len() - body.len()]);
                        // A dedent is known once the line has a visible character.
                        if !blank && cols < indent as usize && (complete || !body.is_empty()) {
                            return Some(line_start);
                        }
                    }
                    if brackets {
                        for (i, c) in line.char_indices() {
                            match c {
                                '{' | '(' | '[' => depth += 1,
                                // On the cursor's own line a closing bracket may close
                                // one the prefix opened (`foo(` then `a, b)`): kept.
                                '}' | ')' | ']' if n == 0 && depth == 0 => {}
                                '}' | ')' | ']' => {
                                    depth -= 1;
                                    if depth < 0 {
                                        return Some(line_start + i);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    line_start += line.len();
                }
                None
            }
        }
    }

    /// Stop strings a hosted `/completions` server can apply itself.
    pub fn stop_strings(self) -> &'static [&'static str] {
        match self {
            FillUntil::LineEnd => &["\n"],
            FillUntil::BlockEnd { .. } => &["\n\n\n"],
            FillUntil::Tokens => &[],
        }
    }
}

/// Display columns of leading whitespace (a tab counts as 4, as editors mostly show it).
fn columns(ws: &str) -> usize {
    ws.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum()
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
    /// Where the in-process model's time went (local only).
    pub stats: Option<FillStats>,
    /// After an early answer (see [`FillRequest::first_item_ms`]): the text after `text`, as the
    /// model goes on generating it.
    #[serde(skip)]
    pub ahead: Option<Ahead>,
}

/// The continuation of an early answer, written by the model thread while the user reads the
/// item: `text` continues the answer (so it starts on a new line), `done` once generation ended
/// there (the item's end, the token limit, or a newer request that took the model).
#[derive(Debug, Clone, Default)]
pub struct Ahead(std::sync::Arc<std::sync::Mutex<(String, bool)>>);

impl Ahead {
    /// The text so far and whether generation has ended.
    pub fn snapshot(&self) -> (String, bool) {
        self.0
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    pub fn set(&self, text: &str, done: bool) {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        text.clone_into(&mut g.0);
        g.1 = done;
    }
}

impl PartialEq for Ahead {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Where the in-process model's time went on one fill: for tracing and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FillStats {
    pub prompt_tokens: usize,
    /// Prompt tokens the KV cache already held (not decoded again).
    pub reused: usize,
    pub generated: usize,
    /// Waiting for the model thread while it served an earlier request.
    pub queued: std::time::Duration,
    /// Decoding the prompt tokens the cache did not hold.
    pub prompt: std::time::Duration,
    /// Generating: choosing tokens and decoding each.
    pub generate: std::time::Duration,
    /// Of `generate`, the time spent choosing tokens (sampling, stop checks).
    pub sampling: std::time::Duration,
    /// Generation ended at `until` (or a stop string) rather than at the token limit or the
    /// end-of-text token.
    pub stopped_at_end: bool,
    /// Answered at `first_item_ms` with the complete lines so far, the rest generated ahead.
    pub early: bool,
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
    let stop: Vec<&str> = req
        .stop
        .iter()
        .map(String::as_str)
        .chain(req.until.stop_strings().iter().copied())
        .collect();
    if !stop.is_empty() {
        // OpenAI accepts at most 4 stop sequences.
        body["stop"] = json!(stop.iter().take(4).collect::<Vec<_>>());
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
    fn a_single_line_fill_ends_at_the_first_line_end() {
        let u = FillUntil::LineEnd;
        assert_eq!(u.cut("a + b"), None);
        assert_eq!(u.cut("a + b\n    c"), Some(5));
        assert_eq!(FillUntil::Tokens.cut("a\nb\n"), None);
    }

    #[test]
    fn a_block_fill_ends_at_the_dedent_or_an_unopened_closing_bracket() {
        let py = FillUntil::BlockEnd {
            indent: 4,
            brackets: false,
            max_lines: 20,
        };
        // The first line is the cursor's own; blank lines do not end the block.
        assert_eq!(py.cut("x = 1\n\n    return x\n"), None);
        let text = "x = 1\n    return x\n\ndef other():\n";
        assert_eq!(py.cut(text), Some(text.find("def").unwrap()));
        // Known as soon as the dedented line shows a character, before its end.
        assert_eq!(py.cut("x = 1\nd"), Some(6));
        // Deeper indentation (a nested block) goes on.
        assert_eq!(py.cut("if x:\n        y()\n    z()\n"), None);
        let rust = FillUntil::BlockEnd {
            indent: 4,
            brackets: true,
            max_lines: 20,
        };
        let text = "let v = f(a, [1, 2]);\n    if v { g() }\n}\nfn next() {}\n";
        assert_eq!(rust.cut(text), Some(text.find("}\nfn").unwrap()));
        // On the cursor's line a closing bracket closes what the prefix opened: kept.
        assert_eq!(rust.cut("a, b) + 1"), None);
        assert_eq!(rust.cut("a, b)\n    c()\n}\n"), Some(14));
        let short = FillUntil::BlockEnd {
            indent: 0,
            brackets: false,
            max_lines: 2,
        };
        assert_eq!(short.cut("a\nb\nc\n"), Some(4));
    }

    #[test]
    fn stop_strings_match_what_the_cut_would_do_where_a_server_can() {
        assert_eq!(FillUntil::LineEnd.stop_strings(), ["\n"]);
        assert!(FillUntil::Tokens.stop_strings().is_empty());
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
