//! `workspace/executeCommand`: Jingu's commands (DESIGN §3), one JSON object argument each.
//! Every command goes through `ops`, the same path as the CLI: policy, snapshots, audit.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny, Uri};

use super::server::{Backend, failed};
use jingu_realdoc::{EditRequest, Op, Target};

pub(crate) async fn execute(
    backend: &Backend,
    params: ExecuteCommandParams,
) -> Result<Option<LSPAny>> {
    let arg = params.arguments.into_iter().next().unwrap_or(Value::Null);
    let result = match params.command.as_str() {
        "jingu.editSymbol" => edit_symbol(backend, parse(arg)?).await?,
        "jingu.snapshots" => snapshots(backend, parse(arg)?)?,
        "jingu.snapshotDiff" => snapshot_diff(backend, parse(arg)?)?,
        "jingu.snapshotFile" => snapshot_file(backend, parse(arg)?)?,
        "jingu.rollback" => rollback(backend, parse(arg)?).await?,
        "jingu.ask" => super::ask::ask(backend, parse(arg)?).await?,
        "jingu.review" => super::review::review(backend, parse(arg)?).await?,
        super::completion::ACCEPT_COMMAND => super::completion::accept(backend, parse(arg)?)?,
        super::review::APPLY_COMMAND => {
            super::review::apply_suggestion(backend, parse(arg)?).await?
        }
        other => {
            return Err(Error::invalid_params(format!(
                "unknown command `{other}` (known: {})",
                super::capabilities::COMMANDS.join(", ")
            )));
        }
    };
    Ok(Some(result))
}

fn parse<T: DeserializeOwned>(arg: Value) -> Result<T> {
    // A missing argument is an empty object: every field is then optional or reported by name.
    let arg = if arg.is_null() { json!({}) } else { arg };
    serde_json::from_value(arg).map_err(|e| Error::invalid_params(format!("invalid argument: {e}")))
}

/// Workspace-relative path of a document URI.
fn rel_of(backend: &Backend, uri: &Uri) -> Result<String> {
    backend.rel_path(uri).ok_or_else(|| {
        failed(format!(
            "{} is not a file inside the workspace",
            uri.as_str()
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditSymbolArgs {
    uri: Uri,
    symbol: String,
    op: Op,
    #[serde(default)]
    text: String,
    /// The document version the edit was made against (LSP `VersionedTextDocumentIdentifier`):
    /// refused when the buffer has moved on since.
    #[serde(default)]
    version: Option<i32>,
}

async fn edit_symbol(backend: &Backend, args: EditSymbolArgs) -> Result<Value> {
    let session = backend.session()?;
    let fe = backend.frontend()?;
    let rel = rel_of(backend, &args.uri)?;
    let mut req = EditRequest::new(Target::Symbol(args.symbol), args.op, args.text);
    if let Some(expected) = args.version {
        let now = backend
            .docs
            .with(&args.uri, |d| (d.version, d.text()))
            .ok_or_else(|| failed(format!("{} is not open", args.uri.as_str())))?;
        if now.0 != expected {
            let current = jingu_realdoc::version::target_text(
                &now.1,
                jingu_syntax::Language::detect(std::path::Path::new(&rel), &now.1),
                &req.target,
            );
            return Err(failed(format!(
                "{rel} is at version {} but the edit was made against version {expected}; nothing \
                 was changed. Current text of {}:\n{current}",
                now.0, req.target
            )));
        }
        // Pin the text of that version: a change arriving before the edit lands refuses it.
        req.expect = Some(jingu_realdoc::version(now.1.as_bytes()));
    }
    let run = session
        .begin_run(None, &format!("jingu.editSymbol {} {}", req.op, req.target))
        .map_err(|e| failed(e.to_string()))?;
    let result = session.edit(&fe, &run, &rel, &req).await;
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result.map_err(|e| failed(e.to_string()))?;
    Ok(json!({"snapshot_id": outcome.snapshot_id, "summary": outcome.summary}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotsArgs {
    uri: Option<Uri>,
    run_id: Option<String>,
    limit: Option<usize>,
}

fn snapshots(backend: &Backend, args: SnapshotsArgs) -> Result<Value> {
    let session = backend.session()?;
    let path = args.uri.as_ref().map(|u| rel_of(backend, u)).transpose()?;
    let list = session
        .snapshots(
            path.as_deref(),
            args.run_id,
            Some(args.limit.unwrap_or(200)),
        )
        .map_err(|e| failed(e.to_string()))?;
    serde_json::to_value(list).map_err(|e| failed(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotDiffArgs {
    snapshot_id: String,
}

/// A snapshot's unified diff against its parent (editors show it in a diff view).
fn snapshot_diff(backend: &Backend, args: SnapshotDiffArgs) -> Result<Value> {
    let session = backend.session()?;
    let diff = session
        .snapshot_diff(&args.snapshot_id)
        .map_err(|e| failed(e.to_string()))?;
    Ok(json!({"snapshot_id": args.snapshot_id, "diff": diff}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFileArgs {
    snapshot_id: String,
    path: String,
}

/// A file's text before and after a snapshot (`null` where it did not exist), for a diff editor.
fn snapshot_file(backend: &Backend, args: SnapshotFileArgs) -> Result<Value> {
    let session = backend.session()?;
    let (before, after) = session
        .snapshot_file(&args.snapshot_id, &args.path)
        .map_err(|e| failed(e.to_string()))?;
    let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(json!({"snapshot_id": args.snapshot_id, "path": args.path,
              "before": text(before), "after": text(after)}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackArgs {
    snapshot_id: Option<String>,
    run_id: Option<String>,
}

async fn rollback(backend: &Backend, args: RollbackArgs) -> Result<Value> {
    let session = backend.session()?;
    let fe = backend.frontend()?;
    let target = match (args.snapshot_id, args.run_id) {
        (Some(id), None) => jingu_core::ops::RollbackTarget::Snapshot(id),
        (None, Some(run)) => jingu_core::ops::RollbackTarget::Run(run),
        _ => {
            return Err(Error::invalid_params(
                "give exactly one of `snapshot_id` or `run_id`",
            ));
        }
    };
    let run = session
        .begin_run(None, &format!("jingu.rollback {target}"))
        .map_err(|e| failed(e.to_string()))?;
    // The user picked this rollback from the editor: that is the confirmation policy's `ask` wants.
    let result = session
        .rollback(&jingu_core::ops::Confirmed(&fe), &run, &target)
        .await;
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result.map_err(|e| failed(e.to_string()))?;
    serde_json::to_value(outcome).map_err(|e| failed(e.to_string()))
}
