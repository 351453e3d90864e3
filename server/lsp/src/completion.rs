//! `textDocument/inlineCompletion` (LSP 3.18, ghost text) over `Session::complete`; the item's
//! `command` (`jingu.acceptCompletion`) is what the editor runs when the user accepts it, and is
//! what gets audited. tower-lsp-server has no typed hook for this request, so it is registered as
//! a custom method with the 3.18 types from ls-types; `$/cancelRequest` drops this future, which
//! cancels the model call.

use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    Command, InlineCompletionItem, InlineCompletionList, InlineCompletionParams,
    InlineCompletionResponse, MessageType, Range,
};

use super::server::{Backend, failed};
use jingu_core::complete::{CompleteError, CompletionOutcome, CompletionRequest};
use jingu_providers::CancelToken;

pub(crate) const METHOD: &str = "textDocument/inlineCompletion";
pub(crate) const ACCEPT_COMMAND: &str = "jingu.acceptCompletion";
/// Longest a completion waits for the workspace index to be ready.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

impl Backend {
    /// The custom-method entry point (tower-lsp-server calls it with `&self`).
    pub async fn inline_completion(
        &self,
        params: InlineCompletionParams,
    ) -> Result<Option<InlineCompletionResponse>> {
        inline_completion(self, params).await
    }
}

async fn inline_completion(
    backend: &Backend,
    params: InlineCompletionParams,
) -> Result<Option<InlineCompletionResponse>> {
    let session = backend.session()?;
    let pos = params.text_document_position.position;
    let uri = params.text_document_position.text_document.uri;
    let Some(path) = backend.rel_path(&uri) else {
        return Ok(None); // not a file of this workspace: nothing to complete
    };
    let enc = backend.encoding();
    let doc = backend.docs.with(&uri, |doc| {
        let offset = jingu_docs::position::to_byte(&doc.rope, pos, enc);
        (doc.rope.to_string(), offset, doc.language)
    });
    let Some((text, offset, language)) = doc else {
        return Err(failed(format!("document {} is not open", uri.as_str())));
    };
    let offset = offset.map_err(|e| failed(format!("position {pos:?}: {e}")))?;
    // The index lends signatures; a workspace still being indexed does not hold the answer up.
    let index = match tokio::time::timeout(INDEX_WAIT, backend.ensure_index()).await {
        Ok(index) => index,
        Err(_) => backend.index.get().cloned(),
    };
    let req = CompletionRequest {
        path,
        text,
        offset,
        language,
        index,
    };
    // The request's own token: dropped (cancelled by the client, or superseded) → cancelled.
    let cancel = CancelToken::new();
    let _guard = CancelOnDrop(cancel.clone());
    let outcome = match session.complete(req, &cancel).await {
        Ok(o) => o,
        Err(CompleteError::Unavailable(why)) => {
            // Said once, not at every keystroke.
            if !backend
                .completion_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                backend
                    .client
                    .show_message(
                        MessageType::WARNING,
                        format!("Jingu: inline completion is off: {why}"),
                    )
                    .await;
            }
            return Ok(None);
        }
        Err(CompleteError::Denied(why)) => {
            tracing::debug!("inline completion refused: {why}");
            return Ok(None);
        }
        Err(e) => return Err(failed(e.to_string())),
    };
    let items = match outcome {
        CompletionOutcome::Items(items) => items,
        CompletionOutcome::Empty(why) => {
            tracing::debug!(?why, "no inline completion");
            return Ok(Some(InlineCompletionResponse::List(InlineCompletionList {
                items: Vec::new(),
            })));
        }
    };
    let items = items
        .into_iter()
        .map(|item| InlineCompletionItem {
            insert_text: item.text,
            filter_text: None,
            // Inserted at the cursor: an empty range on the cursor's line.
            range: Some(Range::new(pos, pos)),
            command: Some(Command {
                title: "Accept completion".into(),
                command: ACCEPT_COMMAND.into(),
                arguments: Some(vec![json!({ "id": item.id })]),
            }),
            insert_text_format: None,
        })
        .collect();
    Ok(Some(InlineCompletionResponse::List(InlineCompletionList {
        items,
    })))
}

struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptArgs {
    id: String,
}

/// `jingu.acceptCompletion {id}`: the editor inserted the item; audit it.
pub(crate) fn accept(backend: &Backend, args: AcceptArgs) -> Result<Value> {
    let session = backend.session()?;
    session
        .accept_completion(&args.id)
        .map_err(|e| failed(e.to_string()))?;
    Ok(json!({ "accepted": args.id }))
}
