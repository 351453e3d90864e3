//! End-to-end: `[audit.otlp]` through the real `jingu` binary, received by an OTLP/HTTP server on
//! 127.0.0.1 that decodes what it is sent with the official OTLP protobuf messages
//! (`opentelemetry-proto`'s prost types; no collector installs from the registries here). Every
//! audit record arrives as a log record carrying the exact line of the log; every run is one
//! trace — a root `invoke_agent` span with `chat` and `execute_tool` children carrying the GenAI
//! attributes; a collector that refuses connections or never answers is a warning and the edit
//! still completes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/scripted.rs"]
mod scripted;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use scripted::{Fixture, stderr};
use serde_json::{Value, json};

/// What the receiver got, decoded.
#[derive(Default)]
struct Received {
    logs: Vec<LogRecord>,
    spans: Vec<Span>,
    /// Paths and the `x-jingu-test` header of every request.
    requests: Vec<(String, Option<String>)>,
}

/// An OTLP/HTTP receiver: `POST /v1/logs` and `/v1/traces` with protobuf bodies.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Received>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let got = Arc::new(Mutex::new(Received::default()));
        let g = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let g = g.clone();
                std::thread::spawn(move || serve(conn, &g));
            }
        });
        Self { port, got }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn take(&self) -> Received {
        std::mem::take(&mut *self.got.lock().expect("lock"))
    }
}

/// Keep-alive HTTP/1.1: requests with a Content-Length body, answered 200 with an empty
/// (valid, all-default) Export*ServiceResponse.
fn serve(conn: TcpStream, got: &Mutex<Received>) {
    let mut w = conn.try_clone().expect("clone");
    let mut r = BufReader::new(conn);
    loop {
        let mut start = String::new();
        if r.read_line(&mut start).unwrap_or(0) == 0 {
            return;
        }
        let path = start.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut len = 0usize;
        let mut test_header = None;
        let mut content_type = String::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap_or((h, ""));
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap_or(0),
                "x-jingu-test" => test_header = Some(v.trim().to_string()),
                "content-type" => content_type = v.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let ok = content_type == "application/x-protobuf"
            && match path.as_str() {
                "/v1/logs" => ExportLogsServiceRequest::decode(body.as_slice())
                    .map(|req| {
                        let mut g = got.lock().expect("lock");
                        for rl in req.resource_logs {
                            for sl in rl.scope_logs {
                                g.logs.extend(sl.log_records);
                            }
                        }
                    })
                    .is_ok(),
                "/v1/traces" => ExportTraceServiceRequest::decode(body.as_slice())
                    .map(|req| {
                        let mut g = got.lock().expect("lock");
                        for rs in req.resource_spans {
                            for ss in rs.scope_spans {
                                g.spans.extend(ss.spans);
                            }
                        }
                    })
                    .is_ok(),
                _ => false,
            };
        got.lock()
            .expect("lock")
            .requests
            .push((path.clone(), test_header));
        let status = if ok { "200 OK" } else { "400 Bad Request" };
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
        );
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a V> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn s_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key) {
        Some(V::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn i_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key) {
        Some(V::IntValue(n)) => Some(*n),
        _ => None,
    }
}

fn body(l: &LogRecord) -> String {
    match l.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(V::StringValue(s)) => s.clone(),
        other => panic!("log body is not a string: {other:?}"),
    }
}

/// The extra (administrators') policy layer: edits allowed, records exported to `endpoint`.
fn policy(fx: &Fixture, endpoint: &str, timeout_ms: u64) -> std::path::PathBuf {
    let p = fx.base.join("policy.toml");
    std::fs::write(
        &p,
        format!(
            "[policy]\ntools = {{ edit = \"allow\" }}\n\n[audit.otlp]\nendpoint = \"{endpoint}\"\n\
             headers = {{ x-jingu-test = \"token-123\" }}\ntimeout_ms = {timeout_ms}\n"
        ),
    )
    .expect("policy");
    p
}

fn jingu(fx: &Fixture, policy: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jingu"));
    cmd.args(args)
        .current_dir(&fx.root)
        .stdin(Stdio::null())
        .env("JINGU_POLICY", policy)
        .env_remove("JINGU_POLICY_PUBKEY");
    for v in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in fx.env() {
        cmd.env(k, v);
    }
    cmd.output().expect("run jingu")
}

fn edit(fx: &Fixture, policy: &std::path::Path, text: &str) -> Output {
    let f = fx.base.join("new.txt");
    std::fs::write(&f, format!("    return {text}\n")).expect("write");
    jingu(
        fx,
        policy,
        &[
            "edit",
            "app.py",
            "--lines",
            "2-2",
            "--replace",
            "--text-file",
            f.to_str().expect("utf-8"),
        ],
    )
}

fn audit_lines(fx: &Fixture) -> Vec<String> {
    let ws = std::fs::read_dir(fx.state.join("workspaces"))
        .expect("state")
        .flatten()
        .next()
        .expect("one workspace");
    std::fs::read_to_string(ws.path().join("audit.jsonl"))
        .expect("log")
        .lines()
        .map(str::to_string)
        .collect()
}

fn run_ids(lines: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("json");
        let id = v["run_id"].as_str().expect("run id").to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Everything was flushed before `jingu` exited; allow the receiver's threads a moment to
/// store the last request they answered.
fn settle(rx: &Receiver, want_logs: usize) -> Received {
    let deadline = Instant::now() + Duration::from_secs(10);
    while rx.got.lock().expect("lock").logs.len() < want_logs && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    rx.take()
}

#[test]
fn an_edit_exports_every_record_as_a_log_and_its_run_as_one_trace() {
    let rx = Receiver::start();
    let fx = Fixture::new(&[("app.py", "def main():\n    return 1\n")]);
    let pol = policy(&fx, &rx.endpoint(), 3000);
    let out = edit(&fx, &pol, "2");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("OpenTelemetry"),
        "no warning with a working collector: {}",
        stderr(&out)
    );
    let lines = audit_lines(&fx);
    let got = settle(&rx, lines.len());

    // The log records are the log's lines, byte for byte, with their chain attributes.
    let bodies: Vec<String> = got.logs.iter().map(body).collect();
    assert_eq!(bodies, lines, "every record, in order, exactly as written");
    for (l, line) in got.logs.iter().zip(&lines) {
        let v: Value = serde_json::from_str(line).expect("json");
        assert_eq!(
            s_attr(&l.attributes, "jingu.record.hash").as_deref(),
            v["hash"].as_str()
        );
        assert_eq!(
            s_attr(&l.attributes, "jingu.record.kind").as_deref(),
            v["kind"].as_str()
        );
        assert_eq!(i_attr(&l.attributes, "jingu.record.seq"), v["seq"].as_i64());
        assert_eq!(
            s_attr(&l.attributes, "jingu.run.id").as_deref(),
            v["run_id"].as_str()
        );
        assert_eq!(
            s_attr(&l.attributes, "jingu.workspace").as_deref(),
            Some(fx.root.to_str().expect("utf-8"))
        );
        assert!(s_attr(&l.attributes, "jingu.identity.subject").is_some_and(|s| !s.is_empty()));
    }
    assert!(
        got.requests
            .iter()
            .all(|(_, h)| h.as_deref() == Some("token-123")),
        "the configured headers go with every export: {:?}",
        got.requests
    );

    // One run, one trace, one root span that every log record points into.
    let runs = run_ids(&lines);
    assert_eq!(runs.len(), 1, "{lines:?}");
    let roots: Vec<&Span> = got
        .spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 1, "{:?}", got.spans);
    let root = roots[0];
    assert_eq!(root.name, "invoke_agent jingu");
    assert_eq!(
        s_attr(&root.attributes, "gen_ai.operation.name").as_deref(),
        Some("invoke_agent")
    );
    assert_eq!(
        s_attr(&root.attributes, "gen_ai.agent.name").as_deref(),
        Some("jingu")
    );
    assert_eq!(
        s_attr(&root.attributes, "jingu.run.id").as_deref(),
        Some(runs[0].as_str())
    );
    assert!(root.end_time_unix_nano >= root.start_time_unix_nano);
    assert!(
        got.logs.iter().all(|l| l.trace_id == root.trace_id),
        "every record is filed under the run's trace"
    );
}

fn tool(name: &str, args: Value) -> Value {
    json!({"name": name, "arguments": args})
}

#[test]
fn an_agent_run_is_a_trace_of_chat_and_execute_tool_spans_and_each_run_its_own() {
    let rx = Receiver::start();
    let mut fx = Fixture::new(&[("app.py", "def main():\n    return 1\n")]);
    fx.serve(
        &json!([
            {"tool_calls": [tool("edit", json!({"path": "app.py", "lines": "2-2", "op": "replace",
                                                  "text": "    return 42"}))]},
            {"content": "Changed the return value."}
        ]),
        "",
    );
    let pol = policy(&fx, &rx.endpoint(), 3000);
    let out = jingu(
        &fx,
        &pol,
        &["ask", "return 42", "--path", "app.py", "--yes"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(fx.root.join("app.py"))
            .expect("read")
            .contains("return 42")
    );
    let lines = audit_lines(&fx);
    let got = settle(&rx, lines.len());
    assert_eq!(got.logs.iter().map(body).collect::<Vec<_>>(), lines);
    let run = run_ids(&lines);
    assert_eq!(run.len(), 1);

    let root = got
        .spans
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .expect("a root span");
    assert_eq!(root.name, "invoke_agent jingu");
    assert!(
        got.spans.iter().all(|s| s.trace_id == root.trace_id),
        "one trace per run"
    );
    let children: Vec<&Span> = got
        .spans
        .iter()
        .filter(|s| !s.parent_span_id.is_empty())
        .collect();
    assert!(
        children.iter().all(|s| s.parent_span_id == root.span_id),
        "model and tool calls are children of the run's span"
    );
    let chats: Vec<&&Span> = children
        .iter()
        .filter(|s| s_attr(&s.attributes, "gen_ai.operation.name").as_deref() == Some("chat"))
        .collect();
    assert_eq!(chats.len(), 2, "two model requests: {children:?}");
    for c in &chats {
        assert_eq!(
            s_attr(&c.attributes, "gen_ai.request.model").as_deref(),
            Some("scripted-model")
        );
        assert_eq!(c.name, "chat scripted-model");
        assert!(s_attr(&c.attributes, "gen_ai.provider.name").is_some_and(|p| !p.is_empty()));
        // The scripted server reports 7 completion tokens for every response.
        assert_eq!(i_attr(&c.attributes, "gen_ai.usage.output_tokens"), Some(7));
        assert!(i_attr(&c.attributes, "gen_ai.usage.input_tokens").is_some_and(|n| n > 0));
        assert!(c.end_time_unix_nano >= c.start_time_unix_nano);
    }
    let tools: Vec<&&Span> = children
        .iter()
        .filter(|s| {
            s_attr(&s.attributes, "gen_ai.operation.name").as_deref() == Some("execute_tool")
        })
        .collect();
    assert_eq!(tools.len(), 1, "{children:?}");
    let t = tools[0];
    assert_eq!(t.name, "execute_tool edit");
    assert_eq!(
        s_attr(&t.attributes, "gen_ai.tool.name").as_deref(),
        Some("edit")
    );
    assert!(s_attr(&t.attributes, "gen_ai.tool.call.id").is_some_and(|id| !id.is_empty()));
    // The tool span holds the edit record; its log record points at it.
    let edit_log = got
        .logs
        .iter()
        .find(|l| s_attr(&l.attributes, "jingu.record.kind").as_deref() == Some("edit"))
        .expect("an edit record");
    assert_eq!(edit_log.span_id, t.span_id);
    assert!(t.start_time_unix_nano >= chats[0].end_time_unix_nano);
    assert!(t.end_time_unix_nano <= chats[1].start_time_unix_nano);

    // A second run is a second trace.
    let out = edit(&fx, &pol, "3");
    assert!(out.status.success(), "{}", stderr(&out));
    let all = audit_lines(&fx);
    let got2 = settle(&rx, all.len() - lines.len());
    let roots2: BTreeSet<Vec<u8>> = got2
        .spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .map(|s| s.trace_id.clone())
        .collect();
    assert_eq!(roots2.len(), 1);
    assert!(!roots2.contains(&root.trace_id), "a new run, a new trace");
}

/// A collector that is down (connection refused) or hangs (accepts, never answers): the edit
/// still completes, within about the configured timeout, and says the export failed.
#[test]
fn a_collector_that_is_down_or_hangs_is_a_warning_and_the_edit_completes() {
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}")
    };
    let hanging = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hang_port = hanging.local_addr().expect("addr").port();
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    let h = held.clone();
    std::thread::spawn(move || {
        for c in hanging.incoming().flatten() {
            h.lock().expect("lock").push(c); // read nothing, answer nothing
        }
    });
    let mut seen = BTreeMap::new();
    for (what, endpoint) in [
        ("refused", refused),
        ("hanging", format!("http://127.0.0.1:{hang_port}")),
    ] {
        let fx = Fixture::new(&[("app.py", "def main():\n    return 1\n")]);
        let pol = policy(&fx, &endpoint, 800);
        let t0 = Instant::now();
        let out = edit(&fx, &pol, "5");
        let took = t0.elapsed();
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert!(
            std::fs::read_to_string(fx.root.join("app.py"))
                .expect("read")
                .contains("return 5"),
            "{what}: the edit was applied"
        );
        let err = stderr(&out);
        assert!(
            err.contains("OpenTelemetry collector") && err.contains(&endpoint),
            "{what}: a visible warning naming the collector: {err}"
        );
        assert!(err.contains("unaffected"), "{what}: {err}");
        // Never a hang: bounded by the export timeout, far below this generous ceiling.
        assert!(took < Duration::from_secs(20), "{what}: took {took:?}");
        // The local log has every record regardless.
        let v = jingu(&fx, &pol, &["audit", "verify"]);
        assert!(v.status.success(), "{what}: {}", stderr(&v));
        seen.insert(what, took);
    }
    assert_eq!(seen.len(), 2);
}

#[test]
fn a_malformed_otlp_section_is_refused_with_its_reason() {
    let fx = Fixture::new(&[("app.py", "def main():\n    return 1\n")]);
    let pol = fx.base.join("policy.toml");
    for (bad, says) in [
        ("[audit.otlp]\nendpoint = \"collector:4318\"\n", "http://"),
        (
            "[audit.otlp]\nendpoint = \"http://c:4318\"\ntimeout_ms = 600000\n",
            "timeout_ms",
        ),
        (
            "[audit.otlp]\nendpoint = \"http://c:4318\"\nheaders = { \"bad header\" = \"x\" }\n",
            "header name",
        ),
        ("[audit.otlp]\nendpont = \"http://c:4318\"\n", "endpoint"),
    ] {
        std::fs::write(&pol, bad).expect("policy");
        let out = edit(&fx, &pol, "9");
        assert!(!out.status.success(), "{bad}");
        assert!(stderr(&out).contains(says), "{bad}: {}", stderr(&out));
        assert!(
            std::fs::read_to_string(fx.root.join("app.py"))
                .expect("read")
                .contains("return 1"),
            "nothing ran under a malformed policy"
        );
    }
}
