//! `[policy.flows]`: the data-flow policy (issue #23). Which files are *sensitive sinks* (CI,
//! hooks, build scripts, dependency manifests, auth code), what happens when a sink receives text
//! that only untrusted context holds (`untrusted_to_sink`), which files count as trusted context,
//! which paths always need a person, and how many files one command may change before the change
//! is flagged as bulk.
//!
//! Layer rules, as for every security key: sinks and `ask_human_paths` are a union (a lower layer
//! extends the built-in set, never shrinks it); `untrusted_to_sink` is the strictest of the
//! layers; `bulk_change_threshold` the smallest; `trusted_paths` widens trust, so only the trusted
//! layers (enterprise, extra, user) may set it and a workspace value is ignored with a warning.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::layer::{Layer, RawLayer};
use super::{Policy, Sourced};

/// Files whose change can run code on a developer's or CI machine, change what gets installed, or
/// disable a safety check. Always sinks; a policy can only add to them.
pub const BUILTIN_SENSITIVE_SINKS: &[&str] = &[
    // CI
    ".github/**",
    ".gitlab-ci.yml",
    ".gitlab/**",
    ".circleci/**",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".travis.yml",
    ".buildkite/**",
    ".drone.yml",
    "bitbucket-pipelines.yml",
    // hooks
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    ".husky/**",
    ".githooks/**",
    "lefthook.yml",
    ".lefthook.yml",
    // build scripts
    "Makefile",
    "makefile",
    "GNUmakefile",
    "*.mk",
    "build.rs",
    "setup.py",
    "setup.cfg",
    "CMakeLists.txt",
    "build.gradle",
    "build.gradle.kts",
    "Dockerfile",
    "justfile",
    "Justfile",
    "Rakefile",
    "noxfile.py",
    "tox.ini",
    "conftest.py",
    // dependency manifests and lockfiles
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    ".npmrc",
    "pyproject.toml",
    "requirements*.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "Cargo.toml",
    "Cargo.lock",
    ".cargo/config.toml",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Gemfile.lock",
    "pom.xml",
    "composer.json",
    "composer.lock",
    // authentication and authorisation code, by its usual names (a policy adds its own)
    "auth.*",
    "auth_*.*",
    "*_auth.*",
    "authn.*",
    "authz.*",
    "login.*",
    "permissions.*",
    "**/auth/**",
    "**/security/**",
];

/// What happens to a call that moves untrusted-only text into a sensitive sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowDecision {
    /// A person must approve it, shown the source; `--yes` and `auto` cannot.
    Ask,
    Deny,
}

/// Default `bulk_change_threshold`: a command changing more files than this is flagged.
pub const DEFAULT_BULK_CHANGE_THRESHOLD: usize = 10;

/// `[policy.flows]` as written in one layer.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlows {
    pub sensitive_sinks: Option<Vec<String>>,
    pub untrusted_to_sink: Option<FlowDecision>,
    pub trusted_paths: Option<Vec<String>>,
    pub ask_human_paths: Option<Vec<String>>,
    pub bulk_change_threshold: Option<usize>,
}

/// A glob list compiled like `deny_paths`: a pattern without `/` matches the name at any depth.
///
/// The globs are checked when their layer is parsed ([`validate`]; the built-in ones by a test)
/// and compiled to a regex automaton on the first match only: most commands (`jingu edit`, a
/// review) never ask whether a path is a sink, and compiling the built-in sinks at every load was
/// a quarter of a whole edit's instructions.
#[derive(Debug, Clone)]
pub struct PathSet {
    /// The globs as compiled (a pattern without `/` twice: as given and under `**/`).
    forms: Vec<String>,
    /// The pattern as written, for each form.
    patterns: Vec<String>,
    set: std::sync::OnceLock<Option<GlobSet>>,
    /// What a set that cannot be compiled answers (a glob that slipped past validation, a regex
    /// size limit): every path matches (for lists that restrict) or none does (for lists that
    /// widen trust). Never looser than the policy.
    matches_on_failure: bool,
}

impl PathSet {
    pub(crate) fn build<'a>(
        globs: impl IntoIterator<Item = &'a str>,
        matches_on_failure: bool,
    ) -> Self {
        let mut forms = Vec::new();
        let mut patterns = Vec::new();
        for g in globs {
            let pat = g.trim_start_matches("./").trim_end_matches('/');
            forms.push(pat.to_string());
            patterns.push(g.to_string());
            if !pat.contains('/') {
                forms.push(format!("**/{pat}"));
                patterns.push(g.to_string());
            }
        }
        Self {
            forms,
            patterns,
            set: std::sync::OnceLock::new(),
            matches_on_failure,
        }
    }

    fn compile(&self) -> Result<GlobSet, globset::Error> {
        let mut b = GlobSetBuilder::new();
        for f in &self.forms {
            b.add(GlobBuilder::new(f).literal_separator(true).build()?);
        }
        b.build()
    }

    /// The pattern matching `rel` (workspace-relative), if any.
    pub fn matching(&self, rel: &str) -> Option<&str> {
        if self.forms.is_empty() {
            return None;
        }
        let set = self.set.get_or_init(|| {
            self.compile()
                .map_err(|e| {
                    tracing::error!(
                        "[policy.flows] globs cannot be compiled ({e}); treating {} paths as matching",
                        if self.matches_on_failure { "all" } else { "no" }
                    )
                })
                .ok()
        });
        let rel = rel.trim_start_matches("./");
        match set {
            Some(set) => set
                .matches(rel)
                .first()
                .and_then(|i| self.patterns.get(*i))
                .map(String::as_str),
            None if self.matches_on_failure => self.patterns.first().map(String::as_str),
            None => None,
        }
    }
}

/// The effective `[policy.flows]`.
#[derive(Debug, Clone)]
pub struct FlowsPolicy {
    /// Built-in sinks (layer `default`) and every layer's additions.
    pub sensitive_sinks: Vec<Sourced<String>>,
    pub untrusted_to_sink: Sourced<FlowDecision>,
    pub trusted_paths: Vec<Sourced<String>>,
    pub ask_human_paths: Vec<Sourced<String>>,
    pub bulk_change_threshold: Sourced<usize>,
    sinks: PathSet,
    trusted: PathSet,
    ask_human: PathSet,
}

impl FlowsPolicy {
    /// The sink pattern `rel` matches (built-in or from a layer).
    pub fn sink(&self, rel: &str) -> Option<&str> {
        self.sinks.matching(rel)
    }

    /// Whether a file's content counts as trusted context.
    pub fn trusted_path(&self, rel: &str) -> bool {
        self.trusted.matching(rel).is_some()
    }

    /// The `ask_human_paths` pattern `rel` matches.
    pub fn ask_human_path(&self, rel: &str) -> Option<&str> {
        self.ask_human.matching(rel)
    }
}

fn glob_error(g: &str, e: globset::Error) -> String {
    format!("bad glob `{g}` in [policy.flows]: {e}")
}

/// Check every glob of a layer's `[policy.flows]` (at parse time, so the error names the file).
pub(crate) fn validate(raw: &RawFlows) -> Result<(), String> {
    for list in [
        &raw.sensitive_sinks,
        &raw.trusted_paths,
        &raw.ask_human_paths,
    ] {
        for g in list.iter().flatten() {
            globset::Glob::new(g).map_err(|e| glob_error(g, e))?;
        }
    }
    if raw.bulk_change_threshold == Some(0) {
        return Err("[policy.flows] bulk_change_threshold must be at least 1".into());
    }
    Ok(())
}

pub(crate) fn merge(layers: &[(Layer, &RawLayer)], warnings: &mut Vec<String>) -> FlowsPolicy {
    let union = |key: &str,
                 builtin: &[&str],
                 get: &dyn Fn(&RawFlows) -> Option<&Vec<String>>,
                 trusted_only: bool,
                 warnings: &mut Vec<String>| {
        let mut out: Vec<Sourced<String>> = builtin
            .iter()
            .map(|g| Sourced::new((*g).to_string(), Layer::Default))
            .collect();
        for (l, r) in layers {
            let Some(list) = flows(r).and_then(get) else {
                continue;
            };
            if trusted_only && *l == Layer::Workspace {
                warnings.push(format!(
                    "workspace config sets policy.flows.{key}; ignored (only enterprise or user config may widen trust)"
                ));
                continue;
            }
            for g in list {
                if !out.iter().any(|d| &d.value == g) {
                    out.push(Sourced::new(g.clone(), *l));
                }
            }
        }
        out
    };
    let sensitive_sinks = union(
        "sensitive_sinks",
        BUILTIN_SENSITIVE_SINKS,
        &|f| f.sensitive_sinks.as_ref(),
        false,
        warnings,
    );
    let trusted_paths = union(
        "trusted_paths",
        &[],
        &|f| f.trusted_paths.as_ref(),
        true,
        warnings,
    );
    let ask_human_paths = union(
        "ask_human_paths",
        &[],
        &|f| f.ask_human_paths.as_ref(),
        false,
        warnings,
    );
    // Any layer may tighten; nothing can go below `ask`.
    let untrusted_to_sink = layers
        .iter()
        .filter_map(|(l, r)| {
            flows(r)
                .and_then(|f| f.untrusted_to_sink)
                .map(|v| Sourced::new(v, *l))
        })
        .fold(Sourced::new(FlowDecision::Ask, Layer::Default), |a, b| {
            if b.value > a.value { b } else { a }
        });
    let bulk_change_threshold = layers
        .iter()
        .filter_map(|(l, r)| {
            flows(r)
                .and_then(|f| f.bulk_change_threshold)
                .map(|v| Sourced::new(v, *l))
        })
        .fold(
            Sourced::new(DEFAULT_BULK_CHANGE_THRESHOLD, Layer::Default),
            |a, b| if b.value < a.value { b } else { a },
        );
    let names = |v: &[Sourced<String>]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
    let sinks = PathSet::build(names(&sensitive_sinks).iter().map(String::as_str), true);
    let trusted = PathSet::build(names(&trusted_paths).iter().map(String::as_str), false);
    let ask_human = PathSet::build(names(&ask_human_paths).iter().map(String::as_str), true);
    FlowsPolicy {
        sensitive_sinks,
        untrusted_to_sink,
        trusted_paths,
        ask_human_paths,
        bulk_change_threshold,
        sinks,
        trusted,
        ask_human,
    }
}

impl Policy {
    /// Why acting on `path` with `tool` needs a person (not `--yes`, not `auto`): the tool is
    /// `ask-human` in `tools`, or the path matches `ask_human_paths`.
    pub fn needs_human(&self, tool: super::Tool, path: Option<&str>) -> Option<String> {
        let d = self.tool_decision(tool);
        if d.value == super::ToolDecision::AskHuman {
            return Some(format!(
                "tool `{}` is `ask-human` in the {} policy",
                tool.as_str(),
                d.layer
            ));
        }
        let p = path?;
        let pat = self.flows.ask_human_path(p)?;
        let layer = self
            .flows
            .ask_human_paths
            .iter()
            .find(|g| g.value == pat)
            .map_or(Layer::Default, |g| g.layer);
        Some(format!(
            "`{p}` matches ask_human_paths glob `{pat}` ({layer} policy)"
        ))
    }
}

fn flows(r: &RawLayer) -> Option<&RawFlows> {
    r.policy.flows.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_sinks_compile_and_match_lazily() {
        let set = PathSet::build(BUILTIN_SENSITIVE_SINKS.iter().copied(), true);
        assert!(
            set.set.get().is_none(),
            "nothing is compiled before the first match"
        );
        set.compile().expect("the built-in sinks compile");
        assert_eq!(set.matching("ci/Makefile"), Some("Makefile"));
        assert_eq!(set.matching(".github/workflows/ci.yml"), Some(".github/**"));
        assert_eq!(set.matching("src/lib.rs"), None);
        assert!(set.set.get().is_some_and(Option::is_some));
    }

    #[test]
    fn a_set_that_cannot_compile_fails_closed() {
        // A glob no layer validation would pass: restricting lists match everything, trust none.
        let restrict = PathSet::build(["a[b"], true);
        assert_eq!(restrict.matching("src/lib.rs"), Some("a[b"));
        let widen = PathSet::build(["a[b"], false);
        assert_eq!(widen.matching("src/lib.rs"), None);
        assert_eq!(PathSet::build([], true).matching("x"), None);
    }
}
