//! A real HTTP/1.1 server on 127.0.0.1 for tests: it parses each request, records it, and answers
//! with the next scripted reply, writing chunked bodies one TCP write per part so SSE frames really
//! arrive split at the boundaries the test chose.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::config::{ProvidersConfig, ResolvedProvider};

/// What the server does after writing a reply's parts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Then {
    /// Terminate the chunked body and keep the connection for the next request.
    Finish,
    /// Write nothing more, hold the connection open until the client goes away.
    Stall,
    /// Close the socket without terminating the body.
    Close,
}

#[derive(Clone)]
pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub parts: Vec<Vec<u8>>,
    pub then: Then,
}

impl Reply {
    pub(super) fn sse(parts: Vec<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            parts,
            then: Then::Finish,
        }
    }

    pub(super) fn error(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            parts: vec![body.as_bytes().to_vec()],
            then: Then::Finish,
        }
    }

    pub(super) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(super) fn then(mut self, then: Then) -> Self {
        self.then = then;
        self
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub(super) struct Recorded {
    pub head: String,
    pub body: Vec<u8>,
}

impl Recorded {
    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    pub(super) fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

pub(super) struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    /// Notified when a client closes a connection the server was holding (stall/cancel tests).
    pub client_gone: Arc<Notify>,
}

impl Server {
    pub(super) async fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let client_gone = Arc::new(Notify::new());
        let (r, q, g) = (replies.clone(), requests.clone(), client_gone.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (r, q, g) = (r.clone(), q.clone(), g.clone());
                tokio::spawn(serve(sock, r, q, g));
            }
        });
        Self {
            url: format!("http://{addr}"),
            requests,
            client_gone,
        }
    }

    pub(super) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    /// A provider of `kind` pointed at this server, key read from a file in `dir`.
    pub(super) fn provider(
        &self,
        kind: &str,
        key: &str,
        dir: &tempfile::TempDir,
    ) -> ResolvedProvider {
        let key_file = dir.path().join(format!("{kind}.key"));
        std::fs::write(&key_file, key).expect("write key");
        let toml = format!(
            "[providers.test]\nkind = \"{kind}\"\nbase_url = \"{}/v1\"\nmodel = \"test-model\"\n\
             api_key_file = \"{}\"\nread_timeout_ms = 400\nmax_attempts = 3\n",
            self.url,
            key_file.display()
        );
        let config = ProvidersConfig::parse(&toml, "test.toml".as_ref()).expect("config");
        let mut resolved = config.resolve("test").expect("resolve");
        resolved.retry.base_delay = Duration::from_millis(5);
        resolved.retry.max_delay = Duration::from_millis(20);
        resolved
    }
}

async fn serve(
    mut sock: TcpStream,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    gone: Arc<Notify>,
) {
    let _ = sock.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await else {
            return;
        };
        requests.lock().expect("lock").push(req);
        let Some(reply) = replies.lock().expect("lock").pop_front() else {
            return;
        };
        if write_reply(&mut sock, &reply).await.is_err() {
            gone.notify_one();
            return;
        }
        match reply.then {
            Then::Finish => {}
            Then::Close => return,
            Then::Stall => {
                // Wait for the client to hang up: read returns 0 or an error.
                let mut scratch = [0u8; 1024];
                loop {
                    match sock.read(&mut scratch).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                gone.notify_one();
                return;
            }
        }
    }
}

async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Recorded> {
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Recorded { head, body })
}

async fn write_reply(sock: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} X\r\ntransfer-encoding: chunked\r\n",
        reply.status
    );
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.flush().await?;
    for part in &reply.parts {
        if part.is_empty() {
            continue;
        }
        let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
        chunk.extend_from_slice(part);
        chunk.extend_from_slice(b"\r\n");
        sock.write_all(&chunk).await?;
        sock.flush().await?;
        // Let the client read this part on its own before the next one is written.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if reply.then == Then::Finish {
        sock.write_all(b"0\r\n\r\n").await?;
        sock.flush().await?;
    }
    Ok(())
}

/// SSE frames `data: …` for each payload, optionally with an `event:` name.
pub(super) fn sse(events: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in events {
        if !name.is_empty() {
            out.extend_from_slice(format!("event: {name}\n").as_bytes());
        }
        out.extend_from_slice(format!("data: {data}\n\n").as_bytes());
    }
    out
}

/// Split bytes into parts of cycling awkward sizes (1, 2, 3, 5, 7, 11 bytes), so boundaries fall
/// inside `data:`, inside JSON strings, between `\r` and `\n` and inside multi-byte characters.
pub(super) fn awkward(bytes: &[u8]) -> Vec<Vec<u8>> {
    let sizes = [1usize, 2, 3, 5, 7, 11];
    let mut parts = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < bytes.len() {
        let end = (i + sizes[k % sizes.len()]).min(bytes.len());
        parts.push(bytes[i..end].to_vec());
        i = end;
        k += 1;
    }
    parts
}
