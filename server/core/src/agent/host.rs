//! The [`RunHost`] every front end uses: tools execute through the session (confinement, policy,
//! audit, snapshots), requests are redacted and audited before they leave, commands run sandboxed
//! and their side effects are snapshotted into the run.

use std::collections::HashMap;
use std::sync::Mutex;

use super::flows;
use super::provenance::{Label, Provenance};
use super::read;
use super::run::{AppliedEdit, FailedEdit, RunHost, RunInfo, ToolOutcome};
use super::tools::ToolRequest;
use crate::guard::{Guard, Verdict};
use crate::ops::{Approval, EditOutcome, Frontend, OpsError, Run, ScanOwner, SeenText, Session};
use jingu_audit::RecordKind;
use jingu_policy::redact::Redactor;
use jingu_policy::{SandboxMode, Tool};
use jingu_providers::{ChatRequest, Message, Usage};
use jingu_realdoc::EditRequest;
use jingu_sandbox::{self as sandbox, Mode, SandboxConfig};

/// Most command output returned to the model (the sandbox caps what it keeps, too).
const MAX_COMMAND_OUTPUT_TO_MODEL: usize = 16 * 1024;

pub struct SessionHost<'a, F: Frontend> {
    pub session: &'a Session,
    pub fe: &'a F,
    pub run: &'a Run,
    /// `provider/model` label for audit records.
    pub model_label: String,
    /// One redactor per run: the same secret always gets the same placeholder.
    redactor: Mutex<Redactor>,
    /// What the model has seen of each file (workspace-relative), so its edits are checked against
    /// that text: an edit whose target changed since is refused, never applied over newer text.
    seen: Mutex<HashMap<String, SeenText>>,
    /// The run's MCP servers and the tools offered from them.
    mcp: Option<&'a super::mcp::RunMcp>,
    /// Every piece of context the model was given, labelled (the data-flow check reads it).
    provenance: Mutex<Provenance>,
    /// What the run summary must tell the user: bulk changes, refused flows.
    flags: Mutex<Vec<String>>,
}

impl<'a, F: Frontend> SessionHost<'a, F> {
    pub fn new(session: &'a Session, fe: &'a F, run: &'a Run, model_label: String) -> Self {
        Self {
            session,
            fe,
            run,
            model_label,
            // Values Jingu knows are secret are redacted wherever they appear, whatever shape.
            redactor: Mutex::new(Redactor::with_known(&session.policy.known_secrets(
                &session.workspace.root,
                std::env::vars(),
                jingu_sandbox::is_secret_name,
            ))),
            seen: Mutex::new(HashMap::new()),
            mcp: None,
            provenance: Mutex::new(Provenance::new()),
            flags: Mutex::new(Vec::new()),
        }
    }

    /// Offer (and execute) the tools of these MCP servers too.
    pub fn with_mcp(mut self, mcp: Option<&'a super::mcp::RunMcp>) -> Self {
        self.mcp = mcp;
        self
    }

    /// `text` redacted as it would be for the provider (MCP output is redacted when it arrives,
    /// so what any front end shows or keeps is redacted too).
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut redactor = self.redactor.lock().unwrap_or_else(|p| p.into_inner());
        self.session.policy.outbound(&mut redactor, text).text
    }

    /// The run's labelled context. An MCP tool's result goes in with
    /// [`Provenance::add_mcp_output`] before it is returned to the model.
    pub fn provenance(&self) -> std::sync::MutexGuard<'_, Provenance> {
        self.provenance.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the user must be told with the run (drained).
    pub fn take_flags(&self) -> Vec<String> {
        std::mem::take(&mut *self.flags.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn flag(&self, message: String) {
        self.fe.progress(&format!("warning: {message}"));
        self.flags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    /// A workspace file's text the model is given: untrusted unless policy trusts its path.
    pub(crate) fn label_file(&self, rel: &str, text: &str) {
        let label = if self.session.policy.flows.trusted_path(rel) {
            Label::TrustedFile { path: rel.into() }
        } else {
            Label::File { path: rel.into() }
        };
        self.provenance().add(label, text);
    }

    /// The data-flow gate, after the call is audited and before it runs: untrusted data into a
    /// sensitive sink, or a tool or path marked `ask-human`, needs a person; `Err` is the
    /// refusal the model is told.
    async fn flow_gate(&self, call: &ToolRequest) -> Result<(), String> {
        let policy = &self.session.policy;
        let rel = call.path().map(|raw| {
            self.session
                .workspace
                .confine(raw)
                .unwrap_or_else(|_| raw.to_string())
        });
        let current = match &rel {
            Some(r) if policy.flows.sink(r).is_some() => match self.fe.buffer_text(r).await {
                Some(t) => t,
                None => jingu_audit::off_runtime(|| self.session.read_confined(r))
                    .map(|(_, t)| t)
                    .unwrap_or_default(),
            },
            _ => String::new(),
        };
        let finding = {
            let prov = self.provenance();
            flows::check(policy, &prov, call, rel.as_deref(), &current)
        };
        let tool = match call {
            ToolRequest::RunCommand { .. } => Tool::RunCommand,
            ToolRequest::Edit { .. } | ToolRequest::EditMany { .. } | ToolRequest::File(_) => {
                Tool::Edit
            }
            ToolRequest::Mcp { .. } => Tool::Mcp,
            _ => Tool::Read,
        };
        // A tool the policy denies outright is refused by its own check, with its own reason.
        if policy.tool_decision(tool).value == jingu_policy::ToolDecision::Deny {
            return Ok(());
        }
        let (why, deny) = match (&finding, policy.needs_human(tool, rel.as_deref())) {
            (Some(f), _) => (
                f.describe(),
                policy.flows.untrusted_to_sink.value == jingu_policy::flows::FlowDecision::Deny,
            ),
            (None, Some(reason)) => (reason, false),
            (None, None) => return Ok(()),
        };
        let record = |decision: &str, reason: &str| {
            self.run.audit.append(RecordKind::PolicyDecision {
                tool: call.name().to_string(),
                path: rel.clone(),
                decision: decision.to_string(),
                reason: Some(reason.to_string()),
            })
        };
        if deny {
            let reason = format!("{why}; untrusted_to_sink = \"deny\"");
            record("deny", &reason).map_err(|e| format!("cannot audit the refusal: {e}"))?;
            self.flag(format!("refused {}: {reason}", call.name()));
            return Err(format!("refused: {reason}"));
        }
        let detail = match call {
            ToolRequest::RunCommand { argv } => format!("$ {}\n{why}", shell_words(argv)),
            other => format!(
                "{} {}\n{why}",
                other.name(),
                rel.as_deref().unwrap_or_default()
            ),
        };
        let approval = Approval {
            tool: call.name(),
            summary: format!("needs your approval (not --yes or auto): {why}"),
            detail,
            // A person must answer each time: never remembered.
            path: None,
        };
        if self.fe.approve_human(&approval).await {
            record("allow", &format!("approved by a person: {why}"))
                .map_err(|e| format!("cannot audit the approval: {e}"))?;
            return Ok(());
        }
        let reason = format!(
            "{why}; it needs a person's approval, which --yes and auto mode cannot give, and none was given"
        );
        record("deny", &reason).map_err(|e| format!("cannot audit the refusal: {e}"))?;
        self.flag(format!("refused {}: {reason}", call.name()));
        Err(format!("refused: {reason}"))
    }

    fn saw(&self, rel: &str, text: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(
            rel.to_string(),
            SeenText {
                read: text.to_string(),
                latest: text.to_string(),
            },
        );
    }

    /// Edit through the session with the model's view of the file; remember the result as the
    /// newest text it knows (its line numbers still come from its last read).
    async fn edit(&self, raw: &str, reqs: &[EditRequest]) -> Result<EditOutcome, OpsError> {
        let rel = self
            .session
            .workspace
            .confine(raw)
            .unwrap_or_else(|_| raw.to_string());
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&rel)
            .cloned();
        let outcome = self
            .session
            .edit_batch(self.fe, self.run, raw, reqs, seen.as_ref())
            .await?;
        let mut map = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(outcome.path.clone()).or_insert_with(|| SeenText {
            read: outcome.new_text.clone(),
            latest: String::new(),
        });
        entry.latest = outcome.new_text.clone();
        Ok(outcome)
    }

    fn guard(&self) -> Guard<'_> {
        Guard {
            workspace: &self.session.workspace,
            policy: &self.session.policy,
            audit: &self.run.audit,
        }
    }

    /// Text of a workspace file for reading tools: the editor's buffer when open, else the disk.
    async fn read_text(&self, raw: &str) -> Result<(String, String), String> {
        let (rel, _) = self
            .session
            .authorize(self.run, Tool::Read, raw)
            .map_err(|e| e.to_string())?;
        if let Some(text) = self.fe.buffer_text(&rel).await {
            return Ok((rel, text));
        }
        self.session.read_confined(&rel).map_err(|e| e.to_string())
    }

    /// A reading tool: the text of `raw` (buffer or disk), shown to the model through `f`.
    async fn read_with(
        &self,
        raw: &str,
        f: impl Fn(&str, &str) -> Result<String, read::ReadError>,
    ) -> ToolOutcome {
        match self.read_text(raw).await {
            Ok((rel, text)) => match f(&rel, &text) {
                Ok(s) => {
                    self.saw(&rel, &text);
                    self.label_file(&rel, &text);
                    ToolOutcome::ok(s)
                }
                Err(e) => ToolOutcome::error(e.to_string()),
            },
            Err(e) => ToolOutcome::error(e),
        }
    }

    async fn run_command(&self, argv: &[String]) -> ToolOutcome {
        let verdict = match self.guard().check(Tool::RunCommand, None) {
            Ok(v) => v,
            Err(refusal) => return ToolOutcome::error(refusal.to_string()),
        };
        let line = shell_words(argv);
        let ws = &self.session.workspace;
        let mode = match self.session.policy.sandbox.value {
            SandboxMode::Required => Mode::Required,
            SandboxMode::BestEffort => Mode::BestEffort,
            SandboxMode::Off => Mode::Off,
        };
        let mut cfg = SandboxConfig::for_workspace(mode, &ws.root, Some(&ws.state_dir));
        // deny_paths hold inside the sandbox too: the files are masked, not just unreadable by tools.
        let (denied, complete) = self.session.policy.denied_entries(&ws.root);
        cfg.hidden_paths.extend(denied);
        if !complete {
            return ToolOutcome::error(
                "command refused: the workspace is too large to find every deny_paths file to mask"
                    .to_string(),
            );
        }
        // Chosen before asking, so the prompt states the confinement the command really gets.
        let confinement = match sandbox::Confinement::choose(&cfg) {
            Ok(c) => c,
            Err(e) => return ToolOutcome::error(format!("command refused: {e}")),
        };
        for w in &confinement.warnings {
            self.fe.progress(&format!("warning: {w}"));
            if let Err(e) = self
                .run
                .audit
                .append(RecordKind::Warning { message: w.clone() })
            {
                return ToolOutcome::error(format!(
                    "cannot audit the sandbox downgrade, so the command does not run: {e}"
                ));
            }
        }
        if matches!(verdict, Verdict::Ask { .. }) {
            let approval = Approval {
                tool: "run_command",
                summary: line.clone(),
                detail: format!("$ {line}\n({})", confinement.describe()),
                path: None,
            };
            if !self.fe.approve(&approval).await {
                return ToolOutcome::error(format!("the user rejected running `{line}`"));
            }
        }
        // Record the workspace as it is now, so the scan after the command holds only its effects.
        if let Err(e) =
            self.session
                .scan(self.run, &format!("before `{line}`"), ScanOwner::Workspace)
        {
            return ToolOutcome::error(format!(
                "cannot snapshot the workspace before running the command: {e}"
            ));
        }
        if let Err(e) = self.run.audit.append(RecordKind::Command {
            argv: argv.to_vec(),
            cwd: ws.root.display().to_string(),
            sandbox: format!(
                "{:?}/{}",
                self.session.policy.sandbox.value,
                confinement.label()
            ),
        }) {
            return ToolOutcome::error(format!(
                "cannot audit the command, so it does not run: {e}"
            ));
        }
        let output = match sandbox::run_confined(&cfg, &confinement, argv, None).await {
            Ok(o) => o,
            Err(e) => return ToolOutcome::error(format!("command refused: {e}")),
        };
        for w in output.warnings.iter().skip(confinement.warnings.len()) {
            let _ = self
                .run
                .audit
                .append(RecordKind::Warning { message: w.clone() });
        }
        let side_effects = match self.session.scan(
            self.run,
            &format!("side effects of `{line}`"),
            ScanOwner::Run,
        ) {
            Ok(r) => {
                let changed = r.created.len() + r.modified.len() + r.deleted.len();
                let limit = self.session.policy.flows.bulk_change_threshold.value;
                if changed > limit {
                    // Bulk changes are flagged with the run and audited; the snapshot before the
                    // command (taken above) restores them.
                    let message = format!(
                        "`{line}` changed {changed} files ({} created, {} modified, {} deleted; more than bulk_change_threshold = {limit}); undo with `jingu rollback --run {}`",
                        r.created.len(),
                        r.modified.len(),
                        r.deleted.len(),
                        self.run.id
                    );
                    let _ = self.run.audit.append(RecordKind::Warning {
                        message: format!("bulk change: {message}"),
                    });
                    self.flag(format!("bulk change: {message}"));
                }
                match r.snapshot_id {
                    Some(id) => {
                        format!("\n[{changed} file(s) changed by the command, snapshot {id}]")
                    }
                    None => String::new(),
                }
            }
            Err(e) => format!("\n[warning: side effects not snapshotted: {e}]"),
        };
        let mut text = format!(
            "exit: {}\n",
            output
                .status
                .code()
                .map_or("signal".into(), |c| c.to_string())
        );
        if let Some(reason) = output.killed_reason {
            text.push_str(&format!("killed: {reason:?}\n"));
        }
        for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            let mut s = stream.text();
            if s.len() > MAX_COMMAND_OUTPUT_TO_MODEL {
                let cut = super::bounded(&s, MAX_COMMAND_OUTPUT_TO_MODEL).len();
                s.truncate(cut);
                s.push_str("\n…(truncated)");
            }
            if !s.is_empty() {
                text.push_str(&format!("{name}:\n{s}\n"));
            }
        }
        text.push_str(&side_effects);
        self.provenance()
            .add(Label::CommandOutput { command: line }, &text);
        ToolOutcome {
            content: text,
            is_error: !output.status.success(),
            edit: None,
            failed_edit: None,
        }
    }
}

impl<F: Frontend> RunHost for SessionHost<'_, F> {
    async fn prepare_request(&self, req: &mut ChatRequest, _run: &RunInfo) -> Result<(), String> {
        let policy = &self.session.policy;
        let mut count = 0u64;
        {
            let mut redactor = self.redactor.lock().unwrap_or_else(|p| p.into_inner());
            let mut clean = |text: &mut String| {
                let r = policy.outbound(&mut redactor, text);
                count += r.count as u64;
                *text = r.text;
            };
            if let Some(system) = req.system.as_mut() {
                clean(system);
            }
            for m in &mut req.messages {
                match m {
                    Message::User { content } | Message::Tool { content, .. } => clean(content),
                    Message::Assistant {
                        content,
                        tool_calls,
                    } => {
                        clean(content);
                        for c in tool_calls {
                            let mut args = c.arguments.to_json_text();
                            clean(&mut args);
                            c.arguments = jingu_providers::ToolArguments::parse(&args);
                        }
                    }
                }
            }
        }
        let bytes: usize = serde_json::to_string(&req)
            .map(|s| s.len())
            .unwrap_or_default();
        let (provider, model) = self
            .model_label
            .split_once('/')
            .unwrap_or((&self.model_label, ""));
        self.run
            .audit
            .append(RecordKind::ModelRequest {
                provider: provider.to_string(),
                model: model.to_string(),
                input_tokens: (bytes / 4) as u64,
                output_tokens: None,
                redactions: count,
            })
            .map(|_| ())
            .map_err(|e| format!("cannot audit the model request, so it is not sent: {e}"))
    }

    async fn execute(&self, call: &ToolRequest, _run: &RunInfo) -> ToolOutcome {
        // The run may outlive the token it started under: every tool call re-checks it.
        if let Err(e) = self.session.identity.check_current() {
            let _ = self.run.audit.append(RecordKind::Warning {
                message: format!("tool call refused: {e}"),
            });
            return ToolOutcome::error(format!("refused: {e}"));
        }
        let args = match call {
            ToolRequest::Edit { path, edit } => serde_json::json!({"path": path, "edit": edit}),
            ToolRequest::EditMany { path, edits } => {
                serde_json::json!({"path": path, "edits": edits})
            }
            ToolRequest::File(op) => serde_json::to_value(op).unwrap_or_default(),
            ToolRequest::RunCommand { argv } => serde_json::json!({"argv": argv}),
            ToolRequest::Mcp { name, arguments } => serde_json::json!({
                "name": name,
                "arguments": arguments,
                "fingerprint": self.mcp.and_then(|m| m.fingerprint(name)),
            }),
            other => serde_json::json!({"path": other.path()}),
        };
        // The call and where its arguments came from, in one write.
        self.run.audit.stage(RecordKind::ToolCall {
            tool: call.name().to_string(),
            args,
        });
        let sources = flows::arg_provenance(&self.provenance(), call);
        if let Err(e) = self.run.audit.append(RecordKind::ArgProvenance {
            tool: call.name().to_string(),
            args: sources,
        }) {
            return ToolOutcome::error(format!(
                "cannot audit the tool call, so it does not run: {e}"
            ));
        }
        if let Err(refusal) = self.flow_gate(call).await {
            let mut out = ToolOutcome::error(refusal.clone());
            if let Some(p) = call.path()
                && call.name() == super::tools::EDIT
            {
                out.failed_edit = Some(FailedEdit {
                    path: p.to_string(),
                    reason: refusal,
                });
            }
            return out;
        }
        match call {
            ToolRequest::ListSymbols { path } => self.read_with(path, read::outline).await,
            ToolRequest::ReadSymbol { path, name_path } => {
                self.read_with(path, |rel, text| read::symbol(rel, text, name_path))
                    .await
            }
            ToolRequest::ReadLines { path, start, end } => {
                self.read_with(path, |rel, text| read::lines(rel, text, *start, *end))
                    .await
            }
            ToolRequest::Search { pattern, glob } => {
                if let Err(refusal) = self.guard().check(Tool::Read, None) {
                    return ToolOutcome::error(refusal.to_string());
                }
                let re = match regex::Regex::new(pattern) {
                    Ok(r) => r,
                    Err(e) => return ToolOutcome::error(format!("invalid pattern: {e}")),
                };
                // A walk of the whole workspace: off the async runtime.
                let found = jingu_audit::off_runtime(|| {
                    read::search(
                        &self.session.workspace,
                        &self.session.policy,
                        &re,
                        glob.as_deref(),
                    )
                });
                match found {
                    Ok((s, hits)) => {
                        for (rel, text) in &hits {
                            self.saw(rel, text);
                            self.label_file(rel, text);
                        }
                        ToolOutcome::ok(s)
                    }
                    Err(e) => ToolOutcome::error(e.to_string()),
                }
            }
            ToolRequest::Edit { path, edit } => {
                edit_outcome(path, self.edit(path, std::slice::from_ref(edit)).await)
            }
            ToolRequest::EditMany { path, edits } => {
                edit_outcome(path, self.edit(path, edits).await)
            }
            ToolRequest::File(op) => match self.session.file_op(self.fe, self.run, op).await {
                Ok(o) => {
                    if let crate::ops::FileOp::Create { text, .. } = op
                        && let Some(rel) = o.paths.last()
                    {
                        self.saw(rel, text);
                    }
                    ToolOutcome {
                        content: format!("applied: {} (snapshot {})", o.summary, o.snapshot_id),
                        is_error: false,
                        edit: o.paths.last().map(|p| AppliedEdit {
                            path: p.clone(),
                            snapshot_id: o.snapshot_id.clone(),
                        }),
                        failed_edit: None,
                    }
                }
                Err(e) => failed_edit(op.path(), e),
            },
            ToolRequest::RunCommand { argv } => self.run_command(argv).await,
            ToolRequest::Mcp { name, arguments } => match self.mcp {
                Some(mcp) => {
                    let out = mcp.call(self, name, arguments).await;
                    // Whatever the server said (errors too) is untrusted data from then on.
                    let (server, tool) =
                        jingu_skills::mcp::split_tool_name(name).unwrap_or((name, name));
                    self.provenance().add_mcp_output(server, tool, &out.content);
                    out
                }
                None => {
                    // No server runs in this run, but the attempt is still decided and audited.
                    let why = match self.session.policy.tool_decision(Tool::Mcp).value {
                        jingu_policy::ToolDecision::Deny => None,
                        _ => Some(format!(
                            "unknown MCP tool `{name}`; no MCP tools are offered in this run"
                        )),
                    };
                    match self.guard().check_mcp(name, None, why) {
                        Ok(_) => ToolOutcome::error(format!("unknown MCP tool `{name}`")),
                        Err(refusal) => ToolOutcome::error(refusal.to_string()),
                    }
                }
            },
        }
    }

    fn record_usage(&self, usage: Usage, _run: &RunInfo) {
        let (provider, model) = self
            .model_label
            .split_once('/')
            .unwrap_or((&self.model_label, ""));
        if let Err(e) = self.run.audit.append(RecordKind::ModelUsage {
            provider: provider.to_string(),
            model: model.to_string(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
        }) {
            tracing::error!("cannot audit model usage: {e}");
        }
    }

    fn progress(&self, message: &str) {
        self.fe.progress(message);
    }

    fn reasoning(&self, delta: &str) {
        self.fe.reasoning(delta);
    }

    fn plan(&self, items: &[crate::ops::PlanItem]) {
        self.fe.plan(items);
    }
}

/// What the model is told about an edit; a refused or rejected one is counted in the run's outcome.
fn edit_outcome(path: &str, result: Result<EditOutcome, OpsError>) -> ToolOutcome {
    match result {
        // The new text is what was there: nothing changed, and the run must not say otherwise.
        Ok(o) if !diff_changes(&o.diff) => {
            let reason = format!(
                "{}: the new text is identical to the current one, so nothing changed",
                o.summary
            );
            ToolOutcome {
                failed_edit: Some(FailedEdit {
                    path: o.path,
                    reason: reason.clone(),
                }),
                ..ToolOutcome::error(format!("{reason}; write the changed code"))
            }
        }
        Ok(o) => ToolOutcome {
            content: format!(
                "applied: {} (snapshot {}, file now version {})\n{}",
                o.summary, o.snapshot_id, o.version, o.diff
            ),
            is_error: false,
            edit: Some(AppliedEdit {
                path: o.path,
                snapshot_id: o.snapshot_id,
            }),
            failed_edit: None,
        },
        Err(e) => failed_edit(path, e),
    }
}

/// Whether a unified diff adds or removes any line.
fn diff_changes(diff: &str) -> bool {
    diff.lines().any(|l| {
        (l.starts_with('+') && !l.starts_with("+++"))
            || (l.starts_with('-') && !l.starts_with("---"))
    })
}

fn failed_edit(path: &str, e: OpsError) -> ToolOutcome {
    let reason = e.to_string();
    let shown = match e {
        OpsError::Rejected { .. } => format!("{reason}; do not retry the same edit"),
        _ => reason.clone(),
    };
    ToolOutcome {
        failed_edit: Some(FailedEdit {
            path: path.to_string(),
            reason,
        }),
        ..ToolOutcome::error(shown)
    }
}

/// A command line for display: words with spaces or quotes are single-quoted.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
