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
    let mut c = spawn(fx);
    c.initialize(&fx.root, &["utf-16"]);
    c
}

/// The server, not yet initialized, answering edits as applied and confirmations with Apply.
fn spawn(fx: &Fixture) -> LspClient {
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

    // jingu.snapshotFile: the file before and after the snapshot, for a diff editor.
    let sides = exec(
        &mut c,
        "jingu.snapshotFile",
        json!({"snapshot_id": snapshot, "path": "lib.py"}),
    )
    .expect("snapshotFile");
    assert_eq!(sides["before"], json!(LIB_PY), "{sides}");
    assert_eq!(sides["after"], json!(fx.read("lib.py")), "{sides}");
    let absent = exec(
        &mut c,
        "jingu.snapshotFile",
        json!({"snapshot_id": snapshot, "path": "nope.py"}),
    )
    .expect("a path absent on both sides");
    assert_eq!(absent["before"], Value::Null);
    assert_eq!(absent["after"], Value::Null);
    let escape = exec(
        &mut c,
        "jingu.snapshotFile",
        json!({"snapshot_id": snapshot, "path": "../state/x"}),
    )
    .expect_err("outside the workspace");
    assert!(
        escape["message"]
            .as_str()
            .unwrap_or_default()
            .contains(".."),
        "{escape}"
    );
    let unknown = exec(
        &mut c,
        "jingu.snapshotFile",
        json!({"snapshot_id": "zzzz", "path": "lib.py"}),
    )
    .expect_err("no such snapshot");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or_default()
            .contains("zzzz"),
        "{unknown}"
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

/// Apply an LSP `TextEdit` list (ranges in the original text, UTF-16) the way an editor does.
fn apply_text_edits(text: &str, edits: &Value) -> String {
    let offset = |pos: &Value| -> usize {
        let (line, ch) = (
            pos["line"].as_u64().unwrap() as usize,
            pos["character"].as_u64().unwrap(),
        );
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0u64;
        let rest = &text[start..];
        for (i, c) in rest.char_indices() {
            if units >= ch {
                return start + i;
            }
            units += c.len_utf16() as u64;
        }
        start + rest.len()
    };
    let mut edits: Vec<&Value> = edits.as_array().unwrap().iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        let (s, t) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(s..t, e["newText"].as_str().unwrap());
    }
    out
}

/// The editor side of `workspace/applyEdit`s sent since `from`: apply each to `text` and report it
/// with `didChange` (as a real client does), returning how many were sent.
fn follow_apply_edits(
    c: &mut LspClient,
    from: usize,
    uri: &str,
    text: &mut String,
    version: &mut i32,
) -> usize {
    let edits: Vec<Value> = c.notifications[from..]
        .iter()
        .filter(|m| m["method"] == "workspace/applyEdit")
        .map(|m| m["params"]["edit"]["changes"][uri].clone())
        .filter(Value::is_array)
        .collect();
    for e in &edits {
        *text = apply_text_edits(text, e);
        *version += 1;
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": *version},
                   "contentChanges": [{"text": text.clone()}]}),
        );
    }
    edits.len()
}

#[test]
fn rollback_restores_open_buffers_through_apply_edit_and_never_rewrites_them_on_disk() {
    const OTHER_PY: &str = "def other():\n    return 1\n";
    let long_py: String = (0..40)
        .map(|i| format!("def f{i}():\n    return {i}\n\n\n"))
        .collect();
    let mut fx = Fixture::new(&[
        ("lib.py", LIB_PY),
        ("other.py", OTHER_PY),
        ("long.py", &long_py),
    ]);
    fx.serve(
        &json!([
            {"tool_calls": [
                {"name": "edit", "arguments": {"path": "lib.py", "symbol": "greet", "op": "replace",
                    "text": "def greet(name):\n    return 'hello ' + name"}},
                {"name": "edit", "arguments": {"path": "long.py", "symbol": "f30", "op": "replace",
                    "text": "def f30():\n    return 'thirty'"}},
                {"name": "edit", "arguments": {"path": "other.py", "symbol": "other", "op": "replace",
                    "text": "def other():\n    return 2"}}]},
            {"content": "done"}
        ]),
        "[policy]\ntools = { edit = \"allow\" }\n",
    );
    let mut c = start(&fx);
    let lib = file_uri(&fx.root.join("lib.py"));
    let long = file_uri(&fx.root.join("long.py"));
    let (mut lib_text, mut lib_v) = (LIB_PY.to_string(), 1);
    let (mut long_text, mut long_v) = (long_py.clone(), 1);
    for (uri, text) in [(&lib, LIB_PY), (&long, long_py.as_str())] {
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
    }
    let seen = c.notifications.len();
    let r = exec(
        &mut c,
        "jingu.ask",
        json!({"instruction": "edit three files"}),
    )
    .expect("ask");
    let run_id = r["run_id"].as_str().expect("run id").to_string();
    assert_eq!(
        follow_apply_edits(&mut c, seen, &lib, &mut lib_text, &mut lib_v),
        1
    );
    assert_eq!(
        follow_apply_edits(&mut c, seen, &long, &mut long_text, &mut long_v),
        1
    );
    assert!(lib_text.contains("'hello '") && long_text.contains("'thirty'"));
    // The user saves lib.py; long.py stays unsaved (dirty) in the editor; other.py was closed.
    std::fs::write(fx.root.join("lib.py"), &lib_text).unwrap();
    assert_eq!(fx.read("other.py"), "def other():\n    return 2\n");
    let stat = |rel: &str| {
        let m = std::fs::metadata(fx.root.join(rel)).unwrap();
        (m.modified().unwrap(), m.len())
    };
    let (lib_before, long_before) = (stat("lib.py"), stat("long.py"));
    std::thread::sleep(Duration::from_millis(20)); // a rewrite would show in the mtime

    let seen = c.notifications.len();
    let out = exec(&mut c, "jingu.rollback", json!({"run_id": run_id})).expect("rollback");
    let snapshot = out["snapshot_id"]
        .as_str()
        .expect("snapshot id")
        .to_string();
    // Open files: not rewritten on disk (no "changed on disk" prompt), restored in the buffer.
    assert_eq!(
        stat("lib.py"),
        lib_before,
        "lib.py was rewritten behind the editor"
    );
    assert_eq!(
        stat("long.py"),
        long_before,
        "long.py was rewritten behind the editor"
    );
    assert_eq!(
        fx.read("lib.py"),
        lib_text,
        "the disk keeps what the user saved"
    );
    let applied: Vec<Value> = c.notifications[seen..]
        .iter()
        .filter(|m| m["method"] == "workspace/applyEdit")
        .cloned()
        .collect();
    assert_eq!(
        applied.len(),
        2,
        "one applyEdit per open buffer: {applied:?}"
    );
    // Minimal edits: long.py's edit touches only f30's lines, not the whole file.
    let long_edits = &applied
        .iter()
        .find(|m| m["params"]["edit"]["changes"][&long].is_array())
        .expect("long.py restored in the editor")["params"]["edit"]["changes"][&long];
    for e in long_edits.as_array().unwrap() {
        let (s, t) = (
            e["range"]["start"]["line"].as_u64().unwrap(),
            e["range"]["end"]["line"].as_u64().unwrap(),
        );
        assert!(
            (120..=122).contains(&s) && t <= 123,
            "only f30's lines: {long_edits}"
        );
    }
    assert_eq!(
        follow_apply_edits(&mut c, seen, &lib, &mut lib_text, &mut lib_v),
        1
    );
    assert_eq!(
        follow_apply_edits(&mut c, seen, &long, &mut long_text, &mut long_v),
        1
    );
    assert_eq!(lib_text, LIB_PY);
    assert_eq!(long_text, long_py);
    // The closed file is restored on disk.
    assert_eq!(fx.read("other.py"), OTHER_PY);

    // The rollback snapshot records exactly what the buffers now hold.
    let diff = fx.jingu(&["snapshot", "diff", &snapshot]);
    let diff = scripted::stdout(&diff);
    assert!(
        diff.contains("-    return 'hello ' + name") && diff.contains("+    return 'hi ' + name"),
        "{diff}"
    );
    assert!(
        diff.contains("-    return 'thirty'") && diff.contains("+    return 30"),
        "{diff}"
    );
    assert!(diff.contains("+    return 1"), "{diff}");

    // A second rollback whose buffers already hold the target: nothing is sent or written.
    let seen = c.notifications.len();
    let again = exec(&mut c, "jingu.rollback", json!({"run_id": run_id}));
    assert!(
        !c.notifications[seen..]
            .iter()
            .any(|m| m["method"] == "workspace/applyEdit"),
        "unchanged buffers are not touched ({again:?})"
    );
    assert_eq!(stat("long.py"), long_before);
    let verify = fx.jingu(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", scripted::stderr(&verify));
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_rollback_the_editor_declines_is_refused_and_recorded_as_what_the_buffer_holds() {
    let fx = Fixture::new(&[("lib.py", LIB_PY)]);
    let mut c = start(&fx);
    let uri = file_uri(&fx.root.join("lib.py"));
    let (mut text, mut v) = (LIB_PY.to_string(), 1);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LIB_PY}}),
    );
    let seen = c.notifications.len();
    let r = exec(
        &mut c,
        "jingu.editSymbol",
        json!({"uri": uri, "symbol": "greet", "op": "replace", "text": "def greet(name):\n    return name"}),
    )
    .expect("edit");
    let snapshot = r["snapshot_id"].as_str().expect("snapshot id").to_string();
    assert_eq!(follow_apply_edits(&mut c, seen, &uri, &mut text, &mut v), 1);
    // The editor now refuses edits (say, the buffer became read-only).
    c.server_request_answers[0].1 =
        json!({"applied": false, "failureReason": "buffer is read-only"});
    let err = exec(&mut c, "jingu.rollback", json!({"snapshot_id": snapshot}))
        .expect_err("the editor declined");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("buffer is read-only"),
        "{err}"
    );
    assert_eq!(fx.read("lib.py"), LIB_PY, "the disk was not written either");
    // History says what is real: the newest snapshot records the buffer's (unchanged) text.
    let list = exec(&mut c, "jingu.snapshots", json!({})).expect("list");
    assert_eq!(list[0]["op"], "revert-failed-write", "{list}");
    let shown = fx.jingu(&["snapshot", "diff", list[1]["id"].as_str().unwrap()]);
    assert!(
        scripted::stdout(&shown).contains("+    return 'hi ' + name"),
        "the rollback snapshot itself: {}",
        scripted::stdout(&shown)
    );
    let back = fx.jingu(&["snapshot", "diff", list[0]["id"].as_str().unwrap()]);
    assert!(
        scripted::stdout(&back).contains("+    return name"),
        "then the buffer's text again: {}",
        scripted::stdout(&back)
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// A client that announced `experimental.jingu.runEvents`.
fn start_with_run_events(fx: &Fixture) -> LspClient {
    let mut c = spawn(fx);
    c.initialize_full(
        &fx.root,
        &["utf-16"],
        json!({}),
        json!({"jingu": {"runEvents": true}}),
    );
    c
}

fn run_events(c: &LspClient) -> Vec<Value> {
    c.notifications
        .iter()
        .filter(|m| m["method"] == "jingu/runEvent")
        .map(|m| m["params"].clone())
        .collect()
}

#[test]
fn run_events_stream_text_tool_calls_diffs_refusals_and_confirmations_in_order() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(
        &json!([
            {"content": "Looking at greet.", "tool_calls": [{"name": "read_symbol", "arguments": {
                "path": "lib.py", "name_path": "greet"}}]},
            {"tool_calls": [{"name": "edit", "arguments": {
                "path": "lib.py", "symbol": "greet", "op": "replace",
                "text": "def greet(name):\n    return 'hello ' + name"}}]},
            {"tool_calls": [{"name": "read_lines", "arguments": {
                "path": "../../etc/passwd", "start": 1, "end": 2}}]},
            {"content": "greet now says hello."}
        ]),
        "",
    );
    let mut c = start_with_run_events(&fx);
    let result = exec(&mut c, "jingu.ask", json!({"instruction": "say hello"})).expect("ask");
    let run_id = result["run_id"].as_str().expect("run id").to_string();
    assert_eq!(
        fx.read("lib.py"),
        LIB_PY.replace("'hi '", "'hello '"),
        "the approved edit was written"
    );
    // Notifications and responses travel on separate queues: the last events may trail the
    // response. `done` is the last event.
    let has_done = |c: &LspClient| run_events(c).iter().any(|e| e["kind"] == "done");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !has_done(&c) && Instant::now() < deadline {
        c.pump(Duration::from_millis(50));
    }
    let events = run_events(&c);
    let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "numbered from 1 in order: {events:#?}"
    );
    assert!(
        events.iter().all(|e| e["run_id"] == json!(run_id)),
        "{events:#?}"
    );
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| *k != "progress")
        .collect();
    // Text chunks streamed together arrive merged; what matters is the order of the kinds.
    let mut collapsed: Vec<&str> = kinds.clone();
    collapsed.dedup_by(|a, b| *a == "text" && *b == "text");
    assert_eq!(
        collapsed,
        [
            "text",
            "tool_call",
            "tool_result",
            "tool_call",
            "waiting",
            "answered",
            "tool_result",
            "tool_call",
            "tool_result",
            "text",
            "done"
        ],
        "{events:#?}"
    );
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };
    let text: String = of("text")
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(text.starts_with("Looking at greet."), "{text}");
    assert!(text.ends_with("greet now says hello."), "{text}");

    let calls = of("tool_call");
    assert_eq!(calls[0]["tool"], "read_symbol");
    assert_eq!(calls[0]["title"], "read_symbol lib.py");
    assert!(calls[0]["args"].as_str().unwrap().contains("greet"));
    assert_eq!(calls[1]["tool"], "edit");
    assert_eq!(
        (calls[0]["step"].as_u64(), calls[2]["step"].as_u64()),
        (Some(1), Some(3))
    );
    let results = of("tool_result");
    // A read reports what it read.
    assert_eq!(results[0]["ok"], true);
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap()
            .contains("return 'hi ' + name"),
        "{:#}",
        results[0]
    );
    // The edit: its unified diff and snapshot.
    assert_eq!(results[1]["ok"], true);
    let edit = &results[1]["edit"];
    assert_eq!(edit["path"], "lib.py");
    assert!(
        edit["snapshot_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{edit}"
    );
    let diff = edit["diff"].as_str().unwrap();
    assert!(
        diff.contains("-    return 'hi ' + name") && diff.contains("+    return 'hello ' + name"),
        "{diff}"
    );
    // The refusal gives its reason.
    assert_eq!(results[2]["ok"], false);
    assert!(
        results[2]["reason"]
            .as_str()
            .unwrap()
            .contains("outside the workspace"),
        "{:#}",
        results[2]
    );
    // The confirmation: a waiting card with the diff, tied to the question by its id.
    let waiting = of("waiting")[0];
    assert_eq!(waiting["tool"], "edit");
    assert_eq!(waiting["review"], false);
    assert!(
        waiting["detail"]
            .as_str()
            .unwrap()
            .contains("+    return 'hello ' + name")
    );
    let id = waiting["confirm_id"].as_str().unwrap();
    let question = c
        .notifications
        .iter()
        .find(|m| m["method"] == "window/showMessageRequest")
        .expect("asked");
    assert_eq!(question["params"]["actions"][0]["jinguConfirm"], json!(id));
    let answered = of("answered")[0];
    assert_eq!(
        (
            answered["confirm_id"].as_str(),
            answered["applied"].as_bool()
        ),
        (Some(id), Some(true))
    );
    let done = of("done")[0];
    assert_eq!(done["stop"]["reason"], "finished");
    assert_eq!(done["summary"], "greet now says hello.");
    assert_eq!(done["edits"][0]["path"], "lib.py");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn run_events_are_not_sent_to_a_client_that_did_not_ask_and_the_question_is_unchanged() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(
        &json!([
            {"tool_calls": [{"name": "edit", "arguments": {"path": "lib.py", "symbol": "unused", "op": "delete"}}]},
            {"content": "Removed."}
        ]),
        "",
    );
    let mut c = start(&fx);
    exec(&mut c, "jingu.ask", json!({"instruction": "remove unused"})).expect("ask");
    c.pump(Duration::from_millis(300));
    assert!(run_events(&c).is_empty());
    let question = c
        .notifications
        .iter()
        .find(|m| m["method"] == "window/showMessageRequest")
        .expect("asked");
    assert_eq!(
        question["params"]["actions"],
        json!([{"title": "Apply"}, {"title": "Reject"}])
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_cancelled_run_ends_its_events_with_done_cancelled() {
    let mut fx = Fixture::new(&[("lib.py", LIB_PY)]);
    fx.serve(&json!([{"stall": true}]), "");
    let mut c = start_with_run_events(&fx);
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "jingu.ask", "arguments": [{"instruction": "take your time"}]}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while fx.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model turn never started");
        c.pump(Duration::from_millis(20));
    }
    c.notify("$/cancelRequest", json!({"id": id}));
    let _ = c.wait_response(id);
    let done = |c: &LspClient| run_events(c).into_iter().find(|e| e["kind"] == "done");
    let deadline = Instant::now() + Duration::from_secs(20);
    while done(&c).is_none() && Instant::now() < deadline {
        c.pump(Duration::from_millis(50));
    }
    let done = done(&c).expect("a done event after the cancel");
    assert_eq!(done["stop"]["reason"], "cancelled", "{done}");
    assert_eq!(c.shutdown(), Some(0));
}
