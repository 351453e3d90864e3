//! [`Provider`]: one configured model endpoint. `stream` sends the request (with retries) and returns
//! the event stream once response headers arrive; `complete` folds that stream into a response.

use std::sync::Arc;

use futures_util::StreamExt;

use super::cancel::CancelToken;
use super::config::{DataUse, Kind, ResolvedProvider};
use super::error::ProviderError;
use super::fill::{self, FillRequest, FillResponse, FillVia};
use super::http::{self, Prepared};
use super::stream::{self, Decoder, EventStream};
use super::types::{ChatRequest, ChatResponse};
use super::{anthropic, gemini, openai};

#[derive(Debug, Clone)]
pub struct Provider {
    cfg: Arc<ResolvedProvider>,
    client: reqwest::Client,
    /// Set once the server answered that it has no `/completions` with `suffix`: fill through chat.
    fill_by_chat: Arc<std::sync::atomic::AtomicBool>,
    #[cfg(feature = "local-llm")]
    local: Option<Arc<super::local::LocalModel>>,
}

impl Provider {
    /// Check the resolved settings against what can actually be used and build the HTTP client.
    pub fn new(cfg: ResolvedProvider) -> Result<Self, ProviderError> {
        let refuse = |detail: String| ProviderError::Config {
            provider: cfg.name.clone(),
            detail,
        };
        #[cfg(not(feature = "local-llm"))]
        if cfg.kind == Kind::Local {
            return Err(refuse(
                "the in-process local model needs a build with the `local-llm` feature; \
                 point a provider at a local server instead (presets ollama, llamacpp, vllm)"
                    .into(),
            ));
        }
        if cfg.needs_key() && cfg.key.is_none() {
            let source = match &cfg.key_source {
                super::config::KeySource::Env(var) => format!("set ${var}"),
                super::config::KeySource::File(p) => format!("write the key to {}", p.display()),
                super::config::KeySource::None => String::new(),
            };
            return Err(refuse(format!("no API key: {source}")));
        }
        if cfg.inference_only && cfg.data_use != DataUse::InferenceOnly {
            return Err(refuse(
                "policy.require_inference_only is set but this provider is not declared \
                 `data_use = \"inference-only\"`"
                    .into(),
            ));
        }
        let client = http::build_client(&cfg)?;
        #[cfg(feature = "local-llm")]
        let local = (cfg.kind == Kind::Local).then(|| {
            Arc::new(super::local::LocalModel::new(
                cfg.model_path
                    .clone()
                    .unwrap_or_else(super::config::default_local_model_path),
            ))
        });
        Ok(Self {
            cfg: Arc::new(cfg),
            client,
            fill_by_chat: Default::default(),
            #[cfg(feature = "local-llm")]
            local,
        })
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    pub fn settings(&self) -> &ResolvedProvider {
        &self.cfg
    }

    /// How long the in-process model took to load (local provider, after its first request).
    pub fn local_load_time(&self) -> Option<std::time::Duration> {
        #[cfg(feature = "local-llm")]
        if let Some(local) = &self.local {
            return local.load_time();
        }
        None
    }

    /// Requests the local model has started, and the tokens the current (or last) one has
    /// generated so far: how a test sees that a cancel stopped decoding.
    pub fn local_generated(&self) -> Option<(usize, usize)> {
        #[cfg(feature = "local-llm")]
        if let Some(local) = &self.local {
            return local.generated_so_far();
        }
        None
    }

    /// Prompt tokens of the last local request and how many of them the KV cache already held.
    pub fn local_prompt_stats(&self) -> Option<(usize, usize)> {
        #[cfg(feature = "local-llm")]
        if let Some(local) = &self.local {
            return local.prompt_stats();
        }
        None
    }

    /// Send `req` and stream the answer. Errors before the first byte of the body (bad key, 429
    /// after retries, connection refused…) come from this future; later ones come as stream items.
    pub async fn stream(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<EventStream, ProviderError> {
        let cfg = &self.cfg;
        let (url, headers, body, decoder): (_, _, _, Box<dyn Decoder>) = match cfg.kind {
            Kind::OpenAi | Kind::OpenAiCompatible => (
                openai::url(cfg),
                openai::headers(cfg),
                openai::body(cfg, req),
                Box::<openai::OpenAiDecoder>::default(),
            ),
            Kind::Anthropic => (
                anthropic::url(cfg),
                anthropic::headers(cfg),
                anthropic::body(cfg, req),
                Box::<anthropic::AnthropicDecoder>::default(),
            ),
            Kind::Gemini => (
                gemini::url(cfg),
                gemini::headers(cfg),
                gemini::body(cfg, req),
                Box::<gemini::GeminiDecoder>::default(),
            ),
            Kind::Local => {
                #[cfg(feature = "local-llm")]
                if let Some(local) = &self.local {
                    return super::local::stream(local, cfg, req, cancel).await;
                }
                return Err(ProviderError::Config {
                    provider: cfg.name.clone(),
                    detail: "local model not built in (feature `local-llm`)".into(),
                });
            }
        };
        let headers = headers.map_err(|detail| ProviderError::Config {
            provider: cfg.name.clone(),
            detail,
        })?;
        let prepared = Prepared {
            url,
            headers,
            body: serde_json::to_vec(&body)
                .map_err(|e| ProviderError::Config {
                    provider: cfg.name.clone(),
                    detail: format!("encoding the request: {e}"),
                })?
                .into(),
        };
        let resp = http::send(&self.client, cfg, &prepared, cancel).await?;
        Ok(stream::drive(
            resp,
            decoder,
            self.cfg.clone(),
            cancel.clone(),
        ))
    }

    /// The whole response: text, tool calls, usage and finish reason.
    pub async fn complete(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<ChatResponse, ProviderError> {
        collect(self.stream(req, cancel).await?).await
    }
}

impl Provider {
    /// Fill-in-the-middle for inline completion (see `fill.rs`). Cancelling `cancel` (or dropping
    /// the future) stops the request; the local model stops within one token.
    pub async fn fill(
        &self,
        req: &FillRequest,
        cancel: &CancelToken,
    ) -> Result<FillResponse, ProviderError> {
        use std::sync::atomic::Ordering;
        let cfg = &self.cfg;
        match cfg.kind {
            Kind::Local => {
                #[cfg(feature = "local-llm")]
                if let Some(local) = &self.local {
                    return super::local::fill(local, cfg, req, cancel).await;
                }
                Err(ProviderError::Config {
                    provider: cfg.name.clone(),
                    detail: "local model not built in (feature `local-llm`)".into(),
                })
            }
            Kind::OpenAi | Kind::OpenAiCompatible if !self.fill_by_chat.load(Ordering::Relaxed) => {
                match self.fill_completions(req, cancel).await {
                    Err(e) if fill::unsupported(&e) => {
                        tracing::info!(provider = %cfg.name, "no /completions with suffix ({e}); completing through chat");
                        self.fill_by_chat.store(true, Ordering::Relaxed);
                        self.fill_chat(req, cancel).await
                    }
                    other => other,
                }
            }
            _ => self.fill_chat(req, cancel).await,
        }
    }

    async fn fill_completions(
        &self,
        req: &FillRequest,
        cancel: &CancelToken,
    ) -> Result<FillResponse, ProviderError> {
        let cfg = &self.cfg;
        let config_err = |detail: String| ProviderError::Config {
            provider: cfg.name.clone(),
            detail,
        };
        let prepared = Prepared {
            url: fill::completions_url(cfg),
            headers: fill::completions_headers(cfg).map_err(config_err)?,
            body: serde_json::to_vec(&fill::completions_body(cfg, req))
                .map_err(|e| config_err(format!("encoding the request: {e}")))?
                .into(),
        };
        let resp = http::send(&self.client, cfg, &prepared, cancel).await?;
        let body = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(ProviderError::Cancelled { provider: cfg.name.clone() }),
            b = tokio::time::timeout(cfg.read_timeout, resp.bytes()) => b,
        };
        let body = match body {
            Err(_) => {
                return Err(ProviderError::Timeout {
                    provider: cfg.name.clone(),
                    phase: super::error::TimeoutPhase::BetweenChunks,
                    after: cfg.read_timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(ProviderError::Connect {
                    provider: cfg.name.clone(),
                    attempts: 1,
                    detail: http::error_chain(&e),
                });
            }
            Ok(Ok(b)) => b,
        };
        if body.len() > cfg.limits.max_body_bytes {
            return Err(ProviderError::TooLarge {
                provider: cfg.name.clone(),
                what: "completions body",
                limit: cfg.limits.max_body_bytes,
            });
        }
        let (text, usage) =
            fill::parse_completions(&body).map_err(|detail| ProviderError::MalformedStream {
                provider: cfg.name.clone(),
                detail,
            })?;
        Ok(FillResponse {
            text: until_cut(req, text),
            usage,
            via: FillVia::Completions,
            stats: None,
            ahead: None,
        })
    }

    async fn fill_chat(
        &self,
        req: &FillRequest,
        cancel: &CancelToken,
    ) -> Result<FillResponse, ProviderError> {
        let response = self.complete(&fill::chat_request(req), cancel).await?;
        Ok(FillResponse {
            text: until_cut(req, fill::unfence(&response.text)),
            usage: response.usage,
            via: FillVia::Chat,
            stats: None,
            ahead: None,
        })
    }
}

/// A hosted reply cut where the request's `until` ends it (the local model stops there itself).
fn until_cut(req: &FillRequest, mut text: String) -> String {
    if let Some(at) = req.until.cut(&text) {
        text.truncate(at);
    }
    text
}

/// Fold an event stream into a [`ChatResponse`], stopping at the first error.
pub async fn collect(mut events: EventStream) -> Result<ChatResponse, ProviderError> {
    let mut response = ChatResponse::empty();
    while let Some(event) = events.next().await {
        response.absorb(event?);
    }
    Ok(response)
}
