//! [`Router`]: the `[routing]` chain. A request goes to the default provider; when that provider
//! cannot serve it (unavailable, rate limited, bad key, timed out before the first event…) the next
//! one in `fallback` is tried. Once an event has reached the caller there is no switching, and a
//! cancellation never falls through to another provider.

use futures_util::StreamExt;

use super::cancel::CancelToken;
use super::config::ProvidersConfig;
use super::error::ProviderError;
use super::provider::{Provider, collect};
use super::stream::EventStream;
use super::types::{ChatRequest, ChatResponse};

#[derive(Debug)]
pub struct Router {
    chain: Vec<Provider>,
    /// Chain members that could not even be built (no key, refused by policy), reported on failure.
    unavailable: Vec<ProviderError>,
}

/// A stream together with the provider that is serving it (for the audit log).
pub struct Routed<T> {
    pub provider: String,
    pub value: T,
}

impl Router {
    pub fn new(chain: Vec<Provider>) -> Self {
        Self {
            chain,
            unavailable: Vec::new(),
        }
    }

    /// Build the chain `[routing] default` + `fallback`; members that cannot be built are skipped
    /// and their reasons kept for the error if every other member fails too.
    pub fn from_config(config: &ProvidersConfig) -> Self {
        let mut router = Self::new(Vec::new());
        for name in config.chain() {
            match config.resolve(&name).and_then(Provider::new) {
                Ok(p) => router.chain.push(p),
                Err(e) => router.unavailable.push(e),
            }
        }
        router
    }

    /// Why the members that could not be built were left out, one per line.
    pub fn unavailable_summary(&self) -> String {
        self.unavailable
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn providers(&self) -> &[Provider] {
        &self.chain
    }

    pub async fn stream(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<Routed<EventStream>, ProviderError> {
        let mut errors = self.unavailable.clone();
        for provider in &self.chain {
            let outcome = match provider.stream(req, cancel).await {
                // Look at the first item: a stall or a broken stream before anything reached the
                // caller is still safe to route around.
                Ok(mut events) => match events.next().await {
                    Some(Err(e)) => Err(e),
                    Some(Ok(first)) => {
                        let events: EventStream =
                            Box::pin(futures_util::stream::once(async { Ok(first) }).chain(events));
                        Ok(events)
                    }
                    None => Ok(events),
                },
                Err(e) => Err(e),
            };
            match outcome {
                Ok(value) => {
                    return Ok(Routed {
                        provider: provider.name().to_owned(),
                        value,
                    });
                }
                Err(e) if e.should_fall_back() && !cancel.is_cancelled() => {
                    tracing::warn!(provider = provider.name(), error = %e, "falling back");
                    errors.push(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(ProviderError::Exhausted { errors })
    }

    pub async fn complete(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<Routed<ChatResponse>, ProviderError> {
        let routed = self.stream(req, cancel).await?;
        Ok(Routed {
            provider: routed.provider,
            value: collect(routed.value).await?,
        })
    }
}
