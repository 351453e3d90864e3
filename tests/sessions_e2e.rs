//! End-to-end: conversations persisted in the state directory and resumed by a new `jingu ask`
//! process with the same context (`--continue`, `--session ID`), and `jingu sessions list|show|rm`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/scripted.rs"]
mod scripted;

use scripted::{Fixture, stderr, stdout};
use serde_json::{Value, json};

fn json_out(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_new_process_continues_the_conversation_with_its_tool_calls_and_results() {
    let mut fx = Fixture::new(&[("notes.txt", "the answer is 41\n")]);
    fx.serve(
        &json!([
            {"tool_calls": [{"name": "read_lines", "arguments": {"path": "notes.txt", "start": 1, "end": 1}}]},
            {"content": "Noted: 41."}
        ]),
        "",
    );
    let first = json_out(&fx.jingu(&["ask", "remember the number in notes.txt", "--json"]));
    let session = first["session"].as_str().expect("session id").to_string();
    let run1 = first["run_id"].as_str().expect("run").to_string();

    // A second process, a fresh model server: the request carries the whole first turn.
    let _ = std::fs::remove_file(&fx.log);
    fx.serve(
        &json!([{"content": "It was 41.", "expect": "the answer is 41"}]),
        "",
    );
    let out = fx.jingu(&["ask", "what was the number?", "--continue"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("session {session} (turn 2")),
        "{}",
        stderr(&out)
    );
    let run2 = stdout(&out).trim().to_string();
    let messages = fx.requests()[0]["body"]["messages"]
        .as_array()
        .expect("messages")
        .clone();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        roles,
        vec!["system", "user", "assistant", "tool", "assistant", "user"],
        "{messages:?}"
    );
    assert!(
        messages[1]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("remember the number in notes.txt")
    );
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["name"],
        "read_lines"
    );
    assert_eq!(
        messages[3]["tool_call_id"],
        messages[2]["tool_calls"][0]["id"]
    );
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("the answer is 41")
    );
    assert_eq!(messages[4]["content"], "Noted: 41.");
    assert!(
        messages[5]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("what was the number?")
    );

    // Listed, shown with both run ids, resumable by id, removable.
    let list = json_out(&fx.jingu(&["sessions", "list", "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], json!(session));
    assert_eq!(list[0]["turns"], 2);
    let shown = json_out(&fx.jingu(&["sessions", "show", &session, "--json"]));
    let runs: Vec<&str> = shown["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .map(|t| t["run_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(runs, vec![run1.as_str(), run2.as_str()]);
    let text = fx.jingu(&["sessions", "show", &session]);
    assert!(
        stdout(&text).contains("call read_lines("),
        "{}",
        stdout(&text)
    );

    let _ = std::fs::remove_file(&fx.log);
    fx.serve(
        &json!([{"content": "Still 41.", "expect": "It was 41."}]),
        "",
    );
    let out = fx.jingu(&["ask", "and now?", "--session", &session]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rm = fx.jingu(&["sessions", "rm", &session]);
    assert!(rm.status.success(), "{}", stderr(&rm));
    assert_eq!(
        json_out(&fx.jingu(&["sessions", "list", "--json"])),
        json!([])
    );
    let missing = fx.jingu(&["ask", "x", "--session", &session]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no session"),
        "{}",
        stderr(&missing)
    );
    let bad = fx.jingu(&["sessions", "show", "../../etc/passwd"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("not valid"), "{}", stderr(&bad));
    let none = fx.jingu(&["ask", "x", "--continue"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("no earlier session"),
        "{}",
        stderr(&none)
    );
}
