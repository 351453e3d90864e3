//! `[providers.NAME]` and `[routing]` from the user config (DESIGN §4), merged over the presets.
//!
//! Keys come only from an environment variable or a key file: there is deliberately no `api_key`
//! field, and unknown fields are rejected, so an inline key in a config file is an error, not a secret
//! silently sent. Layering with the enterprise policy and the untrusted workspace config (which may
//! never add a provider or a base URL) is the policy module's job; this reads one file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ProviderError;
use super::presets::{self, Quirks};
use super::secret::ApiKey;

/// Wire format of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[serde(rename = "openai")]
    OpenAi,
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
    Anthropic,
    Gemini,
    Local,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::OpenAiCompatible => "openai-compatible",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Local => "local",
        }
    }
}

/// The organisation's agreement with a vendor about what it may do with prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DataUse {
    InferenceOnly,
    #[default]
    Unspecified,
}

/// One `[providers.NAME]` table. Every field is optional: a preset fills the gaps.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Preset to inherit from; defaults to the table name when that names a preset.
    pub preset: Option<String>,
    pub kind: Option<Kind>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_file: Option<PathBuf>,
    pub model: Option<String>,
    /// Models a lower-trust layer may pick for this provider (set by the layer that defines it).
    pub allowed_models: Option<Vec<String>>,
    /// GGUF file for `kind = "local"`.
    pub model_path: Option<PathBuf>,
    pub data_use: Option<DataUse>,
    pub connect_timeout_ms: Option<u64>,
    /// Longest silence tolerated while waiting for headers or between stream chunks.
    pub read_timeout_ms: Option<u64>,
    /// Attempts per request, including the first (retries on 429/5xx/connection failures).
    pub max_attempts: Option<u32>,
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct RoutingConfig {
    pub default: Option<String>,
    #[serde(default)]
    pub fallback: Vec<String>,
}

/// The subset of `[policy]` that changes what providers send. The policy module owns the full table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ProviderPolicy {
    #[serde(default)]
    pub require_inference_only: bool,
}

/// The provider-related view of a config file; other sections are ignored here.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ProvidersConfig {
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub routing: RoutingConfig,
    #[serde(default)]
    pub policy: ProviderPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
}

/// Where the key of a provider comes from, for `providers list` (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", content = "name", rename_all = "snake_case")]
pub enum KeySource {
    None,
    Env(String),
    File(PathBuf),
}

/// Limits on what a server may send us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single SSE event (bytes between blank lines).
    pub max_event_bytes: usize,
    /// Largest whole streamed body.
    pub max_body_bytes: usize,
    /// How much of an error body is kept for the message.
    pub max_error_excerpt: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_bytes: 1 << 20,
            max_body_bytes: 32 << 20,
            max_error_excerpt: 2048,
        }
    }
}

/// Retry schedule: exponential backoff with full jitter, capped; `Retry-After` overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited out: the error goes to the caller (and the
    /// router's fallback) instead of blocking the agent.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// Everything needed to talk to one provider, after preset merge and key lookup.
#[derive(Debug, Clone)]
pub struct ResolvedProvider {
    pub name: String,
    pub kind: Kind,
    pub base_url: String,
    pub model: String,
    pub model_path: Option<PathBuf>,
    pub key: Option<ApiKey>,
    pub key_source: KeySource,
    pub data_use: DataUse,
    pub quirks: Quirks,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
    pub limits: Limits,
    pub max_tokens: u32,
    /// Send vendors' no-retention flags (policy `require_inference_only`).
    pub inference_only: bool,
}

impl ResolvedProvider {
    /// Whether this provider needs a key to be usable (keyless local servers do not).
    pub fn needs_key(&self) -> bool {
        self.key_source != KeySource::None
    }
}

/// Largest key file we read: a key is short, anything bigger is the wrong file.
const MAX_KEY_FILE: u64 = 16 * 1024;

impl ProvidersConfig {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Provider names known here: every preset plus every configured table.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = presets::PRESETS.iter().map(|p| p.name.into()).collect();
        for name in self.providers.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The routing chain: the default provider (or `local` when nothing is configured), then the
    /// fallbacks, without duplicates.
    pub fn chain(&self) -> Vec<String> {
        let mut chain = vec![
            self.routing
                .default
                .clone()
                .unwrap_or_else(|| "local".into()),
        ];
        for name in &self.routing.fallback {
            if !chain.contains(name) {
                chain.push(name.clone());
            }
        }
        chain
    }

    /// Merge the table `name` over its preset and look up the key. A missing key is not an error
    /// here (listing must work without keys); [`crate::Provider::new`] refuses it.
    pub fn resolve(&self, name: &str) -> Result<ResolvedProvider, ProviderError> {
        let config_err = |detail: String| ProviderError::Config {
            provider: name.to_owned(),
            detail,
        };
        let table = self.providers.get(name).cloned().unwrap_or_default();
        let preset_name = table.preset.as_deref().unwrap_or(name);
        let preset = presets::get(preset_name);
        if preset.is_none() && !self.providers.contains_key(name) {
            return Err(config_err(format!(
                "no `[providers.{name}]` table and no preset of that name (presets: {})",
                presets::PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if table.preset.is_some() && preset.is_none() {
            return Err(config_err(format!("unknown preset `{preset_name}`")));
        }
        let kind = table
            .kind
            .or(preset.map(|p| p.kind))
            .ok_or_else(|| config_err("`kind` is required without a preset".into()))?;
        let base_url = table
            .base_url
            .clone()
            .or(preset.map(|p| p.base_url.to_owned()))
            .filter(|u| !u.is_empty() || kind == Kind::Local)
            .ok_or_else(|| config_err("`base_url` is required without a preset".into()))?;
        if kind != Kind::Local && !(base_url.starts_with("https://") || is_loopback_http(&base_url))
        {
            return Err(config_err(format!(
                "base_url `{base_url}` must use https (plain http only to 127.0.0.1/localhost)"
            )));
        }
        let model = table
            .model
            .clone()
            .or(preset.map(|p| p.model.to_owned()))
            .ok_or_else(|| config_err("`model` is required without a preset".into()))?;
        if let Some(allowed) = &table.allowed_models
            && !allowed.contains(&model)
        {
            return Err(config_err(format!(
                "model `{model}` is not in allowed_models ({})",
                allowed.join(", ")
            )));
        }
        let (key, key_source) = load_key(name, &table, preset)?;
        let quirks = preset.map_or(Quirks::OPENAI_COMPATIBLE, |p| p.quirks);
        let retry_defaults = RetryPolicy::default();
        Ok(ResolvedProvider {
            name: name.to_owned(),
            kind,
            base_url: base_url.trim_end_matches('/').to_owned(),
            model,
            model_path: table.model_path.clone(),
            key,
            key_source,
            data_use: table
                .data_use
                .or(preset.map(|p| p.data_use))
                .unwrap_or_default(),
            quirks,
            connect_timeout: Duration::from_millis(table.connect_timeout_ms.unwrap_or(10_000)),
            read_timeout: Duration::from_millis(table.read_timeout_ms.unwrap_or(120_000)),
            retry: RetryPolicy {
                max_attempts: table
                    .max_attempts
                    .unwrap_or(retry_defaults.max_attempts)
                    .max(1),
                ..retry_defaults
            },
            limits: Limits::default(),
            max_tokens: table.max_tokens.unwrap_or(quirks.default_max_tokens),
            inference_only: self.policy.require_inference_only,
        })
    }
}

/// Plain http is acceptable only where it cannot leave the machine.
fn is_loopback_http(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        })
}

fn load_key(
    name: &str,
    table: &ProviderConfig,
    preset: Option<&presets::Preset>,
) -> Result<(Option<ApiKey>, KeySource), ProviderError> {
    if let Some(path) = &table.api_key_file {
        let read = || -> std::io::Result<String> {
            let meta = std::fs::metadata(path)?;
            if meta.len() > MAX_KEY_FILE {
                return Err(std::io::Error::other(format!(
                    "larger than {MAX_KEY_FILE} bytes, not a key file"
                )));
            }
            std::fs::read_to_string(path)
        };
        let text = read().map_err(|e| ProviderError::Config {
            provider: name.to_owned(),
            detail: format!("api_key_file {}: {e}", path.display()),
        })?;
        let key = ApiKey::new(text);
        let present = !key.expose().is_empty();
        return Ok((present.then_some(key), KeySource::File(path.clone())));
    }
    let env = table
        .api_key_env
        .clone()
        .or(preset.and_then(|p| p.api_key_env.map(str::to_owned)));
    match env {
        Some(var) => {
            let key = std::env::var(&var)
                .ok()
                .map(ApiKey::new)
                .filter(|k| !k.expose().is_empty());
            Ok((key, KeySource::Env(var)))
        }
        None => Ok((None, KeySource::None)),
    }
}

/// File name of the default local model, as `scripts/install-local-model.sh` installs it.
pub const DEFAULT_LOCAL_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Where models installed by `scripts/install-local-model.sh` live: `$JINGU_MODELS_DIR`, else
/// `$XDG_DATA_HOME/jingu/models` (`~/.local/share/jingu/models`).
pub fn local_models_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("JINGU_MODELS_DIR") {
        return PathBuf::from(p);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_default();
    data.join("jingu/models")
}

/// The default local model (`$JINGU_LOCAL_MODEL` overrides): the one `scripts/setup.sh`
/// installs into [`local_models_dir`].
pub fn default_local_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("JINGU_LOCAL_MODEL") {
        return PathBuf::from(p);
    }
    local_models_dir().join(DEFAULT_LOCAL_MODEL_FILE)
}

/// Path of the user config: `$JINGU_CONFIG`, else `~/.config/jingu/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("JINGU_CONFIG") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/jingu/config.toml"))
}

/// Read the user config's provider sections; a missing file means "presets only".
pub fn load_user_config() -> Result<ProvidersConfig, ConfigError> {
    let Some(path) = user_config_path() else {
        return Ok(ProvidersConfig::default());
    };
    // Named explicitly, a missing file is a mistake, not "no config".
    if std::env::var_os("JINGU_CONFIG").is_some() && !path.try_exists().unwrap_or(true) {
        return Err(ConfigError::Io {
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "JINGU_CONFIG names a file that does not exist",
            ),
        });
    }
    load_config_file(&path)
}

pub fn load_config_file(path: &Path) -> Result<ProvidersConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => ProvidersConfig::parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProvidersConfig::default()),
        Err(source) => Err(ConfigError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}
