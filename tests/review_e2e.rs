//! End-to-end: `jingu review` and `jingu.review` through the real binary, against the scripted
//! model server. A git repository holds the base; the working tree changes two functions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/lsp.rs"]
mod lsp;
#[path = "support/scripted.rs"]
mod scripted;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use lsp::{LspClient, file_uri};
use scripted::{Fixture, stderr, stdout};
use serde_json::{Value, json};

const BASE_LIB: &str = "def total(items):\n    s = 0\n    for i in items:\n        s += i\n    return s\n\n\ndef mean(items):\n    return total(items) / len(items)\n";
const LIB: &str = "def total(items):\n    s = 0\n    for i in range(len(items) - 1):\n        s += items[i]\n    return s\n\n\ndef mean(items):\n    return total(items) / len(items)\n\n\ndef greet(name):\n    return \"héllo \" + name\n";
const APP: &str = "from lib import mean\n\n\ndef report(xs):\n    print(mean(xs))\n";
/// Line 13 of LIB, non-ASCII: é is 2 UTF-8 bytes and 1 UTF-16 unit.
const GREET_LINE: &str = "    return \"héllo \" + name";

/// Two valid findings (one with a fix on a non-ASCII line) and three the validator must drop.
fn script() -> Value {
    json!([{ "expect": "def total", "tool_calls": [{"name": "report_findings", "arguments": {
    "summary": "total skips the last item",
    "findings": [
        {"file": "lib.py", "start_line": 3, "end_line": 4, "severity": "error", "category": "bug",
         "message": "off by one: the last item is never added",
         "replacement": "    for i in items:\n        s += i"},
        {"file": "lib.py", "start_line": 13, "end_line": 13, "severity": "info", "category": "style",
         "message": "keep greetings ASCII", "replacement": "    return \"hello \" + name"},
        {"file": "lib.py", "start_line": 40, "end_line": 44, "severity": "warning", "category": "bug",
         "message": "a hallucinated range"},
        {"file": "lib.py", "start_line": 9, "end_line": 9, "severity": "warning", "category": "bug",
         "message": "a broken fix", "replacement": "    return total(items /"},
        {"file": "nope.py", "start_line": 1, "end_line": 1, "severity": "hint", "category": "test",
         "message": "a file that was never reviewed"}
    ]}}]}])
}

fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(root)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A workspace whose base commit has BASE_LIB and APP, with LIB in the working tree.
fn fixture() -> Fixture {
    fixture_with(&script())
}

fn fixture_with(turns: &Value) -> Fixture {
    let mut fx = Fixture::new(&[("lib.py", BASE_LIB), ("app.py", APP)]);
    git(&fx.root, &["init", "-q"]);
    git(&fx.root, &["add", "-A"]);
    git(&fx.root, &["commit", "-qm", "base"]);
    std::fs::write(fx.root.join("lib.py"), LIB).expect("write");
    fx.serve(turns, "");
    fx
}

/// The review prompt of a logged request.
fn user_message(request: &Value) -> String {
    request["body"]["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .expect("user message")
        .to_string()
}

/// Every file under `.git`, with its content: the review must leave the repository untouched.
fn snapshot_git(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.join(".git")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn review_reports_validated_findings_drops_invalid_ones_and_sends_only_symbols() {
    let fx = fixture();
    let before = snapshot_git(&fx.root);
    let out = fx.jingu(&["review", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error finding fails CI: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{report:#}");
    assert_eq!(findings[0]["start_line"], 3);
    assert_eq!(findings[0]["severity"], "error");
    // The fix replaces whole lines, terminator included, exactly as RealDoc splices them.
    assert_eq!(
        findings[0]["fix"]["text"],
        "    for i in items:\n        s += i\n"
    );
    let reasons: Vec<&str> = report["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .filter_map(|d| d["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].contains("lines 40-44 do not exist"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("replacement does not apply"),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("nope.py is not among the reviewed files"));
    assert_eq!(report["files"], json!(["lib.py"]));

    // The model saw the changed symbols (old and numbered new text) and a caller's signature,
    // not whole files: app.py is not sent, and neither is mean's body as a unit of its own.
    let requests = fx.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0]["body"].to_string();
    assert!(body.contains("report_findings"), "the tool is offered");
    let prompt = user_message(&requests[0]);
    assert!(
        prompt.contains("    3|     for i in range(len(items) - 1):"),
        "{prompt}"
    );
    assert!(
        prompt.contains("    for i in items:"),
        "old text is sent: {prompt}"
    );
    assert!(
        prompt.contains("lib.py:9: in `def mean(items):`: return total(items)"),
        "caller signature: {prompt}"
    );
    assert!(prompt.contains("function `greet`"), "{prompt}");
    assert!(
        !prompt.contains("def report"),
        "unrelated code is not sent: {prompt}"
    );
    assert!(
        !prompt.contains("outside any symbol"),
        "the added function is its own unit: {prompt}"
    );

    assert_eq!(
        snapshot_git(&fx.root),
        before,
        "the user's repository was written"
    );
    assert_eq!(fx.read("lib.py"), LIB, "review never edits");
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let fx = fixture();
    let out = fx.jingu(&["review", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&stdout(&out)).expect("SARIF is JSON");
    let path = fx.base.join("review.sarif");
    std::fs::write(&path, stdout(&out)).expect("write");
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sarif-schema-2.1.0.json");
    let check = Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys,jsonschema\n\
             schema=json.load(open(sys.argv[1]))\n\
             jsonschema.Draft4Validator.check_schema(schema)\n\
             errors=list(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\n\
             [print(e.message, list(e.path)) for e in errors]\n\
             sys.exit(1 if errors else 0)",
        )
        .arg(&schema)
        .arg(&path)
        .output()
        .expect("python3 with jsonschema");
    assert!(
        check.status.success(),
        "schema errors: {}{}",
        stdout(&check),
        stderr(&check)
    );

    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let greet = &results[1];
    assert_eq!(greet["level"], "note");
    let rep = &greet["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(
        rep["insertedContent"]["text"],
        "    return \"hello \" + name\n"
    );
    assert_eq!(
        rep["deletedRegion"],
        json!({"startLine": 13, "startColumn": 1, "endLine": 14, "endColumn": 1})
    );
    // UTF-16 columns: the line's end is after `GREET_LINE.encode_utf16().count()` units.
    let utf16 = GREET_LINE.encode_utf16().count() as u64;
    assert_ne!(utf16, GREET_LINE.len() as u64);
    assert_eq!(
        greet["locations"][0]["physicalLocation"]["region"],
        json!({"startLine": 13, "startColumn": 1, "endLine": 13, "endColumn": utf16 + 1})
    );
}

#[test]
fn rdjson_uses_one_based_utf8_byte_columns() {
    let fx = fixture();
    let out = fx.jingu(&["review", "--format", "rdjson"]);
    let rd: Value = serde_json::from_str(&stdout(&out)).expect("rdjson is JSON");
    let d = &rd["diagnostics"][1];
    assert_eq!(d["severity"], "INFO");
    assert_eq!(
        d["location"]["range"],
        json!({"start": {"line": 13, "column": 1},
               "end": {"line": 13, "column": GREET_LINE.len() + 1}})
    );
    assert_eq!(
        d["suggestions"][0]["text"],
        "    return \"hello \" + name\n"
    );
    assert_eq!(rd["diagnostics"][0]["severity"], "ERROR");

    let text = fx.jingu(&["review"]);
    let shown = stdout(&text);
    assert!(
        shown.contains("lib.py:3-4: error [bug] off by one"),
        "{shown}"
    );
    assert!(
        shown.contains("+    for i in items:"),
        "the fix as a diff: {shown}"
    );
    assert!(shown.contains("3 dropped as invalid"), "{shown}");
    assert!(
        !shown.contains("\x1b["),
        "no colour when stdout is not a terminal"
    );
}

fn exec(c: &mut LspClient, command: &str, arg: Value) -> Result<Value, Value> {
    c.request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [arg]}),
    )
}

/// The next `publishDiagnostics` for `uri`.
fn diagnostics(c: &mut LspClient, uri: &str) -> Vec<Value> {
    loop {
        let n = c.wait_notification("textDocument/publishDiagnostics");
        if n["params"]["uri"] == uri {
            return n["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    }
}

#[test]
fn lsp_review_publishes_diagnostics_and_applies_a_quick_fix_through_realdoc() {
    let fx = fixture();
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
    let init = c.initialize(&fx.root, &["utf-16"]);
    assert_eq!(
        init["capabilities"]["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    let uri = file_uri(&fx.root.join("lib.py"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LIB}}),
    );
    let result = exec(&mut c, "jingu.review", json!({"uri": uri})).expect("jingu.review");
    assert_eq!(result["findings"], 2, "{result}");
    assert_eq!(result["dropped"], 3, "{result}");
    let progress: Vec<&Value> = c
        .notifications
        .iter()
        .filter(|m| m["method"] == "$/progress")
        .collect();
    assert!(
        progress
            .iter()
            .any(|p| p["params"]["value"]["kind"] == "begin")
            && progress
                .iter()
                .any(|p| p["params"]["value"]["kind"] == "end"),
        "the review reports progress: {progress:?}"
    );

    let diags = diagnostics(&mut c, &uri);
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(diags.iter().all(|d| d["source"] == "jingu"));
    assert_eq!(diags[0]["severity"], 1);
    assert_eq!(
        diags[0]["range"]["start"],
        json!({"line": 2, "character": 0})
    );
    assert_eq!(diags[1]["severity"], 3);
    assert_eq!(
        diags[1]["range"]["end"],
        json!({"line": 12, "character": GREET_LINE.encode_utf16().count()})
    );

    // The quick fix for the off-by-one.
    let actions = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diags[0]["range"],
                   "context": {"diagnostics": [diags[0]]}}),
        )
        .expect("codeAction");
    let action = &actions[0];
    assert_eq!(action["title"], "Apply suggestion");
    assert_eq!(action["kind"], "quickfix");
    let command = &action["command"];
    assert_eq!(command["command"], "jingu.applySuggestion");
    let applied = exec(
        &mut c,
        "jingu.applySuggestion",
        command["arguments"][0].clone(),
    )
    .expect("the suggestion applies");
    let snapshot = applied["snapshot_id"]
        .as_str()
        .expect("snapshotted")
        .to_string();

    // Policy still decides: the default `ask` for edits showed the diff for confirmation.
    assert!(
        c.notifications
            .iter()
            .any(|m| m["method"] == "window/showMessageRequest"),
        "the edit was confirmed through the policy path"
    );
    // It reached the editor as a workspace/applyEdit of exactly the two lines.
    let edit = c
        .notifications
        .iter()
        .find(|m| m["method"] == "workspace/applyEdit")
        .expect("applyEdit sent")
        .clone();
    let edits = &edit["params"]["edit"]["changes"][&uri];
    let new_text = edits[0]["newText"].as_str().unwrap_or_default();
    assert!(new_text.contains("for i in items:"), "{edit:#}");
    assert_eq!(edits[0]["range"]["start"]["line"], 2);
    // Only the greet finding remains.
    let diags = diagnostics(&mut c, &uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "style");

    // The fix is a snapshot like any edit: it is listed and can be rolled back.
    let listed = exec(&mut c, "jingu.snapshots", json!({"uri": uri})).expect("snapshots");
    assert!(listed.to_string().contains(&snapshot), "{listed}");

    // The editor applies the edit (a didChange), then the user types in greet's line: cleared.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 2, "character": 0},
                                             "end": {"line": 4, "character": 0}},
                                   "text": "    for i in items:\n        s += i\n"}]}),
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": {"start": {"line": 12, "character": 4},
                                             "end": {"line": 12, "character": 4}},
                                   "text": "# "}]}),
    );
    assert!(
        diagnostics(&mut c, &uri).is_empty(),
        "the code changed under the finding"
    );

    // A stale suggestion is refused instead of clobbering new code.
    let stale = exec(
        &mut c,
        "jingu.applySuggestion",
        json!({"uri": uri, "start_line": 13, "end_line": 13,
               "replacement": "    return \"hello \" + name", "original": GREET_LINE}),
    );
    let err = stale.expect_err("stale suggestion refused");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("changed since the review")
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn secrets_in_reviewed_code_are_redacted_and_the_request_is_audited() {
    let secret = "AKIAIOSFODNN7EXAMPLE";
    let mut fx = Fixture::new(&[("keys.py", "def key():\n    return None\n")]);
    git(&fx.root, &["init", "-q"]);
    git(&fx.root, &["add", "-A"]);
    git(&fx.root, &["commit", "-qm", "base"]);
    std::fs::write(
        fx.root.join("keys.py"),
        format!("def key():\n    return \"{secret}\"\n"),
    )
    .expect("write");
    fx.serve(
        &json!([{"tool_calls": [{"name": "report_findings", "arguments": {"findings": [
            {"file": "keys.py", "start_line": 2, "end_line": 2, "severity": "error",
             "category": "security", "message": "hard-coded credential"}]}}]}]),
        "",
    );
    let out = fx.jingu(&["review", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(report["findings"][0]["category"], "security", "{report:#}");
    let log = std::fs::read_to_string(&fx.log).expect("request log");
    assert!(log.contains("def key()"), "the changed symbol was sent");
    assert!(!log.contains(secret), "the secret left the machine: {log}");

    let audit: Value =
        serde_json::from_str(&stdout(&fx.jingu(&["audit", "log", "--json"]))).expect("audit JSON");
    let request = audit
        .as_array()
        .and_then(|records| {
            records
                .iter()
                .find(|r| r.to_string().contains("model_request"))
        })
        .unwrap_or_else(|| panic!("no model_request record: {audit:#}"));
    assert!(
        request.to_string().contains("\"redactions\":1"),
        "the redaction is counted: {request}"
    );
    let verify = fx.jingu(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn a_bad_base_or_a_missing_repository_is_a_clear_error_and_no_request() {
    let fx = fixture();
    let out = fx.jingu(&["review", "--base", "no-such-rev"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot resolve base revision `no-such-rev`"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(fx.root.join(".git")).expect("rm .git");
    let out = fx.jingu(&["review"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not inside a git repository"),
        "{}",
        stderr(&out)
    );
    assert!(fx.requests().is_empty(), "nothing was sent to the model");
}

#[test]
fn lsp_review_reads_the_editor_buffer_not_the_disk() {
    let mut turns = script();
    turns[0]["expect"] = json!("def extra");
    let fx = fixture_with(&turns);
    let env = fx.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut c = LspClient::start(&fx.root, &env);
    c.initialize(&fx.root, &["utf-8", "utf-16"]);
    let uri = file_uri(&fx.root.join("lib.py"));
    // Unsaved: the buffer keeps total as committed and adds `extra`; the disk has LIB.
    let buffer = format!("{BASE_LIB}\n\ndef extra():\n    return total([1])\n");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": buffer}}),
    );
    let result = exec(&mut c, "jingu.review", json!({"uri": uri})).expect("jingu.review");
    let prompt = user_message(&fx.requests()[0]);
    assert!(prompt.contains("function `extra`"), "{prompt}");
    assert!(
        !prompt.contains("range(len(items)"),
        "the disk text was reviewed: {prompt}"
    );
    // In the buffer, lines 3-4 already read as the suggested fix: the finding is shown without a
    // quick fix (there is nothing to change).
    assert_eq!(result["findings"], 2, "{result}");
    assert_eq!(result["dropped"], 3, "{result}");
    // UTF-8 was negotiated: ranges are in bytes.
    let diags = diagnostics(&mut c, &uri);
    assert_eq!(
        diags[0]["range"]["end"],
        json!({"line": 3, "character": 14})
    );
    let actions = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diags[0]["range"],
                   "context": {"diagnostics": [diags[0]]}}),
        )
        .expect("codeAction");
    assert_eq!(actions, json!([]), "no fix, no quick fix");
}
