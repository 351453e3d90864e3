//! Standing permission rules (`[[policy.rules]]`): what an editor's "always allow" / "always
//! reject" answers leave behind, scoped to one tool and optionally a path glob.
//!
//! A `deny` rule only tightens, so it applies from any trusted layer. An `allow` rule can only
//! answer an `ask` that its own layer or the built-in default decided: it never loosens a `deny`
//! or `ask-human`, an `ask` set by a more trusted layer (enterprise, `$JINGU_POLICY`), or an `ask`
//! the workspace tightened to. Rules in the workspace config are ignored: a repository cannot
//! pre-approve anything.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

use super::layer::{Layer, RawLayer};
use super::{PolicyError, Sourced, Tool, ToolDecision};

/// What a rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleDecision {
    Allow,
    Deny,
}

/// One `[[policy.rules]]` entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub tool: String,
    /// A workspace-relative glob (`src/lib.rs`, `src/**`); none: every call of the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub decision: RuleDecision,
}

/// A rule of the effective policy, with the layer it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    pub tool: Tool,
    pub path: Option<String>,
    pub decision: RuleDecision,
    pub layer: Layer,
    matcher: Option<GlobMatcher>,
}

impl Rule {
    fn matches(&self, tool: Tool, path: Option<&str>) -> bool {
        if self.tool != tool {
            return false;
        }
        match (&self.matcher, path) {
            (None, _) => true,
            (Some(m), Some(p)) => m.is_match(p.trim_start_matches("./")),
            (Some(_), None) => false,
        }
    }

    /// `edit src/lib.rs` / `edit (any path)`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {}",
            self.tool.as_str(),
            self.path.as_deref().unwrap_or("(any path)")
        )
    }
}

/// A glob matching exactly `path`.
pub fn escape_glob(path: &str) -> String {
    globset::escape(path)
}

fn matcher(glob: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(glob.trim_start_matches("./"))
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// Check one layer's rules when it is parsed: an unknown tool or a bad glob is an error.
pub(crate) fn validate(rules: &[RawRule]) -> Result<(), String> {
    for r in rules {
        let tool = Tool::parse(&r.tool).ok_or_else(|| {
            format!(
                "unknown tool `{}` in [[policy.rules]] (known: {})",
                r.tool,
                Tool::ALL.map(Tool::as_str).join(", ")
            )
        })?;
        if tool == Tool::Complete {
            return Err("[[policy.rules]] cannot name `complete` (use [policy].tools)".into());
        }
        if let Some(p) = &r.path {
            matcher(p).map_err(|e| format!("bad [[policy.rules]] path glob `{p}`: {e}"))?;
        }
    }
    Ok(())
}

/// The rules of the trusted layers; workspace rules are dropped with a warning.
pub(crate) fn merge(layers: &[(Layer, &RawLayer)], warnings: &mut Vec<String>) -> Vec<Rule> {
    let mut out = Vec::new();
    for (l, r) in layers {
        let Some(rules) = &r.policy.rules else {
            continue;
        };
        if *l == Layer::Workspace {
            warnings.push(format!(
                "workspace config sets {} [[policy.rules]]; ignored (standing rules come only from enterprise or user config)",
                rules.len()
            ));
            continue;
        }
        for raw in rules {
            // Validated at parse time; a rule that still fails is skipped, never widened.
            let Some(tool) = Tool::parse(&raw.tool) else {
                continue;
            };
            let matcher = match raw.path.as_deref().map(matcher).transpose() {
                Ok(m) => m,
                Err(_) => continue,
            };
            out.push(Rule {
                tool,
                path: raw.path.clone(),
                decision: raw.decision,
                layer: *l,
                matcher,
            });
        }
    }
    out
}

/// What the rules make of `decided` for `tool` on `path`: a matching deny rule denies (the reason
/// is returned), a matching allow rule turns an `ask` it may answer into `allow`.
pub(crate) fn apply(
    rules: &[Rule],
    tool: Tool,
    path: Option<&str>,
    decided: &Sourced<ToolDecision>,
) -> Option<Result<(), String>> {
    let matching = || rules.iter().filter(move |r| r.matches(tool, path));
    if let Some(r) = matching().find(|r| r.decision == RuleDecision::Deny) {
        return Some(Err(format!(
            "rejected by the standing rule `{}` ({} config)",
            r.describe(),
            r.layer
        )));
    }
    if decided.value != ToolDecision::Ask {
        return None;
    }
    matching()
        .find(|r| {
            r.decision == RuleDecision::Allow
                && (decided.layer == Layer::Default || decided.layer == r.layer)
        })
        .map(|_| Ok(()))
}

/// What [`append_user_rule`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    Added,
    /// The same rule was already there.
    AlreadyThere,
}

/// Add `rule` to the user config file at `path` (created when missing). The file is re-parsed
/// with the rule before it is replaced, atomically: it is either its old or its new text.
pub fn append_user_rule(path: &Path, rule: &RawRule) -> Result<Appended, PolicyError> {
    let io = |source: std::io::Error| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    };
    validate(std::slice::from_ref(rule)).map_err(|reason| PolicyError::Malformed {
        layer: Layer::User,
        path: path.to_path_buf(),
        reason,
    })?;
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let current = RawLayer::parse(&old, Layer::User, path)?;
    if current.policy.rules.iter().flatten().any(|r| r == rule) {
        return Ok(Appended::AlreadyThere);
    }
    let mut text = old.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("\n# Added by Jingu when you chose \"always\" in a permission question.\n");
    text.push_str("[[policy.rules]]\n");
    text.push_str(&format!(
        "tool = {}\n",
        toml::Value::String(rule.tool.clone())
    ));
    if let Some(p) = &rule.path {
        text.push_str(&format!("path = {}\n", toml::Value::String(p.clone())));
    }
    let decision = match rule.decision {
        RuleDecision::Allow => "allow",
        RuleDecision::Deny => "deny",
    };
    text.push_str(&format!("decision = \"{decision}\"\n"));
    // The whole file must still parse (an inline `policy = { … }` table cannot take the rule).
    let parsed = RawLayer::parse(&text, Layer::User, path)?;
    if !parsed.policy.rules.iter().flatten().any(|r| r == rule) {
        return Err(PolicyError::Malformed {
            layer: Layer::User,
            path: path.to_path_buf(),
            reason: "the rule could not be added to this file's [policy] section".into(),
        });
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(
        ".{}.jingu-{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(Appended::Added)
}

/// `policy.rules[]` entries for `jingu policy`.
pub(crate) fn entries(rules: &[Rule]) -> Vec<(serde_json::Value, Layer)> {
    rules
        .iter()
        .map(|r| {
            (
                serde_json::json!({
                    "tool": r.tool.as_str(),
                    "path": r.path,
                    "decision": r.decision,
                }),
                r.layer,
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
