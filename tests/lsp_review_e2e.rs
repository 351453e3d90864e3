//! End-to-end: an agent edit of an open buffer accepted change by change (issue #20). A client
//! that advertises `workspace.workspaceEdit.changeAnnotationSupport` gets the edit as one
//! annotated `TextEdit` per hunk, each needing confirmation (VS Code's Refactor Preview); the
//! client here plays the user who accepts one of two, and the snapshot and the audit log record
//! what the buffer holds afterwards, not the whole proposal. The disk is never written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/lsp.rs"]
mod lsp;
#[path = "support/scripted.rs"]
mod scripted;

use std::sync::{Arc, Mutex};

use lsp::{LspClient, file_uri};
use scripted::{Fixture, stdout};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const LIB_PY: &str = "def greet(name):\n    prefix = 'hi '\n    a = 1\n    b = 2\n    c = 3\n    return prefix + name\n";
/// The model's replacement changes the function's second and last lines: two hunks.
const NEW_GREET: &str = "def greet(name):\n    prefix = 'hello '\n    a = 1\n    b = 2\n    c = 3\n    return prefix + name + '!'";
/// The buffer after the user accepted the first change only.
const FIRST_ONLY: &str = "def greet(name):\n    prefix = 'hello '\n    a = 1\n    b = 2\n    c = 3\n    return prefix + name\n";

fn script() -> Value {
    json!([
        {"content": "Updating greet.", "tool_calls": [{"name": "edit", "arguments": {
            "path": "lib.py", "symbol": "greet", "op": "replace", "text": NEW_GREET}}]},
        {"content": "greet is friendlier."}
    ])
}

/// Apply LSP edits (UTF-16 ranges in `text`; ASCII here, so units are bytes).
fn apply(text: &str, edits: &[&Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + pos["character"].as_u64().unwrap() as usize
    };
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        let (s, t) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(s..t, e["newText"].as_str().unwrap());
    }
    out
}

/// A client with change-annotation support whose user keeps the changes `keep` picks (by index)
/// from each annotated applyEdit. Like VS Code, it answers first and reports the buffer's new
/// text by `didChange` after. Returns the client and the applyEdit params it saw.
fn start(
    fx: &Fixture,
    uri: &str,
    keep: fn(usize) -> bool,
    applied: bool,
) -> (LspClient, Arc<Mutex<Vec<Value>>>) {
    let env = fx.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut c = LspClient::start(&fx.root, &env);
    c.server_request_answers = vec![(
        "window/showMessageRequest".into(),
        json!({"title": "Apply"}),
    )];
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let hook_uri = uri.to_string();
    let mut text = LIB_PY.to_string();
    let mut version = 1;
    c.apply_edit_hook = Some(Box::new(move |params: &Value| {
        log.lock().unwrap().push(params.clone());
        let doc = &params["edit"]["documentChanges"][0];
        let edits: Vec<&Value> = doc["edits"]
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .map(|(_, e)| e)
                    .collect()
            })
            .unwrap_or_default();
        if !applied || edits.is_empty() {
            return (json!({"applied": applied}), vec![]);
        }
        text = apply(&text, &edits);
        version += 1;
        let change = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": hook_uri, "version": version},
            "contentChanges": [{"text": text.clone()}]}});
        (json!({"applied": true}), vec![change])
    }));
    c.initialize_with(
        &fx.root,
        &["utf-16"],
        json!({"workspaceEdit": {"documentChanges": true,
               "changeAnnotationSupport": {"groupsOnLabel": true}}}),
    );
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LIB_PY}}),
    );
    (c, seen)
}

fn exec(c: &mut LspClient, command: &str, arg: Value) -> Result<Value, Value> {
    c.request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [arg]}),
    )
}

/// The audit log as JSON records.
fn audit(fx: &Fixture) -> Vec<Value> {
    let out = stdout(&fx.jingu(&["audit", "log", "--json"]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("audit log {out:?}: {e}"))
}

#[test]
fn accepting_one_of_two_hunks_records_only_that_hunk() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&script(), "");
    let uri = file_uri(&fx.root.join("lib.py"));
    let (mut c, seen) = start(&fx, &uri, |i| i == 0, true);
    let result = exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "be friendlier", "uri": uri, "symbol": "greet"}),
    )
    .expect("jingu.ask succeeds");
    let run_id = result["run_id"].as_str().expect("run id").to_string();

    // One annotated edit per hunk, each needing confirmation; no Apply/Reject question.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one applyEdit: {seen:?}");
    let edit = &seen[0]["edit"];
    let doc = &edit["documentChanges"][0];
    assert_eq!(doc["textDocument"]["uri"], json!(uri));
    assert_eq!(doc["textDocument"]["version"], json!(1));
    let edits = doc["edits"].as_array().expect("edits");
    assert_eq!(edits.len(), 2, "two hunks: {doc}");
    assert_eq!(edits[0]["range"]["start"]["line"], 1);
    assert_eq!(edits[0]["range"]["end"]["line"], 2, "only line 2: {doc}");
    assert_eq!(edits[1]["range"]["start"]["line"], 5);
    for e in edits {
        let id = e["annotationId"].as_str().expect("annotated");
        let note = &edit["changeAnnotations"][id];
        assert_eq!(note["needsConfirmation"], true, "{note}");
        assert!(
            note["label"].as_str().unwrap_or_default().contains("of 2"),
            "{note}"
        );
    }
    assert!(
        !c.notifications
            .iter()
            .any(|m| m["method"] == "window/showMessageRequest"),
        "the per-change review replaces the whole-edit question"
    );
    assert_eq!(fx.read("lib.py"), LIB_PY, "the disk is not written");

    // The snapshot holds the buffer with the accepted change only, and says so.
    let snaps = exec(&mut c, "jingu.snapshots", json!({"uri": uri})).expect("list");
    let run_snaps: Vec<&Value> = snaps
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["run_id"] == json!(run_id))
        .collect();
    assert_eq!(run_snaps.len(), 1, "{snaps}");
    let id = run_snaps[0]["id"]
        .as_str()
        .expect("snapshot id")
        .to_string();
    let show = stdout(&fx.jingu(&["snapshot", "show", &id]));
    assert!(show.contains("accepted 1 of 2"), "{show}");
    let diff = exec(&mut c, "jingu.snapshotDiff", json!({"snapshot_id": id})).expect("diff");
    let diff = diff["diff"].as_str().expect("diff text");
    assert!(diff.contains("+    prefix = 'hello '"), "{diff}");
    assert!(
        !diff.contains("'!'"),
        "the rejected change is not recorded: {diff}"
    );

    // The audit log: the proposal, then an edit whose content hash is the accepted text's.
    let records = audit(&fx);
    let text = serde_json::to_string(&records).unwrap();
    assert!(
        text.contains("change by change"),
        "the proposal is audited: {text}"
    );
    let accepted = hex_sha256(FIRST_ONLY);
    let proposed = hex_sha256(&LIB_PY.replace(
        "def greet(name):\n    prefix = 'hi '\n    a = 1\n    b = 2\n    c = 3\n    return prefix + name",
        NEW_GREET,
    ));
    assert!(
        text.contains(&accepted),
        "the edit record names the accepted text: {text}"
    );
    assert!(!text.contains(&proposed), "not the whole proposal: {text}");
    let verify = fx.jingu(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));

    // Rolling the run back restores the buffer (through applyEdit), still not the disk.
    exec(&mut c, "jingu.rollback", json!({"run_id": run_id})).expect("rollback");
    assert_eq!(fx.read("lib.py"), LIB_PY);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn rejecting_every_hunk_is_a_rejection_with_no_snapshot() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&script(), "");
    let uri = file_uri(&fx.root.join("lib.py"));
    // The user cancels the preview: the editor answers applied = false and nothing changes.
    let (mut c, seen) = start(&fx, &uri, |_| true, false);
    exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "be friendlier", "uri": uri, "symbol": "greet"}),
    )
    .expect("the run ends normally: the rejection goes back to the model");
    assert_eq!(seen.lock().unwrap().len(), 1);
    let snaps = exec(&mut c, "jingu.snapshots", json!({"uri": uri})).expect("list");
    let edits: Vec<&Value> = snaps
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["op"] == "replace")
        .collect();
    assert!(
        edits.is_empty(),
        "nothing accepted, nothing recorded: {snaps}"
    );
    let text = serde_json::to_string(&audit(&fx)).unwrap();
    assert!(text.contains("accepted none of the 2"), "{text}");
    assert_eq!(fx.read("lib.py"), LIB_PY);
    assert_eq!(c.shutdown(), Some(0));
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `changes` map of the one applyEdit in `seen`, after checking it carries no annotation.
fn plain_edits<'a>(seen: &'a [Value], uri: &str) -> &'a Value {
    assert_eq!(seen.len(), 1, "one applyEdit: {seen:?}");
    let edit = &seen[0]["edit"];
    assert!(edit.get("documentChanges").is_none(), "{edit}");
    assert!(edit.get("changeAnnotations").is_none(), "{edit}");
    let edits = &edit["changes"][uri];
    let list = edits.as_array().expect("changes for the buffer");
    assert!(!list.is_empty(), "{edit}");
    assert!(
        list.iter().all(|e| e.get("annotationId").is_none()),
        "{edit}"
    );
    edits
}

#[test]
fn a_client_without_change_annotations_keeps_the_whole_edit_question() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&script(), "");
    let uri = file_uri(&fx.root.join("lib.py"));
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
    // documentChanges alone (as Emacs/eglot): not enough for per-change review.
    c.initialize_with(
        &fx.root,
        &["utf-16"],
        json!({"workspaceEdit": {"documentChanges": true}}),
    );
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LIB_PY}}),
    );
    let result = exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "be friendlier", "uri": uri, "symbol": "greet"}),
    )
    .expect("jingu.ask succeeds");
    assert_eq!(result["edits"][0]["uri"], json!(uri), "{result}");
    let asked: Vec<&Value> = c
        .notifications
        .iter()
        .filter(|m| m["method"] == "window/showMessageRequest")
        .collect();
    assert_eq!(asked.len(), 1, "asked once, for the whole edit");
    let message = asked[0]["params"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("+    prefix = 'hello '") && message.contains("'!'"),
        "both changes in one question: {message}"
    );
    let seen: Vec<Value> = c
        .notifications
        .iter()
        .filter(|m| m["method"] == "workspace/applyEdit")
        .map(|m| m["params"].clone())
        .collect();
    let edits = plain_edits(&seen, &uri);
    let all = edits.as_array().unwrap().iter().collect::<Vec<_>>();
    assert!(
        apply(LIB_PY, &all).contains("return prefix + name + '!'"),
        "the whole proposal: {edits}"
    );
    // The audit log has no per-change proposal, and records the whole edit.
    let text = serde_json::to_string(&audit(&fx)).unwrap();
    assert!(!text.contains("change by change"), "{text}");
    assert!(!text.contains("\"propose\""), "{text}");
    assert_eq!(
        fx.read("lib.py"),
        LIB_PY,
        "the buffer was edited, not the disk"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn where_policy_allows_the_edit_an_annotating_client_gets_it_directly() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&script(), "[policy]\ntools = { edit = \"allow\" }\n");
    let uri = file_uri(&fx.root.join("lib.py"));
    let (mut c, seen) = start(&fx, &uri, |_| true, true);
    exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "be friendlier", "uri": uri, "symbol": "greet"}),
    )
    .expect("jingu.ask succeeds");
    let seen = seen.lock().unwrap().clone();
    plain_edits(&seen, &uri);
    assert!(
        !c.notifications
            .iter()
            .any(|m| m["method"] == "window/showMessageRequest"),
        "nothing to ask"
    );
    let text = serde_json::to_string(&audit(&fx)).unwrap();
    assert!(!text.contains("\"propose\""), "{text}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_command_cancelled_while_the_user_reviews_says_what_it_did_not_record() {
    let fx = Fixture::new(&[("lib.py", LIB_PY)]);
    let uri = file_uri(&fx.root.join("lib.py"));
    let (mut c, _) = start(&fx, &uri, |_| true, true);
    c.defer_apply_edit = true;
    // `jingu.editSymbol` edits within the request, so cancelling it drops the wait for the user.
    // (An agent run finishes its current tool call before it stops: there the answer is still
    // recorded.)
    let ask = c.send_request(
        "workspace/executeCommand",
        json!({"command": "jingu.editSymbol", "arguments": [{"uri": uri, "symbol": "greet",
               "op": "replace", "text": NEW_GREET}]}),
    );
    let deadline = std::time::Instant::now() + lsp::TIMEOUT;
    while c.deferred.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proposal never came"
        );
        c.pump(std::time::Duration::from_millis(20));
    }
    // The user is still looking at the preview when the run is cancelled.
    c.notify("$/cancelRequest", json!({"id": ask}));
    let err = c.wait_response(ask).expect_err("cancelled");
    assert_eq!(err["code"], -32800, "{err}");
    // Then they accept everything: the editor applies it and answers.
    let id = c.deferred.remove(0);
    c.send(&json!({"jsonrpc": "2.0", "id": id, "result": {"applied": true}}));
    let warning = c.wait_notification("window/showMessage");
    let message = warning["params"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not in Jingu's snapshots"),
        "the user is told: {warning}"
    );
    assert_eq!(warning["params"]["type"], 2, "a warning: {warning}");
    // Nothing was recorded as accepted.
    let text = serde_json::to_string(&audit(&fx)).unwrap();
    assert!(text.contains("\"propose\""), "{text}");
    assert!(!text.contains("\"kind\":\"edit\""), "{text}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn an_agent_run_cancelled_while_the_user_reviews_still_records_what_they_accept() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&script(), "");
    let uri = file_uri(&fx.root.join("lib.py"));
    let (mut c, _) = start(&fx, &uri, |_| true, true);
    c.defer_apply_edit = true;
    let ask = c.send_request(
        "workspace/executeCommand",
        json!({"command": "jingu.ask", "arguments": [{"instruction": "be friendlier",
               "uri": uri, "symbol": "greet"}]}),
    );
    let deadline = std::time::Instant::now() + lsp::TIMEOUT;
    while c.deferred.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proposal never came"
        );
        c.pump(std::time::Duration::from_millis(20));
    }
    c.notify("$/cancelRequest", json!({"id": ask}));
    let err = c.wait_response(ask).expect_err("cancelled");
    assert_eq!(err["code"], -32800, "{err}");
    // The run stops after its current tool call: the user's answer is still taken and recorded.
    let params = c
        .notifications
        .iter()
        .rev()
        .find(|m| m["method"] == "workspace/applyEdit")
        .expect("the proposal")["params"]
        .clone();
    let edits: Vec<&Value> = params["edit"]["documentChanges"][0]["edits"]
        .as_array()
        .expect("edits")
        .iter()
        .take(1)
        .collect();
    let text = apply(LIB_PY, &edits);
    assert_eq!(text, FIRST_ONLY);
    let id = c.deferred.remove(0);
    c.send(&json!({"jsonrpc": "2.0", "id": id, "result": {"applied": true}}));
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let accepted = hex_sha256(FIRST_ONLY);
    let deadline = std::time::Instant::now() + lsp::TIMEOUT;
    loop {
        let log = serde_json::to_string(&audit(&fx)).unwrap();
        if log.contains(&accepted) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the accepted change was never recorded: {log}"
        );
        c.pump(std::time::Duration::from_millis(50));
    }
    assert!(
        !c.notifications
            .iter()
            .any(|m| m["method"] == "window/showMessage"),
        "nothing to warn about"
    );
    assert_eq!(c.shutdown(), Some(0));
}
