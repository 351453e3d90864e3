//! What an operation needs from the front end that started it.

use std::future::Future;

use super::edit::EditOutcome;
use jingu_realdoc::Planned;

/// Something policy says to ask the user about before it happens.
#[derive(Debug, Clone)]
pub struct Approval {
    /// `edit`, `run_command`, …
    pub tool: &'static str,
    /// One line: `replace symbol `f` in src/a.rs (lines 3-9)`.
    pub summary: String,
    /// A unified diff for edits, the command line for commands.
    pub detail: String,
    /// The workspace-relative file an edit approval is about: a front end may offer to remember
    /// the answer for it (`[[policy.rules]]`). `None`: the answer is for this act only.
    pub path: Option<String>,
}

/// What the user did with an edit proposed change by change ([`Frontend::review_in_buffer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    /// The buffer's text afterwards: the old text when every change was rejected.
    pub text: String,
    /// Changes proposed, and how many of them the buffer shows accepted.
    pub proposed: usize,
    pub accepted: usize,
    /// `false` when the buffer is not the old text with some of the changes applied (it also
    /// changed some other way); `text` is still what it holds.
    pub exact: bool,
}

/// One step of an agent run as the front end may show it (ACP `plan` updates): the tool calls
/// the model asked for, in order, with how far each has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    /// `edit src/lib.rs`, `run_command`, …
    pub title: String,
    pub status: PlanStatus,
    /// The model turn (1-based step of the run) that asked for it.
    pub step: usize,
    /// The tool's name as the model called it.
    pub tool: String,
    /// Its arguments, one line, long texts elided (for a card; the audit log has them whole).
    pub args: String,
    /// Once done or failed: what the tool answered (the model's view of it, bounded) — the
    /// output of a read or command, the reason of a refusal.
    pub result: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    Pending,
    InProgress,
    Done,
    Failed,
}

pub trait Frontend: Sync {
    /// The text of an open editor buffer for a workspace-relative path (LSP: the synced document;
    /// ACP: the client's `fs/read_text_file`). Async because a client may have to answer.
    fn buffer_text(&self, _rel: &str) -> impl Future<Output = Option<String>> + Send {
        async { None }
    }

    /// Apply a planned edit to an open editor buffer whose current text is `old`. `Ok(true)` when
    /// the editor applied it; `Ok(false)` when the buffer is not open (the caller writes the file).
    fn apply_to_buffer(
        &self,
        _rel: &str,
        _old: &str,
        _planned: &Planned,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        async { Ok(false) }
    }

    /// Whether an edit of an open buffer that policy says to ask about is offered to the editor
    /// change by change ([`Self::review_in_buffer`]) instead of asked with [`Self::approve`]. A
    /// wrapper that does not forward it keeps the whole-edit confirmation.
    fn reviews_in_buffer(&self) -> bool {
        false
    }

    /// Propose `new` for the open buffer whose text is `old`, as changes the user accepts or
    /// rejects one by one (LSP: annotated edits needing confirmation), and report what the buffer
    /// holds afterwards. `Ok(None)` when it is not open; `Err` when the editor failed.
    fn review_in_buffer(
        &self,
        _rel: &str,
        _old: &str,
        _new: &str,
        _summary: &str,
    ) -> impl Future<Output = Result<Option<Reviewed>, String>> + Send {
        async { Ok(None) }
    }

    /// Make an open buffer show `content` after a rollback rewrote its file; `Ok(false)` when the
    /// file is not open.
    fn sync_buffer(
        &self,
        _rel: &str,
        _content: &str,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        async { Ok(false) }
    }

    /// Whether [`Self::restore_buffer`] works: then a rollback reads open buffers instead of the
    /// disk and restores them in the editor, never rewriting an open file behind its back.
    fn restores_buffers(&self) -> bool {
        false
    }

    /// Bring an open buffer whose text is `old` to `new` (a rollback recorded it; the disk is not
    /// written). `Ok(false)` when it is not open; `Err` when the editor refused or it changed.
    fn restore_buffer(
        &self,
        _rel: &str,
        _old: &str,
        _new: &str,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        async { Ok(false) }
    }

    /// Ask the user; `false` refuses. Called only where policy says `ask`.
    fn approve(&self, approval: &Approval) -> impl Future<Output = bool> + Send;

    /// Ask a *person*, for what policy marks `ask-human` and for untrusted data reaching a
    /// sensitive sink: `--yes`, `auto` mode and any other standing approval must not answer.
    /// `false` (the default) when no person can be asked, so the act is refused.
    fn approve_human(&self, _approval: &Approval) -> impl Future<Output = bool> + Send {
        async { false }
    }

    fn progress(&self, _message: &str) {}

    /// Streamed model text.
    fn reasoning(&self, _delta: &str) {}

    /// The run's steps so far, each time one is added or changes.
    fn plan(&self, _items: &[PlanItem]) {}

    /// An edit was snapshotted, audited and written; `old`/`new` are the whole file texts (ACP
    /// shows them as a diff card).
    fn edit_applied(&self, _outcome: &EditOutcome, _old: &str, _new: &str) {}
}

/// A front end for non-interactive use where the user has already said yes (`--yes`). Policy still
/// applies: `deny` is never asked, and `--yes` is refused where the policy forbids auto-approval.
#[derive(Debug, Clone, Copy, Default)]
pub struct AutoApprove;

impl Frontend for AutoApprove {
    async fn approve(&self, _approval: &Approval) -> bool {
        true
    }
}

/// A front end whose request is itself the user's confirmation: the user asked for exactly this
/// act (`jingu.rollback` from the editor's menu), so policy's `ask` is answered by that request,
/// while `deny` and `deny_paths` still refuse. Everything else goes to the inner front end, so
/// open buffers follow the act.
pub struct Confirmed<'a, F: Frontend>(pub &'a F);

impl<F: Frontend> Frontend for Confirmed<'_, F> {
    fn buffer_text(&self, rel: &str) -> impl Future<Output = Option<String>> + Send {
        self.0.buffer_text(rel)
    }

    fn apply_to_buffer(
        &self,
        rel: &str,
        old: &str,
        planned: &Planned,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        self.0.apply_to_buffer(rel, old, planned)
    }

    fn sync_buffer(
        &self,
        rel: &str,
        content: &str,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        self.0.sync_buffer(rel, content)
    }

    fn restores_buffers(&self) -> bool {
        self.0.restores_buffers()
    }

    fn restore_buffer(
        &self,
        rel: &str,
        old: &str,
        new: &str,
    ) -> impl Future<Output = Result<bool, String>> + Send {
        self.0.restore_buffer(rel, old, new)
    }

    async fn approve(&self, _approval: &Approval) -> bool {
        true
    }

    /// The request confirmed only itself: a person must still answer for anything else.
    fn approve_human(&self, approval: &Approval) -> impl Future<Output = bool> + Send {
        self.0.approve_human(approval)
    }

    fn progress(&self, message: &str) {
        self.0.progress(message);
    }

    fn reasoning(&self, delta: &str) {
        self.0.reasoning(delta);
    }

    fn edit_applied(&self, outcome: &EditOutcome, old: &str, new: &str) {
        self.0.edit_applied(outcome, old, new);
    }
}
