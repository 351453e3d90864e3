//! End-to-end: the real `jingu lsp` binary over stdio.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/lsp.rs"]
mod lsp;

use std::path::PathBuf;

use lsp::{LspClient, file_uri};
use serde_json::{Value, json};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn workspace(files: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    std::fs::create_dir_all(&root).expect("mkdir");
    let root = root.canonicalize().expect("canon");
    Fixture { _dir: dir, root }
}

fn names(symbols: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        for s in v.as_array().into_iter().flatten() {
            out.push(s["detail"].as_str().unwrap_or_default().to_string());
            walk(&s["children"], out);
        }
    }
    walk(symbols, &mut out);
    out
}

fn change(uri: &str, version: i32, range: [u32; 4], text: &str) -> Value {
    json!({
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{
            "range": {"start": {"line": range[0], "character": range[1]},
                      "end": {"line": range[2], "character": range[3]}},
            "text": text
        }]
    })
}

const PARSER_RS: &str = "/// Parses things.\npub struct Parser { pos: usize }\n\nimpl Parser {\n    pub fn parse_expr(&mut self) -> i32 { 1 }\n}\n";

#[test]
fn document_symbols_follow_incremental_changes() {
    let fx = workspace(&[("src/parser.rs", PARSER_RS)]);
    let mut c = LspClient::start(&fx.root, &[]);
    let init = c.initialize(&fx.root, &["utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(
        init["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );

    let uri = file_uri(&fx.root.join("src/parser.rs"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": PARSER_RS}}),
    );
    let syms = c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("symbols");
    assert_eq!(
        names(&syms),
        [
            "Parser",
            "Parser/pos",
            "impl Parser",
            "impl Parser/parse_expr"
        ]
    );
    // The struct's range starts at its doc comment (line 0), its selection at the name.
    assert_eq!(syms[0]["range"]["start"]["line"], 0);
    assert_eq!(
        syms[0]["selectionRange"]["start"],
        json!({"line": 1, "character": 11})
    );

    // Rename the method, then add a function after a non-ASCII comment (UTF-16 columns).
    c.notify(
        "textDocument/didChange",
        change(&uri, 2, [4, 11, 4, 21], "parse_term"),
    );
    c.notify(
        "textDocument/didChange",
        change(&uri, 3, [6, 0, 6, 0], "// 𝄞 clef\nfn 解析() {}\n"),
    );
    c.notify(
        "textDocument/didChange",
        change(&uri, 4, [6, 6, 6, 10], "note"),
    );
    let syms = c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("symbols");
    assert_eq!(
        names(&syms),
        [
            "Parser",
            "Parser/pos",
            "impl Parser",
            "impl Parser/parse_term",
            "解析"
        ]
    );
    let func = &syms.as_array().expect("array")[2];
    assert_eq!(func["name"], "解析");
    assert_eq!(
        func["range"]["start"]["line"], 6,
        "doc comment belongs to the function"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_big_outline_arrives_whole_and_in_order_with_other_responses() {
    // Big outlines are serialized by the handler and spliced in by the transport.
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!(
            "/// S{i}\nstruct S{i} {{ a: u8 }}\nimpl S{i} {{ fn get(&self) {{}} }}\n"
        ));
    }
    let fx = workspace(&[("big.rs", &text), ("small.rs", "fn one() {}\n")]);
    let mut c = LspClient::start(&fx.root, &[]);
    c.initialize(&fx.root, &["utf-16"]);
    let big = file_uri(&fx.root.join("big.rs"));
    let small = file_uri(&fx.root.join("small.rs"));
    for (uri, text) in [(&big, text.as_str()), (&small, "fn one() {}\n")] {
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}}),
        );
    }
    for round in 0..3 {
        let syms = c
            .request(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": big}}),
            )
            .expect("big outline");
        let paths = names(&syms);
        assert_eq!(paths.len(), 1200, "round {round}");
        assert_eq!(paths[..4], ["S0", "S0/a", "impl S0", "impl S0/get"]);
        assert_eq!(
            syms[598]["range"]["start"]["line"], 897,
            "from its doc comment"
        );
        assert_eq!(syms[599]["range"]["start"]["line"], 899);
        let one = c
            .request(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": small}}),
            )
            .expect("small outline");
        assert_eq!(names(&one), ["one"]);
    }
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn utf8_is_negotiated_when_offered() {
    let fx = workspace(&[]);
    let mut c = LspClient::start(&fx.root, &[]);
    let init = c.initialize(&fx.root, &["utf-8", "utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let uri = file_uri(&fx.root.join("a.py"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "s = 'é'; t = 1\n"}}),
    );
    // Byte column 10 is just after "é'; " — replace `t` with `tt`.
    c.notify(
        "textDocument/didChange",
        change(&uri, 2, [0, 10, 0, 11], "tt"),
    );
    c.notify(
        "textDocument/didChange",
        change(
            &uri,
            3,
            [1, 0, 1, 0],
            "class Café:\n    def ñ(self): pass\n",
        ),
    );
    let syms = c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("symbols");
    assert_eq!(names(&syms), ["s", "tt", "Café", "Café/ñ"]);
    assert_eq!(
        syms[2]["selectionRange"]["end"],
        json!({"line": 1, "character": 11}),
        "UTF-8 byte columns"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn workspace_symbols_come_from_the_index_and_open_buffers() {
    let fx = workspace(&[
        ("src/parser.rs", PARSER_RS),
        (
            "lib/tool.py",
            "class Tool:\n    def run(self):\n        pass\n",
        ),
        ("ignored/skip.py", "def hidden_function(): pass\n"),
        (".gitignore", "ignored/\n"),
    ]);
    std::fs::create_dir_all(fx.root.join(".git")).expect("mark as repo so .gitignore applies");
    let mut c = LspClient::start(&fx.root, &[]);
    c.initialize(&fx.root, &[]);
    let hits = c
        .request("workspace/symbol", json!({"query": "run"}))
        .expect("symbols");
    let found: Vec<_> = hits
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h["name"].clone())
        .collect();
    assert!(found.contains(&json!("run")), "{hits}");
    let hidden = c
        .request("workspace/symbol", json!({"query": "hidden_function"}))
        .expect("symbols");
    assert_eq!(hidden, json!([]), "gitignored files are not indexed");

    // An unsaved buffer is visible to workspace/symbol.
    let uri = file_uri(&fx.root.join("lib/tool.py"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1,
               "text": "class Tool:\n    def sprint(self):\n        pass\n"}}),
    );
    let hits = c
        .request("workspace/symbol", json!({"query": "sprint"}))
        .expect("symbols");
    assert_eq!(hits[0]["location"]["uri"], json!(uri));
    assert_eq!(hits[0]["containerName"], "Tool");

    // A file written outside the editor (a build, a checkout) shows up after the watcher event,
    // and a deleted one disappears.
    std::fs::write(fx.root.join("lib/gen.py"), "def generated_entry(): pass\n").expect("write");
    std::fs::remove_file(fx.root.join("src/parser.rs")).expect("remove");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&fx.root.join("lib/gen.py")), "type": 1},
                           {"uri": file_uri(&fx.root.join("src/parser.rs")), "type": 3}]}),
    );
    let hits = c
        .request("workspace/symbol", json!({"query": "generated_entry"}))
        .expect("symbols");
    assert_eq!(hits[0]["name"], "generated_entry", "{hits}");
    let gone = c
        .request("workspace/symbol", json!({"query": "parse_expr"}))
        .expect("symbols");
    assert_eq!(gone, json!([]));
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn malformed_messages_get_errors_and_the_server_survives() {
    let fx = workspace(&[]);
    let mut c = LspClient::start(&fx.root, &[]);
    c.initialize(&fx.root, &[]);
    // Not JSON at all.
    c.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    // Valid JSON, wrong params.
    let err = c
        .request("textDocument/documentSymbol", json!({"textDocument": 42}))
        .expect_err("invalid params");
    assert_eq!(err["code"], -32602);
    let parse_error = c
        .notifications
        .iter()
        .find(|m| m["error"]["code"] == -32700)
        .expect("a parse error (-32700) answered the malformed frame");
    assert!(
        parse_error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid JSON")
    );
    // Unknown document.
    let err = c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": "file:///nope/x.rs"}}),
        )
        .expect_err("unknown uri");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not open"),
        "{err}"
    );
    // Unknown command.
    let err = c
        .request(
            "workspace/executeCommand",
            json!({"command": "jingu.nope", "arguments": []}),
        )
        .expect_err("unknown command");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("jingu.nope"),
        "{err}"
    );
    // Change to a range past the end: reported, nothing dies.
    let uri = file_uri(&fx.root.join("a.rs"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": "fn a() {}\n"}}),
    );
    c.notify(
        "textDocument/didChange",
        change(&uri, 2, [40, 0, 41, 0], "x"),
    );
    let log = c.wait_notification("window/logMessage");
    assert!(
        log["params"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("did not apply"),
        "{log}"
    );
    let syms = c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("still serving");
    assert_eq!(names(&syms), ["a"]);
    assert_eq!(c.shutdown(), Some(0));
}
