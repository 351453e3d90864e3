//! End-to-end: the audit sink against a real PostgreSQL server started on 127.0.0.1, driven
//! through the real `jingu` binary: records reach the sink before their action, a required sink
//! that is down refuses the action, an optional one spools and flushes in order, every tamper
//! kind is caught by `jingu audit verify --sink`, and the server itself refuses changes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/postgres.rs"]
mod postgres;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use postgres::{OWNER_PASSWORD, Postgres};
use serde_json::Value;

const WRITER_PASSWORD: &str = "writer-secret-2";

struct Ws {
    _dir: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
    policy: PathBuf,
    config: PathBuf,
    key: PathBuf,
}

fn out_text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

impl Ws {
    /// A workspace whose enterprise policy sends the audit log to `url`.
    fn new(url: &str, required: bool) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        // PostgreSQL's own user reads workspace files in one test (to prove ordering).
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let base = dir.path().canonicalize().expect("canon");
        let root = base.join("ws");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("app.py"), "def main():\n    return 1\n").expect("write");
        std::fs::set_permissions(root.join("app.py"), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let key = base.join("audit-checkpoint.key");
        std::fs::write(&key, format!("ed25519-secret:{}\n", "5a".repeat(32))).expect("key");
        let ws = Self {
            state: base.join("state"),
            policy: base.join("policy.toml"),
            config: base.join("config.toml"),
            key,
            root,
            _dir: dir,
        };
        ws.set_sink(url, required);
        std::fs::write(&ws.config, "").expect("config");
        ws
    }

    fn set_sink(&self, url: &str, required: bool) {
        std::fs::write(
            &self.policy,
            format!(
                "[policy]\ntools = {{ edit = \"allow\" }}\n\n[audit]\ncheckpoint_key_file = \"{}\"\ncheckpoint_every = 8\n\n\
                 [audit.sink]\nkind = \"postgres\"\nurl = \"{url}\"\npassword_env = \"JINGU_TEST_SINK_PASSWORD\"\n\
                 required = {required}\norganisation = \"acme\"\n",
                self.key.display()
            ),
        )
        .expect("policy");
    }

    fn jingu(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jingu"))
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .env("JINGU_STATE_DIR", &self.state)
            .env("JINGU_CONFIG", &self.config)
            .env("JINGU_POLICY", &self.policy)
            // The extra policy layer is unsigned: no key may be named for it.
            .env_remove("JINGU_POLICY_PUBKEY")
            .env("JINGU_TEST_SINK_PASSWORD", WRITER_PASSWORD)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run jingu")
    }

    /// Replace line 2 of app.py through `jingu edit`.
    fn edit(&self, text: &str) -> Output {
        let f = self.root.join("../new.txt");
        std::fs::write(&f, format!("    return {text}\n")).expect("write");
        self.jingu(&[
            "edit",
            "app.py",
            "--lines",
            "2-2",
            "--replace",
            "--text-file",
            f.to_str().expect("utf-8"),
        ])
    }

    fn log_dir(&self) -> PathBuf {
        let ws = std::fs::read_dir(self.state.join("workspaces"))
            .expect("state")
            .flatten()
            .next()
            .expect("one workspace");
        ws.path()
    }

    fn log(&self) -> PathBuf {
        self.log_dir().join("audit.jsonl")
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A server with the schema applied through `jingu audit sink init` and a writer password.
fn server(durable: bool) -> Postgres {
    let pg = Postgres::start(durable);
    // No extra policy layer, and an empty user config (a named config must exist).
    let config = pg.socket_dir().join("empty-config.toml");
    std::fs::write(&config, "").expect("empty config");
    let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["audit", "sink", "init", "--url", &pg.url("postgres")])
        .env("PGPASSWORD", OWNER_PASSWORD)
        .env_remove("JINGU_POLICY")
        .env_remove("JINGU_POLICY_PUBKEY")
        .env("JINGU_CONFIG", &config)
        .current_dir(pg.socket_dir())
        .output()
        .expect("run jingu");
    assert!(out.status.success(), "sink init: {}", out_text(&out));
    pg.psql(
        "audit",
        &format!("ALTER ROLE jingu_writer PASSWORD '{WRITER_PASSWORD}'"),
    );
    pg
}

/// `(seq, kind, hash)` of every sink row of the only chain, in seq order.
fn sink_rows(pg: &Postgres) -> Vec<(i64, String, String)> {
    pg.psql(
        "audit",
        "SELECT seq, kind, hash FROM jingu_audit ORDER BY chain_id, seq",
    )
    .lines()
    .filter(|l| !l.is_empty())
    .map(|l| {
        let f: Vec<&str> = l.split('|').collect();
        (
            f[0].parse().expect("seq"),
            f[1].to_string(),
            f[2].to_string(),
        )
    })
    .collect()
}

fn local_rows(ws: &Ws) -> Vec<(i64, String, String)> {
    ws.lines()
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json");
            (
                v["seq"].as_i64().expect("seq"),
                v["kind"].as_str().expect("kind").to_string(),
                v["hash"].as_str().expect("hash").to_string(),
            )
        })
        .collect()
}

#[test]
fn schema_prints_without_a_workspace() {
    let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["audit", "sink", "init", "--print-sql"])
        .current_dir("/")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", out_text(&out));
    let sql = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "CREATE TABLE IF NOT EXISTS jingu_audit",
        "BEFORE UPDATE OR DELETE",
        "BEFORE TRUNCATE",
        "GRANT INSERT ON jingu_audit TO jingu_writer",
        "jingu_audit_by_org",
        "jingu_audit_by_subject",
        "jingu_audit_by_workspace",
        "jingu_audit_by_run",
        "jingu_audit_by_time",
    ] {
        assert!(sql.contains(needle), "missing {needle}");
    }
}

#[test]
fn records_reach_the_sink_before_the_edit_runs() {
    let pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    // A server-side witness: when the edit record arrives, note what the file holds right then.
    let file = ws.root.join("app.py");
    pg.psql(
        "audit",
        &format!(
            "CREATE TABLE seen (seq bigint, content text);
             CREATE FUNCTION note_file() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
             BEGIN INSERT INTO seen VALUES (NEW.seq, pg_read_file('{}')); RETURN NEW; END $$;
             CREATE TRIGGER note_file AFTER INSERT ON jingu_audit FOR EACH ROW
                 WHEN (NEW.kind = 'edit') EXECUTE FUNCTION note_file();",
            file.display()
        ),
    );
    let out = ws.edit("2");
    assert!(out.status.success(), "{}", out_text(&out));
    assert_eq!(ws.lines().len(), local_rows(&ws).len());
    let seen = pg.psql("audit", "SELECT content FROM seen");
    assert_eq!(
        seen.trim_end(),
        "def main():\n    return 1",
        "the sink had the edit record while the file was still untouched"
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "def main():\n    return 2\n"
    );
    // Every local record, in chain order, with its hash; the run's end is sealed.
    let local = local_rows(&ws);
    assert_eq!(sink_rows(&pg), local);
    let kinds: Vec<&str> = local.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "run_start",
            "policy_decision",
            "edit",
            "run_end",
            "checkpoint"
        ]
    );
    let meta = pg.psql(
        "audit",
        "SELECT DISTINCT organisation, subject, workspace FROM jingu_audit",
    );
    assert!(meta.starts_with("acme|"), "{meta}");
    assert!(
        meta.trim_end()
            .ends_with(&format!("|{}", ws.root.display())),
        "{meta}"
    );
    let v = ws.jingu(&["audit", "verify", "--sink"]);
    assert!(v.status.success(), "{}", out_text(&v));
    assert!(
        String::from_utf8_lossy(&v.stdout)
            .contains("every configured sink holds exactly this chain")
    );
}

#[test]
fn a_required_sink_that_is_down_refuses_the_action() {
    let mut pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    assert!(ws.edit("2").status.success());
    pg.stop_server();
    let out = ws.edit("3");
    assert_eq!(out.status.code(), Some(1), "{}", out_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unreachable") && err.contains("required"),
        "{err}"
    );
    assert!(err.contains("not run"), "{err}");
    assert_eq!(
        std::fs::read_to_string(ws.root.join("app.py")).expect("read"),
        "def main():\n    return 2\n",
        "no sink record, no edit"
    );
    // The refused attempt stays in the local log and reaches the sink, in order, once it is back.
    pg.start_server();
    let out = ws.edit("4");
    assert!(out.status.success(), "{}", out_text(&out));
    assert_eq!(sink_rows(&pg), local_rows(&ws));
    let v = ws.jingu(&["audit", "verify", "--sink"]);
    assert!(v.status.success(), "{}", out_text(&v));
}

#[test]
fn a_wrong_password_is_a_clear_refusal() {
    let pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["edit", "app.py", "--lines", "2-2", "--delete"])
        .current_dir(&ws.root)
        .env("JINGU_STATE_DIR", &ws.state)
        .env("JINGU_CONFIG", &ws.config)
        .env("JINGU_POLICY", &ws.policy)
        .env("JINGU_TEST_SINK_PASSWORD", "wrong")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", out_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(ws.root.join("app.py").exists());
    assert_eq!(
        std::fs::read_to_string(ws.root.join("app.py")).expect("read"),
        "def main():\n    return 1\n"
    );
}

#[test]
fn an_optional_sink_spools_and_flushes_in_order() {
    let mut pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), false);
    assert!(ws.edit("2").status.success());
    let before = sink_rows(&pg).len();
    pg.stop_server();
    for n in ["3", "4"] {
        let out = ws.edit(n);
        assert!(out.status.success(), "{}", out_text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("spooled") && err.contains("jingu audit flush"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(ws.root.join("app.py")).expect("read"),
        "def main():\n    return 4\n"
    );
    pg.start_server();
    assert_eq!(
        sink_rows(&pg).len(),
        before,
        "nothing arrived while it was down"
    );
    // Not yet flushed: the cross-check says so and fails.
    let v = ws.jingu(&["audit", "verify", "--sink"]);
    assert_eq!(v.status.code(), Some(1), "{}", out_text(&v));
    assert!(
        String::from_utf8_lossy(&v.stderr).contains("not in the sink"),
        "{}",
        out_text(&v)
    );
    let f = ws.jingu(&["audit", "flush", "--json"]);
    assert!(f.status.success(), "{}", out_text(&f));
    let sent: Value = serde_json::from_slice(&f.stdout).expect("json");
    assert_eq!(
        sent[0]["sent"].as_u64(),
        Some((local_rows(&ws).len() - before) as u64)
    );
    assert_eq!(sink_rows(&pg), local_rows(&ws), "flushed in chain order");
    let v = ws.jingu(&["audit", "verify", "--sink"]);
    assert!(v.status.success(), "{}", out_text(&v));
    // A second flush has nothing to send.
    let f = ws.jingu(&["audit", "flush", "--json"]);
    let sent: Value = serde_json::from_slice(&f.stdout).expect("json");
    assert_eq!(sent[0]["sent"].as_u64(), Some(0));
}

/// Write `lines`, keeping the first `from` verbatim and recomputing every sequence number, link,
/// hash and the head from there on: what a writer who knows the format (but not the key) can do.
fn rechain(dir: &Path, lines: &[String], from: usize) {
    use sha2::{Digest, Sha256};
    let h = |b: &[u8]| hex::encode(Sha256::digest(b));
    let mut prev = "0".repeat(64);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let line = if i < from {
            line.clone()
        } else {
            let v: Value = serde_json::from_str(line).expect("json");
            let old_prev = v["prev"].as_str().expect("prev").to_string();
            let old_seq = v["seq"].as_u64().expect("seq");
            let mut body = format!("{}}}", &line[..line.len() - 75]);
            if let Some(old) = v["head_hash"].as_str() {
                // A forger restates a checkpoint's head; its signature cannot follow.
                body = body.replacen(
                    &format!("\"head_hash\":\"{old}\""),
                    &format!("\"head_hash\":\"{prev}\""),
                    1,
                );
            }
            let body = body
                .replacen(
                    &format!("{{\"seq\":{old_seq},"),
                    &format!("{{\"seq\":{},", i + 1),
                    1,
                )
                .replacen(
                    &format!("\"prev\":\"{old_prev}\""),
                    &format!("\"prev\":\"{prev}\""),
                    1,
                );
            let hash = h(body.as_bytes());
            format!("{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1])
        };
        prev = h(line.as_bytes());
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(dir.join("audit.jsonl"), out).expect("write");
    std::fs::write(
        dir.join("audit.head"),
        serde_json::json!({"seq": lines.len(), "line_hash": prev}).to_string(),
    )
    .expect("head");
}

fn write_raw(dir: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    std::fs::write(dir.join("audit.jsonl"), s).expect("write");
}

#[test]
fn every_tamper_kind_is_detected_with_the_sink() {
    let pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    for n in ["2", "3", "4"] {
        let out = ws.edit(n);
        assert!(out.status.success(), "{}", out_text(&out));
    }
    let dir = ws.log_dir();
    let original = ws.lines();
    let head = std::fs::read(dir.join("audit.head")).expect("head");
    assert!(original.len() >= 12, "{}", original.len());
    let decision = original
        .iter()
        .position(|l| l.contains("\"kind\":\"policy_decision\""))
        .expect("a decision");
    let edit_at = original
        .iter()
        .rposition(|l| l.contains("\"kind\":\"edit\""))
        .expect("an edit");

    type Tamper = Box<dyn Fn(&Path, &[String])>;
    let kinds: Vec<(&str, Tamper, &str)> = vec![
        (
            "1 field edited in place",
            Box::new(|d, l| {
                let mut l = l.to_vec();
                l[1] = l[1].replace("\"decision\":\"allow\"", "\"decision\":\"deny\"");
                write_raw(d, &l);
            }),
            "record 2",
        ),
        (
            "2 middle record deleted",
            Box::new(|d, l| {
                let mut l = l.to_vec();
                l.remove(3);
                write_raw(d, &l);
            }),
            "record 4",
        ),
        (
            "3 two records swapped",
            Box::new(|d, l| {
                let mut l = l.to_vec();
                l.swap(1, 2);
                write_raw(d, &l);
            }),
            "record 2",
        ),
        (
            "4 forged record inserted",
            Box::new(|d, l| {
                let mut l = l.to_vec();
                l.insert(2, l[1].clone());
                write_raw(d, &l);
            }),
            "record 3",
        ),
        (
            "5 cut mid-line",
            Box::new(|d, l| {
                let mut s = l.join("\n");
                s.truncate(s.len() - 20);
                std::fs::write(d.join("audit.jsonl"), s).expect("write");
            }),
            "incomplete",
        ),
        (
            "6 tail truncated, head rewritten",
            Box::new(|d, l| {
                rechain(d, &l[..l.len() - 4], l.len());
            }),
            "truncated_tail",
        ),
        (
            "7 forged records appended with a valid chain",
            Box::new(|d, l| {
                let mut l = l.to_vec();
                let extra = l[l.len() - 3].replace("\"path\":\"app.py\"", "\"path\":\"forged.py\"");
                l.push(extra);
                rechain(d, &l, l.len() - 1);
            }),
            "extra",
        ),
        (
            "8 decision edited, whole chain recomputed",
            Box::new(move |d, l| {
                let mut l = l.to_vec();
                l[decision] = l[decision].replace("\"decision\":\"allow\"", "\"decision\":\"ask\"");
                rechain(d, &l, decision);
            }),
            "altered",
        ),
        (
            "9 log and head deleted",
            Box::new(|d, _| {
                std::fs::remove_file(d.join("audit.jsonl")).expect("rm");
                std::fs::remove_file(d.join("audit.head")).expect("rm");
            }),
            "truncated_tail",
        ),
        (
            "10 last edit rewritten, hashes recomputed",
            Box::new(move |d, l| {
                let mut l = l.to_vec();
                l[edit_at] = l[edit_at].replace("\"path\":\"app.py\"", "\"path\":\"other.py\"");
                rechain(d, &l, edit_at);
            }),
            "altered",
        ),
    ];
    assert_eq!(kinds.len(), 10);
    let mut local_only_missed = Vec::new();
    for (name, tamper, expect) in &kinds {
        write_raw(&dir, &original);
        std::fs::write(dir.join("audit.head"), &head).expect("head");
        assert!(
            ws.jingu(&["audit", "verify", "--sink"]).status.success(),
            "{name}: baseline"
        );
        tamper(&dir, &original);
        if ws.jingu(&["audit", "verify"]).status.success() {
            local_only_missed.push(*name);
        }
        let v = ws.jingu(&["audit", "verify", "--sink", "--json"]);
        assert_eq!(
            v.status.code(),
            Some(1),
            "{name} undetected: {}",
            out_text(&v)
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        assert!(
            text.contains(expect),
            "{name}: expected `{expect}` in {text}"
        );
    }
    // Without the sink, the local chain (with signed checkpoints) misses only what no local
    // evidence can show: a cut tail, records appended after the last checkpoint, a deleted log.
    println!("undetected without the sink: {local_only_missed:?}");
    for name in &local_only_missed {
        assert!(
            ["6 ", "7 ", "9 "].iter().any(|p| name.starts_with(p)),
            "{name} should be caught locally (checkpoint signatures)"
        );
    }
}

#[test]
fn the_server_refuses_changes_and_out_of_chain_rows() {
    let pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    assert!(ws.edit("2").status.success());
    let n = sink_rows(&pg).len();
    for sql in [
        "UPDATE jingu_audit SET subject = 'mallory' WHERE seq = 1",
        "DELETE FROM jingu_audit WHERE seq = 1",
        "TRUNCATE jingu_audit",
        "SELECT count(*) FROM jingu_audit",
    ] {
        let out = pg.psql_as("jingu_writer", Some(WRITER_PASSWORD), "audit", sql);
        assert!(!out.status.success(), "writer may not: {sql}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // Even the table owner (superuser) is stopped by the triggers.
    for (sql, needle) in [
        (
            "UPDATE jingu_audit SET subject = 'mallory' WHERE seq = 1",
            "append-only: UPDATE",
        ),
        (
            "DELETE FROM jingu_audit WHERE seq = 1",
            "append-only: DELETE",
        ),
        ("TRUNCATE jingu_audit", "append-only: TRUNCATE"),
    ] {
        let out = pg.psql_as("postgres", None, "audit", sql);
        assert!(!out.status.success(), "owner: {sql}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{sql}"
        );
    }
    // A writer inserting a row that does not extend the chain is refused.
    let chain = pg.psql("audit", "SELECT DISTINCT chain_id FROM jingu_audit");
    let forged = format!(
        "INSERT INTO jingu_audit (chain_id, seq, time, organisation, subject, verified, workspace, host, run_id, kind, prev, hash, line) \
         VALUES ('{}', {}, now(), 'acme', 'mallory', true, 'w', 'h', 'r', 'edit', 'bad', 'bad', '{{}}')",
        chain.trim(),
        n + 1
    );
    let out = pg.psql_as("jingu_writer", Some(WRITER_PASSWORD), "audit", &forged);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not link"),
        "{}",
        out_text(&out)
    );
    assert_eq!(sink_rows(&pg).len(), n);
}

#[test]
fn a_long_lived_writer_catches_up_after_another_process_appended() {
    use jingu_audit::{AuditContext, AuditLog, AuditOptions, RecordKind, SinkConfig};
    let pg = server(false);
    let ws = Ws::new(&pg.url("jingu_writer"), true);
    assert!(ws.edit("2").status.success());
    let pw = ws.root.join("../writer.pw");
    std::fs::write(&pw, WRITER_PASSWORD).expect("pw");
    let opts = AuditOptions {
        sinks: vec![SinkConfig {
            kind: "postgres".into(),
            url: pg.url("jingu_writer"),
            password_env: None,
            password_file: Some(pw),
            required: true,
            organisation: "acme".into(),
            ca_file: None,
        }],
        otlp: Vec::new(),
        checkpoint_key_file: Some(ws.key.clone()),
        checkpoint_every: 8,
        workspace: ws.root.display().to_string(),
    };
    // Like an editor's server: one process, its view of the sink cached between appends.
    let log = AuditLog::open_with(
        &ws.log_dir(),
        AuditContext {
            run_id: "lsp-run".into(),
            subject: "alice".into(),
            verified: false,
            policy_hash: "00".repeat(32),
        },
        &opts,
    )
    .expect("open");
    let read = |i: u64| RecordKind::ToolCall {
        tool: "read".into(),
        args: serde_json::json!({ "i": i }),
    };
    log.append(read(1)).expect("append");
    // Another process extends the same chain meanwhile.
    assert!(ws.edit("3").status.success());
    log.append(read(2))
        .expect("append after the chain moved on");
    assert_eq!(sink_rows(&pg), local_rows(&ws));
    let v = ws.jingu(&["audit", "verify", "--sink"]);
    assert!(v.status.success(), "{}", out_text(&v));
}
