//! The guard's check for MCP tool calls. The decision is the most restrictive of `policy.tools.mcp`
//! and the server's own `decisions` (which can therefore only tighten), and a call the host already
//! refuses (a tool that was not offered, a changed description) is recorded as a denial too: every
//! attempt is in the audit log before anything reaches a server.

use jingu_audit::RecordKind;
use jingu_policy::{Tool, ToolDecision};

use crate::guard::{Guard, Refusal, Verdict};

impl Guard<'_> {
    /// Decide the call of MCP tool `name` and audit the outcome. `server` is the server's own
    /// decision for this tool; `refused` a reason the host already has to refuse it.
    pub(crate) fn check_mcp(
        &self,
        name: &str,
        server: Option<ToolDecision>,
        refused: Option<String>,
    ) -> Result<Verdict, Refusal> {
        let policy = self.policy.tool_decision(Tool::Mcp);
        let (decision, reason) = match refused {
            Some(r) => (ToolDecision::Deny, Some(r)),
            None => match server {
                Some(s) if s > policy.value => (
                    s,
                    (s == ToolDecision::Deny)
                        .then(|| format!("`{name}` is denied by its server's `decisions`")),
                ),
                _ => (
                    policy.value,
                    (policy.value == ToolDecision::Deny)
                        .then(|| format!("tool `mcp` is denied by the {} policy", policy.layer)),
                ),
            },
        };
        let word = match decision {
            ToolDecision::Allow => "allow",
            ToolDecision::Ask => "ask",
            ToolDecision::AskHuman => "ask-human",
            ToolDecision::Deny => "deny",
        };
        self.audit
            .append(RecordKind::PolicyDecision {
                tool: name.to_string(),
                path: None,
                decision: word.to_string(),
                reason: reason.clone(),
            })
            .map_err(|e| Refusal {
                tool: "mcp",
                reason: format!("cannot write the audit record, so the call may not run: {e}"),
            })?;
        match decision {
            ToolDecision::Allow => Ok(Verdict::Allow { path: None }),
            // A person already answered `ask-human` in the host's flow gate, which runs first.
            ToolDecision::Ask | ToolDecision::AskHuman => Ok(Verdict::Ask { path: None }),
            ToolDecision::Deny => Err(Refusal {
                tool: "mcp",
                reason: reason.unwrap_or_default(),
            }),
        }
    }
}
