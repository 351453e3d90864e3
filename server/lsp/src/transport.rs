//! A guard in front of the protocol stream. tower-lsp-server's decoder ends the whole session on the
//! first undecodable message (tokio-util's `FramedRead` stops after an error), so a single malformed
//! frame would kill the server. Here frames are checked first: well-formed JSON goes through to the
//! server, anything else gets a JSON-RPC parse error (-32700) and the session continues.

use std::sync::Arc;

use serde_json::json;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc;

use super::prebuilt::Prebuilt;

/// Frames larger than this are refused (and skipped) rather than buffered.
const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
/// Longest header line kept; a longer one is a broken frame, skipped by resynchronising.
const MAX_HEADER_LINE: usize = 8 * 1024;
const PIPE_BYTES: usize = 1 << 20;
/// Parse-error replies waiting to be written before the reader waits for the writer.
const ERROR_REPLIES_QUEUED: usize = 64;
/// A body that already holds a complete JSON value but is shorter than its Content-Length is
/// given up on after this much silence (the client is waiting for an answer: a wedge otherwise).
const STALL_COMPLETE: std::time::Duration = std::time::Duration::from_millis(300);
/// Any incomplete body is given up on after this much silence.
const STALL_ANY: std::time::Duration = std::time::Duration::from_secs(5);
const HEADER: &[u8] = b"content-length:";

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Body(Vec<u8>),
    /// A frame we could not use; the message says why.
    Bad(String),
    Eof,
}

/// Offset of the first `Content-Length:` (any case) in `bytes`.
fn find_header(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(HEADER.len())
        .position(|w| w.eq_ignore_ascii_case(HEADER))
}

/// A frame reader that can resynchronise: bytes it over-read (a body that swallowed the next
/// frame) are pushed back, and after a broken header it skips to the next `Content-Length:`.
struct FrameReader<R> {
    r: R,
    /// Bytes to parse before reading more from `r`.
    pending: Vec<u8>,
    /// Skip to the next header before reading a frame (set after a broken one).
    resync: bool,
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
}

impl<R: AsyncBufRead + Unpin> FrameReader<R> {
    fn new(r: R) -> Self {
        Self {
            r,
            pending: Vec::new(),
            resync: false,
        }
    }

    async fn fill(&mut self) -> std::io::Result<&[u8]> {
        if !self.pending.is_empty() {
            return Ok(&self.pending);
        }
        self.r.fill_buf().await
    }

    fn consume(&mut self, n: usize) {
        if self.pending.is_empty() {
            self.r.consume(n);
        } else {
            self.pending.drain(..n);
        }
    }

    fn unread(&mut self, bytes: &[u8]) {
        let mut v = bytes.to_vec();
        v.append(&mut self.pending);
        self.pending = v;
    }

    /// Discard input up to (not including) the next `Content-Length:`; false at EOF. Memory
    /// stays bounded: only a header's length of bytes is carried between reads.
    async fn skip_to_header(&mut self) -> std::io::Result<bool> {
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let chunk = self.fill().await?;
            if chunk.is_empty() {
                return Ok(false);
            }
            let mut window = std::mem::take(&mut carry);
            let n = chunk.len();
            window.extend_from_slice(chunk);
            self.consume(n);
            if let Some(i) = find_header(&window) {
                self.unread(&window[i..]);
                return Ok(true);
            }
            let keep = window.len().min(HEADER.len() - 1);
            carry = window[window.len() - keep..].to_vec();
        }
    }

    async fn read_line(&mut self) -> std::io::Result<Line> {
        let mut line = Vec::new();
        loop {
            let chunk = self.fill().await?;
            if chunk.is_empty() {
                return Ok(if line.is_empty() {
                    Line::Eof
                } else {
                    Line::Text(line)
                });
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if line.len() + take > MAX_HEADER_LINE {
                return Ok(Line::TooLong);
            }
            line.extend_from_slice(&chunk[..take]);
            self.consume(take);
            if done {
                return Ok(Line::Text(line));
            }
        }
    }

    /// Read `len` bytes, or what arrived before the sender went quiet or closed; the flag says
    /// whether all `len` arrived.
    async fn read_body(&mut self, len: usize) -> std::io::Result<(Vec<u8>, bool)> {
        let mut body = Vec::with_capacity(len.min(1 << 20));
        while body.len() < len {
            let stall = if holds_json_value(&body) {
                STALL_COMPLETE
            } else {
                STALL_ANY
            };
            let chunk = if body.is_empty() {
                self.fill().await?
            } else {
                match tokio::time::timeout(stall, self.fill()).await {
                    Ok(r) => r?,
                    Err(_) => return Ok((body, false)),
                }
            };
            if chunk.is_empty() {
                return Ok((body, false));
            }
            let take = chunk.len().min(len - body.len());
            body.extend_from_slice(&chunk[..take]);
            self.consume(take);
        }
        Ok((body, true))
    }

    /// Read one frame; with `validate`, also check that the body is a JSON object or array (the
    /// server's own output is trusted and only re-framed, which keeps large responses cheap).
    async fn read_frame(&mut self, validate: bool) -> std::io::Result<Frame> {
        if std::mem::take(&mut self.resync) && !self.skip_to_header().await? {
            return Ok(Frame::Eof);
        }
        let mut length: Option<usize> = None;
        let mut bad_header: Option<String> = None;
        let mut saw_any = false;
        loop {
            let line = match self.read_line().await? {
                Line::Eof if saw_any => return Ok(Frame::Bad("truncated header".into())),
                Line::Eof => return Ok(Frame::Eof),
                Line::TooLong => {
                    self.resync = true;
                    return Ok(Frame::Bad(format!(
                        "header line longer than {MAX_HEADER_LINE} bytes"
                    )));
                }
                Line::Text(l) => l,
            };
            // Bytes before a header (the tail of a broken frame): they are one bad frame, and
            // the header starts the next one.
            let line = match find_header(&line) {
                Some(i) if i > 0 && !line[..i].iter().all(u8::is_ascii_whitespace) => {
                    self.unread(&line[i..]);
                    return Ok(Frame::Bad("unexpected bytes before a header".into()));
                }
                Some(i) => line[i..].to_vec(),
                None => line,
            };
            saw_any = true;
            let Ok(line) = String::from_utf8(line) else {
                bad_header = Some("header is not valid UTF-8".into());
                continue;
            };
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            match line.split_once(':') {
                Some((k, v)) if k.eq_ignore_ascii_case("content-length") => {
                    match v.trim().parse::<usize>() {
                        Ok(len) => length = Some(len),
                        Err(_) => {
                            bad_header =
                                Some(format!("invalid Content-Length `{}`", truncate(v.trim())))
                        }
                    }
                }
                Some(_) => {} // Content-Type and future headers.
                None => bad_header = Some(format!("malformed header line `{}`", truncate(line))),
            }
        }
        let len = match (length, bad_header) {
            (Some(len), None) => len,
            (Some(len), Some(why)) if len <= MAX_FRAME_BYTES => {
                // A usable length after noise: skip this frame's body.
                let (body, _) = self.read_body(len).await?;
                if let Some(i) = find_header(&body) {
                    self.unread(&body[i..]);
                }
                return Ok(Frame::Bad(why));
            }
            (_, why) => {
                // No usable length: whatever follows up to the next header is this frame's body.
                self.resync = true;
                return Ok(Frame::Bad(
                    why.unwrap_or_else(|| "missing Content-Length".into()),
                ));
            }
        };
        if len > MAX_FRAME_BYTES {
            // Neither buffered nor drained (10^12 bytes would never end): resynchronise.
            self.resync = true;
            return Ok(Frame::Bad(format!(
                "message of {len} bytes exceeds the {MAX_FRAME_BYTES} byte limit"
            )));
        }
        let (body, full) = self.read_body(len).await?;
        if full && !validate {
            return Ok(Frame::Body(body));
        }
        let parsed = serde_json::from_slice::<serde_json::Value>(&body);
        if full && let Ok(v) = &parsed {
            return Ok(if v.is_object() || v.is_array() {
                Frame::Body(body)
            } else {
                Frame::Bad("a JSON-RPC message must be an object".into())
            });
        }
        // The body swallowed (part of) the next frame, or the sender stopped short: hand back
        // everything from the next header on.
        let next = find_header(&body);
        if let Some(i) = next {
            self.unread(&body[i..]);
        }
        Ok(Frame::Bad(match parsed {
            Err(e) if full && next.is_none() => format!("invalid JSON: {e}"),
            _ => format!(
                "Content-Length {len} does not match the message ({} bytes belong to it)",
                next.unwrap_or(body.len())
            ),
        }))
    }
}

/// Whether `bytes` starts with a complete JSON value.
fn holds_json_value(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && matches!(
            serde_json::Deserializer::from_slice(bytes)
                .into_iter::<serde::de::IgnoredAny>()
                .next(),
            Some(Ok(_))
        )
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn encode(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Wire `input`/`output` (the process's stdin/stdout) to a server through the guard. Returns the
/// streams the server should read from and write to.
pub(crate) fn guard<I, O>(
    input: I,
    output: O,
    prebuilt: Arc<Prebuilt>,
) -> (DuplexStream, DuplexStream)
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (server_in, mut to_server) = tokio::io::duplex(PIPE_BYTES);
    let (server_out, from_server) = tokio::io::duplex(PIPE_BYTES);
    // Bounded: a client flooding malformed frames is slowed down, not buffered without limit.
    let (errors_tx, mut errors_rx) = mpsc::channel::<Vec<u8>>(ERROR_REPLIES_QUEUED);

    tokio::spawn(async move {
        let mut reader = FrameReader::new(BufReader::new(input));
        loop {
            match reader.read_frame(true).await {
                Ok(Frame::Body(body)) => {
                    if to_server.write_all(&encode(&body)).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Bad(why)) => {
                    tracing::warn!("refused a malformed message: {why}");
                    let err = json!({"jsonrpc": "2.0", "id": null,
                                     "error": {"code": -32700, "message": format!("parse error: {why}")}});
                    if errors_tx
                        .send(serde_json::to_vec(&err).unwrap_or_default())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Ok(Frame::Eof) | Err(_) => break,
            }
        }
        // Dropping `to_server` closes the server's input: it shuts down as on a closed stdin.
    });

    // The server's frames are read in their own task: a frame read is not cancel-safe, so it
    // must never lose a `select!` against the error channel halfway through a body.
    let (frames_tx, mut frames_rx) = mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(async move {
        let mut from_server = FrameReader::new(BufReader::new(from_server));
        loop {
            match from_server.read_frame(false).await {
                Ok(Frame::Body(body)) => {
                    if frames_tx.send(body).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Bad(why)) => tracing::error!("server produced a bad frame: {why}"),
                Ok(Frame::Eof) | Err(_) => break,
            }
        }
    });

    tokio::spawn(async move {
        let mut output = output;
        loop {
            // Biased, errors first: a parse error is queued before the next request reaches the
            // server, so the client sees it before that request's answer.
            let bytes = tokio::select! {
                biased;
                Some(err) = errors_rx.recv() => encode(&err),
                frame = frames_rx.recv() => match frame {
                    Some(body) => encode(&prebuilt.splice(&body).unwrap_or(body)),
                    None => break,
                },
            };
            if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });

    (server_in, server_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = FrameReader::new(BufReader::new(input));
        let mut out = Vec::new();
        loop {
            let f = r.read_frame(true).await.expect("in-memory read");
            if f == Frame::Eof {
                return out;
            }
            out.push(f);
        }
    }

    #[tokio::test]
    async fn good_frames_pass_and_bad_ones_are_named() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Length: 9\r\n\r\n{not jsonContent-Length: x\r\n\r\nContent-Length: 1\r\nContent-Type: a\r\n\r\n7Content-Length: 2\r\n\r\n[]";
        let got = frames(input).await;
        assert_eq!(got[0], Frame::Body(b"{}".to_vec()));
        assert!(matches!(&got[1], Frame::Bad(w) if w.contains("invalid JSON")));
        assert!(matches!(&got[2], Frame::Bad(w) if w.contains("Content-Length")));
        assert!(matches!(&got[3], Frame::Bad(w) if w.contains("object")));
        assert_eq!(got[4], Frame::Body(b"[]".to_vec()));
    }

    #[tokio::test]
    async fn oversized_frames_are_skipped_without_buffering() {
        let mut input = format!("Content-Length: {}\r\n\r\n", MAX_FRAME_BYTES + 1).into_bytes();
        input.resize(input.len() + MAX_FRAME_BYTES + 1, b' ');
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let got = frames(&input).await;
        assert!(matches!(&got[0], Frame::Bad(w) if w.contains("limit")));
        assert_eq!(got[1], Frame::Body(b"{}".to_vec()));
    }

    /// Each broken frame is followed by a good one, which must come through.
    #[tokio::test]
    async fn every_broken_frame_resynchronises_on_the_next_header() {
        let good = b"Content-Length: 2\r\n\r\n{}".as_slice();
        let req = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}";
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "longer than the body",
                [b"Content-Length: 500\r\n\r\n".as_slice(), req].concat(),
            ),
            (
                "absurd",
                [b"Content-Length: 1000000000000\r\n\r\n".as_slice(), req].concat(),
            ),
            (
                "negative",
                [b"Content-Length: -5\r\n\r\n".as_slice(), req].concat(),
            ),
            (
                "missing",
                [b"Content-Type: x\r\n\r\n".as_slice(), req].concat(),
            ),
            (
                "not a number",
                [b"Content-Length: 1e3\r\n\r\n".as_slice(), req].concat(),
            ),
            (
                "overflowing",
                [
                    b"Content-Length: 99999999999999999999999\r\n\r\n".as_slice(),
                    req,
                ]
                .concat(),
            ),
            (
                "huge header line",
                [vec![b'A'; 20_000], b"\r\n\r\n".to_vec()].concat(),
            ),
            ("no colon", b"garbage line\r\n\r\n".to_vec()),
            ("binary", vec![0xff, 0xfe, 0x00, b'\n', b'\r', b'\n']),
            (
                "shorter than the body",
                b"Content-Length: 3\r\n\r\n{\"a\":1}".to_vec(),
            ),
            ("zero", b"Content-Length: 0\r\n\r\n".to_vec()),
            ("bare newlines", b"\n\n\n".to_vec()),
        ];
        for (what, bad) in cases {
            let input = [bad.as_slice(), good].concat();
            let got = frames(&input).await;
            assert!(
                got.iter().any(|f| matches!(f, Frame::Bad(_))),
                "{what}: no error answered: {got:?}"
            );
            assert_eq!(
                got.last(),
                Some(&Frame::Body(b"{}".to_vec())),
                "{what}: the next frame was lost: {got:?}"
            );
        }
    }

    /// A frame claiming more bytes than are sent, with the client then waiting: answered, not
    /// waited on forever.
    #[tokio::test]
    async fn a_short_body_followed_by_silence_is_answered() {
        let (mut w, r) = tokio::io::duplex(1024);
        let mut reader = FrameReader::new(BufReader::new(r));
        w.write_all(b"Content-Length: 100\r\n\r\n{\"id\":1}")
            .await
            .expect("w");
        let f = tokio::time::timeout(std::time::Duration::from_secs(3), reader.read_frame(true))
            .await
            .expect("wedged");
        assert!(matches!(f, Ok(Frame::Bad(_))), "{f:?}");
        w.write_all(b"Content-Length: 2\r\n\r\n{}")
            .await
            .expect("w");
        let f = reader.read_frame(true).await.expect("read");
        assert_eq!(f, Frame::Body(b"{}".to_vec()));
    }
}
