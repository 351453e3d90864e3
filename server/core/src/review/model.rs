//! The review request: one conversation whose answer is a `report_findings` tool call. The request
//! is redacted and audited by the agent's own [`SessionHost::prepare_request`] before it leaves.

use serde_json::{Value, json};

use super::context::{Context, render};
use super::finding::{Dropped, Finding};
use crate::agent::host::SessionHost;
use crate::agent::run::{RunHost, RunInfo};
use crate::ops::{Frontend, Run, Session};
use jingu_providers::{CancelToken, ChatRequest, Message, ProviderError, Router, ToolSpec};

pub const TOOL: &str = "report_findings";
/// Requests per review: the first, and one reminder if the model answered without the tool.
const MAX_REQUESTS: usize = 2;
const MAX_TOKENS: u32 = 8192;

const SYSTEM: &str = "You are a meticulous code reviewer. You see changed symbols (before and \
now, with line numbers of the current file) and the lines that call them. Report real problems \
only: bugs, security issues, performance problems, style problems that hurt readability, and \
missing or wrong tests. Cite the exact current line range. When a fix is local, give \
`replacement`: the exact new text for those whole lines, indented as in the file. Answer by \
calling `report_findings` once.";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the review request was not sent: {0}")]
    Refused(String),
    #[error("the model request failed: {0}")]
    Provider(#[from] ProviderError),
    #[error("the model did not call `{TOOL}` (it said: {0:?})")]
    NoReport(String),
}

/// What the model reported: findings that parsed, and entries that did not (already dropped).
#[derive(Debug, Default)]
pub struct Reply {
    pub findings: Vec<Finding>,
    pub malformed: Vec<Dropped>,
    pub summary: String,
}

pub fn tool_spec() -> ToolSpec {
    ToolSpec {
        name: TOOL.into(),
        description: "Report the review's findings (an empty list when there are none).".into(),
        parameters: json!({
            "type": "object",
            "required": ["findings"],
            "properties": {
                "findings": {"type": "array", "items": {
                    "type": "object",
                    "required": ["file", "start_line", "end_line", "severity", "category", "message"],
                    "properties": {
                        "file": {"type": "string", "description": "workspace-relative path"},
                        "start_line": {"type": "integer", "minimum": 1},
                        "end_line": {"type": "integer", "minimum": 1, "description": "inclusive"},
                        "severity": {"enum": ["error", "warning", "info", "hint"]},
                        "category": {"enum": ["bug", "security", "performance", "style", "test"]},
                        "message": {"type": "string"},
                        "replacement": {"type": "string", "description": "exact new text for lines start_line..end_line"}
                    }
                }},
                "summary": {"type": "string"}
            }
        }),
    }
}

/// Ask the model to review `ctx`, as part of `run`.
pub async fn ask<F: Frontend>(
    session: &Session,
    fe: &F,
    run: &Run,
    router: &Router,
    label: String,
    ctx: &Context,
    cancel: &CancelToken,
) -> Result<Reply, ModelError> {
    let host = SessionHost::new(session, fe, run, label);
    let mut messages = vec![Message::user(render(ctx))];
    let mut said = String::new();
    for step in 0..MAX_REQUESTS {
        let mut req = ChatRequest {
            system: Some(SYSTEM.into()),
            messages: messages.clone(),
            tools: vec![tool_spec()],
            max_tokens: Some(MAX_TOKENS),
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        let info = RunInfo {
            run_id: run.id.clone(),
            step,
        };
        host.prepare_request(&mut req, &info)
            .await
            .map_err(ModelError::Refused)?;
        let resp = router.complete(&req, cancel).await?.value;
        host.record_usage(resp.usage, &info);
        if let Some(call) = resp.tool_calls.iter().find(|c| c.name == TOOL) {
            return Ok(parse_report(&call.arguments.to_value(), &resp.text));
        }
        said = resp.text.clone();
        messages.push(Message::assistant(resp.text));
        messages.push(Message::user(format!(
            "Answer by calling `{TOOL}` (with an empty list if nothing is wrong)."
        )));
    }
    Err(ModelError::NoReport(said))
}

/// Parse the tool's arguments entry by entry: one malformed finding does not discard the others.
pub fn parse_report(args: &Value, text: &str) -> Reply {
    let mut reply = Reply {
        summary: args
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or(text)
            .trim()
            .to_string(),
        ..Reply::default()
    };
    let Some(items) = args.get("findings").and_then(Value::as_array) else {
        reply.malformed.push(Dropped {
            finding: args.clone(),
            reason: "the report has no `findings` list".into(),
        });
        return reply;
    };
    for item in items {
        match serde_json::from_value::<Finding>(item.clone()) {
            Ok(f) => reply.findings.push(f),
            Err(e) => reply.malformed.push(Dropped {
                finding: item.clone(),
                reason: format!("malformed finding: {e}"),
            }),
        }
    }
    reply
}
