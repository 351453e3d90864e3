//! End-to-end: the agent and the edit/snapshot/rollback commands through the real `jingu lsp`
//! binary, with the scripted model server — open buffers edited through `workspace/applyEdit`,
//! confirmations through `window/showMessageRequest`, progress, and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/lsp.rs"]
mod lsp;
#[path = "support/scripted.rs"]
mod scripted;

use std::time::{Duration, Instant};

use lsp::{LspClient, file_uri};
use scripted::Fixture;
use serde_json::{Value, json};

const LIB_PY: &str = "def greet(name):\n    return 'hi ' + name\n\n\ndef unused():\n    pass\n";

fn start(fx: &Fixture) -> LspClient {
    let env = fx.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut c = LspClient::start(&fx.root, &env);
    c.server_request_answers = vec![
        ("workspace/applyEdit".into(), json!({"applied": true})),
        (
            "window/showMessageRequest".into(),
            json!({"title": "Apply"}),
        ),
    ];
    c.initialize(&fx.root, &["utf-16"]);
    c
}

fn exec(c: &mut LspClient, command: &str, arg: Value) -> Result<Value, Value> {
    c.request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [arg]}),
    )
}

#[test]
fn ask_edits_an_open_buffer_through_apply_edit_with_progress_and_confirmation() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(
        &json!([
            {"content": "Updating greet.", "tool_calls": [{"name": "edit", "arguments": {
                "path": "lib.py", "symbol": "greet", "op": "replace",
                "text": "def greet(name):\n    return 'hello ' + name"}}]},
            {"content": "greet now says hello."}
        ]),
        "",
    );
    let mut c = start(&fx);
    let uri = file_uri(&fx.root.join("lib.py"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LIB_PY}}),
    );
    let result = exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "say hello", "uri": uri, "symbol": "greet"}),
    )
    .expect("jingu.ask succeeds");
    assert_eq!(result["edits"][0]["uri"], json!(uri), "{result}");
    assert_eq!(result["summary"], "greet now says hello.");
    let run_id = result["run_id"].as_str().expect("run id").to_string();

    // The edit went to the editor as a minimal TextEdit, after an Apply/Reject confirmation.
    let apply = c
        .notifications
        .iter()
        .find(|m| m["method"] == "workspace/applyEdit")
        .expect("applyEdit was sent");
    let edits = &apply["params"]["edit"]["changes"][&uri];
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert!(
        edits[0]["range"]["end"]["line"].as_u64().unwrap_or(99) <= 2,
        "only greet's lines: {edits}"
    );
    assert!(
        edits[0]["newText"]
            .as_str()
            .unwrap_or_default()
            .contains("'hello '")
    );
    let confirm = c
        .notifications
        .iter()
        .find(|m| m["method"] == "window/showMessageRequest")
        .expect("edit = ask by default: the user was asked");
    assert!(
        confirm["params"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("+    return 'hello ' + name")
    );
    assert!(
        c.notifications
            .iter()
            .any(|m| m["method"] == "window/workDoneProgress/create")
    );
    // Notifications and responses travel on separate queues: the end may trail the response.
    let ended = |c: &LspClient| {
        c.notifications
            .iter()
            .any(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ended(&c) && Instant::now() < deadline {
        c.pump(Duration::from_millis(50));
    }
    assert!(ended(&c), "the progress was ended");

    // The buffer was edited, not the disk; the snapshot holds the buffer's new text.
    assert_eq!(fx.read("lib.py"), LIB_PY);
    let snaps = exec(&mut c, "jingu.snapshots", json!({"uri": uri})).expect("list");
    let run_snaps: Vec<_> = snaps
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["run_id"] == json!(run_id))
        .collect();
    assert_eq!(run_snaps.len(), 1, "{snaps}");
    assert_eq!(run_snaps[0]["paths"], json!(["lib.py"]));
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_rejected_confirmation_leaves_the_buffer_alone() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(
        &json!([
            {"tool_calls": [{"name": "edit", "arguments": {"path": "lib.py", "symbol": "unused", "op": "delete"}}]},
            {"content": "The user declined."}
        ]),
        "",
    );
    let mut c = start(&fx);
    c.server_request_answers = vec![(
        "window/showMessageRequest".into(),
        json!({"title": "Reject"}),
    )];
    let result = exec(&mut c, "jingu.ask", json!({"instruction": "remove unused"})).expect("ask");
    assert_eq!(result["edits"], json!([]));
    assert_eq!(fx.read("lib.py"), LIB_PY);
    assert!(
        !c.notifications
            .iter()
            .any(|m| m["method"] == "workspace/applyEdit")
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn cancel_request_stops_a_run_promptly_and_keeps_applied_edits_rollbackable() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(
        &json!([
            {"tool_calls": [{"name": "edit", "arguments": {"path": "lib.py", "symbol": "unused", "op": "delete"}}]},
            {"stall": true}
        ]),
        "[policy]\ntools = { edit = \"allow\" }\n",
    );
    let mut c = start(&fx);
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "jingu.ask", "arguments": [{"instruction": "clean up"}]}),
    );
    // Wait until the model is stalled on its second turn (the first edit is applied by then).
    let deadline = Instant::now() + Duration::from_secs(20);
    while fx.requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the second model turn never started"
        );
        c.pump(Duration::from_millis(20));
    }
    assert!(
        !fx.read("lib.py").contains("def unused"),
        "the first edit was applied to disk"
    );
    let cancelled_at = Instant::now();
    c.notify("$/cancelRequest", json!({"id": id}));
    let err = c.wait_response(id).expect_err("cancelled");
    assert_eq!(err["code"], -32800, "{err}");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(5),
        "cancellation took {:?}",
        cancelled_at.elapsed()
    );

    // The applied edit is in a run that rolls back in one command.
    let snaps = exec(&mut c, "jingu.snapshots", json!({})).expect("list");
    let run_id = snaps[0]["run_id"]
        .as_str()
        .expect("edit belongs to a run")
        .to_string();
    exec(&mut c, "jingu.rollback", json!({"run_id": run_id})).expect("rollback");
    assert_eq!(fx.read("lib.py"), LIB_PY);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn edit_symbol_and_rollback_commands_follow_the_contract() {
    let fx = Fixture::new(&[("lib.py", LIB_PY)]);
    let mut c = start(&fx);
    let uri = file_uri(&fx.root.join("lib.py"));
    let r = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": uri, "symbol": "greet", "op": "replace", "text": "def greet(name):\n    return name"}),
    )
    .expect("edit");
    let snapshot = r["snapshot_id"].as_str().expect("snapshot id").to_string();
    assert!(
        fx.read("lib.py").contains("    return name\n"),
        "closed file: written to disk"
    );

    let bad = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": uri, "symbol": "greet", "op": "replace", "text": "def greet(:"}),
    )
    .expect_err("syntax error refused");
    assert_eq!(bad["code"], -32803);
    assert!(
        bad["message"]
            .as_str()
            .unwrap_or_default()
            .contains("syntax error"),
        "{bad}"
    );
    let missing = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": uri, "symbol": "gret", "op": "delete"}),
    )
    .expect_err("no symbol");
    assert!(
        missing["message"]
            .as_str()
            .unwrap_or_default()
            .contains("greet"),
        "closest names listed: {missing}"
    );
    let outside = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": "file:///etc/passwd", "symbol": "x", "op": "delete"}),
    )
    .expect_err("outside");
    assert!(
        outside["message"]
            .as_str()
            .unwrap_or_default()
            .contains("workspace"),
        "{outside}"
    );
    let malformed = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": uri, "op": "explode"}),
    )
    .expect_err("bad args");
    assert_eq!(malformed["code"], -32602);

    exec(&mut c, "jingu.rollback", json!({"snapshot_id": snapshot})).expect("rollback");
    assert_eq!(fx.read("lib.py"), LIB_PY);
    assert_eq!(c.shutdown(), Some(0));
}
