//! The single checkpoint between a tool request (from the model, a skill or an MCP server) and its
//! execution: confine the path, decide, and record the decision in the audit log *before*
//! answering. Anything that fails along the way — a bad path, a denial, an unwritable audit log —
//! is a refusal, so a caller that only acts on `Ok` can never act unchecked or unrecorded.

use jingu_audit::{AuditLog, RecordKind};
use jingu_fs::workspace::{Access, Workspace};

use jingu_policy::{Decision, Policy, Tool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go ahead; `path` is the confined workspace-relative path (if the tool named one).
    Allow { path: Option<String> },
    /// Ask the user first (`jingu ask --yes` or an editor confirmation may grant it).
    Ask { path: Option<String> },
}

#[derive(Debug, thiserror::Error)]
#[error("{tool} refused: {reason}")]
pub(crate) struct Refusal {
    pub tool: &'static str,
    pub reason: String,
}

pub(crate) struct Guard<'a> {
    pub workspace: &'a Workspace,
    pub policy: &'a Policy,
    pub audit: &'a AuditLog,
}

fn access_for(tool: Tool) -> Access {
    match tool {
        Tool::Read | Tool::Complete => Access::Read,
        Tool::Edit | Tool::RunCommand | Tool::Mcp => Access::Write,
    }
}

impl Guard<'_> {
    /// Check `tool` on `raw_path` (as the requester spelled it) and audit the outcome.
    pub(crate) fn check(&self, tool: Tool, raw_path: Option<&str>) -> Result<Verdict, Refusal> {
        self.check_inner(tool, raw_path, false)
    }

    /// As [`Guard::check`], but the decision record is staged: it is written with the caller's
    /// next record, in the same write and fsync. Only for callers that append a record of their
    /// own before acting (an edit appends its `edit` record before touching the file).
    pub(crate) fn check_staged(
        &self,
        tool: Tool,
        raw_path: Option<&str>,
    ) -> Result<Verdict, Refusal> {
        self.check_inner(tool, raw_path, true)
    }

    fn check_inner(
        &self,
        tool: Tool,
        raw_path: Option<&str>,
        staged: bool,
    ) -> Result<Verdict, Refusal> {
        let name = tool.as_str();
        let (path, decision) = match raw_path {
            None => (None, self.policy.decide(tool, None)),
            Some(raw) => match self
                .workspace
                .confine_for_tool(raw, self.policy, access_for(tool))
            {
                Ok(rel) => {
                    let d = self.policy.decide(tool, Some(&rel));
                    (Some(rel), d)
                }
                Err(e) => (Some(raw.to_string()), Decision::Deny(e.to_string())),
            },
        };
        let (word, reason) = match &decision {
            Decision::Allow => ("allow", None),
            Decision::Ask => ("ask", None),
            Decision::Deny(r) => ("deny", Some(r.clone())),
        };
        let record = RecordKind::PolicyDecision {
            tool: name.to_string(),
            path: path.clone(),
            decision: word.to_string(),
            reason: reason.clone(),
        };
        if staged {
            self.audit.stage(record);
        } else {
            self.audit.append(record).map_err(|e| Refusal {
                tool: name,
                reason: format!("cannot write the audit record, so the action may not run: {e}"),
            })?;
        }
        match decision {
            Decision::Allow => Ok(Verdict::Allow { path }),
            Decision::Ask => Ok(Verdict::Ask { path }),
            Decision::Deny(reason) => Err(Refusal { tool: name, reason }),
        }
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
