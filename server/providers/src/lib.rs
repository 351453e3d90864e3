//! Model providers (DESIGN §4): a provider-neutral chat model, three hand-built wire formats
//! (OpenAI Chat Completions and compatibles, Anthropic Messages, Gemini), vendor presets, retries,
//! timeouts, cancellation and a fallback router.
//!
//! Flow: [`ProvidersConfig`] → [`ProvidersConfig::resolve`] (preset merge, key from env/file) →
//! [`Provider::new`] → [`Provider::stream`] (HTTP with retries) → SSE bytes bounded by size →
//! wire decoder → [`Event`]s. [`Router`] walks `[routing] default` + `fallback`.

mod anthropic;
pub mod cancel;
pub mod config;
pub mod error;
pub mod fill;
mod gemini;
pub(crate) mod http;
#[cfg(feature = "local-llm")]
mod local;
#[cfg(feature = "local-llm")]
pub use local::{
    backend as llama_backend, decode_threads as local_decode_threads,
    fill_tokens as local_fill_tokens,
};
pub mod local_grammar;
pub mod local_prompt;
mod openai;
pub mod presets;
mod provider;
pub mod retry;
mod router;
pub mod secret;
mod stream;
pub mod types;

#[cfg(test)]
mod tests;

pub use cancel::CancelToken;
pub use config::{
    ConfigError, DataUse, KeySource, Kind, ProviderConfig, ProvidersConfig, ResolvedProvider,
    RoutingConfig, default_local_model_path, load_config_file, load_user_config, user_config_path,
};
pub use error::{ProviderError, TimeoutPhase};
pub use fill::{Ahead, FillRequest, FillResponse, FillStats, FillUntil, FillVia};
pub use provider::{Provider, collect};
pub use router::{Routed, Router};
pub use secret::ApiKey;
pub use stream::EventStream;
pub use types::{
    ChatRequest, ChatResponse, Event, FinishReason, Message, SymbolHead, ToolArguments, ToolCall,
    ToolChoice, ToolSpec, Usage,
};
