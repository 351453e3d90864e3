//! A minimal LSP client for end-to-end tests: starts the real `jingu lsp` binary and speaks
//! JSON-RPC over its stdin/stdout with Content-Length framing.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct LspClient {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications and server requests seen while waiting for responses.
    pub notifications: Vec<Value>,
    /// Answers to server→client requests, by method (default: `null`).
    pub server_request_answers: Vec<(String, Value)>,
    /// The editor's side of `workspace/applyEdit`, when a test plays it: given the request's
    /// params, the answer and the notifications to send right after it (e.g. the `didChange` the
    /// edit caused). Overrides `server_request_answers` for that method.
    pub apply_edit_hook: Option<ApplyEditHook>,
    /// When set, `workspace/applyEdit` requests are not answered: their ids wait in `deferred`
    /// for the test to answer (an editor whose user takes their time).
    pub defer_apply_edit: bool,
    pub deferred: Vec<Value>,
}

pub(crate) type ApplyEditHook = Box<dyn FnMut(&Value) -> (Value, Vec<Value>) + Send>;

impl LspClient {
    /// Send a request without waiting; returns its id (see [`LspClient::wait_response`]).
    pub(crate) fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    pub(crate) fn start(workspace: &Path, envs: &[(&str, &str)]) -> Self {
        // An empty user config: `JINGU_CONFIG` must name an existing file.
        let user_config = workspace.join("..").join("no-user-config.toml");
        if !user_config.exists() {
            std::fs::write(&user_config, "").expect("empty user config");
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jingu"));
        cmd.arg("lsp")
            .current_dir(workspace)
            .env("JINGU_STATE_DIR", workspace.join("..").join("state"))
            .env_remove("JINGU_POLICY")
            .env("JINGU_CONFIG", &user_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn jingu lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            incoming: rx,
            next_id: 1,
            notifications: Vec::new(),
            server_request_answers: Vec::new(),
            apply_edit_hook: None,
            defer_apply_edit: false,
            deferred: Vec::new(),
        }
    }

    pub(crate) fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to server");
        self.stdin.flush().expect("flush");
    }

    pub(crate) fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("serialize");
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        self.send_raw(header.as_bytes());
        self.send_raw(&body);
    }

    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its response (`Ok(result)` or `Err(error)`), answering server
    /// requests and collecting notifications meanwhile.
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_response(id)
    }

    pub(crate) fn wait_response(&mut self, id: i64) -> Result<Value, Value> {
        if let Some(pos) = self
            .notifications
            .iter()
            .position(|m| m.get("method").is_none() && m.get("id") == Some(&json!(id)))
        {
            let msg = self.notifications.remove(pos);
            return match msg.get("error") {
                Some(err) => Err(err.clone()),
                None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
            };
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.recv(deadline);
            if msg.get("method").is_some() {
                self.handle_incoming(msg);
                continue;
            }
            if msg.get("id") == Some(&Value::Null) {
                self.notifications.push(msg); // e.g. a parse error, which has no request id
                continue;
            }
            if msg.get("id") == Some(&json!(id)) {
                if let Some(err) = msg.get("error") {
                    return Err(err.clone());
                }
                return Ok(msg.get("result").cloned().unwrap_or(Value::Null));
            }
            // Another request's answer (requests in flight at once): kept for its own wait.
            self.notifications.push(msg);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no message from the server within {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its stdout"),
        }
    }

    fn handle_incoming(&mut self, msg: Value) {
        if let Some(id) = msg.get("id").cloned() {
            let method = msg["method"].as_str().unwrap_or_default().to_string();
            if method == "workspace/applyEdit" && self.defer_apply_edit {
                self.deferred.push(id);
                self.notifications.push(msg);
                return;
            }
            if method == "workspace/applyEdit"
                && let Some(mut hook) = self.apply_edit_hook.take()
            {
                let (answer, after) = hook(&msg["params"]);
                self.apply_edit_hook = Some(hook);
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": answer}));
                for m in after {
                    self.send(&m);
                }
                self.notifications.push(msg);
                return;
            }
            let answer = self
                .server_request_answers
                .iter()
                .find(|(m, _)| *m == method)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": answer}));
        }
        self.notifications.push(msg);
    }

    /// Handle whatever arrives within `wait` (answering server requests), then return.
    pub(crate) fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Ok(msg) = self
            .incoming
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if msg.get("method").is_some() {
                self.handle_incoming(msg);
            } else {
                self.notifications.push(msg);
            }
        }
    }

    /// Wait until a notification with `method` arrives (or panic after the timeout).
    pub(crate) fn wait_notification(&mut self, method: &str) -> Value {
        if let Some(pos) = self
            .notifications
            .iter()
            .position(|n| n["method"] == method)
        {
            return self.notifications.remove(pos);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.recv(deadline);
            if msg.get("method").and_then(Value::as_str) == Some(method) && msg.get("id").is_none()
            {
                return msg;
            }
            if msg.get("method").is_some() {
                self.handle_incoming(msg);
            }
        }
    }

    pub(crate) fn initialize(&mut self, root: &Path, position_encodings: &[&str]) -> Value {
        self.initialize_with(root, position_encodings, json!({}))
    }

    /// [`Self::initialize`] with `workspace` client capabilities added to `applyEdit`.
    pub(crate) fn initialize_with(
        &mut self,
        root: &Path,
        position_encodings: &[&str],
        workspace: Value,
    ) -> Value {
        self.initialize_full(root, position_encodings, workspace, Value::Null)
    }

    /// [`Self::initialize_with`] plus `experimental` client capabilities (`Null`: none).
    pub(crate) fn initialize_full(
        &mut self,
        root: &Path,
        position_encodings: &[&str],
        workspace: Value,
        experimental: Value,
    ) -> Value {
        let uri = file_uri(root);
        let mut ws = json!({"applyEdit": true});
        if let (Some(ws), Some(extra)) = (ws.as_object_mut(), workspace.as_object()) {
            ws.extend(extra.clone());
        }
        let mut capabilities = json!({
            "general": {"positionEncodings": position_encodings},
            "window": {"workDoneProgress": true},
            "workspace": ws
        });
        if !experimental.is_null() {
            capabilities["experimental"] = experimental;
        }
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri,
                    "workspaceFolders": [{"uri": uri, "name": "ws"}],
                    "capabilities": capabilities
                }),
            )
            .expect("initialize succeeds");
        self.notify("initialized", json!({}));
        result
    }

    /// `shutdown` + `exit`; returns the exit status code.
    pub(crate) fn shutdown(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null)
            .expect("shutdown succeeds");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
