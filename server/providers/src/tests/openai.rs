//! OpenAI Chat Completions against a loopback server.

use serde_json::json;

use super::server::{Reply, Server, awkward, sse};
use super::{KEY, request};
use crate::{
    CancelToken, Event, FinishReason, Provider, ToolArguments, Usage, presets::MaxTokensField,
};

fn text_stream() -> Vec<u8> {
    let mut body = b": keepalive comment\n\n".to_vec();
    body.extend(sse(&[
        ("", r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#),
        ("", r#"{"choices":[{"index":0,"delta":{"content":"Héllo, "}}]}"#),
        ("", r#"{"choices":[{"index":0,"delta":{"content":"wörld 🌍"}}]}"#),
        ("", r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
        ("", r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#),
        ("", "[DONE]"),
    ]));
    body
}

#[tokio::test]
async fn text_streams_across_awkward_tcp_splits_with_usage_and_done() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The same stream twice: LF framing, then CRLF framing (both legal SSE).
    let crlf = String::from_utf8(text_stream())
        .expect("utf8")
        .replace('\n', "\r\n")
        .into_bytes();
    let server = Server::start(vec![
        Reply::sse(awkward(&text_stream())),
        Reply::sse(awkward(&crlf)),
    ])
    .await;
    let provider =
        Provider::new(server.provider("openai-compatible", KEY, &dir)).expect("provider");
    for _ in 0..2 {
        let resp = provider
            .complete(&request(), &CancelToken::new())
            .await
            .expect("complete");
        assert_eq!(resp.text, "Héllo, wörld 🌍");
        assert_eq!(resp.finish_reason, FinishReason::Stop);
        assert_eq!(
            resp.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 5
            }
        );
    }
    let reqs = server.requests();
    assert!(reqs[0].head.starts_with("POST /v1/chat/completions "));
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}"))
    );
    let body = reqs[0].json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(
        body["messages"][0],
        json!({"role":"system","content":"be brief"})
    );
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["arguments"],
        r#"{"path":"a.rs"}"#
    );
    assert_eq!(
        body["messages"][3],
        json!({"role":"tool","tool_call_id":"call_a","content":"fn main() {}"})
    );
    assert_eq!(body["tools"][0]["function"]["name"], "read_file");
    assert!(
        body.get("store").is_none(),
        "store is sent only under require_inference_only"
    );
}

#[tokio::test]
async fn tool_call_deltas_are_assembled_by_index_across_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = sse(&[
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read_","arguments":""}}]}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"edit","arguments":"{\"sym"}}]}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"file","arguments":"{\"pa"}}]}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\": \"src/ä.rs\"}"}}]}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"bol\": \"main\", "}}]}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        ),
        (
            "",
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#,
        ),
        ("", "[DONE]"),
    ]);
    let server = Server::start(vec![Reply::sse(awkward(&body))]).await;
    let provider =
        Provider::new(server.provider("openai-compatible", KEY, &dir)).expect("provider");
    let resp = provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("complete");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.tool_calls.len(), 2);
    assert_eq!(resp.tool_calls[0].id, "call_1");
    assert_eq!(resp.tool_calls[0].name, "read_file");
    assert_eq!(
        resp.tool_calls[0].arguments,
        ToolArguments::Json(json!({ "path": "src/ä.rs" }))
    );
    // The second call's JSON was never closed: kept raw so the agent can show the model its mistake.
    assert_eq!(resp.tool_calls[1].name, "edit");
    assert_eq!(
        resp.tool_calls[1].arguments,
        ToolArguments::Invalid(r#"{"symbol": "main", "#.into())
    );
    assert_eq!(resp.usage.output_tokens, 9);
}

#[tokio::test]
async fn events_arrive_in_order_with_usage_before_done() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(awkward(&text_stream()))]).await;
    let provider =
        Provider::new(server.provider("openai-compatible", KEY, &dir)).expect("provider");
    let mut events = provider
        .stream(&request(), &CancelToken::new())
        .await
        .expect("stream");
    let mut seen = Vec::new();
    while let Some(e) = futures_util::StreamExt::next(&mut events).await {
        seen.push(e.expect("event"));
    }
    let n = seen.len();
    assert!(matches!(seen[n - 2], Event::Usage(_)));
    assert_eq!(
        seen[n - 1],
        Event::Done {
            finish_reason: FinishReason::Stop
        }
    );
    assert!(
        seen[..n - 2]
            .iter()
            .all(|e| matches!(e, Event::TextDelta(_)))
    );
}

#[tokio::test]
async fn inference_only_sends_store_false_and_openai_uses_max_completion_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(vec![Reply::sse(
        text_stream().chunks(40).map(<[u8]>::to_vec).collect(),
    )])
    .await;
    let mut cfg = server.provider("openai", KEY, &dir);
    cfg.inference_only = true;
    cfg.data_use = crate::DataUse::InferenceOnly;
    cfg.quirks.max_tokens_field = MaxTokensField::MaxCompletionTokens;
    let provider = Provider::new(cfg).expect("provider");
    provider
        .complete(&request(), &CancelToken::new())
        .await
        .expect("complete");
    let body = server.requests()[0].json();
    assert_eq!(body["store"], false);
    assert_eq!(body["max_completion_tokens"], 256);
    assert!(body.get("max_tokens").is_none());
}
