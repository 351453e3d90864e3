//! The `[skills]` settings (DESIGN §4) as the skills module consumes them.
//!
//! The policy module owns layering; until it supplies a merged value, [`SkillsPolicy::from_layers`]
//! applies the same rule to the two trusted layers: `require_signed` is on if either layer sets it,
//! and trusted keys come from the enterprise layer when it names any (a user cannot add a key the
//! enterprise did not), else from the user layer. The workspace layer is never read: a repository
//! must not be able to vouch for its own skills.

use std::path::{Path, PathBuf};

use super::{PublicKey, SkillError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillsPolicy {
    pub require_signed: bool,
    pub trusted_keys: Vec<PublicKey>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Layer {
    #[serde(default)]
    skills: SkillsTable,
    #[serde(default)]
    enterprise: EnterpriseTable,
}

/// `[enterprise] trusted_key`: the key `jingu policy sync` checked the enterprise skills against,
/// trusted like a key the enterprise lists in `[skills]` (enterprise layer only).
#[derive(Debug, Default, serde::Deserialize)]
struct EnterpriseTable {
    trusted_key: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct SkillsTable {
    require_signed: Option<bool>,
    trusted_keys: Option<Vec<String>>,
}

impl SkillsPolicy {
    /// Merge the enterprise and user TOML documents (either may be absent).
    pub fn from_layers(enterprise: Option<&str>, user: Option<&str>) -> Result<Self, SkillError> {
        let parse = |text: Option<&str>, which: &str| -> Result<SkillsTable, SkillError> {
            let Some(t) = text else {
                return Ok(SkillsTable::default());
            };
            toml::from_str::<Layer>(t)
                .map(|l| l.skills)
                .map_err(|e| SkillError::BadKey(format!("{which} config [skills]: {e}")))
        };
        let sync_key = match enterprise {
            Some(t) => {
                toml::from_str::<Layer>(t)
                    .map_err(|e| {
                        SkillError::BadKey(format!("enterprise config [enterprise]: {e}"))
                    })?
                    .enterprise
                    .trusted_key
            }
            None => None,
        };
        let ent = parse(enterprise, "enterprise")?;
        let usr = parse(user, "user")?;
        let mut keys = match (ent.trusted_keys, usr.trusted_keys) {
            (Some(k), _) => k,
            (None, Some(k)) => k,
            (None, None) => Vec::new(),
        };
        keys.extend(sync_key);
        Ok(SkillsPolicy {
            require_signed: ent.require_signed.unwrap_or(false)
                || usr.require_signed.unwrap_or(false),
            trusted_keys: keys
                .iter()
                .map(|k| PublicKey::parse(k))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Read `/etc/jingu/policy.toml` (plus the `$JINGU_POLICY` layer, which can only tighten) and `$JINGU_CONFIG` (or
    /// `~/.config/jingu/config.toml`); missing files are empty layers.
    pub fn load_default() -> Result<Self, SkillError> {
        // The enterprise file is fixed; `$JINGU_POLICY` only adds a layer (as in `policy::load`).
        let enterprise = Some(PathBuf::from("/etc/jingu/policy.toml"));
        let extra = std::env::var_os("JINGU_POLICY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let user = env_or("JINGU_CONFIG", home_config().map(|d| d.join("config.toml")));
        let e = read_optional(enterprise.as_deref())?;
        let x = read_optional(extra.as_deref())?;
        let u = read_optional(user.as_deref())?;
        let mut merged = Self::from_layers(e.as_deref(), u.as_deref())?;
        if let Some(x) = x.as_deref() {
            // The added layer can only tighten: require signing, never add a trusted key.
            let added = Self::from_layers(Some(x), None)?;
            merged.require_signed |= added.require_signed;
        }
        Ok(merged)
    }

    /// Add a key the install itself ships (the project key next to the bundled skills).
    pub fn with_install_key(mut self, key: PublicKey) -> Self {
        if !self.trusted_keys.contains(&key) {
            self.trusted_keys.push(key);
        }
        self
    }
}

/// `~/.config/jingu` (honouring `$XDG_CONFIG_HOME`).
pub fn home_config() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("jingu"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/jingu"))
}

fn env_or(var: &str, default: Option<PathBuf>) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from).or(default)
}

fn read_optional(path: Option<&Path>) -> Result<Option<String>, SkillError> {
    let Some(p) = path else { return Ok(None) };
    match std::fs::read_to_string(p) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SkillError::io(p, e)),
    }
}

impl SkillsPolicy {
    /// The `[skills]` values of the merged, layered policy (the workspace layer cannot add keys).
    pub fn from_policy(policy: &jingu_policy::Policy) -> Result<Self, SkillError> {
        let mut trusted_keys: Vec<PublicKey> = policy
            .skills
            .trusted_keys
            .iter()
            .map(|k| PublicKey::parse(&k.value))
            .collect::<Result<_, _>>()?;
        if let Some(e) = &policy.enterprise {
            trusted_keys.push(PublicKey::parse(&e.trusted_key)?);
        }
        Ok(SkillsPolicy {
            require_signed: policy.skills.require_signed.value,
            trusted_keys,
        })
    }
}
