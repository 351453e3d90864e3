//! One configuration layer as written on disk, parsed strictly: a typo in a security key must not
//! silently loosen anything, so unknown keys inside `[policy]`, `[identity]` and `[skills]` are errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{PolicyError, SandboxMode, Tool, ToolDecision};

/// Which file a value came from. Ordered by trust, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Jingu's built-in baseline.
    Default,
    Enterprise,
    User,
    Workspace,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Default => "default",
            Layer::Enterprise => "enterprise",
            Layer::User => "user",
            Layer::Workspace => "workspace",
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub allowed_providers: Option<Vec<String>>,
    pub deny_paths: Option<Vec<String>>,
    pub tools: Option<BTreeMap<String, ToolDecision>>,
    pub sandbox: Option<SandboxMode>,
    pub redact: Option<bool>,
    pub require_inference_only: Option<bool>,
    /// Enterprise only: refuse an unsigned or badly signed policy file.
    pub require_signature: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIdentity {
    pub required: Option<bool>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub jwks_file: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSkills {
    pub require_signed: Option<bool>,
    pub trusted_keys: Option<Vec<String>>,
}

/// `[audit]`: sealing the local log and where else records go.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudit {
    /// Enterprise only: the ed25519 key that signs checkpoints.
    pub checkpoint_key_file: Option<PathBuf>,
    pub checkpoint_every: Option<u64>,
    pub sink: Option<RawSink>,
}

/// `[audit.sink]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSink {
    pub kind: String,
    pub url: String,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub required: Option<bool>,
    pub organisation: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// A whole config file. Sections owned by other modules (`providers`, `mcp`, `routing`, …) stay raw.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawLayer {
    #[serde(default)]
    pub policy: RawPolicy,
    #[serde(default)]
    pub identity: RawIdentity,
    #[serde(default)]
    pub skills: RawSkills,
    #[serde(default)]
    pub audit: RawAudit,
    #[serde(default)]
    pub providers: toml::Table,
    #[serde(default)]
    pub mcp: toml::Table,
    #[serde(default)]
    pub routing: toml::Table,
    #[serde(flatten)]
    pub other: toml::Table,
}

impl RawLayer {
    pub(crate) fn parse(text: &str, layer: Layer, path: &Path) -> Result<Self, PolicyError> {
        let raw: RawLayer = toml::from_str(text).map_err(|e| PolicyError::Malformed {
            layer,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if let Some(tools) = &raw.policy.tools {
            for name in tools.keys() {
                if Tool::parse(name).is_none() {
                    return Err(PolicyError::Malformed {
                        layer,
                        path: path.to_path_buf(),
                        reason: format!(
                            "unknown tool `{name}` in [policy].tools (known: {})",
                            Tool::ALL.map(Tool::as_str).join(", ")
                        ),
                    });
                }
            }
        }
        if let Some(globs) = &raw.policy.deny_paths {
            for g in globs {
                if let Err(e) = globset::Glob::new(g) {
                    return Err(PolicyError::Malformed {
                        layer,
                        path: path.to_path_buf(),
                        reason: format!("bad deny_paths glob `{g}`: {e}"),
                    });
                }
            }
        }
        Ok(raw)
    }

    /// Read a layer file; a missing file is an empty layer.
    pub(crate) fn read(path: &Path, layer: Layer) -> Result<Option<(Self, Vec<u8>)>, PolicyError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| PolicyError::Malformed {
                    layer,
                    path: path.to_path_buf(),
                    reason: "not valid UTF-8".into(),
                })?;
                let raw = Self::parse(text, layer, path)?;
                Ok(Some((raw, bytes)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(PolicyError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}
