//! End-to-end: `textDocument/inlineCompletion` through the real `jingu lsp` binary against the
//! scripted model server (a real HTTP server speaking the OpenAI wire format, here its legacy
//! `/v1/completions` with `suffix`): the prompt's prefix, suffix and index context, the item cut
//! at the end of the function body, redaction, `deny_paths`, `tools.complete = "deny"`, the chat
//! fallback, the deadline, and the audit record of an accepted item.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/lsp.rs"]
mod lsp;
#[path = "support/scripted.rs"]
mod scripted;

use std::time::{Duration, Instant};

use lsp::{LspClient, file_uri};
use scripted::{Fixture, stdout};
use serde_json::{Value, json};

const UTIL_PY: &str =
    "def scale(value: float, factor: float) -> float:\n    return value * factor\n";
const SECRET: &str = "AKIAIOSFODNN7EXAMPLE";

fn main_py() -> String {
    format!(
        "from util import scale\n\nAWS_ACCESS_KEY_ID = \"{SECRET}\"\n\n\ndef total(prices, factor):\n    \n\n\ndef other():\n    pass\n"
    )
}

/// The cursor: the indented empty line in `total`'s body.
fn cursor(text: &str) -> (u32, u32) {
    let before = &text[..text.find("factor):\n    ").expect("body") + "factor):\n    ".len()];
    (before.matches('\n').count() as u32, 4)
}

fn start(fx: &Fixture) -> LspClient {
    let env = fx.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut c = LspClient::start(&fx.root, &env);
    let init = c.initialize(&fx.root, &["utf-16"]);
    assert_eq!(
        init["capabilities"]["inlineCompletionProvider"],
        json!(true),
        "{init}"
    );
    c
}

fn open(c: &mut LspClient, fx: &Fixture, rel: &str, text: &str) -> String {
    let uri = file_uri(&fx.root.join(rel));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    uri
}

fn complete(c: &mut LspClient, uri: &str, (line, character): (u32, u32)) -> Value {
    c.request(
        "textDocument/inlineCompletion",
        json!({
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}
        }),
    )
    .expect("inlineCompletion answers")
}

/// Apply an item's text at its range, as the editor does on accept.
fn accept_into(text: &str, item: &Value) -> String {
    let line = item["range"]["start"]["line"].as_u64().expect("line") as usize;
    let ch = item["range"]["start"]["character"].as_u64().expect("ch") as usize;
    let start: usize = text
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .sum::<usize>()
        + ch;
    format!(
        "{}{}{}",
        &text[..start],
        item["insertText"].as_str().expect("insertText"),
        &text[start..]
    )
}

#[test]
fn a_function_body_is_completed_from_prefix_suffix_and_index_context_then_accepted_and_audited() {
    let main = main_py();
    let mut fx = Fixture::new(&[("util.py", UTIL_PY), ("main.py", &main)]);
    // The model runs on past the function: the item must stop at the end of `total`'s body.
    fx.serve(
        &json!([{"text": "s = sum(prices)\n    return scale(s, factor)\n\n\ndef junk():\n    return 1\n"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n",
    );
    let mut c = start(&fx);
    // workspace/symbol answers once the index is built (a completion waits for it only briefly).
    let hits = c
        .request("workspace/symbol", json!({"query": "scale"}))
        .expect("symbols");
    assert_eq!(hits[0]["name"], "scale", "{hits}");
    let uri = open(&mut c, &fx, "main.py", &main);
    let at = cursor(&main);
    let result = complete(&mut c, &uri, at);
    let items = result["items"].as_array().expect("a list").clone();
    assert_eq!(items.len(), 1, "{result}");
    let item = &items[0];
    assert_eq!(
        item["insertText"], "s = sum(prices)\n    return scale(s, factor)",
        "{item}"
    );
    assert_eq!(
        item["range"],
        json!({"start": {"line": at.0, "character": at.1}, "end": {"line": at.0, "character": at.1}})
    );
    assert_eq!(item["command"]["command"], "jingu.acceptCompletion");

    // What the model was sent: /v1/completions with the suffix, the enclosing signature and the
    // signature of `scale` from util.py (the index), the secret redacted.
    let reqs = fx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert!(
        reqs[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/v1/completions"),
        "{reqs:?}"
    );
    let body = &reqs[0]["body"];
    let prompt = body["prompt"].as_str().expect("prompt");
    assert!(
        prompt.ends_with("def total(prices, factor):\n    "),
        "{prompt}"
    );
    assert!(
        prompt.contains("# def scale(value: float, factor: float) -> float"),
        "{prompt}"
    );
    assert!(prompt.contains("# def total(prices, factor)"), "{prompt}");
    assert!(
        body["suffix"].as_str().unwrap().contains("def other():"),
        "{body}"
    );
    let sent = serde_json::to_string(body).unwrap();
    assert!(!sent.contains(SECRET), "the secret was sent: {sent}");

    // Accepting runs the item's command: one audit record, and the buffer holds the item.
    let args = item["command"]["arguments"][0].clone();
    let accepted = c
        .request(
            "workspace/executeCommand",
            json!({"command": "jingu.acceptCompletion", "arguments": [args]}),
        )
        .expect("accept succeeds");
    assert!(accepted["accepted"].is_string(), "{accepted}");
    let after = accept_into(&main, item);
    assert!(
        after.contains("def total(prices, factor):\n    s = sum(prices)\n    return scale(s, factor)\n\n\ndef other():"),
        "{after}"
    );
    // An id can be accepted once.
    assert!(
        c.request(
            "workspace/executeCommand",
            json!({"command": "jingu.acceptCompletion", "arguments": [args]}),
        )
        .is_err()
    );
    c.shutdown();
    let log: Value = serde_json::from_str(&stdout(&fx.jingu(&["audit", "log", "--json"])))
        .expect("audit log JSON");
    let records: Vec<&Value> = log
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["kind"] == "tool_call" && r["tool"] == "complete")
        .collect();
    assert_eq!(records.len(), 1, "one record per accepted item: {log}");
    let args = &records[0]["args"];
    assert_eq!(args["path"], "main.py");
    assert_eq!(args["provider"], "scripted");
    assert_eq!(args["lines"], 2);
    assert!(args["redactions"].as_u64().unwrap() >= 1, "{args}");
    assert_eq!(args["since_last_record"]["requests"], 1, "{args}");
    assert!(fx.jingu(&["audit", "verify"]).status.success());
}

#[test]
fn typing_forward_into_the_item_is_served_without_another_model_call() {
    let main = main_py();
    let mut fx = Fixture::new(&[("util.py", UTIL_PY), ("main.py", &main)]);
    fx.serve(
        &json!([{"text": "s = sum(prices)\n    return s"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n",
    );
    let mut c = start(&fx);
    let uri = open(&mut c, &fx, "main.py", &main);
    let at = cursor(&main);
    let first = complete(&mut c, &uri, at);
    assert_eq!(
        first["items"][0]["insertText"],
        "s = sum(prices)\n    return s"
    );
    // The user types "s = " (the start of the ghost text).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": at.0, "character": at.1}, "end": {"line": at.0, "character": at.1}},
            "text": "s = "}]}),
    );
    let second = complete(&mut c, &uri, (at.0, at.1 + 4));
    assert_eq!(
        second["items"][0]["insertText"],
        "sum(prices)\n    return s"
    );
    assert_eq!(
        fx.requests().len(),
        1,
        "the second answer came from the first"
    );
}

#[test]
fn deny_paths_files_are_never_completed_nor_used_as_context() {
    let main = main_py();
    let mut fx = Fixture::new(&[
        ("util.py", UTIL_PY),
        ("main.py", &main),
        ("secret/keys.py", &main),
    ]);
    fx.serve(
        &json!([{"text": "return scale(1.0, factor)"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n\n[policy]\ndeny_paths = [\"secret/**\", \"util.py\"]\n",
    );
    let mut c = start(&fx);
    let denied = open(&mut c, &fx, "secret/keys.py", &main);
    let result = complete(&mut c, &denied, cursor(&main));
    assert!(result.is_null(), "a denied file gets nothing: {result}");
    assert!(fx.requests().is_empty(), "nothing was sent for it");

    let uri = open(&mut c, &fx, "main.py", &main);
    let result = complete(&mut c, &uri, cursor(&main));
    assert_eq!(
        result["items"][0]["insertText"],
        "return scale(1.0, factor)"
    );
    let reqs = fx.requests();
    let prompt = reqs[0]["body"]["prompt"].as_str().expect("prompt");
    assert!(
        !prompt.contains("value: float"),
        "util.py is in deny_paths: its signatures are not context: {prompt}"
    );
}

#[test]
fn tools_complete_deny_sends_nothing() {
    let main = main_py();
    let mut fx = Fixture::new(&[("main.py", &main)]);
    fx.serve(
        &json!([{"text": "return 1"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n\n[policy]\ntools = { complete = \"deny\" }\n",
    );
    let mut c = start(&fx);
    let uri = open(&mut c, &fx, "main.py", &main);
    assert!(complete(&mut c, &uri, cursor(&main)).is_null());
    assert!(fx.requests().is_empty());
}

#[test]
fn a_server_without_completions_is_asked_through_chat() {
    let main = main_py();
    let mut fx = Fixture::new(&[("main.py", &main)]);
    fx.serve(
        &json!([
            {"status": 404, "message": "no such endpoint"},
            {"content": "```python\nreturn sum(prices) * factor\n```"}
        ]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n",
    );
    let mut c = start(&fx);
    let uri = open(&mut c, &fx, "main.py", &main);
    let result = complete(&mut c, &uri, cursor(&main));
    assert_eq!(
        result["items"][0]["insertText"], "return sum(prices) * factor",
        "{result}"
    );
    let reqs = fx.requests();
    assert!(
        reqs[1]["path"]
            .as_str()
            .unwrap()
            .ends_with("/chat/completions")
    );
    let sent = serde_json::to_string(&reqs[1]["body"]).unwrap();
    assert!(
        sent.contains("<CURSOR>") && !sent.contains(SECRET),
        "{sent}"
    );
}

#[test]
fn past_the_deadline_the_answer_is_empty() {
    let main = main_py();
    let mut fx = Fixture::new(&[("main.py", &main)]);
    fx.serve(
        &json!([{"delay_ms": 5000, "text": "return 1"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\ndeadline_ms = 300\n",
    );
    let mut c = start(&fx);
    let uri = open(&mut c, &fx, "main.py", &main);
    let started = Instant::now();
    let result = complete(&mut c, &uri, cursor(&main));
    assert_eq!(result["items"], json!([]), "{result}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_newer_request_supersedes_the_older_one() {
    let main = main_py();
    let mut fx = Fixture::new(&[("main.py", &main)]);
    fx.serve(
        &json!([{"delay_ms": 1500, "text": "return 1"}, {"text": "return 2"}]),
        "[completion]\nprovider = \"scripted\"\ndebounce_ms = 0\n",
    );
    let mut c = start(&fx);
    let uri = open(&mut c, &fx, "main.py", &main);
    let at = cursor(&main);
    let params = json!({"textDocument": {"uri": uri}, "position": {"line": at.0, "character": at.1},
                        "context": {"triggerKind": 2}});
    let first = c.send_request("textDocument/inlineCompletion", params.clone());
    std::thread::sleep(Duration::from_millis(800));
    let second = c.send_request("textDocument/inlineCompletion", params);
    let newer = c.wait_response(second).expect("second answers");
    assert_eq!(newer["items"][0]["insertText"], "return 2", "{newer}");
    let older = c.wait_response(first).expect("first answers");
    assert_eq!(
        older["items"],
        json!([]),
        "the superseded request is empty: {older}"
    );
}
