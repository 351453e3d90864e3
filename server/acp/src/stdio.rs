//! The stdio transport for `jingu acp`, hardened: the SDK's own stdio reader ends the connection
//! on a line that is not UTF-8 (an I/O error to it) and buffers lines without bound. Here each
//! line is read with a cap; a line that is not UTF-8 or too long is replaced by a marker that is
//! not JSON, so the SDK answers it with a JSON-RPC parse error (-32700) and keeps serving.

use agent_client_protocol::Lines;
use futures_util::{sink, stream};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Longest line accepted (a prompt with embedded file context can be large, not unbounded).
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// What replaces an unusable line: not JSON, so it is answered as a parse error.
const NOT_UTF8: &str = "<jingu: line is not valid UTF-8>";
const TOO_LONG: &str = "<jingu: line exceeds the length limit>";

/// Read one line (without its `\n`), at most `max` bytes kept; `None` at EOF.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            if !any {
                return Ok(None);
            }
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        r.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if too_long {
        return Ok(Some(TOO_LONG.into()));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(
        String::from_utf8(buf).unwrap_or_else(|_| NOT_UTF8.into()),
    ))
}

/// Lines from `input`, lines to `output`, for [`super::serve`].
pub fn transport<I, O>(
    input: I,
    output: O,
) -> Lines<
    impl futures_util::Sink<String, Error = std::io::Error> + Send + 'static,
    impl futures_util::Stream<Item = std::io::Result<String>> + Send + 'static,
>
where
    I: tokio::io::AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let incoming = Box::pin(stream::unfold(BufReader::new(input), |mut r| async move {
        match read_line(&mut r, MAX_LINE_BYTES).await {
            Ok(Some(line)) => Some((Ok(line), r)),
            Ok(None) => None,
            Err(e) => Some((Err(e), r)),
        }
    }));
    let outgoing = Box::pin(sink::unfold(output, |mut w, line: String| async move {
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\n").await?;
        w.flush().await?;
        Ok::<_, std::io::Error>(w)
    }));
    Lines::new(outgoing, incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<String> {
        let mut r = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = read_line(&mut r, max).await.expect("read") {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn bad_lines_become_markers_and_reading_continues() {
        let got = lines(b"{\"a\":1}\r\n\xff\xfe{}\n0123456789abc\n{}", 10).await;
        assert_eq!(got, vec!["{\"a\":1}", NOT_UTF8, TOO_LONG, "{}"]);
    }
}
