//! Provider proxy overhead on time-to-first-token (DESIGN §6: ≤ 1 ms at p99).
//!
//! A loopback server answers every request with an SSE stream whose first event is a text delta.
//! Time-to-first-token is measured, interleaved in the same run, two ways: through the whole provider
//! stack (request encoding, reqwest, retries wrapper, SSE parsing, OpenAI decoder, event stream) and
//! through a raw keep-alive TCP client that writes a pre-built HTTP request and scans the bytes for the
//! end of the first event. The difference is what Jingu adds. `JINGU_BENCH_QUICK=1` runs fewer rounds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jingu_providers::{CancelToken, ChatRequest, Event, Message, Provider, ProvidersConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FIRST: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n";
const REST: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

async fn serve(mut sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16384];
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let mut first = head.to_vec();
    first.extend(chunk(FIRST));
    let mut rest = chunk(REST);
    rest.extend_from_slice(b"0\r\n\r\n");
    loop {
        // Read one request: head, then content-length bytes.
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < end + len {
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        }
        buf.drain(..end + len);
        if sock.write_all(&first).await.is_err() {
            return;
        }
        // The rest follows after the first event was surely flushed on its own.
        tokio::task::yield_now().await;
        if sock.write_all(&rest).await.is_err() {
            return;
        }
    }
}

/// The baseline: one keep-alive connection, a pre-built request, a byte scan for the first event.
struct RawClient {
    sock: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl RawClient {
    async fn ttft(&mut self) -> Duration {
        let start = Instant::now();
        self.sock.write_all(&self.request).await.expect("write");
        self.buf.clear();
        let mut tmp = [0u8; 16384];
        let mut first = None;
        loop {
            let n = self.sock.read(&mut tmp).await.expect("read");
            assert!(n > 0, "server closed");
            self.buf.extend_from_slice(&tmp[..n]);
            // The first event is complete once its terminating blank line has arrived.
            if first.is_none()
                && find(&self.buf, b"\"Hello\"")
                    .is_some_and(|i| find(&self.buf[i..], b"\n\n").is_some())
            {
                first = Some(start.elapsed());
            }
            if self.buf.ends_with(b"0\r\n\r\n") {
                return first.expect("first event before the end");
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn provider_ttft(provider: &Provider, req: &ChatRequest) -> Duration {
    let start = Instant::now();
    let mut events = provider
        .stream(req, &CancelToken::new())
        .await
        .expect("stream");
    let mut first = None;
    while let Some(e) = events.next().await {
        if let Event::TextDelta(_) = e.expect("event") {
            first.get_or_insert_with(|| start.elapsed());
        }
    }
    first.expect("a text delta")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let quick = jingu_benches::quick();
    let rounds = if quick { 300 } else { 3000 };
    // One thread for client, server and hyper's connection task: on a shared 2-core machine a
    // multi-thread runtime's cross-thread wake-ups dominate the tail and measure the scheduler,
    // not the provider stack.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::spawn(serve(sock));
            }
        });
        let toml = format!(
            "[providers.bench]\nkind = \"openai-compatible\"\nbase_url = \"http://{addr}/v1\"\nmodel = \"m\"\n"
        );
        let config = ProvidersConfig::parse(&toml, "bench.toml".as_ref()).expect("config");
        let provider = Provider::new(config.resolve("bench").expect("resolve")).expect("provider");
        let req = ChatRequest {
            system: Some("You are a coding agent.".into()),
            messages: vec![Message::user("Say hello.")],
            max_tokens: Some(64),
            ..ChatRequest::default()
        };
        let body = br#"{"model":"m","messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"Say hello."}],"stream":true,"max_tokens":64,"stream_options":{"include_usage":true}}"#;
        let mut request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        let sock = TcpStream::connect(addr).await.expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        let mut raw = RawClient {
            sock,
            request,
            buf: Vec::new(),
        };
        // Warm up both paths (connection pools, allocator, branch predictors).
        for _ in 0..50 {
            provider_ttft(&provider, &req).await;
            raw.ttft().await;
        }
        let (mut ours, mut base) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        let started = Instant::now();
        for _ in 0..rounds {
            ours.push(provider_ttft(&provider, &req).await);
            base.push(raw.ttft().await);
        }
        ours.sort();
        base.sort();
        let (o50, o99) = (percentile(&ours, 0.5), percentile(&ours, 0.99));
        let (b50, b99) = (percentile(&base, 0.5), percentile(&base, 0.99));
        println!("provider time-to-first-token over loopback, {rounds} interleaved rounds ({:.1} s)", started.elapsed().as_secs_f64());
        println!("  provider stack : p50 {:>8.1} µs   p99 {:>8.1} µs", us(o50), us(o99));
        println!("  raw TCP client : p50 {:>8.1} µs   p99 {:>8.1} µs", us(b50), us(b99));
        println!(
            "  overhead       : p50 {:>8.1} µs   p99 {:>8.1} µs   (target p99 ≤ 1000 µs: {})",
            us(o50.saturating_sub(b50)),
            us(o99.saturating_sub(b99)),
            if o99.saturating_sub(b99) <= Duration::from_millis(1) { "met" } else { "MISSED" }
        );
        println!(
            "  connections opened: {} (the stack reuses its pooled connection)",
            connections.load(std::sync::atomic::Ordering::Relaxed)
        );
        println!("  ratio p50 ours/raw: {:.2}x", o50.as_secs_f64() / b50.as_secs_f64());
    });
}
