//! Inline code review (DESIGN §2 `review`, §3 `jingu.review`).
//!
//! Flow: [`diff::changed_files`] (the user's repository, read-only through git2) → [`context`]
//! (hunks mapped to enclosing symbols, old/new text, callers' signatures) → [`model::ask`] (one
//! redacted, audited request; findings come back through the `report_findings` tool) →
//! [`validate::validate`] (ranges exist, replacements apply through RealDoc and parse) → the
//! formats in [`format`], [`sarif`], [`rdjson`] or LSP diagnostics (`lsp/review.rs`).

pub mod context;
pub mod diff;
pub mod finding;
pub mod format;
pub mod model;
pub mod position;
pub mod rdjson;
pub mod sarif;
pub mod validate;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::ops::{Frontend, OpsError, Session};
use jingu_providers::CancelToken;

pub use finding::{Category, Dropped, Finding, Severity, Validated};

#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// Base revision (anything `git rev-parse` accepts); default `HEAD`.
    pub base: String,
    /// Review only this workspace-relative path.
    pub only: Option<String>,
    /// Use this provider (it must still be allowed by policy).
    pub provider: Option<String>,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        Self {
            base: "HEAD".into(),
            only: None,
            provider: None,
        }
    }
}

/// What a review produced: validated findings, the dropped ones with reasons, and the files looked at.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewOutcome {
    pub run_id: String,
    pub base: String,
    /// Workspace-relative paths of the reviewed files.
    pub files: Vec<String>,
    pub findings: Vec<Validated>,
    pub dropped: Vec<Dropped>,
    /// The model's closing text, if any.
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Diff(#[from] diff::DiffError),
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentError),
    #[error(transparent)]
    Model(#[from] model::ModelError),
}

/// Review the working tree (editor buffers win over the disk, through `fe`) against `opts.base`.
/// The run is audited like an agent run; nothing is written to the workspace or its repository.
pub async fn review<F: Frontend>(
    session: &Session,
    fe: &F,
    opts: &ReviewOptions,
    cancel: &CancelToken,
) -> Result<ReviewOutcome, ReviewError> {
    // git2's diff and the reads run off the async runtime; open buffers then win over the disk.
    let on_disk = jingu_audit::off_runtime(|| {
        diff::changed_files(
            &session.workspace.root,
            &opts.base,
            opts.only.as_deref(),
            |rel| readable(session, rel),
        )
    })?;
    let mut files = Vec::with_capacity(on_disk.len());
    for mut file in on_disk {
        if let Some(text) = fe.buffer_text(&file.path).await
            && text != file.new_text
        {
            file.hunks = diff::hunks(&file.old_text, &text);
            file.new_text = text;
        }
        if !file.hunks.is_empty() {
            files.push(file);
        }
    }
    let run = session.begin_run(None, &format!("review against {}", opts.base))?;
    let result = review_in_run(session, fe, &run, opts, &files, cancel).await;
    session.end_run(&run, if result.is_ok() { "ok" } else { "failed" });
    let (findings, dropped, summary) = result?;
    Ok(ReviewOutcome {
        run_id: run.id,
        base: opts.base.clone(),
        files: files.iter().map(|f| f.path.clone()).collect(),
        findings,
        dropped,
        summary,
    })
}

type Reviewed = (Vec<Validated>, Vec<Dropped>, String);

async fn review_in_run<F: Frontend>(
    session: &Session,
    fe: &F,
    run: &crate::ops::Run,
    opts: &ReviewOptions,
    files: &[diff::ChangedFile],
    cancel: &CancelToken,
) -> Result<Reviewed, ReviewError> {
    if files.is_empty() {
        return Ok((Vec::new(), Vec::new(), "no changes to review".into()));
    }
    // Parses and a bounded walk for callers: off the async runtime.
    let ctx =
        jingu_audit::off_runtime(|| context::build(&session.workspace, &session.policy, files));
    fe.progress(&format!(
        "reviewing {} changed symbol(s) in {} file(s)",
        ctx.units.len(),
        files.len()
    ));
    let (router, label) = crate::agent::router(session, opts.provider.as_deref())?;
    let reply = model::ask(session, fe, run, &router, label, &ctx, cancel).await?;
    let (findings, dropped) = validate::validate(files, reply.findings, reply.malformed);
    Ok((findings, dropped, reply.summary))
}

/// The agent's read gate, for text a review sends to the model: confined (a path that only
/// resolves through a symlink is refused), not protected or in `deny_paths`, and `read = "allow"`
/// (a review cannot stop to ask about every file it scans, so `ask` keeps a file out).
fn readable(session: &Session, rel: &str) -> bool {
    use jingu_policy::{Decision, Tool};
    let confined =
        session
            .workspace
            .confine_for_tool(rel, &session.policy, jingu_fs::workspace::Access::Read);
    matches!(confined, Ok(r) if r == rel)
        && session.policy.decide(Tool::Read, Some(rel)) == Decision::Allow
}
