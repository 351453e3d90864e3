//! `jingu.ask`: the agent from the editor. The run executes in its own task so that a
//! `$/cancelRequest` (which drops this request's future) cancels it cleanly at the next model
//! chunk instead of tearing it down mid-edit; applied edits stay snapshotted and rollbackable.

use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Range, Uri};

use super::run_events::RunEvents;
use super::server::{Backend, failed};
use jingu_core::agent::{self, AskRequest, RunConfig};
use jingu_providers::CancelToken;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskArgs {
    instruction: String,
    uri: Option<Uri>,
    symbol: Option<String>,
    range: Option<Range>,
    provider: Option<String>,
    skill: Option<String>,
}

/// Cancels the run when the request is dropped (cancelled by the client or the server shutting down).
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

pub(crate) async fn ask(backend: &Backend, args: AskArgs) -> Result<Value> {
    if args.instruction.trim().is_empty() {
        return Err(failed("the instruction is empty"));
    }
    let session = backend.session()?;
    let path = args.uri.as_ref().and_then(|u| backend.rel_path(u));
    if args.uri.is_some() && path.is_none() {
        return Err(failed("the document is not a file inside the workspace"));
    }
    let req = AskRequest {
        instruction: args.instruction,
        path,
        symbol: args.symbol,
        lines: args.range.map(|r| {
            (
                r.start.line as usize + 1,
                r.end.line.max(r.start.line) as usize + 1,
            )
        }),
        provider: args.provider,
        skill: args.skill,
        run_id: Some(jingu_core::ops::new_run_id()),
        ..Default::default()
    };
    let (mut fe, forwarder) = backend.frontend_with_progress("Jingu").await?;
    let events = backend.client_wants_run_events().then(|| {
        RunEvents::start(
            backend.client.clone(),
            req.run_id.clone().unwrap_or_default(),
        )
    });
    if let Some((ev, _)) = &events {
        fe = fe.with_run_events(ev.clone());
    }
    let (events, sender) = events.unzip();
    let cancel = CancelToken::new();
    let guard = CancelOnDrop(cancel.clone());
    let task = tokio::spawn(async move {
        let outcome = agent::ask(&session, &fe, &req, &RunConfig::default(), cancel).await;
        drop(fe); // ends the progress forwarder
        // In this task, not the request's: a cancelled request is dropped, and its run still
        // ends with a `done` event (stop `cancelled`).
        if let Some(ev) = &events {
            ev.done(match &outcome {
                Ok(o) => json!({"stop": o.stop, "summary": o.summary, "steps": o.steps,
                    "edits": o.edits}),
                Err(e) => json!({"stop": {"reason": "error", "detail": e.to_string()}}),
            });
        }
        (outcome, session)
    });
    let joined = task.await;
    drop(guard);
    if let Some(h) = forwarder {
        let _ = h.await;
    }
    // Every event is out before the response.
    if let Some(h) = sender {
        let _ = h.await;
    }
    let (outcome, session) = joined.map_err(|e| failed(format!("the agent task failed: {e}")))?;
    let outcome = outcome.map_err(|e| failed(e.to_string()))?;
    let edits: Vec<Value> = outcome
        .edits
        .iter()
        .map(|e| {
            let uri = Uri::from_file_path(session.workspace.abs(&e.path))
                .map(|u| u.as_str().to_string())
                .unwrap_or_default();
            json!({"uri": uri, "snapshot_id": e.snapshot_id})
        })
        .collect();
    Ok(json!({
        "run_id": outcome.run_id,
        "edits": edits,
        "summary": outcome.summary,
        "stop": outcome.stop,
        "steps": outcome.steps,
        "usage": {"input_tokens": outcome.usage.input_tokens, "output_tokens": outcome.usage.output_tokens},
    }))
}
