//! Typed provider errors. Every variant names the provider; none can carry the API key, because every
//! server-provided text passes through [`crate::secret::ApiKey::redact`] first.

use std::time::Duration;

/// Why a model request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("provider `{provider}`: authentication failed (HTTP {status}): {detail}")]
    Auth {
        provider: String,
        status: u16,
        detail: String,
    },
    #[error("provider `{provider}`: unknown model `{model}`: {detail}")]
    UnknownModel {
        provider: String,
        model: String,
        detail: String,
    },
    #[error("provider `{provider}`: quota or billing limit reached: {detail}")]
    Quota { provider: String, detail: String },
    #[error("provider `{provider}`: rate limited after {attempts} attempt(s){}", retry_hint(.retry_after))]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
        attempts: u32,
    },
    #[error("provider `{provider}`: timed out {phase} after {after:?}")]
    Timeout {
        provider: String,
        phase: TimeoutPhase,
        after: Duration,
    },
    #[error("provider `{provider}`: connection failed after {attempts} attempt(s): {detail}")]
    Connect {
        provider: String,
        attempts: u32,
        detail: String,
    },
    #[error("provider `{provider}`: malformed stream: {detail}")]
    MalformedStream { provider: String, detail: String },
    #[error("provider `{provider}`: response exceeds the {limit}-byte limit ({what})")]
    TooLarge {
        provider: String,
        what: &'static str,
        limit: usize,
    },
    #[error("provider `{provider}`: HTTP {status}: {body}")]
    Http {
        provider: String,
        status: u16,
        body: String,
    },
    #[error("provider `{provider}`: cancelled")]
    Cancelled { provider: String },
    #[error("provider `{provider}`: local model: {detail}")]
    LocalModel { provider: String, detail: String },
    #[error("provider `{provider}`: configuration: {detail}")]
    Config { provider: String, detail: String },
    #[error("every provider in the fallback chain failed: {}", join_errors(.errors))]
    Exhausted { errors: Vec<ProviderError> },
}

/// Where a timeout struck: waiting for response headers, or idle between stream chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connect,
    Headers,
    BetweenChunks,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::Headers => "waiting for response headers",
            Self::BetweenChunks => "waiting for the next stream chunk",
        })
    }
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (server asks to retry after {}s)", d.as_secs()),
        None => String::new(),
    }
}

fn join_errors(errors: &[ProviderError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ProviderError {
    /// Whether a router should try the next provider in the fallback chain. Everything that says
    /// "this provider cannot serve you now" falls back; a cancellation or a request the next provider
    /// would reject just as well (a plain 4xx) does not.
    pub fn should_fall_back(&self) -> bool {
        match self {
            Self::Cancelled { .. } | Self::Exhausted { .. } => false,
            Self::Http { status, .. } => *status >= 500 || *status == 408,
            _ => true,
        }
    }

    /// The provider this error is about (`None` for an exhausted chain).
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Auth { provider, .. }
            | Self::UnknownModel { provider, .. }
            | Self::Quota { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::Timeout { provider, .. }
            | Self::Connect { provider, .. }
            | Self::MalformedStream { provider, .. }
            | Self::TooLarge { provider, .. }
            | Self::Http { provider, .. }
            | Self::Cancelled { provider }
            | Self::LocalModel { provider, .. }
            | Self::Config { provider, .. } => Some(provider),
            Self::Exhausted { .. } => None,
        }
    }
}
