//! The editor as an [`ops::Frontend`]: open buffers are read from the mirror and edited through
//! `workspace/applyEdit` (so the editor's undo and dirty state stay coherent), approvals are
//! `window/showMessageRequest` with `Apply`/`Reject` — or, when the client supports change
//! annotations, the edit itself sent as one annotated change per hunk needing confirmation, so
//! the user accepts or rejects each (VS Code's Refactor Preview) — progress is `$/progress` and
//! streamed model text is `window/logMessage`, forwarded in order by one task.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ropey::Rope;
use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::request::ApplyWorkspaceEdit;
use tower_lsp_server::ls_types::*;

use jingu_core::ops::{Approval, Frontend, Reviewed};
use jingu_docs::{Documents, Encoding, position};
use jingu_realdoc::Planned;

/// Longest diff shown in a confirmation message; the rest is summarised.
const MAX_DIFF_IN_PROMPT: usize = 6000;

pub(crate) const APPLY: &str = "Apply";
pub(crate) const REJECT: &str = "Reject";
/// The action property naming the `jingu/runEvent` confirmation a question is (run events only).
pub(crate) const CONFIRM_PROPERTY: &str = "jinguConfirm";

/// How long, after the editor answered an annotated edit, its `didChange` may take to arrive.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Progress reports and model text waiting for the editor.
const UI_EVENTS_QUEUED: usize = 256;

enum UiEvent {
    Progress(String),
    Reasoning(String),
}

pub(crate) struct LspFrontend {
    client: Client,
    docs: Arc<Documents>,
    encoding: Encoding,
    root: PathBuf,
    ui: Option<mpsc::Sender<UiEvent>>,
    /// The client takes annotated edits needing confirmation (`changeAnnotationSupport` and
    /// `documentChanges`): agent edits of open buffers are reviewed change by change.
    annotations: bool,
    /// `jingu/runEvent` for a client that shows runs as they happen (a `jingu.ask` only).
    events: Option<Arc<super::run_events::RunEvents>>,
}

impl LspFrontend {
    pub(crate) fn new(
        client: Client,
        docs: Arc<Documents>,
        encoding: Encoding,
        root: PathBuf,
    ) -> Self {
        Self {
            client,
            docs,
            encoding,
            root,
            ui: None,
            annotations: false,
            events: None,
        }
    }

    /// Report what the run does as `jingu/runEvent` notifications.
    pub(crate) fn with_run_events(mut self, events: Arc<super::run_events::RunEvents>) -> Self {
        self.events = Some(events);
        self
    }

    /// Offer edits of open buffers change by change (the client supports change annotations).
    pub(crate) fn with_annotations(mut self, on: bool) -> Self {
        self.annotations = on;
        self
    }

    /// Report progress under `token` (already created with the client) until the returned sender
    /// side is dropped with the frontend; the forwarder ends the progress with `done_message`.
    pub(crate) fn with_progress(
        mut self,
        token: ProgressToken,
        title: String,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        // Bounded: a model streaming faster than the editor reads loses log lines, not memory.
        let (tx, mut rx) = mpsc::channel::<UiEvent>(UI_EVENTS_QUEUED);
        let client = self.client.clone();
        let handle = tokio::spawn(async move {
            let progress = client.progress(token, title).begin().await;
            while let Some(ev) = rx.recv().await {
                match ev {
                    UiEvent::Progress(m) => progress.report(m).await,
                    UiEvent::Reasoning(t) => client.log_message(MessageType::LOG, t).await,
                }
            }
            progress.finish().await;
        });
        self.ui = Some(tx);
        (self, handle)
    }

    pub(crate) fn uri(&self, rel: &str) -> Option<Uri> {
        Uri::from_file_path(self.root.join(rel))
    }

    /// Bring an open buffer to `new_text` with minimal edits. With `expected`, refused when the
    /// buffer no longer holds that text (someone typed since it was read).
    async fn replace_buffer(
        &self,
        rel: &str,
        expected: Option<&str>,
        new_text: &str,
    ) -> Result<bool, String> {
        let Some(uri) = self.uri(rel) else {
            return Ok(false);
        };
        let Some(old) = self.docs.text(&uri) else {
            return Ok(false);
        };
        if expected.is_some_and(|e| e != old) {
            return Err(
                "the buffer changed while the rollback was being prepared; try again".into(),
            );
        }
        let edits = super::buffer_edits::minimal_edits(&old, new_text, self.encoding);
        if edits.is_empty() {
            return Ok(true);
        }
        self.send_edits(uri, edits, "Jingu: rollback").await
    }

    /// Send `old → new` as one annotated edit per hunk, each needing confirmation, then wait for
    /// the buffer to show what the user accepted.
    async fn review(
        &self,
        rel: &str,
        old: &str,
        new: &str,
        summary: &str,
    ) -> Result<Option<Reviewed>, String> {
        let Some(uri) = self.uri(rel) else {
            return Ok(None);
        };
        let Some((now, version)) = self.docs.with(&uri, |d| (d.text(), d.version)) else {
            return Ok(None);
        };
        if now != old {
            return Err("the buffer changed while the edit was being prepared; try again".into());
        }
        let hunks = super::buffer_edits::hunks(old, new);
        let proposed = hunks.len();
        let edits = super::buffer_edits::to_text_edits(old, &hunks, self.encoding);
        let mut annotations = HashMap::new();
        let mut annotated = Vec::with_capacity(proposed);
        for (i, edit) in edits.into_iter().enumerate() {
            let id = format!("jingu-change-{}", i + 1);
            // 1-based lines of the old text the change replaces (an end at a line's start
            // does not include that line).
            let first = edit.range.start.line + 1;
            let end = &edit.range.end;
            let last = (end.line + u32::from(end.character > 0)).max(first);
            let lines = if edit.range.start == edit.range.end {
                format!("insert at line {first}")
            } else if first == last {
                format!("line {first}")
            } else {
                format!("lines {first}-{last}")
            };
            annotations.insert(
                id.clone(),
                ChangeAnnotation {
                    label: format!("Jingu: change {} of {proposed} ({lines})", i + 1),
                    needs_confirmation: Some(true),
                    description: Some(summary.to_string()),
                },
            );
            annotated.push(OneOf::Right(AnnotatedTextEdit {
                text_edit: edit,
                annotation_id: id,
            }));
        }
        let edit = WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri: uri.clone(),
                    version: Some(version),
                },
                edits: annotated,
            }])),
            change_annotations: Some(annotations),
            ..Default::default()
        };
        let params = ApplyWorkspaceEditParams {
            label: Some(format!("Jingu: {summary}")),
            edit,
        };
        // The question is the Refactor Preview; a chat panel says where it is.
        let confirm = self.events.as_ref().map(|ev| {
            let approval = Approval {
                tool: "edit",
                summary: summary.to_string(),
                detail: jingu_core::ops::unified_diff(rel, old, new),
                path: Some(rel.to_string()),
            };
            (ev.clone(), ev.waiting(&approval, true))
        });
        // The user may take minutes. An agent run finishes this wait even when cancelled, but a
        // cancelled command (`jingu.editSymbol`) drops this future while the editor may still
        // apply what they accept: the request runs in its own task so that the user is then told
        // those changes are not in Jingu's history.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let client = self.client.clone();
        tokio::spawn(async move {
            let answer = client.send_request::<ApplyWorkspaceEdit>(params).await;
            if let Err(Ok(late)) = tx.send(answer)
                && late.applied
            {
                client
                    .show_message(
                        MessageType::WARNING,
                        "Jingu: the run ended while you reviewed its changes; the ones you \
                         accepted are in the buffer but not in Jingu's snapshots",
                    )
                    .await;
            }
        });
        let answer = rx
            .await
            .map_err(|_| "the editor's answer to workspace/applyEdit was lost".to_string())?
            .map_err(|e| format!("workspace/applyEdit failed: {e}"))?;
        if !answer.applied
            && let Some(reason) = answer.failure_reason
        {
            // The editor could not apply it (not the user saying no).
            return Err(reason);
        }
        // The buffer's new text arrives by `didChange`, which may trail the answer: wait until it
        // shows some of the changes (not needed when the user declined the whole edit).
        let deadline = tokio::time::Instant::now() + SETTLE;
        let text = loop {
            let Some(text) = self.docs.text(&uri) else {
                return Ok(None);
            };
            let settled = text != old && super::buffer_edits::landed(old, &hunks, &text).is_some();
            if settled || !answer.applied || tokio::time::Instant::now() >= deadline {
                break text;
            }
            tokio::time::sleep(SETTLE_POLL).await;
        };
        let taken = super::buffer_edits::landed(old, &hunks, &text);
        if let Some((ev, id)) = confirm {
            let accepted = taken
                .as_ref()
                .map_or(0, |t| t.iter().filter(|&&a| a).count());
            ev.answered(
                &id,
                accepted > 0,
                Some(format!("accepted {accepted} of {proposed} change(s)")),
            );
        }
        Ok(Some(Reviewed {
            accepted: taken
                .as_ref()
                .map_or(0, |t| t.iter().filter(|&&a| a).count()),
            exact: taken.is_some(),
            proposed,
            text,
        }))
    }

    async fn send_edit(
        &self,
        uri: Uri,
        range: Range,
        new_text: String,
        label: &str,
    ) -> Result<bool, String> {
        self.send_edits(uri, vec![TextEdit { range, new_text }], label)
            .await
    }

    async fn send_edits(
        &self,
        uri: Uri,
        edits: Vec<TextEdit>,
        label: &str,
    ) -> Result<bool, String> {
        let edit = WorkspaceEdit {
            changes: Some(HashMap::from([(uri, edits)])),
            ..Default::default()
        };
        let params = ApplyWorkspaceEditParams {
            label: Some(label.to_string()),
            edit,
        };
        match self.client.send_request::<ApplyWorkspaceEdit>(params).await {
            Ok(r) if r.applied => Ok(true),
            Ok(r) => Err(r
                .failure_reason
                .unwrap_or_else(|| "the editor declined the edit".into())),
            Err(e) => Err(format!("workspace/applyEdit failed: {e}")),
        }
    }
}

impl Frontend for LspFrontend {
    async fn buffer_text(&self, rel: &str) -> Option<String> {
        self.docs.text(&self.uri(rel)?)
    }

    async fn apply_to_buffer(
        &self,
        rel: &str,
        old: &str,
        planned: &Planned,
    ) -> Result<bool, String> {
        let Some(uri) = self.uri(rel) else {
            return Ok(false);
        };
        match self.docs.text(&uri) {
            None => return Ok(false),
            Some(now) if now != old => {
                return Err(
                    "the buffer changed while the edit was being prepared; try again".into(),
                );
            }
            Some(_) => {}
        }
        let rope = Rope::from_str(old);
        let range = Range::new(
            position::to_position(&rope, planned.changed.start, self.encoding),
            position::to_position(&rope, planned.changed.end, self.encoding),
        );
        self.send_edit(
            uri,
            range,
            planned.inserted.clone(),
            &format!("Jingu: {}", planned.summary),
        )
        .await
    }

    async fn sync_buffer(&self, rel: &str, content: &str) -> Result<bool, String> {
        self.replace_buffer(rel, None, content).await
    }

    fn reviews_in_buffer(&self) -> bool {
        self.annotations
    }

    async fn review_in_buffer(
        &self,
        rel: &str,
        old: &str,
        new: &str,
        summary: &str,
    ) -> Result<Option<Reviewed>, String> {
        self.review(rel, old, new, summary).await
    }

    fn restores_buffers(&self) -> bool {
        true
    }

    async fn restore_buffer(&self, rel: &str, old: &str, new: &str) -> Result<bool, String> {
        self.replace_buffer(rel, Some(old), new).await
    }

    /// The editor's prompt is answered by a person.
    async fn approve_human(&self, approval: &Approval) -> bool {
        self.approve(approval).await
    }

    async fn approve(&self, approval: &Approval) -> bool {
        let mut detail = approval.detail.clone();
        if detail.len() > MAX_DIFF_IN_PROMPT {
            let cut = (0..=MAX_DIFF_IN_PROMPT)
                .rev()
                .find(|&i| detail.is_char_boundary(i))
                .unwrap_or(0);
            detail.truncate(cut);
            detail.push_str("\n… (diff truncated)");
        }
        let message = format!(
            "Jingu wants to {}: {}\n\n{detail}",
            approval.tool, approval.summary
        );
        // With run events the question is also a card in the chat panel: its id on the actions
        // lets the client answer it from either place (one answer, one request).
        let confirm = self
            .events
            .as_ref()
            .map(|ev| (ev.clone(), ev.waiting(approval, false)));
        let properties: HashMap<String, MessageActionItemProperty> = confirm
            .iter()
            .map(|(_, id)| {
                (
                    CONFIRM_PROPERTY.to_string(),
                    MessageActionItemProperty::String(id.clone()),
                )
            })
            .collect();
        let actions = vec![
            MessageActionItem {
                title: APPLY.into(),
                properties: properties.clone(),
            },
            MessageActionItem {
                title: REJECT.into(),
                properties,
            },
        ];
        let yes = match self
            .client
            .show_message_request(MessageType::WARNING, message, Some(actions))
            .await
        {
            Ok(Some(choice)) => choice.title == APPLY,
            // Dismissed, unsupported or failed: the safe answer is no.
            _ => false,
        };
        if let Some((ev, id)) = confirm {
            ev.answered(&id, yes, None);
        }
        yes
    }

    fn progress(&self, message: &str) {
        if let Some(ev) = &self.events {
            ev.progress(message);
        }
        if let Some(tx) = &self.ui {
            // A full queue drops this report: the next one supersedes it.
            let _ = tx.try_send(UiEvent::Progress(message.to_string()));
        }
    }

    fn reasoning(&self, delta: &str) {
        if let Some(ev) = &self.events {
            ev.text(delta);
        }
        if let Some(tx) = &self.ui {
            let _ = tx.try_send(UiEvent::Reasoning(delta.to_string()));
        }
    }

    fn plan(&self, items: &[jingu_core::ops::PlanItem]) {
        if let Some(ev) = &self.events {
            ev.plan(items);
        }
    }

    fn edit_applied(&self, outcome: &jingu_core::ops::EditOutcome, _old: &str, _new: &str) {
        if let Some(ev) = &self.events {
            ev.edit_applied(outcome);
        }
    }
}
