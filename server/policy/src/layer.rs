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
    /// A further layer named by `$JINGU_POLICY`: merged most-restrictive-wins on top of the
    /// enterprise policy, never instead of it.
    Extra,
    User,
    Workspace,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Default => "default",
            Layer::Enterprise => "enterprise",
            Layer::Extra => "extra",
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
    /// `[policy.flows]`: the data-flow policy.
    pub flows: Option<super::flows::RawFlows>,
    /// `[[policy.rules]]`: standing "always allow / always reject" answers.
    pub rules: Option<Vec<super::rules::RawRule>>,
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
    pub otlp: Option<RawOtlp>,
}

/// `[audit.otlp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOtlp {
    pub endpoint: String,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    pub timeout_ms: Option<u64>,
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
    pub enterprise: Option<super::enterprise::RawEnterprise>,
    #[serde(default)]
    pub audit: RawAudit,
    #[serde(default)]
    pub providers: toml::Table,
    #[serde(default)]
    pub mcp: toml::Table,
    #[serde(default)]
    pub routing: toml::Table,
    #[serde(default)]
    pub completion: super::completion::RawCompletion,
    #[serde(default)]
    pub snapshots: super::snapshots::RawSnapshots,
    #[serde(flatten)]
    pub other: toml::Table,
}

/// Top-level sections a config file may have (some are read by other modules).
pub(crate) const KNOWN_SECTIONS: [&str; 10] = [
    "policy",
    "identity",
    "skills",
    "providers",
    "mcp",
    "routing",
    "audit",
    "enterprise",
    "completion",
    "snapshots",
];
const ROUTING_KEYS: [&str; 2] = ["default", "fallback"];

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if it is a plausible typo of it.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(&word.to_ascii_lowercase(), c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => format!(" (valid: {})", candidates.join(", ")),
    }
}

/// 1-based line where `key` is defined: a `[key…]` header, or `key =` / `key.` at the start of a
/// line (inside `[section]` when given).
fn line_of(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix('[') {
            let name = h
                .trim_start_matches('[')
                .split([']', '.'])
                .next()
                .unwrap_or("")
                .trim();
            if section.is_none() && name.trim_matches('"') == key {
                return Some(i + 1);
            }
            current = Some(name.trim_matches('"').to_string());
            continue;
        }
        let here = current.as_deref() == section;
        let k = line
            .split(['=', '.'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if here && k == key && line.contains('=') {
            return Some(i + 1);
        }
    }
    None
}

/// Add a "did you mean" to serde's `unknown field `x`, expected one of `a`, `b`` messages.
fn with_suggestion(msg: String) -> String {
    let Some(rest) = msg.split("unknown field `").nth(1) else {
        return msg;
    };
    let Some((field, tail)) = rest.split_once('`') else {
        return msg;
    };
    let candidates: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    match closest(field, candidates.iter().copied()) {
        Some(c) => format!("{}; did you mean `{c}`?", msg.trim_end()),
        None => msg,
    }
}

impl RawLayer {
    pub(crate) fn parse(text: &str, layer: Layer, path: &Path) -> Result<Self, PolicyError> {
        let malformed = |reason: String| PolicyError::Malformed {
            layer,
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawLayer =
            toml::from_str(text).map_err(|e| malformed(with_suggestion(e.to_string())))?;
        // A typo must not be silently ignored: `[polcy]` would drop the whole policy section.
        let at = |section: Option<&str>, key: &str| {
            line_of(text, section, key).map_or_else(String::new, |n| format!("line {n}: "))
        };
        if let Some(name) = raw
            .other
            .keys()
            .find(|k| !KNOWN_SECTIONS.contains(&k.as_str()))
        {
            return Err(malformed(format!(
                "{}unknown section or key `{name}`{}",
                at(None, name),
                did_you_mean(name, &KNOWN_SECTIONS)
            )));
        }
        if let Some(name) = raw
            .routing
            .keys()
            .find(|k| !ROUTING_KEYS.contains(&k.as_str()))
        {
            return Err(malformed(format!(
                "{}unknown key `{name}` in [routing]{}",
                at(Some("routing"), name),
                did_you_mean(name, &ROUTING_KEYS)
            )));
        }
        if let Some(tools) = &raw.policy.tools {
            for name in tools.keys() {
                if Tool::parse(name) == Some(Tool::Complete)
                    && tools.get(name) == Some(&ToolDecision::Ask)
                {
                    return Err(PolicyError::Malformed {
                        layer,
                        path: path.to_path_buf(),
                        reason: format!(
                            "{}[policy].tools.complete takes `allow` or `deny` (a completion \
                             cannot wait for a confirmation)",
                            at(Some("policy"), "tools")
                        ),
                    });
                }
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
        if let (Layer::Enterprise, Some(e)) = (layer, &raw.enterprise) {
            super::enterprise::validate(e).map_err(&malformed)?;
        }
        if let Some(flows) = &raw.policy.flows {
            super::flows::validate(flows).map_err(malformed)?;
        }
        if let Some(rules) = &raw.policy.rules {
            super::rules::validate(rules).map_err(malformed)?;
        }
        if let Some(o) = &raw.audit.otlp {
            super::audit::otlp_config(o).map_err(&malformed)?;
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
