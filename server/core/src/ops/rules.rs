//! Standing answers: an editor's "always allow" / "always reject" becomes a `[[policy.rules]]`
//! entry in the user's config (never the workspace's), audited before the file changes. The
//! policy crate decides what such a rule may answer (never an enterprise `ask`, `ask-human` or
//! `deny`).

use jingu_audit::RecordKind;
use jingu_policy::rules::{Appended, RawRule, RuleDecision, append_user_rule};
use jingu_policy::{PolicySources, Tool};

use super::error::OpsError;
use super::session::{Run, Session};

impl Session {
    /// Remember `decision` for `tool` on the workspace-relative `path` in the user config. Returns
    /// the config file written and whether the rule was new.
    pub fn remember_rule(
        &self,
        run: &Run,
        tool: Tool,
        path: &str,
        decision: RuleDecision,
    ) -> Result<(std::path::PathBuf, bool), OpsError> {
        let sources = PolicySources::from_env(&self.workspace.root);
        let file = sources.user.ok_or_else(|| {
            OpsError::Denied(
                "no user config file to remember the answer in (set JINGU_CONFIG or HOME)".into(),
            )
        })?;
        let rule = RawRule {
            tool: tool.as_str().to_string(),
            path: Some(jingu_policy::rules::escape_glob(path)),
            decision,
        };
        let word = match decision {
            RuleDecision::Allow => "always-allow",
            RuleDecision::Deny => "always-deny",
        };
        run.audit
            .append(RecordKind::PolicyDecision {
                tool: tool.as_str().to_string(),
                path: Some(path.to_string()),
                decision: word.to_string(),
                reason: Some(format!(
                    "standing rule added to the user config {}",
                    file.display()
                )),
            })
            .map_err(|e| {
                OpsError::Denied(format!(
                    "cannot audit the standing rule, so it is not saved: {e}"
                ))
            })?;
        let outcome = append_user_rule(&file, &rule)?;
        Ok((file, outcome == Appended::Added))
    }
}
