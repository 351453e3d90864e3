//! Where the layers live and how they are read. Any error fails closed: the caller gets no
//! `Policy`, so no tool can run.

use std::path::{Path, PathBuf};

use super::layer::{Layer, RawLayer};
use super::signature::{self, SignatureStatus};
use super::{Policy, PolicyError};

/// Paths of the three layers plus the enterprise policy's public key.
#[derive(Debug, Clone)]
pub struct PolicySources {
    pub enterprise: PathBuf,
    /// When this file exists the enterprise policy must carry a valid signature.
    pub enterprise_pubkey: PathBuf,
    pub user: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
}

impl PolicySources {
    /// `$JINGU_POLICY` or `/etc/jingu/policy.toml`; `$JINGU_POLICY_PUBKEY` or `/etc/jingu/policy.pub`;
    /// `$JINGU_CONFIG` or `~/.config/jingu/config.toml`; `<root>/.jingu/config.toml`.
    pub fn from_env(workspace_root: &Path) -> Self {
        let env_path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let user = env_path("JINGU_CONFIG").or_else(|| {
            env_path("XDG_CONFIG_HOME")
                .or_else(|| env_path("HOME").map(|h| h.join(".config")))
                .map(|c| c.join("jingu/config.toml"))
        });
        Self {
            enterprise: env_path("JINGU_POLICY")
                .unwrap_or_else(|| PathBuf::from("/etc/jingu/policy.toml")),
            enterprise_pubkey: env_path("JINGU_POLICY_PUBKEY")
                .unwrap_or_else(|| PathBuf::from("/etc/jingu/policy.pub")),
            user,
            workspace: Some(workspace_root.join(".jingu/config.toml")),
        }
    }
}

impl Policy {
    /// Load the effective policy for the workspace at `workspace_root` from the standard locations.
    pub fn load(workspace_root: &Path) -> Result<Policy, PolicyError> {
        Self::load_from(&PolicySources::from_env(workspace_root))
    }

    pub fn load_from(src: &PolicySources) -> Result<Policy, PolicyError> {
        let mut raws = Vec::new();
        let mut files = Vec::new();
        let key_installed = src.enterprise_pubkey.exists();
        let signature = match RawLayer::read(&src.enterprise, Layer::Enterprise)? {
            Some((raw, bytes)) => {
                let status = if key_installed {
                    signature::verify(&src.enterprise, &bytes, &src.enterprise_pubkey)?;
                    SignatureStatus::Verified
                } else if raw.policy.require_signature == Some(true) {
                    return Err(PolicyError::Signature {
                        path: src.enterprise.clone(),
                        reason: format!(
                            "the policy requires a signature but no public key is installed at {}",
                            src.enterprise_pubkey.display()
                        ),
                    });
                } else {
                    SignatureStatus::NotRequired
                };
                files.push((Layer::Enterprise, src.enterprise.clone()));
                raws.push((Layer::Enterprise, raw));
                status
            }
            None if key_installed => {
                // A key without a policy means someone removed the signed baseline.
                return Err(PolicyError::Signature {
                    path: src.enterprise.clone(),
                    reason: format!(
                        "a policy public key is installed at {} but the policy file is missing",
                        src.enterprise_pubkey.display()
                    ),
                });
            }
            None => SignatureStatus::NoEnterprisePolicy,
        };
        for (layer, path) in [(Layer::User, &src.user), (Layer::Workspace, &src.workspace)] {
            let Some(path) = path else { continue };
            if let Some((raw, _)) = RawLayer::read(path, layer)? {
                files.push((layer, path.clone()));
                raws.push((layer, raw));
            }
        }
        let refs: Vec<(Layer, &RawLayer)> = raws.iter().map(|(l, r)| (*l, r)).collect();
        super::merge::merge(&refs, signature, files).map_err(|e| PolicyError::Malformed {
            layer: Layer::Default,
            path: PathBuf::new(),
            reason: format!("deny_paths do not compile: {e}"),
        })
    }

    /// Merge in-memory layer texts (enterprise, user, workspace); for tests and `doctor` checks.
    pub fn from_texts(
        enterprise: Option<&str>,
        user: Option<&str>,
        workspace: Option<&str>,
    ) -> Result<Policy, PolicyError> {
        let mut raws = Vec::new();
        for (layer, text) in [
            (Layer::Enterprise, enterprise),
            (Layer::User, user),
            (Layer::Workspace, workspace),
        ] {
            if let Some(t) = text {
                raws.push((layer, RawLayer::parse(t, layer, Path::new("<memory>"))?));
            }
        }
        let refs: Vec<(Layer, &RawLayer)> = raws.iter().map(|(l, r)| (*l, r)).collect();
        super::merge::merge(&refs, SignatureStatus::NotRequired, Vec::new()).map_err(|e| {
            PolicyError::Malformed {
                layer: Layer::Default,
                path: PathBuf::new(),
                reason: format!("deny_paths do not compile: {e}"),
            }
        })
    }
}
