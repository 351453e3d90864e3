//! A guard in front of the protocol stream. tower-lsp-server's decoder ends the whole session on the
//! first undecodable message (tokio-util's `FramedRead` stops after an error), so a single malformed
//! frame would kill the server. Here frames are checked first: well-formed JSON goes through to the
//! server, anything else gets a JSON-RPC parse error (-32700) and the session continues.

use std::sync::Arc;

use serde_json::json;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
    DuplexStream,
};
use tokio::sync::mpsc;

use super::prebuilt::Prebuilt;

/// Frames larger than this are refused (and skipped) rather than buffered.
const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
const PIPE_BYTES: usize = 1 << 20;

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Body(Vec<u8>),
    /// A frame we could not use; the message says why.
    Bad(String),
    Eof,
}

/// Read one frame; with `validate`, also check that the body is a JSON object or array (the
/// server's own output is trusted and only re-framed, which keeps large responses cheap).
async fn read_frame<R: AsyncBufRead + Unpin>(r: &mut R, validate: bool) -> std::io::Result<Frame> {
    let mut length: Option<usize> = None;
    let mut bad_header: Option<String> = None;
    let mut saw_any = false;
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).await;
        let n = match n {
            Ok(n) => n,
            // Non-UTF-8 header bytes: skip them as a bad header line.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                bad_header = Some("header is not valid UTF-8".into());
                continue;
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(if saw_any {
                Frame::Bad("truncated header".into())
            } else {
                Frame::Eof
            });
        }
        saw_any = true;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("content-length") => {
                match v.trim().parse::<usize>() {
                    Ok(len) => length = Some(len),
                    Err(_) => bad_header = Some(format!("invalid Content-Length `{}`", v.trim())),
                }
            }
            Some(_) => {} // Content-Type and future headers.
            None => bad_header = Some(format!("malformed header line `{}`", truncate(line))),
        }
    }
    let Some(len) = length else {
        return Ok(Frame::Bad(
            bad_header.unwrap_or_else(|| "missing Content-Length".into()),
        ));
    };
    if len > MAX_FRAME_BYTES {
        // Drain the body without buffering it.
        let mut sink = tokio::io::sink();
        tokio::io::copy(&mut r.take(len as u64), &mut sink).await?;
        return Ok(Frame::Bad(format!(
            "message of {len} bytes exceeds the {MAX_FRAME_BYTES} byte limit"
        )));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await?;
    if let Some(why) = bad_header {
        return Ok(Frame::Bad(why));
    }
    if !validate {
        return Ok(Frame::Body(body));
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if v.is_object() || v.is_array() => Ok(Frame::Body(body)),
        Ok(_) => Ok(Frame::Bad("a JSON-RPC message must be an object".into())),
        Err(e) => Ok(Frame::Bad(format!("invalid JSON: {e}"))),
    }
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
    let (errors_tx, mut errors_rx) = mpsc::unbounded_channel::<Vec<u8>>();

    tokio::spawn(async move {
        let mut reader = BufReader::new(input);
        loop {
            match read_frame(&mut reader, true).await {
                Ok(Frame::Body(body)) => {
                    if to_server.write_all(&encode(&body)).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Bad(why)) => {
                    tracing::warn!("refused a malformed message: {why}");
                    let err = json!({"jsonrpc": "2.0", "id": null,
                                     "error": {"code": -32700, "message": format!("parse error: {why}")}});
                    let _ = errors_tx.send(serde_json::to_vec(&err).unwrap_or_default());
                }
                Ok(Frame::Eof) | Err(_) => break,
            }
        }
        // Dropping `to_server` closes the server's input: it shuts down as on a closed stdin.
    });

    tokio::spawn(async move {
        let mut output = output;
        let mut from_server = BufReader::new(from_server);
        loop {
            tokio::select! {
                frame = read_frame(&mut from_server, false) => match frame {
                    Ok(Frame::Body(body)) => {
                        let body = prebuilt.splice(&body).unwrap_or(body);
                        if output.write_all(&encode(&body)).await.is_err() { break; }
                    }
                    Ok(Frame::Bad(why)) => tracing::error!("server produced a bad frame: {why}"),
                    Ok(Frame::Eof) | Err(_) => break,
                },
                Some(err) = errors_rx.recv() => {
                    if output.write_all(&encode(&err)).await.is_err() { break; }
                }
            }
            if output.flush().await.is_err() {
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
        let mut r = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            let f = read_frame(&mut r, true).await.expect("in-memory read");
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
}
