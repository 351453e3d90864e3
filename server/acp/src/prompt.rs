//! `session/prompt`: one agent run for one user message, streamed as `session/update`s.

use std::sync::Arc;

use agent_client_protocol::Client;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    ContentBlock, EmbeddedResourceResource, PromptRequest, PromptResponse, StopReason as AcpStop,
    ToolCallStatus,
};

use super::error::AcpError;
use super::frontend::AcpFrontend;
use super::session::{AcpSession, Turn};
use jingu_core::agent::attach::Attachment;
use jingu_core::agent::conversation::{Conversation, ConversationError, TurnInfo};
use jingu_core::agent::{self, AskRequest, RunConfig, StopReason};
use jingu_core::ops::Frontend;

/// Clears the session's in-flight marker however the prompt ends.
struct Active<'a>(&'a AcpSession);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.finish_prompt();
    }
}

/// The user's text: text blocks verbatim, attached resources named (their content goes to the
/// model separately, see [`attachments`]).
pub(crate) fn prompt_text(blocks: &[ContentBlock]) -> String {
    let mut out = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(t) => out.push(t.text.clone()),
            ContentBlock::ResourceLink(l) => out.push(format!("(attached: {})", l.uri)),
            ContentBlock::Resource(r) => match &r.resource {
                EmbeddedResourceResource::TextResourceContents(t) => {
                    out.push(format!("(attached: {})", t.uri));
                }
                EmbeddedResourceResource::BlobResourceContents(b) => {
                    out.push(format!("(binary attachment not used: {})", b.uri));
                }
                _ => {}
            },
            _ => {}
        }
    }
    out.join("\n")
}

/// The prompt's `resource` (text the editor embedded, e.g. a selection) and `resource_link`
/// blocks, for the agent to confine and decide before the model sees anything of them.
pub(crate) fn attachments(blocks: &[ContentBlock]) -> Vec<Attachment> {
    blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ResourceLink(l) => Some(Attachment {
                uri: l.uri.clone(),
                text: None,
            }),
            ContentBlock::Resource(r) => match &r.resource {
                EmbeddedResourceResource::TextResourceContents(t) => Some(Attachment {
                    uri: t.uri.clone(),
                    text: Some(t.text.clone()),
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

pub(crate) async fn run(
    acp: Arc<AcpSession>,
    req: PromptRequest,
    cx: ConnectionTo<Client>,
    client_fs: bool,
) -> Result<PromptResponse, AcpError> {
    let text = prompt_text(&req.prompt);
    if text.trim().is_empty() {
        return Err(AcpError::EmptyPrompt);
    }
    let cancel = acp.start_prompt()?;
    let _active = Active(&acp);
    let session = acp.open()?;
    let fe = AcpFrontend::new(
        cx,
        acp.id.clone(),
        acp.root.clone(),
        acp.mode(),
        client_fs,
        cancel.clone(),
    );
    // The conversation so far (saved in the state directory, so it survives a restart) is the
    // context: messages, tool calls and results, as `jingu ask --continue` gives them.
    let mut conversation = match Conversation::load(&session, &acp.id) {
        Ok(c) => Some(c),
        Err(ConversationError::NotFound(_)) => None,
        Err(e) => {
            tracing::warn!("session {}: earlier turns unavailable: {e}", acp.id);
            None
        }
    };
    let picked = match jingu_core::ops::off_runtime(|| acp.picked()) {
        Ok(p) => p,
        Err(id) => {
            fe.progress(&format!(
                "the model `{id}` picked for this session is no longer allowed; using the default"
            ));
            None
        }
    };
    let ask = AskRequest {
        instruction: match &conversation {
            Some(_) => text.clone(),
            None => acp.instruction(&text),
        },
        history: conversation
            .as_ref()
            .map(|c| c.messages.clone())
            .unwrap_or_default(),
        provider: picked.as_ref().map(|c| c.provider.clone()),
        model: picked.map(|c| c.model),
        attachments: attachments(&req.prompt),
        mcp_pool: Some(acp.mcp.clone()),
        ..Default::default()
    };
    let outcome = agent::ask(&session, &fe, &ask, &RunConfig::default(), cancel.clone()).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            fe.finish(ToolCallStatus::Failed);
            return Err(e.into());
        }
    };
    // ACP requires `cancelled` after `session/cancel`, also when the cancellation reached the
    // provider mid-request and surfaced as a model error.
    let cancelled = cancel.is_cancelled() || matches!(outcome.stop, StopReason::Cancelled);
    fe.finish(if cancelled {
        ToolCallStatus::Failed
    } else {
        ToolCallStatus::Completed
    });
    // The summary reaches the client only if the model did not already stream it.
    if !fe.streamed().trim_end().ends_with(outcome.summary.trim()) && !cancelled {
        fe.message(&format!("\n{}", outcome.summary));
    }
    let conv = conversation.get_or_insert_with(|| Conversation {
        id: acp.id.clone(),
        ..Conversation::new()
    });
    conv.push_turn(
        TurnInfo {
            instruction: text.clone(),
            run_id: outcome.run_id.clone(),
            summary: outcome.summary.clone(),
            time: Conversation::now(),
            edits: fe.take_edits(),
        },
        outcome.messages.clone(),
    );
    // A model picked while this prompt ran is kept.
    conv.model = acp.model().or(conv.model.take());
    if let Err(e) = conv.save(&session) {
        tracing::warn!("session {} not saved: {e}", acp.id);
    }
    acp.record(Turn {
        user: text,
        agent: outcome.summary.clone(),
        run_id: Some(outcome.run_id.clone()),
    });
    let stop = match outcome.stop {
        _ if cancelled => AcpStop::Cancelled,
        StopReason::Finished | StopReason::ModelError(_) | StopReason::RepeatedFailure(_) => {
            AcpStop::EndTurn
        }
        StopReason::StepLimit => AcpStop::MaxTurnRequests,
        StopReason::TokenBudget => AcpStop::MaxTokens,
        StopReason::Cancelled => AcpStop::Cancelled,
        StopReason::Refused(_) => AcpStop::Refusal,
    };
    // Jingu's own result rides in `_meta`: the run to roll back and the snapshot of each edit.
    let edits: Vec<serde_json::Value> = outcome
        .edits
        .iter()
        .map(|e| serde_json::json!({"path": e.path, "snapshotId": e.snapshot_id}))
        .collect();
    let mut meta = serde_json::Map::new();
    meta.insert(
        "jingu".into(),
        serde_json::json!({"runId": outcome.run_id, "edits": edits}),
    );
    Ok(PromptResponse::new(stop).meta(meta))
}
