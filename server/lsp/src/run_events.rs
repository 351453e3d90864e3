//! `jingu/runEvent`: what a `jingu.ask` run is doing, as it happens, for a client that shows it
//! (VS Code's chat panel). Sent only to a client that announced `experimental.jingu.runEvents`,
//! so other editors see exactly the protocol they saw before.
//!
//! The events come from the [`ops::Frontend`](jingu_core::ops::Frontend) hooks ACP uses too —
//! streamed text, the run's plan (each tool call and, once finished, its result), applied edits,
//! confirmations — and one task sends them in order, numbering them (`seq`, from 1, no gaps).
//! The queue is bounded without dropping events that matter: consecutive text chunks are merged
//! into one event, and every other event is bounded by the run's steps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::Notify;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Notification;

use jingu_core::ops::{Approval, EditOutcome, PlanItem, PlanStatus};

pub(crate) enum RunEvent {}

impl Notification for RunEvent {
    type Params = Value;
    const METHOD: &'static str = "jingu/runEvent";
}

/// Longest diff or confirmation detail carried by one event (the rest is cut and marked).
const MAX_DIFF: usize = 200_000;
/// Events other than text waiting to be sent; beyond this the run is producing events faster
/// than any editor reads them and the surplus is dropped (with a warning in the log).
const MAX_QUEUED: usize = 4096;

#[derive(Default)]
struct State {
    queue: VecDeque<Value>,
    closed: bool,
    /// The plan as last reported: which calls have been announced and finished.
    seen: Vec<PlanStatus>,
    /// The edit applied by the call in progress, reported with its result.
    edit: Option<Value>,
    next_confirm: u64,
}

pub(crate) struct RunEvents {
    run_id: String,
    state: Mutex<State>,
    wake: Notify,
}

impl RunEvents {
    /// Start the sender; await the handle after [`Self::done`] so the last event is out before
    /// the request's response.
    pub(crate) fn start(
        client: Client,
        run_id: String,
    ) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let events = Arc::new(Self {
            run_id: run_id.clone(),
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        });
        let me = events.clone();
        let handle = tokio::spawn(async move {
            let mut seq: u64 = 0;
            loop {
                let (batch, closed) = {
                    let mut s = lock(&me.state);
                    (s.queue.drain(..).collect::<Vec<_>>(), s.closed)
                };
                if batch.is_empty() {
                    if closed {
                        break;
                    }
                    me.wake.notified().await;
                    continue;
                }
                for mut ev in batch {
                    seq += 1;
                    if let Some(o) = ev.as_object_mut() {
                        o.insert("run_id".into(), json!(run_id));
                        o.insert("seq".into(), json!(seq));
                    }
                    client.send_notification::<RunEvent>(ev).await;
                }
            }
        });
        (events, handle)
    }

    fn push(&self, ev: Value) {
        let mut s = lock(&self.state);
        if s.closed {
            return;
        }
        if s.queue.len() >= MAX_QUEUED {
            tracing::warn!("jingu/runEvent queue full; an event was dropped");
            return;
        }
        s.queue.push_back(ev);
        drop(s);
        self.wake.notify_one();
    }

    /// A chunk of model text; merged into the previous event while that one is unsent text.
    pub(crate) fn text(&self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        let mut s = lock(&self.state);
        if s.closed {
            return;
        }
        if let Some(last) = s.queue.back_mut()
            && last["kind"] == "text"
            && let Some(Value::String(t)) = last.get_mut("text")
        {
            t.push_str(delta);
            return;
        }
        s.queue.push_back(json!({"kind": "text", "text": delta}));
        drop(s);
        self.wake.notify_one();
    }

    pub(crate) fn progress(&self, message: &str) {
        self.push(json!({"kind": "progress", "message": message}));
    }

    /// The run's plan changed: announce new calls, and report the ones that finished.
    pub(crate) fn plan(&self, items: &[PlanItem]) {
        let mut out = Vec::new();
        {
            let mut s = lock(&self.state);
            for (index, item) in items.iter().enumerate() {
                if index >= s.seen.len() {
                    s.seen.push(PlanStatus::Pending);
                    out.push(
                        json!({"kind": "tool_call", "index": index, "step": item.step,
                        "tool": item.tool, "title": item.title, "args": item.args}),
                    );
                }
                let finished = matches!(item.status, PlanStatus::Done | PlanStatus::Failed);
                let was = s.seen[index];
                if finished && !matches!(was, PlanStatus::Done | PlanStatus::Failed) {
                    let ok = item.status == PlanStatus::Done;
                    let mut ev = json!({"kind": "tool_result", "index": index, "tool": item.tool,
                        "ok": ok, "output": item.result.clone().unwrap_or_default()});
                    if !ok {
                        ev["reason"] = json!(reason(item.result.as_deref().unwrap_or_default()));
                    }
                    if let Some(edit) = s.edit.take() {
                        ev["edit"] = edit;
                    }
                    out.push(ev);
                }
                s.seen[index] = item.status;
            }
        }
        for ev in out {
            self.push(ev);
        }
    }

    /// An edit was written: reported with the result of the call that made it.
    pub(crate) fn edit_applied(&self, outcome: &EditOutcome) {
        let edit = json!({"path": outcome.path, "snapshot_id": outcome.snapshot_id,
            "summary": outcome.summary, "diff": cut(&outcome.diff)});
        lock(&self.state).edit = Some(edit);
    }

    /// The run waits for the user: returns the confirmation's id (also put on the question's
    /// actions, so the client can tie the two together).
    pub(crate) fn waiting(&self, approval: &Approval, review: bool) -> String {
        let id = {
            let mut s = lock(&self.state);
            s.next_confirm += 1;
            format!("{}-c{}", self.run_id, s.next_confirm)
        };
        self.push(
            json!({"kind": "waiting", "confirm_id": id, "tool": approval.tool,
            "summary": approval.summary, "path": approval.path, "detail": cut(&approval.detail),
            "review": review}),
        );
        id
    }

    /// The user answered confirmation `id` (wherever they did).
    pub(crate) fn answered(&self, id: &str, applied: bool, note: Option<String>) {
        self.push(json!({"kind": "answered", "confirm_id": id, "applied": applied, "note": note}));
    }

    /// The run ended; the last event. Later events are ignored.
    pub(crate) fn done(&self, fields: Value) {
        let mut ev = json!({"kind": "done"});
        if let (Some(o), Some(extra)) = (ev.as_object_mut(), fields.as_object()) {
            o.extend(extra.clone());
        }
        self.push(ev);
        lock(&self.state).closed = true;
        self.wake.notify_one();
    }
}

/// The reason a failed call gives: its result without the `error: ` the model is shown.
fn reason(result: &str) -> &str {
    result.strip_prefix("error: ").unwrap_or(result)
}

fn cut(text: &str) -> String {
    if text.len() <= MAX_DIFF {
        return text.to_string();
    }
    let end = (0..=MAX_DIFF)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}\n… (truncated)", &text[..end])
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
