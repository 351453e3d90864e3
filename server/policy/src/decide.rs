//! Per-tool, per-path decisions. `deny_paths` globs deny every tool on matching paths, and so does
//! any path inside `.git/` or `.jingu/` (in any letter case: case-insensitive file systems exist).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{Policy, Sourced, Tool, ToolDecision};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Ask,
    Deny(String),
}

/// Compiled `deny_paths`. A glob without `/` matches the name at any depth, like `.gitignore`.
#[derive(Debug, Clone)]
pub(crate) struct DenySet {
    set: GlobSet,
    /// Original pattern for each compiled glob index.
    patterns: Vec<String>,
}

impl DenySet {
    pub(crate) fn build(globs: &[Sourced<String>]) -> Result<Self, globset::Error> {
        let mut b = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for g in globs {
            let pat = g.value.trim_start_matches("./").trim_end_matches('/');
            let mut forms = vec![pat.to_string()];
            if !pat.contains('/') {
                forms.push(format!("**/{pat}"));
            }
            for f in forms {
                // Case-insensitive: `.ENV` is `.env` on case-insensitive file systems.
                b.add(GlobBuilder::new(&f).case_insensitive(true).build()?);
                patterns.push(g.value.clone());
            }
        }
        Ok(Self {
            set: b.build()?,
            patterns,
        })
    }

    /// The pattern denying `rel` or any of its parent directories.
    pub(crate) fn matching(&self, rel: &str) -> Option<&str> {
        let rel = rel.trim_start_matches("./");
        let mut prefix = String::new();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if let Some(i) = self.set.matches(&prefix).first() {
                return self.patterns.get(*i).map(String::as_str);
            }
        }
        None
    }
}

/// Names no tool may touch, compared case-insensitively.
pub(crate) const PROTECTED_DIRS: [&str; 2] = [".git", ".jingu"];

pub(crate) fn protected_component(rel: &str) -> Option<&'static str> {
    rel.split('/').find_map(|part| {
        PROTECTED_DIRS
            .into_iter()
            .find(|p| part.trim_end_matches(['.', ' ']).eq_ignore_ascii_case(p))
    })
}

impl Policy {
    /// May `tool` act on `path` (workspace-relative, already confined)?
    pub fn decide(&self, tool: Tool, path: Option<&str>) -> Decision {
        if let Some(p) = path {
            if let Some(dir) = protected_component(p) {
                return Decision::Deny(format!("`{p}` is inside protected `{dir}/`"));
            }
            if let Some(pat) = self.deny_set.matching(p) {
                let layer = self
                    .deny_paths
                    .iter()
                    .find(|g| g.value == pat)
                    .map(|g| g.layer.as_str())
                    .unwrap_or("default");
                return Decision::Deny(format!(
                    "`{p}` matches deny_paths glob `{pat}` ({layer} policy)"
                ));
            }
        }
        let d = self.tool_decision(tool);
        match super::rules::apply(&self.rules, tool, path, &d) {
            Some(Err(reason)) => return Decision::Deny(reason),
            Some(Ok(())) => return Decision::Allow,
            None => {}
        }
        match d.value {
            ToolDecision::Allow => Decision::Allow,
            // The agent host also asks a person for these (`Policy::needs_human`); for the
            // operations themselves it is an `ask`.
            ToolDecision::Ask | ToolDecision::AskHuman => Decision::Ask,
            ToolDecision::Deny => Decision::Deny(format!(
                "tool `{}` is denied by the {} policy",
                tool.as_str(),
                d.layer
            )),
        }
    }

    /// Is `rel` readable/sendable at all (not in `deny_paths`, not protected)?
    pub fn path_denied(&self, rel: &str) -> Option<String> {
        match self.decide(Tool::Read, Some(rel)) {
            Decision::Deny(r)
                if protected_component(rel).is_some() || self.deny_set.matching(rel).is_some() =>
            {
                Some(r)
            }
            _ => None,
        }
    }
}
