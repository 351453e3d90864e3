//! The ACP client as an [`ops::Frontend`]: streamed model text becomes `agent_message_chunk`,
//! confirmations become `session/request_permission` on a `tool_call` card, every applied edit a
//! completed `tool_call` with `diff` content, and — when the client offers both `fs` methods —
//! files are read and written through the client so its unsaved buffers are respected.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agent_client_protocol::Client;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, Diff, PermissionOption, PermissionOptionKind, Plan, PlanEntry,
    PlanEntryPriority, PlanEntryStatus, ReadTextFileRequest, RequestPermissionOutcome,
    RequestPermissionRequest, SessionNotification, SessionUpdate, TextContent, ToolCall,
    ToolCallContent, ToolCallLocation, ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields,
    ToolKind, WriteTextFileRequest,
};

use super::mode::Mode;
use jingu_core::agent::conversation::TurnEdit;
use jingu_core::ops::{Approval, EditOutcome, Frontend, PlanItem, PlanStatus, Session};
use jingu_policy::rules::RuleDecision;
use jingu_policy::{Decision, Policy, Tool};
use jingu_providers::CancelToken;
use jingu_realdoc::Planned;

pub(crate) const ALLOW_ONCE: &str = "allow-once";
pub(crate) const REJECT_ONCE: &str = "reject-once";
/// Remembered as a user-layer `[[policy.rules]]` entry for the tool and file.
pub(crate) const ALLOW_ALWAYS: &str = "allow-always";
pub(crate) const REJECT_ALWAYS: &str = "reject-always";

/// What the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Once(bool),
    Always(bool),
}

/// How long a synchronous `fs/read_text_file` may take before the file is read from disk instead.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

pub(crate) struct AcpFrontend {
    cx: ConnectionTo<Client>,
    session_id: String,
    root: PathBuf,
    mode: Mode,
    /// The client offered both `fs/read_text_file` and `fs/write_text_file`.
    client_fs: bool,
    cancel: CancelToken,
    /// The approved edit card waiting for its outcome.
    pending_edit: Mutex<Option<String>>,
    /// Approved command cards, closed when the prompt ends (the host reports no command result).
    open_calls: Mutex<Vec<String>>,
    streamed: Mutex<String>,
    /// Standing answers given during this prompt (tool, path, allow) that the effective policy
    /// confirmed; later prompts get them from the reloaded policy.
    remembered: Mutex<Vec<(&'static str, String, bool)>>,
    /// The edits applied in this prompt, for the saved conversation (its reload shows the diffs).
    edits: Mutex<Vec<TurnEdit>>,
    /// The plan: the model's own checklist (its latest, from its text) and the run's steps.
    plan: Mutex<PlanParts>,
}

#[derive(Default)]
struct PlanParts {
    model: Vec<PlanEntry>,
    steps: Vec<PlanEntry>,
    /// Bytes of the streamed text already looked at for a checklist (complete lines only).
    scanned: usize,
}

impl AcpFrontend {
    pub(crate) fn new(
        cx: ConnectionTo<Client>,
        session_id: String,
        root: PathBuf,
        mode: Mode,
        client_fs: bool,
        cancel: CancelToken,
    ) -> Self {
        Self {
            cx,
            session_id,
            root,
            mode,
            client_fs,
            cancel,
            pending_edit: Mutex::new(None),
            open_calls: Mutex::new(Vec::new()),
            streamed: Mutex::new(String::new()),
            remembered: Mutex::new(Vec::new()),
            edits: Mutex::new(Vec::new()),
            plan: Mutex::new(PlanParts::default()),
        }
    }

    pub(crate) fn send(&self, update: SessionUpdate) {
        let note = SessionNotification::new(self.session_id.clone(), update);
        if let Err(e) = self.cx.send_notification(note) {
            tracing::warn!("cannot send session/update: {e:?}");
        }
    }

    pub(crate) fn message(&self, text: &str) {
        self.send(SessionUpdate::AgentMessageChunk(ContentChunk::new(
            ContentBlock::Text(TextContent::new(text)),
        )));
    }

    /// The edits applied so far, taken.
    pub(crate) fn take_edits(&self) -> Vec<TurnEdit> {
        std::mem::take(&mut *lock(&self.edits))
    }

    /// The model text streamed so far.
    pub(crate) fn streamed(&self) -> String {
        lock(&self.streamed).clone()
    }

    /// Look for the model's checklist in its complete lines streamed so far (all of it when
    /// `all`), and send the plan when that changed it.
    fn scan_checklist(&self, all: bool) {
        let text = self.streamed();
        let end = if all {
            text.len()
        } else {
            text.rfind('\n').map_or(0, |i| i + 1)
        };
        let mut parts = lock(&self.plan);
        if end <= parts.scanned {
            return;
        }
        parts.scanned = end;
        let found: Vec<PlanEntry> = super::plan::checklist(&text[..end])
            .into_iter()
            .map(|(done, item)| {
                let status = if done {
                    PlanEntryStatus::Completed
                } else {
                    PlanEntryStatus::Pending
                };
                PlanEntry::new(item, PlanEntryPriority::Medium, status)
            })
            .collect();
        if found.is_empty() || found == parts.model {
            return;
        }
        parts.model = found;
        let entries = [parts.model.clone(), parts.steps.clone()].concat();
        drop(parts);
        self.send(SessionUpdate::Plan(Plan::new(entries)));
    }

    /// Close the command cards still open when the prompt ends.
    pub(crate) fn finish(&self, status: ToolCallStatus) {
        self.scan_checklist(true);
        for id in lock(&self.open_calls).drain(..) {
            self.update(&id, ToolCallUpdateFields::new().status(status));
        }
        // An approved edit that never reported back was refused after approval (e.g. the file
        // changed under it).
        if let Some(id) = lock(&self.pending_edit).take() {
            self.update(
                &id,
                ToolCallUpdateFields::new().status(ToolCallStatus::Failed),
            );
        }
    }

    fn update(&self, id: &str, fields: ToolCallUpdateFields) {
        self.send(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
            id.to_string(),
            fields,
        )));
    }

    fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// A permission card; `mode_may_answer`: the session mode may pre-approve it.
    async fn confirm(&self, approval: &Approval, mode_may_answer: bool) -> bool {
        let id = new_call_id();
        self.send(SessionUpdate::ToolCall(
            ToolCall::new(id.clone(), approval.summary.clone())
                .kind(kind(approval.tool))
                .status(ToolCallStatus::Pending)
                .content(vec![ToolCallContent::from(approval.detail.clone())]),
        ));
        // Only ordinary `ask`s about one file may be remembered; a person answers `ask-human`
        // every time.
        let rememberable = mode_may_answer
            .then_some(approval.path.as_deref())
            .flatten();
        let standing = rememberable.and_then(|p| {
            lock(&self.remembered)
                .iter()
                .find(|(t, rp, _)| *t == approval.tool && rp == p)
                .map(|(_, _, yes)| *yes)
        });
        let yes = if let Some(yes) = standing {
            yes
        } else if mode_may_answer && self.mode.pre_approves(approval.tool) {
            true
        } else {
            match self.ask_client(&id, approval, rememberable.is_some()).await {
                Answer::Once(yes) => yes,
                Answer::Always(yes) => {
                    if let Some(path) = rememberable {
                        self.remember(approval.tool, path, yes).await;
                    }
                    yes
                }
            }
        };
        if !yes {
            self.update(
                &id,
                ToolCallUpdateFields::new().status(ToolCallStatus::Failed),
            );
            return false;
        }
        self.update(
            &id,
            ToolCallUpdateFields::new().status(ToolCallStatus::InProgress),
        );
        if approval.tool == "edit" {
            *lock(&self.pending_edit) = Some(id);
        } else {
            lock(&self.open_calls).push(id);
        }
        true
    }

    /// Save a standing answer as a user-layer rule (audited in a run of its own), and keep it for
    /// the rest of this prompt when the effective policy now agrees.
    async fn remember(&self, tool: &'static str, path: &str, allow: bool) {
        let root = self.root.clone();
        let rel = path.to_string();
        let saved = tokio::task::spawn_blocking(move || remember_rule(&root, tool, &rel, allow))
            .await
            .unwrap_or_else(|e| Err(format!("the rule writer failed: {e}")));
        match saved {
            Ok((note, effective)) => {
                self.progress(&note);
                if effective {
                    lock(&self.remembered).push((tool, path.to_string(), allow));
                }
            }
            Err(e) => self.progress(&format!(
                "warning: cannot remember this answer ({e}); it applies to this call only"
            )),
        }
    }

    async fn ask_client(&self, id: &str, approval: &Approval, offer_always: bool) -> Answer {
        let mut options = vec![PermissionOption::new(
            ALLOW_ONCE,
            "Allow once",
            PermissionOptionKind::AllowOnce,
        )];
        let file = approval.path.as_deref().unwrap_or_default();
        if offer_always {
            options.push(PermissionOption::new(
                ALLOW_ALWAYS,
                format!("Always allow {} on {file}", approval.tool),
                PermissionOptionKind::AllowAlways,
            ));
        }
        options.push(PermissionOption::new(
            REJECT_ONCE,
            "Reject",
            PermissionOptionKind::RejectOnce,
        ));
        if offer_always {
            options.push(PermissionOption::new(
                REJECT_ALWAYS,
                format!("Always reject {} on {file}", approval.tool),
                PermissionOptionKind::RejectAlways,
            ));
        }
        let call = ToolCallUpdate::new(
            id.to_string(),
            ToolCallUpdateFields::new()
                .title(approval.summary.clone())
                .kind(kind(approval.tool))
                .status(ToolCallStatus::Pending),
        );
        let request = RequestPermissionRequest::new(self.session_id.clone(), call, options);
        let sent = self.cx.send_request(request).block_task();
        tokio::select! {
            r = sent => match r {
                Ok(resp) => match resp.outcome {
                    RequestPermissionOutcome::Selected(ref s) => match &*s.option_id.0 {
                        ALLOW_ONCE => Answer::Once(true),
                        ALLOW_ALWAYS if offer_always => Answer::Always(true),
                        REJECT_ALWAYS if offer_always => Answer::Always(false),
                        // Reject, and any option we did not offer.
                        _ => Answer::Once(false),
                    },
                    _ => Answer::Once(false),
                },
                Err(e) => {
                    tracing::warn!("session/request_permission failed: {e:?}");
                    Answer::Once(false)
                }
            },
            // A cancelled prompt answers its open question with no.
            _ = self.cancel.cancelled() => Answer::Once(false),
        }
    }
}

/// Write the rule (blocking: policy file, audit fsync, snapshot store). Returns what to tell the
/// user and whether the reloaded policy now answers the call as chosen.
fn remember_rule(
    root: &std::path::Path,
    tool: &str,
    rel: &str,
    allow: bool,
) -> Result<(String, bool), String> {
    let tool = Tool::parse(tool).ok_or_else(|| format!("`{tool}` is not a policy tool"))?;
    let decision = if allow {
        RuleDecision::Allow
    } else {
        RuleDecision::Deny
    };
    let session = Session::open(root).map_err(|e| e.to_string())?;
    let verb = if allow { "allow" } else { "reject" };
    let run = session
        .begin_run(None, &format!("always {verb} {} on {rel}", tool.as_str()))
        .map_err(|e| e.to_string())?;
    let saved = session.remember_rule(&run, tool, rel, decision);
    session.end_run(&run, if saved.is_ok() { "ok" } else { "failed" });
    let (file, _new) = saved.map_err(|e| e.to_string())?;
    let policy = Policy::load(root).map_err(|e| e.to_string())?;
    let now = policy.decide(tool, Some(rel));
    let effective = matches!(
        (allow, &now),
        (true, Decision::Allow) | (false, Decision::Deny(_))
    );
    let note = if effective {
        format!(
            "will always {verb} {} on {rel} (user rule in {})",
            tool.as_str(),
            file.display()
        )
    } else {
        let d = policy.tool_decision(tool);
        format!(
            "saved the rule in {}, but the {} policy still decides {:?} for {}: it cannot be answered for you",
            file.display(),
            d.layer,
            d.value,
            tool.as_str()
        )
    };
    Ok((note, effective))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn kind(tool: &str) -> ToolKind {
    match tool {
        "edit" => ToolKind::Edit,
        "run_command" => ToolKind::Execute,
        _ => ToolKind::Other,
    }
}

fn new_call_id() -> String {
    format!("call-{}", NEXT_CALL.fetch_add(1, Ordering::Relaxed))
}

use super::replay::first_changed_line;

impl Frontend for AcpFrontend {
    async fn buffer_text(&self, rel: &str) -> Option<String> {
        if !self.client_fs {
            return None;
        }
        let request = ReadTextFileRequest::new(self.session_id.clone(), self.abs(rel));
        let sent = self.cx.send_request(request).block_task();
        match tokio::time::timeout(READ_TIMEOUT, sent).await {
            Ok(Ok(resp)) => Some(resp.content),
            Ok(Err(e)) => {
                tracing::debug!("fs/read_text_file {rel}: {e:?}; reading from disk");
                None
            }
            Err(_) => {
                tracing::debug!("fs/read_text_file {rel}: no answer in time; reading from disk");
                None
            }
        }
    }

    async fn apply_to_buffer(
        &self,
        rel: &str,
        _old: &str,
        planned: &Planned,
    ) -> Result<bool, String> {
        if !self.client_fs {
            return Ok(false);
        }
        let request = WriteTextFileRequest::new(
            self.session_id.clone(),
            self.abs(rel),
            planned.new_text.clone(),
        );
        match self.cx.send_request(request).block_task().await {
            Ok(_) => Ok(true),
            Err(e) => Err(format!("fs/write_text_file failed: {}", e.message)),
        }
    }

    async fn approve(&self, approval: &Approval) -> bool {
        self.confirm(approval, true).await
    }

    /// A person must answer: no mode pre-approves it, and a client that cannot ask is a no.
    async fn approve_human(&self, approval: &Approval) -> bool {
        self.confirm(approval, false).await
    }

    fn progress(&self, message: &str) {
        self.send(SessionUpdate::AgentThoughtChunk(ContentChunk::new(
            ContentBlock::Text(TextContent::new(format!("{message}\n"))),
        )));
    }

    fn reasoning(&self, delta: &str) {
        lock(&self.streamed).push_str(delta);
        self.message(delta);
        if delta.contains('\n') {
            self.scan_checklist(false);
        }
    }

    /// The run's steps as an ACP plan (the client replaces its plan with each update), after the
    /// model's own checklist when its text has one. ACP has no failed status: a failed step is
    /// completed, and says so.
    fn plan(&self, items: &[PlanItem]) {
        let entries = items
            .iter()
            .map(|item| {
                let (status, content) = match item.status {
                    PlanStatus::Pending => (PlanEntryStatus::Pending, item.title.clone()),
                    PlanStatus::InProgress => (PlanEntryStatus::InProgress, item.title.clone()),
                    PlanStatus::Done => (PlanEntryStatus::Completed, item.title.clone()),
                    PlanStatus::Failed => (
                        PlanEntryStatus::Completed,
                        format!("{} (failed)", item.title),
                    ),
                };
                PlanEntry::new(content, PlanEntryPriority::Medium, status)
            })
            .collect::<Vec<_>>();
        let mut parts = lock(&self.plan);
        parts.steps = entries;
        let entries = [parts.model.clone(), parts.steps.clone()].concat();
        drop(parts);
        self.send(SessionUpdate::Plan(Plan::new(entries)));
    }

    fn edit_applied(&self, outcome: &EditOutcome, old: &str, new: &str) {
        lock(&self.edits).push(TurnEdit::new(&outcome.path, &outcome.snapshot_id, old, new));
        let abs = self.abs(&outcome.path);
        let content = vec![ToolCallContent::Diff(
            Diff::new(abs.clone(), new).old_text(old.to_string()),
        )];
        let locations = vec![ToolCallLocation::new(abs).line(first_changed_line(old, new))];
        let title = format!("{} (snapshot {})", outcome.summary, outcome.snapshot_id);
        match lock(&self.pending_edit).take() {
            Some(id) => self.update(
                &id,
                ToolCallUpdateFields::new()
                    .title(title)
                    .status(ToolCallStatus::Completed)
                    .content(content)
                    .locations(locations),
            ),
            None => self.send(SessionUpdate::ToolCall(
                ToolCall::new(new_call_id(), title)
                    .kind(ToolKind::Edit)
                    .status(ToolCallStatus::Completed)
                    .content(content)
                    .locations(locations),
            )),
        }
    }
}
