//! The stream driver: bytes → bounded SSE events → a wire decoder → neutral [`Event`]s, with an idle
//! timeout between chunks and cancellation that drops the HTTP body (closing the connection) at once.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};

use super::cancel::CancelToken;
use super::config::ResolvedProvider;
use super::error::{ProviderError, TimeoutPhase};
use super::http::{classify, error_chain};
use super::secret::redact;
use super::types::Event;

/// A response as a stream of events; ends after `Event::Done` or the first error.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, ProviderError>> + Send>>;

/// Something a decoder found wrong with the stream.
#[derive(Debug)]
pub(crate) enum StreamFault {
    /// Not the wire format we expect (bad JSON, missing fields, truncated).
    Malformed(String),
    /// The vendor reported an error inside the stream; `status` is the HTTP status it corresponds to.
    Vendor { status: u16, body: String },
}

/// Turns one vendor's SSE events into neutral events.
pub(crate) trait Decoder: Send {
    /// Handle one SSE event (`name` is `message` when the server sent none). Returns `true` when the
    /// response is complete and the rest of the body need not be read.
    fn on_event(
        &mut self,
        name: &str,
        data: &str,
        out: &mut VecDeque<Event>,
    ) -> Result<bool, StreamFault>;

    /// The body ended without an explicit terminator: flush, or report truncation.
    fn on_eof(&mut self, out: &mut VecDeque<Event>) -> Result<(), StreamFault>;
}

/// Why the byte layer gave up.
#[derive(Debug)]
enum ByteFault {
    Transport(reqwest::Error),
    TooLarge(&'static str, usize),
}

impl std::fmt::Display for ByteFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => f.write_str(&error_chain(e)),
            Self::TooLarge(what, limit) => write!(f, "{what} over {limit} bytes"),
        }
    }
}

/// Counts bytes so no event and no body can grow without bound: the SSE parser buffers until a
/// blank line, so without this a server could make us buffer forever.
struct SizeGuard {
    max_event: usize,
    max_body: usize,
    body: usize,
    event: usize,
    /// Bytes since the last `\n` that are not `\r` (0 means we are at the start of a line).
    line: usize,
}

impl SizeGuard {
    fn check(&mut self, chunk: &[u8]) -> Result<(), ByteFault> {
        self.body += chunk.len();
        if self.body > self.max_body {
            return Err(ByteFault::TooLarge("response body", self.max_body));
        }
        for &b in chunk {
            match b {
                b'\n' if self.line == 0 => self.event = 0,
                b'\n' => self.line = 0,
                b'\r' => {}
                _ => {
                    self.line += 1;
                    self.event += 1;
                }
            }
        }
        if self.event > self.max_event {
            return Err(ByteFault::TooLarge("one stream event", self.max_event));
        }
        Ok(())
    }
}

struct Driver {
    cfg: Arc<ResolvedProvider>,
    sse: Pin<
        Box<
            dyn Stream<Item = Result<eventsource_stream::Event, EventStreamError<ByteFault>>>
                + Send,
        >,
    >,
    decoder: Box<dyn Decoder>,
    queue: VecDeque<Event>,
    finished: bool,
    cancel: CancelToken,
}

pub(crate) fn drive(
    resp: reqwest::Response,
    decoder: Box<dyn Decoder>,
    cfg: Arc<ResolvedProvider>,
    cancel: CancelToken,
) -> EventStream {
    let mut guard = SizeGuard {
        max_event: cfg.limits.max_event_bytes,
        max_body: cfg.limits.max_body_bytes,
        body: 0,
        event: 0,
        line: 0,
    };
    let bytes = resp.bytes_stream().map(move |chunk| {
        let chunk: Bytes = chunk.map_err(ByteFault::Transport)?;
        guard.check(&chunk)?;
        Ok::<_, ByteFault>(chunk)
    });
    let driver = Driver {
        cfg,
        sse: Box::pin(bytes.eventsource()),
        decoder,
        queue: VecDeque::new(),
        finished: false,
        cancel,
    };
    Box::pin(futures_util::stream::unfold(driver, |mut d| async move {
        let item = d.next_item().await?;
        Some((item, d))
    }))
}

impl Driver {
    async fn next_item(&mut self) -> Option<Result<Event, ProviderError>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                self.drain().await;
                return None;
            }
            let next = tokio::select! {
                biased;
                () = self.cancel.cancelled() => {
                    return self.fail(ProviderError::Cancelled { provider: self.cfg.name.clone() });
                }
                n = tokio::time::timeout(self.cfg.read_timeout, self.sse.next()) => n,
            };
            let result = match next {
                Err(_) => {
                    let err = ProviderError::Timeout {
                        provider: self.cfg.name.clone(),
                        phase: TimeoutPhase::BetweenChunks,
                        after: self.cfg.read_timeout,
                    };
                    return self.fail(err);
                }
                Ok(None) => {
                    self.finished = true;
                    self.decoder.on_eof(&mut self.queue)
                }
                Ok(Some(Err(e))) => return self.fail(self.byte_error(e)),
                Ok(Some(Ok(ev))) => {
                    match self.decoder.on_event(&ev.event, &ev.data, &mut self.queue) {
                        Ok(done) => {
                            self.finished |= done;
                            Ok(())
                        }
                        Err(f) => Err(f),
                    }
                }
            };
            if let Err(fault) = result {
                let err = self.fault_error(fault);
                return self.fail(err);
            }
        }
    }

    /// After the terminator, read what little is left of the body (normally just the end of the
    /// chunked encoding) so the connection goes back to the pool instead of being closed: a new
    /// TLS handshake per request costs far more. Bounded in time and events; errors are moot.
    async fn drain(&mut self) {
        let drain = async {
            for _ in 0..16 {
                match self.sse.next().await {
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_millis(50), drain).await;
        self.sse = Box::pin(futures_util::stream::empty());
    }

    /// End the stream with `err`; dropping `sse` here releases the connection immediately.
    fn fail(&mut self, err: ProviderError) -> Option<Result<Event, ProviderError>> {
        self.finished = true;
        self.queue.clear();
        self.sse = Box::pin(futures_util::stream::empty());
        Some(Err(err))
    }

    fn fault_error(&self, fault: StreamFault) -> ProviderError {
        match fault {
            StreamFault::Malformed(detail) => ProviderError::MalformedStream {
                provider: self.cfg.name.clone(),
                detail: redact(self.cfg.key.as_ref(), &detail),
            },
            StreamFault::Vendor { status, body } => classify(&self.cfg, status, &body, None, 1),
        }
    }

    fn byte_error(&self, e: EventStreamError<ByteFault>) -> ProviderError {
        let provider = self.cfg.name.clone();
        match e {
            EventStreamError::Transport(ByteFault::TooLarge(what, limit)) => {
                ProviderError::TooLarge {
                    provider,
                    what,
                    limit,
                }
            }
            EventStreamError::Transport(ByteFault::Transport(e)) => ProviderError::Connect {
                provider,
                attempts: 1,
                detail: redact(self.cfg.key.as_ref(), &error_chain(&e)),
            },
            EventStreamError::Utf8(e) => ProviderError::MalformedStream {
                provider,
                detail: format!("invalid UTF-8: {e}"),
            },
            EventStreamError::Parser(e) => ProviderError::MalformedStream {
                provider,
                detail: format!("invalid SSE framing: {e}"),
            },
        }
    }
}

/// Parse one `data:` payload as JSON, or report it as malformed with a short excerpt.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, StreamFault> {
    serde_json::from_str(data).map_err(|e| {
        let excerpt: String = data.chars().take(200).collect();
        StreamFault::Malformed(format!("{e} in event data `{excerpt}`"))
    })
}
