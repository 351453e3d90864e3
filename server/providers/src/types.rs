//! The provider-neutral conversation model: what the agent sends and what comes back, whatever the vendor.

use serde::{Deserialize, Serialize};

/// One request to a model. Every wire format translates this shape; nothing vendor-specific leaks in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    /// Upper bound on generated tokens; `None` lets the provider's preset default apply.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Whether the model must call a tool this turn (the agent's first turn) or may answer.
    #[serde(default)]
    pub tool_choice: ToolChoice,
    /// How a `replace` of a known symbol through the `edit` tool must begin (see [`SymbolHead`]).
    /// Only grammar-constrained providers use it; hosted models see the source in the messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symbol_heads: Vec<SymbolHead>,
}

/// The start of a symbol's declaration up to its name (`def `, `pub fn `, `    public int `):
/// a replacement of that symbol starts with it, so a small model writes the symbol's new code
/// rather than prose, while a rename (a new name after the head) stays possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolHead {
    /// The name path, as offered in the tool schema's `symbol` enum.
    pub symbol: String,
    pub head: String,
    /// Whether comment and attribute lines may come first (languages whose documentation and
    /// attributes sit above the declaration; not Python, whose docstring is in the body).
    pub lines_before: bool,
}

/// Whether a reply may be plain text or must be a tool call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    #[default]
    Auto,
    /// One of the offered tools must be called (ignored when no tools are offered).
    Required,
}

/// A tool the model may call. `parameters` is a JSON Schema object describing the arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    User {
        content: String,
    },
    Assistant {
        content: String,
        #[serde(default)]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of running a tool call. `name` is carried because Gemini addresses results by name.
    Tool {
        tool_call_id: String,
        name: String,
        content: String,
    },
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Self::User {
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::Assistant {
            content: content.into(),
            tool_calls: Vec::new(),
        }
    }

    pub fn tool_result(call: &ToolCall, content: impl Into<String>) -> Self {
        Self::Tool {
            tool_call_id: call.id.clone(),
            name: call.name.clone(),
            content: content.into(),
        }
    }
}

/// A complete tool call, assembled from however many stream deltas it arrived in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: ToolArguments,
}

/// Arguments as parsed JSON, or the raw text when the model produced invalid JSON, so the agent can
/// tell the model exactly what it sent instead of failing the whole turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolArguments {
    Json(serde_json::Value),
    Invalid(String),
}

impl ToolArguments {
    /// Parse accumulated argument text; empty text means "no arguments" (`{}`), as vendors send for
    /// parameterless tools.
    pub fn parse(raw: &str) -> Self {
        if raw.trim().is_empty() {
            return Self::Json(serde_json::Value::Object(Default::default()));
        }
        match serde_json::from_str(raw) {
            Ok(v) => Self::Json(v),
            Err(_) => Self::Invalid(raw.to_owned()),
        }
    }

    /// The arguments as JSON text, for wire formats that carry them as a string.
    pub fn to_json_text(&self) -> String {
        match self {
            Self::Json(v) => v.to_string(),
            Self::Invalid(raw) => raw.clone(),
        }
    }

    /// The arguments as a JSON value; invalid text is wrapped so it still round-trips.
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Self::Json(v) => v.clone(),
            Self::Invalid(raw) => serde_json::json!({ "_invalid_json": raw }),
        }
    }
}

/// Tokens billed for one request, as the vendor reported them (zero when it reports nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Why the model stopped, normalised across vendors; unknown reasons are kept verbatim, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Other(String),
}

impl FinishReason {
    /// Map any vendor's reason string (OpenAI, Anthropic, Gemini spellings) to the neutral form.
    pub fn from_vendor(reason: &str) -> Self {
        match reason {
            "stop" | "end_turn" | "stop_sequence" | "STOP" | "eos" => Self::Stop,
            "length" | "max_tokens" | "MAX_TOKENS" => Self::Length,
            "tool_calls" | "function_call" | "tool_use" => Self::ToolCalls,
            "content_filter" | "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT"
            | "SPII" | "refusal" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One item of a response stream. Text arrives as deltas; tool calls arrive whole; `Usage` (when the
/// vendor reports it) comes just before the final `Done`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    TextDelta(String),
    ToolCall(ToolCall),
    Usage(Usage),
    Done { finish_reason: FinishReason },
}

/// A whole response, assembled from the stream by [`crate::Provider::complete`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    pub finish_reason: FinishReason,
}

impl ChatResponse {
    /// Fold one stream event into the response under construction.
    pub(crate) fn absorb(&mut self, event: Event) {
        match event {
            Event::TextDelta(t) => self.text.push_str(&t),
            Event::ToolCall(c) => self.tool_calls.push(c),
            Event::Usage(u) => self.usage = u,
            Event::Done { finish_reason } => self.finish_reason = finish_reason,
        }
    }

    pub(crate) fn empty() -> Self {
        Self {
            text: String::new(),
            tool_calls: Vec::new(),
            usage: Usage::default(),
            finish_reason: FinishReason::Other("incomplete".into()),
        }
    }
}
