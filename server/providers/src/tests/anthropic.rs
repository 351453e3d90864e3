//! Anthropic Messages streaming against a loopback server.

use serde_json::json;

use super::server::{Reply, Server, awkward, sse};
use super::{KEY, request};
use crate::{CancelToken, FinishReason, Provider, ProviderError, ToolArguments, Usage};

#[tokio::test]
async fn text_and_tool_use_stream_with_input_json_deltas_split_across_tcp_writes() {
    let body = sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"test-model","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        ("ping", r#"{"type":"ping"}"#),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"look."}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read_file","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"sr"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"c/lib.rs\"}"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"list","input":{}}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":2}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(awkward(&body))]).await;
    let provider = Provider::new(server.provider("anthropic", KEY, &dir)).expect("provider");
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("complete");
    assert_eq!(resp.text, "Let me look.");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 25,
            output_tokens: 42
        }
    );
    assert_eq!(resp.tool_calls.len(), 2);
    assert_eq!(resp.tool_calls[0].id, "toolu_1");
    assert_eq!(
        resp.tool_calls[0].arguments,
        ToolArguments::Json(json!({ "path": "src/lib.rs" }))
    );
    assert_eq!(resp.tool_calls[1].arguments, ToolArguments::Json(json!({})));

    let req = &server.requests()[0];
    assert!(req.head.starts_with("POST /v1/messages "));
    assert_eq!(req.header("x-api-key").as_deref(), Some(KEY));
    assert_eq!(
        req.header("anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    assert!(req.header("authorization").is_none());
    let body = req.json();
    assert_eq!(body["system"], "be brief");
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(body["tools"][0]["input_schema"]["required"][0], "path");
    // Roles alternate: the tool result and the next user text share one user turn.
    let roles: Vec<_> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().expect("role").to_owned())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(body["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "call_a");
    assert_eq!(body["messages"][2]["content"][1]["text"], "now edit it");
}

#[tokio::test]
async fn an_error_event_mid_stream_becomes_a_typed_error() {
    let body = sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":0}}}"#,
        ),
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(vec![body])]).await;
    let provider = Provider::new(server.provider("anthropic", KEY, &dir)).expect("provider");
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("overloaded");
    assert!(
        matches!(err, ProviderError::Http { status: 529, ref body, .. } if body.contains("Overloaded")),
        "{err:?}"
    );
    assert!(err.should_fall_back());
}

#[tokio::test]
async fn a_stream_without_message_stop_is_malformed() {
    let body = sse(&[(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#,
    )]);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(vec![body])]).await;
    let provider = Provider::new(server.provider("anthropic", KEY, &dir)).expect("provider");
    let err = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect_err("truncated");
    assert!(
        matches!(err, ProviderError::MalformedStream { .. }),
        "{err:?}"
    );
}
