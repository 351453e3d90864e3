//! Built-in presets: base URL, key variable, default model and wire quirks of each vendor we know.
//! A `[providers.NAME]` table whose name (or `preset = "…"`) matches a preset inherits from it.

use super::config::{DataUse, Kind};

/// Which JSON field carries the output-token limit on an OpenAI-style endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_tokens`: the field every OpenAI-compatible server (llama.cpp, vLLM, DashScope…) honours.
    MaxTokens,
    /// `max_completion_tokens`: OpenAI's current field; its reasoning models reject `max_tokens`.
    MaxCompletionTokens,
}

/// Per-vendor differences inside one wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    pub max_tokens_field: MaxTokensField,
    /// Send `stream_options.include_usage` (servers that reject unknown options get `false`).
    pub stream_usage: bool,
    /// Send `store: false` when policy requires inference-only use.
    pub send_store_flag: bool,
    /// Output limit when the request sets none (Anthropic requires one).
    pub default_max_tokens: u32,
}

impl Quirks {
    pub const OPENAI_COMPATIBLE: Quirks = Quirks {
        max_tokens_field: MaxTokensField::MaxTokens,
        stream_usage: true,
        send_store_flag: true,
        default_max_tokens: 4096,
    };
}

#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub kind: Kind,
    pub base_url: &'static str,
    /// Environment variable holding the key; `None` for keyless local servers.
    pub api_key_env: Option<&'static str>,
    pub model: &'static str,
    pub data_use: DataUse,
    pub quirks: Quirks,
}

const fn hosted(
    name: &'static str,
    kind: Kind,
    base_url: &'static str,
    env: &'static str,
    model: &'static str,
    quirks: Quirks,
) -> Preset {
    Preset {
        name,
        kind,
        base_url,
        api_key_env: Some(env),
        model,
        // The organisation must declare its agreement with a hosted vendor; we assume nothing.
        data_use: DataUse::Unspecified,
        quirks,
    }
}

const fn loopback(name: &'static str, base_url: &'static str, model: &'static str) -> Preset {
    Preset {
        name,
        kind: Kind::OpenAiCompatible,
        base_url,
        api_key_env: None,
        model,
        // Nothing leaves the machine.
        data_use: DataUse::InferenceOnly,
        quirks: Quirks::OPENAI_COMPATIBLE,
    }
}

pub const PRESETS: &[Preset] = &[
    hosted(
        "qwen",
        Kind::OpenAiCompatible,
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "DASHSCOPE_API_KEY",
        "qwen3-coder-plus",
        Quirks::OPENAI_COMPATIBLE,
    ),
    hosted(
        "minimax",
        Kind::OpenAiCompatible,
        "https://api.minimax.io/v1",
        "MINIMAX_API_KEY",
        "MiniMax-M2",
        Quirks::OPENAI_COMPATIBLE,
    ),
    hosted(
        "glm",
        Kind::OpenAiCompatible,
        "https://open.bigmodel.cn/api/paas/v4",
        "ZHIPUAI_API_KEY",
        "glm-4.6",
        // Zhipu reports usage in the last chunk unasked and has no `store` field.
        Quirks {
            stream_usage: false,
            send_store_flag: false,
            ..Quirks::OPENAI_COMPATIBLE
        },
    ),
    hosted(
        "kimi",
        Kind::OpenAiCompatible,
        "https://api.moonshot.ai/v1",
        "MOONSHOT_API_KEY",
        "kimi-k2-0905-preview",
        Quirks {
            send_store_flag: false,
            ..Quirks::OPENAI_COMPATIBLE
        },
    ),
    hosted(
        "openai",
        Kind::OpenAi,
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "gpt-4.1",
        Quirks {
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
            ..Quirks::OPENAI_COMPATIBLE
        },
    ),
    hosted(
        "claude",
        Kind::Anthropic,
        "https://api.anthropic.com/v1",
        "ANTHROPIC_API_KEY",
        "claude-sonnet-4-5",
        Quirks::OPENAI_COMPATIBLE,
    ),
    hosted(
        "gemini",
        Kind::Gemini,
        "https://generativelanguage.googleapis.com/v1beta",
        "GEMINI_API_KEY",
        "gemini-2.5-flash",
        Quirks::OPENAI_COMPATIBLE,
    ),
    loopback("ollama", "http://127.0.0.1:11434/v1", "qwen2.5-coder:7b"),
    // llama.cpp's server honours `max_tokens`, not `max_completion_tokens`, and ignores `model`.
    loopback("llamacpp", "http://127.0.0.1:8080/v1", "local"),
    loopback(
        "vllm",
        "http://127.0.0.1:8000/v1",
        "Qwen/Qwen2.5-Coder-7B-Instruct",
    ),
    Preset {
        name: "local",
        kind: Kind::Local,
        base_url: "",
        api_key_env: None,
        model: "SmolLM2-135M-Instruct-Q4_1",
        data_use: DataUse::InferenceOnly,
        quirks: Quirks::OPENAI_COMPATIBLE,
    },
];

pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
