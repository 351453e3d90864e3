//! Test fixture: a workspace, Jingu's state and config beside it, and the scripted model server
//! (`model_server.py`, a real HTTP server on 127.0.0.1) replaying a conversation.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    /// The workspace (canonical).
    pub root: PathBuf,
    pub state: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    server: Option<Child>,
}

impl Fixture {
    /// A workspace holding `files`, with no model server yet.
    pub(crate) fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().canonicalize().expect("canon");
        let root = base.join("ws");
        std::fs::create_dir_all(&root).expect("mkdir");
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        // `JINGU_CONFIG` must name an existing file; `serve` writes the real one.
        std::fs::write(base.join("config.toml"), "").expect("empty config");
        Self {
            state: base.join("state"),
            config: base.join("config.toml"),
            log: base.join("requests.jsonl"),
            root,
            base,
            _dir: dir,
            server: None,
        }
    }

    /// Start the scripted server with `turns` (model_server.py's script format) and write a user
    /// config routing to it; `extra_config` is appended (e.g. a `[policy]` section).
    pub(crate) fn serve(&mut self, turns: &Value, extra_config: &str) {
        let script = self.base.join("script.json");
        std::fs::write(&script, serde_json::to_vec(turns).expect("json")).expect("write script");
        let port_file = self.base.join("port");
        let _ = std::fs::remove_file(&port_file);
        // Serving again replaces the previous server.
        if let Some(mut old) = self.server.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let server = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/model_server.py"))
            .arg(&script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&self.log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start model_server.py");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p;
            }
            assert!(Instant::now() < deadline, "model server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        let config = format!(
            "[providers.scripted]\nkind = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\n\
             model = \"scripted-model\"\ndata_use = \"inference-only\"\nmax_attempts = 1\nread_timeout_ms = 20000\n\n\
             [routing]\ndefault = \"scripted\"\n\n{extra_config}\n"
        );
        std::fs::write(&self.config, config).expect("write config");
    }

    /// Environment for a `jingu` process: this fixture's state and config (the enterprise policy
    /// is always `/etc/jingu/policy.toml`; tests that need one bind it in a mount namespace).
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        vec![
            ("JINGU_STATE_DIR".into(), self.state.display().to_string()),
            ("JINGU_CONFIG".into(), self.config.display().to_string()),
            ("JINGU_LOG".into(), "warn".into()),
            ("RUST_LOG".into(), "warn".into()),
        ]
    }

    pub(crate) fn jingu(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jingu"));
        cmd.args(args).current_dir(&self.root).stdin(Stdio::null());
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().expect("run jingu")
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every request the model server received, in order.
    pub(crate) fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line is JSON"))
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

pub(crate) fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
