//! Errors, retries, timeouts, bounds, cancellation and fallback, over a real loopback socket.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::server::{Reply, Server, Then, sse};
use super::{KEY, request};
use crate::{CancelToken, Event, Provider, ProviderError, Router, TimeoutPhase};

fn ok_stream() -> Vec<Vec<u8>> {
    vec![sse(&[
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#,
        ),
        ("", "[DONE]"),
    ])]
}

async fn provider_for(replies: Vec<Reply>) -> (Server, Provider, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(replies).await;
    let provider =
        Provider::new(server.provider("openai-compatible", KEY, &dir)).expect("provider");
    (server, provider, dir)
}

fn assert_no_key(err: &ProviderError) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(KEY), "key leaked: {shown}");
    assert!(!shown.contains(&KEY[..8]), "key prefix leaked: {shown}");
}

#[tokio::test]
async fn bad_key_is_auth_error_naming_provider_without_the_key_even_when_echoed() {
    // OpenAI-style servers echo (part of) the key back in the message.
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY}. Also {}...","type":"invalid_request_error","code":"invalid_api_key"}}}}"#,
        &KEY[..10]
    );
    let (server, provider, _dir) = provider_for(vec![Reply::error(401, &body)]).await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("401");
    assert!(
        matches!(err, ProviderError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`test`"), "{err}");
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
    assert_no_key(&err);
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
}

#[tokio::test]
async fn missing_model_is_unknown_model() {
    let (_s, provider, _dir) = provider_for(vec![Reply::error(
        404,
        r#"{"error":{"message":"The model `test-model` does not exist","code":"model_not_found"}}"#,
    )])
    .await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("404");
    match err {
        ProviderError::UnknownModel { model, detail, .. } => {
            assert_eq!(model, "test-model");
            assert!(detail.contains("does not exist"));
        }
        other => panic!("expected UnknownModel, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_waited_out_then_succeeds() {
    let (server, provider, _dir) = provider_for(vec![
        Reply::error(429, r#"{"error":{"message":"slow down"}}"#).header("retry-after", "1"),
        Reply::sse(ok_stream()),
    ])
    .await;
    let start = Instant::now();
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("retried");
    assert_eq!(resp.text, "ok");
    assert_eq!(server.requests().len(), 2);
    // The server asked for one second; the jittered backoff alone (≤ 20 ms here) would be shorter.
    assert!(start.elapsed() >= Duration::from_millis(990));
}

#[tokio::test]
async fn quota_exhaustion_is_not_retried() {
    let (server, provider, _dir) = provider_for(vec![Reply::error(
        429,
        r#"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#,
    )])
    .await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("quota");
    assert!(matches!(err, ProviderError::Quota { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_success_and_give_up_after_max_attempts() {
    let (server, provider, _dir) = provider_for(vec![
        Reply::error(500, "oops"),
        Reply::error(503, "busy"),
        Reply::sse(ok_stream()),
    ])
    .await;
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("third attempt");
    assert_eq!(resp.text, "ok");
    assert_eq!(server.requests().len(), 3);

    let (server, provider, _dir) = provider_for(vec![Reply::error(502, "bad gateway"); 4]).await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("gives up");
    assert!(
        matches!(err, ProviderError::Http { status: 502, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 3, "max_attempts = 3");
}

#[tokio::test]
async fn a_stalled_stream_times_out_with_the_connection_dropped() {
    let first = sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#)]);
    let (server, provider, _dir) =
        provider_for(vec![Reply::sse(vec![first]).then(Then::Stall)]).await;
    let mut events = provider
        .stream(&request(), &CancelToken::new())
        .await
        .expect("headers");
    assert_eq!(
        events.next().await.expect("item").expect("first"),
        Event::TextDelta("a".into())
    );
    let err = events.next().await.expect("item").expect_err("stall");
    assert!(
        matches!(
            err,
            ProviderError::Timeout {
                phase: TimeoutPhase::BetweenChunks,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        events.next().await.is_none(),
        "the stream ends after an error"
    );
    tokio::time::timeout(Duration::from_secs(10), server.client_gone.notified())
        .await
        .expect("the client closed the stalled connection");
}

#[tokio::test]
async fn cancellation_mid_stream_stops_at_once_and_closes_the_connection() {
    let first = sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#)]);
    let (server, provider, _dir) =
        provider_for(vec![Reply::sse(vec![first]).then(Then::Stall)]).await;
    let cancel = CancelToken::new();
    let mut events = provider.stream(&request(), &cancel).await.expect("headers");
    events.next().await.expect("item").expect("first");
    cancel.cancel();
    let err = events.next().await.expect("item").expect_err("cancelled");
    assert!(matches!(err, ProviderError::Cancelled { .. }), "{err:?}");
    tokio::time::timeout(Duration::from_secs(10), server.client_gone.notified())
        .await
        .expect("the client closed the connection on cancel");
}

#[tokio::test]
async fn cancellation_interrupts_a_retry_wait() {
    let (_server, provider, _dir) = provider_for(vec![
        Reply::error(429, "{}").header("retry-after", "20"),
        Reply::sse(ok_stream()),
    ])
    .await;
    let cancel = CancelToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.cancel();
    });
    let err = provider
        .complete(&request(), &cancel)
        .await
        .expect_err("cancelled");
    assert!(matches!(err, ProviderError::Cancelled { .. }), "{err:?}");
}

#[tokio::test]
async fn malformed_json_is_a_malformed_stream_and_a_cut_connection_a_connect_error() {
    let bad = sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"a"#)]);
    let cut = sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#)]);
    let (_s, provider, _dir) = provider_for(vec![
        Reply::sse(vec![bad]),
        Reply::sse(vec![cut]).then(Then::Close),
    ])
    .await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("malformed");
    assert!(
        matches!(err, ProviderError::MalformedStream { .. }),
        "{err:?}"
    );
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("cut");
    assert!(matches!(err, ProviderError::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn an_eof_before_the_finish_is_malformed() {
    let truncated = sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#)]);
    let (_s, provider, _dir) = provider_for(vec![Reply::sse(vec![truncated])]).await;
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("truncated");
    assert!(
        matches!(err, ProviderError::MalformedStream { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_events_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One "event" that never ends: a line of 64 KiB without a blank line.
    let huge = vec![b'x'; 64 * 1024];
    let mut parts = vec![b"data: ".to_vec()];
    parts.extend(huge.chunks(8192).map(<[u8]>::to_vec));
    let server = Server::start(vec![Reply::sse(parts).then(Then::Stall)]).await;
    let mut cfg = server.provider("openai-compatible", KEY, &dir);
    cfg.limits.max_event_bytes = 16 * 1024;
    let provider = Provider::new(cfg).expect("provider");
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("too large");
    assert!(
        matches!(err, ProviderError::TooLarge { limit: 16384, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn router_falls_back_to_the_next_provider_when_the_first_is_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let down = Server::start(vec![Reply::error(503, "down"); 3]).await;
    let up = Server::start(vec![Reply::sse(ok_stream())]).await;
    let mut first = down.provider("openai-compatible", KEY, &dir);
    first.name = "first".into();
    let mut second = up.provider("openai-compatible", KEY, &dir);
    second.name = "second".into();
    let router = Router::new(vec![
        Provider::new(first).expect("first"),
        Provider::new(second).expect("second"),
    ]);
    let routed = router
        .complete(&request(), &CancelToken::new())
        .await
        .expect("fallback");
    assert_eq!(routed.provider, "second");
    assert_eq!(routed.value.text, "ok");
    assert_eq!(down.requests().len(), 3);
}

#[tokio::test]
async fn router_falls_back_on_connection_refused_and_a_first_chunk_stall() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nobody listens on: bind, take the address, close.
    let refused = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr")
    };
    let stalls = Server::start(vec![Reply::sse(vec![]).then(Then::Stall)]).await;
    let up = Server::start(vec![Reply::sse(ok_stream())]).await;
    let mut a = up.provider("openai-compatible", KEY, &dir);
    a.name = "refused".into();
    a.base_url = format!("http://{refused}/v1");
    let mut b = stalls.provider("openai-compatible", KEY, &dir);
    b.name = "stalls".into();
    let mut c = up.provider("openai-compatible", KEY, &dir);
    c.name = "up".into();
    let router = Router::new(
        [a, b, c]
            .into_iter()
            .map(|p| Provider::new(p).expect("provider"))
            .collect(),
    );
    let routed = router
        .complete(&request(), &CancelToken::new())
        .await
        .expect("fallback");
    assert_eq!(routed.provider, "up");
}

#[tokio::test]
async fn router_does_not_fall_back_on_cancel_or_a_bad_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = Server::start(vec![Reply::error(
        400,
        r#"{"error":{"message":"context too long"}}"#,
    )])
    .await;
    let up = Server::start(vec![Reply::sse(ok_stream())]).await;
    let mut a = bad.provider("openai-compatible", KEY, &dir);
    a.name = "bad".into();
    let router = Router::new(vec![
        Provider::new(a).expect("a"),
        Provider::new(up.provider("openai-compatible", KEY, &dir)).expect("b"),
    ]);
    let err = router
        .complete(&request(), &CancelToken::new())
        .await
        .err()
        .expect("400 is final");
    assert!(
        matches!(err, ProviderError::Http { status: 400, .. }),
        "{err:?}"
    );

    let cancel = CancelToken::new();
    cancel.cancel();
    let err = router
        .complete(&request(), &cancel)
        .await
        .err()
        .expect("cancelled");
    assert!(matches!(err, ProviderError::Cancelled { .. }), "{err:?}");
    assert!(up.requests().is_empty(), "no request reached the fallback");
}

#[tokio::test]
async fn exhausted_chain_lists_every_failure_without_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s1 = Server::start(vec![Reply::error(
        401,
        &format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#),
    )])
    .await;
    let s2 = Server::start(vec![Reply::error(404, "{}")]).await;
    let mut a = s1.provider("openai-compatible", KEY, &dir);
    a.name = "one".into();
    let mut b = s2.provider("openai-compatible", KEY, &dir);
    b.name = "two".into();
    let router = Router::new(vec![
        Provider::new(a).expect("a"),
        Provider::new(b).expect("b"),
    ]);
    let err = router
        .complete(&request(), &CancelToken::new())
        .await
        .err()
        .expect("exhausted");
    let text = err.to_string();
    assert!(text.contains("`one`") && text.contains("`two`"), "{text}");
    assert_no_key(&err);
}
