//! Gemini streamGenerateContent (alt=sse) against a loopback server.

use serde_json::json;

use super::server::{Reply, Server, awkward, sse};
use super::{KEY, request};
use crate::{CancelToken, FinishReason, Provider, ProviderError, ToolArguments, Usage};

#[tokio::test]
async fn text_and_function_calls_stream_with_usage() {
    let body = sse(&[
        (
            "",
            r#"{"candidates":[{"content":{"parts":[{"text":"Reading "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":2}}"#,
        ),
        (
            "",
            r#"{"candidates":[{"content":{"parts":[{"text":"thinking…","thought":true},{"text":"the file."}],"role":"model"},"index":0}]}"#,
        ),
        (
            "",
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"read_file","args":{"path":"main.go"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":11,"totalTokenCount":41}}"#,
        ),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(awkward(&body))]).await;
    let provider = Provider::new(server.provider("gemini", KEY, &dir)).expect("provider");
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("complete");
    assert_eq!(resp.text, "Reading the file.");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 30,
            output_tokens: 11
        }
    );
    assert_eq!(resp.tool_calls.len(), 1);
    assert_eq!(resp.tool_calls[0].name, "read_file");
    assert_eq!(
        resp.tool_calls[0].arguments,
        ToolArguments::Json(json!({ "path": "main.go" }))
    );

    let req = &server.requests()[0];
    assert!(
        req.head
            .starts_with("POST /v1/models/test-model:streamGenerateContent?alt=sse "),
        "{}",
        req.head
    );
    assert_eq!(req.header("x-goog-api-key").as_deref(), Some(KEY));
    assert!(
        !req.head.lines().next().expect("line").contains(KEY),
        "key never in the URL"
    );
    let body = req.json();
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "be brief");
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 256);
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"]["type"],
        "object"
    );
    assert_eq!(body["contents"][1]["role"], "model");
    assert_eq!(
        body["contents"][1]["parts"][0]["functionCall"]["name"],
        "read_file"
    );
    let response = &body["contents"][2]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "read_file");
    assert_eq!(response["response"]["result"], "fn main() {}");
    assert_eq!(body["contents"][2]["parts"][1]["text"], "now edit it");
}

#[tokio::test]
async fn unknown_finish_reasons_are_kept_and_missing_ones_are_malformed() {
    let odd = sse(&[(
        "",
        r#"{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"SOMETHING_NEW"}]}"#,
    )]);
    let cut = sse(&[(
        "",
        r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}]}"#,
    )]);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(vec![odd]), Reply::sse(vec![cut])]).await;
    let provider = Provider::new(server.provider("gemini", KEY, &dir)).expect("provider");
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("odd reason");
    assert_eq!(
        resp.finish_reason,
        FinishReason::Other("SOMETHING_NEW".into())
    );
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("no finish");
    assert!(
        matches!(err, ProviderError::MalformedStream { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_bad_key_error_body_becomes_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::error(
        400,
        r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}"#,
    )])
    .await;
    let provider = Provider::new(server.provider("gemini", KEY, &dir)).expect("provider");
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("bad key");
    assert!(matches!(err, ProviderError::Auth { .. }), "{err:?}");
}

#[tokio::test]
async fn a_per_minute_quota_429_is_a_rate_limit_retried_after_the_body_delay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limited = r#"[{"error":{"code":429,"message":"You exceeded your current quota, please check your plan. Quota exceeded for metric: generate_content_free_tier_requests","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0s"}]}}]"#;
    let ok = sse(&[(
        "",
        r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}"#,
    )]);
    let server = Server::start(vec![Reply::error(429, limited), Reply::sse(vec![ok])]).await;
    let provider = Provider::new(server.provider("gemini", KEY, &dir)).expect("provider");
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("retried");
    assert_eq!(resp.text, "hi");
    assert_eq!(server.requests().len(), 2);
}
