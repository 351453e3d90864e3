//! Layered configuration with a non-overridable enterprise baseline (DESIGN §4).
//!
//! Layers: enterprise policy → user config → workspace config (untrusted). For every security key
//! the effective value is the most restrictive of the layers, so no layer below can loosen one above.
//! A workspace config can never add providers, base URLs, MCP servers or trusted keys.

mod audit;
mod completion;
mod decide;
mod denied;
mod enterprise;
pub mod flows;
mod hash;
pub mod known;
mod layer;
mod load;
pub mod manifest;
mod merge;
pub mod redact;
pub mod rules;
pub mod show;
mod signature;
mod snapshots;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use audit::{AuditPolicy, OtlpConfig as AuditOtlpConfig, SinkConfig as AuditSinkConfig};
pub use completion::CompletionSettings;
pub use decide::Decision;
pub use enterprise::EnterpriseSync;
pub use layer::Layer;
pub use load::{ExtraLayer, PolicySources, SYSTEM_DIR};
pub use signature::SignatureStatus;
pub use snapshots::SnapshotSettings;

/// The in-process model (`kind = "local"`): nothing it is given leaves the machine.
pub const LOCAL_PROVIDER: &str = "local";

/// Tools the agent can call; each has a policy decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Read,
    Edit,
    RunCommand,
    Mcp,
    /// Inline completion (`textDocument/inlineCompletion`): `allow` or `deny`.
    Complete,
}

impl Tool {
    pub const ALL: [Tool; 5] = [
        Tool::Read,
        Tool::Edit,
        Tool::RunCommand,
        Tool::Mcp,
        Tool::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Read => "read",
            Tool::Edit => "edit",
            Tool::RunCommand => "run_command",
            Tool::Mcp => "mcp",
            Tool::Complete => "complete",
        }
    }

    pub fn parse(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Per-tool decision; ordered so that the maximum is the most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolDecision {
    Allow,
    Ask,
    /// Ask, and only a person may answer: `--yes` and `auto` mode cannot approve it.
    #[serde(rename = "ask-human")]
    AskHuman,
    Deny,
}

/// Command sandboxing; ordered so that the maximum is the most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    Off,
    BestEffort,
    Required,
}

/// An effective value and the layer that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub layer: Layer,
}

impl<T> Sourced<T> {
    pub fn new(value: T, layer: Layer) -> Self {
        Self { value, layer }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "{layer} policy {path} is malformed: {reason}; refusing to run any tool until it is fixed"
    )]
    Malformed {
        layer: Layer,
        path: PathBuf,
        reason: String,
    },
    #[error("policy {path} failed signature verification: {reason}; refusing to run any tool")]
    Signature { path: PathBuf, reason: String },
    #[error("cannot read policy file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityPolicy {
    pub required: Sourced<bool>,
    pub issuer: Option<Sourced<String>>,
    pub audience: Option<Sourced<String>>,
    pub jwks_file: Option<Sourced<PathBuf>>,
    pub token_file: Option<Sourced<PathBuf>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkillsPolicy {
    pub require_signed: Sourced<bool>,
    pub trusted_keys: Vec<Sourced<String>>,
}

/// Intersection of the layers that set `allowed_providers`; `None` means no layer restricted it.
#[derive(Debug, Clone, Serialize)]
pub struct AllowedProviders {
    pub names: Option<Vec<String>>,
    pub layers: Vec<Layer>,
}

/// The effective policy, each value with its provenance.
#[derive(Debug, Clone)]
pub struct Policy {
    pub tools: Vec<(Tool, Sourced<ToolDecision>)>,
    pub deny_paths: Vec<Sourced<String>>,
    pub allowed_providers: AllowedProviders,
    pub sandbox: Sourced<SandboxMode>,
    pub redact: Sourced<bool>,
    pub require_inference_only: Sourced<bool>,
    pub identity: IdentityPolicy,
    pub skills: SkillsPolicy,
    /// `[audit]`: checkpoint key and sinks.
    pub audit: AuditPolicy,
    /// `[enterprise]`: the git source of `jingu policy sync` (enterprise layer only).
    pub enterprise: Option<EnterpriseSync>,
    /// `[completion]`: inline completion settings (not security keys: later layers override).
    pub completion: CompletionSettings,
    /// `[snapshots]`: how scans find changes (not security keys: later layers override).
    pub snapshots: SnapshotSettings,
    /// `[policy.flows]`: sensitive sinks and what untrusted data may reach them.
    pub flows: flows::FlowsPolicy,
    /// `[[policy.rules]]` of the trusted layers.
    pub rules: Vec<rules::Rule>,
    pub signature: SignatureStatus,
    /// Things the merge ignored or overrode (workspace attempts to widen, etc.), for `policy show`.
    pub warnings: Vec<String>,
    /// Files each layer was read from (absent files are not listed).
    pub files: Vec<(Layer, PathBuf)>,
    providers: toml::Table,
    /// Trusted layers that defined each provider, most trusted first.
    provider_layers: std::collections::BTreeMap<String, Vec<Layer>>,
    mcp: toml::Table,
    routing: toml::Table,
    deny_set: decide::DenySet,
}

impl Policy {
    /// The decision for a tool in `tools`.
    pub fn tool_decision(&self, tool: Tool) -> Sourced<ToolDecision> {
        self.tools
            .iter()
            .find(|(t, _)| *t == tool)
            .map(|(_, d)| d.clone())
            .unwrap_or(Sourced::new(ToolDecision::Deny, Layer::Default))
    }

    /// Provider sections (`[providers.NAME]`) from the enterprise and user layers; the workspace
    /// layer is stripped. Enterprise fields win over user fields of the same provider.
    pub fn providers_table(&self) -> &toml::Table {
        &self.providers
    }

    /// Layers that contributed fields to provider `name`, most trusted first.
    pub fn provider_layers(&self, name: &str) -> &[Layer] {
        self.provider_layers
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// MCP server sections from the enterprise and user layers only.
    pub fn mcp_table(&self) -> &toml::Table {
        &self.mcp
    }

    /// `[routing]` (not a security key: later layers override; providers are still gated by
    /// [`Policy::check_provider`]).
    pub fn routing_table(&self) -> &toml::Table {
        &self.routing
    }

    /// Whether text may be sent to provider `name`: it must be configured (by a trusted layer),
    /// allowed, and — when `require_inference_only` — declared `data_use = "inference-only"`.
    pub fn check_provider(&self, name: &str) -> Result<(), String> {
        let empty = toml::Table::new();
        let table = match self.providers.get(name).and_then(toml::Value::as_table) {
            Some(t) => t,
            // The in-process local model sends nothing anywhere: it needs no configuration, and
            // is still subject to `allowed_providers` below.
            None if name == LOCAL_PROVIDER => &empty,
            None => {
                return Err(format!(
                    "provider `{name}` is not configured in the enterprise or user config"
                ));
            }
        };
        let local = name == LOCAL_PROVIDER
            && table
                .get("kind")
                .and_then(toml::Value::as_str)
                .is_none_or(|k| k == "local");
        if let Some(allowed) = &self.allowed_providers.names
            && !allowed.iter().any(|a| a == name)
        {
            return Err(format!(
                "provider `{name}` is not in allowed_providers ({})",
                allowed.join(", ")
            ));
        }
        if self.require_inference_only.value
            && !local
            && table.get("data_use").and_then(toml::Value::as_str) != Some("inference-only")
        {
            return Err(format!(
                "provider `{name}` is not declared data_use = \"inference-only\" and the {} policy requires it",
                self.require_inference_only.layer
            ));
        }
        Ok(())
    }
}

impl Policy {
    /// Prepare text for a provider: redacted with the run's `redactor` unless a trusted layer
    /// turned redaction off. The count goes into the `model_request` audit record.
    pub fn outbound(&self, redactor: &mut redact::Redactor, text: &str) -> redact::Redacted {
        if self.redact.value {
            redactor.redact(text)
        } else {
            redact::Redacted {
                text: text.to_string(),
                count: 0,
                kinds: Default::default(),
            }
        }
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod load_tests;

#[cfg(test)]
#[path = "seal_tests.rs"]
mod seal_tests;
