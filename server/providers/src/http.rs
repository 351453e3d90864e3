//! Sending one request: timeouts, retries with backoff honouring `Retry-After`, cancellation, and
//! turning error responses into typed [`ProviderError`]s with the key scrubbed out.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::cancel::CancelToken;
use super::config::ResolvedProvider;
use super::error::{ProviderError, TimeoutPhase};
use super::retry::{backoff, parse_retry_after};
use super::secret::redact;

/// A prepared request, resent as-is on every attempt.
pub(crate) struct Prepared {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub(crate) fn build_client(cfg: &ResolvedProvider) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .connect_timeout(cfg.connect_timeout)
        // Streams are long; idle gaps are bounded per chunk by the stream driver instead.
        .tcp_nodelay(true)
        .build()
        .map_err(|e| ProviderError::Config {
            provider: cfg.name.clone(),
            detail: format!("building the HTTP client: {e}"),
        })
}

/// What one attempt produced.
enum Attempt {
    Ok(reqwest::Response),
    /// Worth retrying after the given delay (None: use the backoff schedule).
    Retry(ProviderError, Option<Duration>),
    Fail(ProviderError),
}

/// Send `req` until a 2xx response arrives, the error is not retryable, attempts run out, or
/// `cancel` fires (which also interrupts a backoff sleep).
pub(crate) async fn send(
    client: &reqwest::Client,
    cfg: &ResolvedProvider,
    req: &Prepared,
    cancel: &CancelToken,
) -> Result<reqwest::Response, ProviderError> {
    let cancelled = || ProviderError::Cancelled {
        provider: cfg.name.clone(),
    };
    let mut attempt = 1;
    loop {
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            o = attempt_once(client, cfg, req, attempt) => o,
        };
        let (err, retry_after) = match outcome {
            Attempt::Ok(resp) => return Ok(resp),
            Attempt::Fail(e) => return Err(e),
            Attempt::Retry(e, after) => (e, after),
        };
        if attempt >= cfg.retry.max_attempts {
            return Err(err);
        }
        let delay = match retry_after {
            Some(d) if d > cfg.retry.max_retry_after => return Err(err),
            Some(d) => d,
            None => backoff(&cfg.retry, attempt),
        };
        tracing::debug!(provider = %cfg.name, attempt, ?delay, error = %err, "retrying");
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            () = tokio::time::sleep(delay) => {}
        }
        attempt += 1;
    }
}

async fn attempt_once(
    client: &reqwest::Client,
    cfg: &ResolvedProvider,
    req: &Prepared,
    attempt: u32,
) -> Attempt {
    let send = client
        .post(&req.url)
        .headers(req.headers.clone())
        .body(req.body.clone())
        .send();
    let resp = match tokio::time::timeout(cfg.read_timeout, send).await {
        Err(_) => {
            return Attempt::Fail(ProviderError::Timeout {
                provider: cfg.name.clone(),
                phase: TimeoutPhase::Headers,
                after: cfg.read_timeout,
            });
        }
        Ok(Err(e)) if e.is_timeout() => {
            return Attempt::Fail(ProviderError::Timeout {
                provider: cfg.name.clone(),
                phase: TimeoutPhase::Connect,
                after: cfg.connect_timeout,
            });
        }
        // Connection refused/reset or closed before a response: nothing was received, so resending
        // is safe.
        Ok(Err(e)) => {
            return Attempt::Retry(
                ProviderError::Connect {
                    provider: cfg.name.clone(),
                    attempts: attempt,
                    detail: redact(cfg.key.as_ref(), &error_chain(&e)),
                },
                None,
            );
        }
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return Attempt::Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let body = read_excerpt(resp, cfg).await;
    let retry_after = retry_after.or_else(|| retry_delay_in_body(&body));
    let err = classify(cfg, status, &body, retry_after, attempt);
    let retryable = match &err {
        ProviderError::RateLimited { .. } => true,
        ProviderError::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504 | 529),
        _ => false,
    };
    if retryable {
        Attempt::Retry(err, retry_after)
    } else {
        Attempt::Fail(err)
    }
}

/// Read at most `max_error_excerpt` bytes of an error body, within the read timeout.
async fn read_excerpt(mut resp: reqwest::Response, cfg: &ResolvedProvider) -> String {
    let limit = cfg.limits.max_error_excerpt;
    let mut buf = Vec::new();
    let read = async {
        while buf.len() < limit {
            match resp.chunk().await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(cfg.read_timeout, read).await;
    buf.truncate(limit);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Gemini states the wait in the body (`"retryDelay": "37s"`) instead of a `Retry-After` header.
pub(crate) fn retry_delay_in_body(body: &str) -> Option<Duration> {
    let at = body.find("\"retryDelay\"")?;
    let rest = &body[at + "\"retryDelay\"".len()..];
    let value = rest.split('"').nth(1)?;
    let secs: f64 = value.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The human part of a vendor error body (`error.message`, `message`, or the raw excerpt).
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    // Gemini wraps its error in a one-element array when streaming.
    let value = match parsed {
        Some(serde_json::Value::Array(mut items)) if !items.is_empty() => Some(items.remove(0)),
        other => other,
    };
    let message = value.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    let text = message.unwrap_or_else(|| body.trim().to_owned());
    text.chars().take(500).collect()
}

/// Map a non-2xx status and its body to the error a user can act on.
pub(crate) fn classify(
    cfg: &ResolvedProvider,
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    attempts: u32,
) -> ProviderError {
    let provider = cfg.name.clone();
    let detail = redact(cfg.key.as_ref(), &error_message(body));
    let lower = body.to_ascii_lowercase();
    let mentions_model = lower.contains("model");
    // Only exhausted money/quota is final; Gemini says "quota" for per-minute limits too, which are
    // plain rate limits worth retrying.
    let quota = [
        "insufficient_quota",
        "exceeded_current_quota",
        "billing",
        "credit balance",
        "insufficient balance",
    ]
    .iter()
    .any(|w| lower.contains(w));
    // Gemini answers a bad key with 400 INVALID_ARGUMENT rather than 401.
    let bad_key = lower.contains("api key not valid") || lower.contains("api_key_invalid");
    match status {
        401 | 403 => ProviderError::Auth {
            provider,
            status,
            detail,
        },
        400 if bad_key => ProviderError::Auth {
            provider,
            status,
            detail,
        },
        402 => ProviderError::Quota { provider, detail },
        429 if quota => ProviderError::Quota { provider, detail },
        429 => ProviderError::RateLimited {
            provider,
            retry_after,
            attempts,
        },
        404 => ProviderError::UnknownModel {
            provider,
            model: cfg.model.clone(),
            detail,
        },
        400 if mentions_model
            && ["not found", "not exist", "model_not_found", "invalid model"]
                .iter()
                .any(|w| lower.contains(w)) =>
        {
            ProviderError::UnknownModel {
                provider,
                model: cfg.model.clone(),
                detail,
            }
        }
        _ => ProviderError::Http {
            provider,
            status,
            body: detail,
        },
    }
}

/// A reqwest error with its causes ("error sending request: connection refused").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
