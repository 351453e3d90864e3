//! Where the layers live and how they are read. Any error fails closed: the caller gets no
//! `Policy`, so no tool can run.
//!
//! The enterprise policy is always `/etc/jingu/policy.toml` (signed when `/etc/jingu/policy.pub`
//! exists). `$JINGU_POLICY` cannot move it: it only names a further layer that is merged
//! most-restrictive-wins like the others, verified against `$JINGU_POLICY_PUBKEY` when that is
//! set. The system directory is fixed at build time; unit tests swap it through a `#[cfg(test)]`
//! constructor, and end-to-end tests bind a temp dir over `/etc/jingu` in a private mount namespace.

use std::path::{Path, PathBuf};

use super::layer::{Layer, RawLayer};
use super::signature::{self, SignatureStatus};
use super::{Policy, PolicyError};

/// Where the enterprise policy and its key live. Not configurable at run time.
pub const SYSTEM_DIR: &str = "/etc/jingu";

/// A further policy layer named by the environment, with the key it must verify against.
#[derive(Debug, Clone)]
pub struct ExtraLayer {
    pub path: PathBuf,
    pub pubkey: Option<PathBuf>,
}

/// Paths of the layers plus the enterprise policy's public key.
#[derive(Debug, Clone)]
pub struct PolicySources {
    pub enterprise: PathBuf,
    /// When this file exists the enterprise policy must carry a valid signature.
    pub enterprise_pubkey: PathBuf,
    /// `$JINGU_POLICY` (and `$JINGU_POLICY_PUBKEY`): added, never a replacement.
    pub extra: Option<ExtraLayer>,
    /// Set when `$JINGU_POLICY_PUBKEY` names a key but `$JINGU_POLICY` names no layer.
    pub orphan_pubkey: Option<PathBuf>,
    pub user: Option<PathBuf>,
    /// True when the user path came from `$JINGU_CONFIG`: then the file must exist.
    pub user_explicit: bool,
    pub workspace: Option<PathBuf>,
}

impl PolicySources {
    /// `/etc/jingu/policy.toml` (+ `policy.pub`); `$JINGU_POLICY` as an extra layer;
    /// `$JINGU_CONFIG` or `~/.config/jingu/config.toml`; `<root>/.jingu/config.toml`.
    pub fn from_env(workspace_root: &Path) -> Self {
        Self::with_system_dir(Path::new(SYSTEM_DIR), workspace_root, |k| {
            std::env::var_os(k)
        })
    }

    /// [`PolicySources::from_env`] with another system directory: tests only, so no run-time
    /// input can move the enterprise policy.
    #[cfg(test)]
    pub fn for_tests(system_dir: &Path, workspace_root: &Path, env: &[(&str, &Path)]) -> Self {
        Self::with_system_dir(system_dir, workspace_root, |k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.as_os_str().to_os_string())
        })
    }

    fn with_system_dir(
        system_dir: &Path,
        workspace_root: &Path,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Self {
        let env_path = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let explicit_user = env_path("JINGU_CONFIG");
        let user_explicit = explicit_user.is_some();
        let user = explicit_user.or_else(|| {
            env_path("XDG_CONFIG_HOME")
                .or_else(|| env_path("HOME").map(|h| h.join(".config")))
                .map(|c| c.join("jingu/config.toml"))
        });
        let pubkey = env_path("JINGU_POLICY_PUBKEY");
        let (extra, orphan_pubkey) = match env_path("JINGU_POLICY") {
            Some(path) => (Some(ExtraLayer { path, pubkey }), None),
            None => (None, pubkey),
        };
        Self {
            enterprise: system_dir.join("policy.toml"),
            enterprise_pubkey: system_dir.join("policy.pub"),
            extra,
            orphan_pubkey,
            user,
            user_explicit,
            workspace: Some(workspace_root.join(".jingu/config.toml")),
        }
    }
}

/// `try_exists` that fails closed: a key we cannot even stat (EACCES, ELOOP, …) is an error, never
/// "no key installed".
fn key_present(path: &Path, policy: &Path) -> Result<bool, PolicyError> {
    path.try_exists().map_err(|e| PolicyError::Signature {
        path: policy.to_path_buf(),
        reason: format!("cannot check for the public key {}: {e}", path.display()),
    })
}

impl Policy {
    /// Load the effective policy for the workspace at `workspace_root` from the standard locations.
    pub fn load(workspace_root: &Path) -> Result<Policy, PolicyError> {
        Self::load_from(&PolicySources::from_env(workspace_root))
    }

    pub fn load_from(src: &PolicySources) -> Result<Policy, PolicyError> {
        let mut raws = Vec::new();
        let mut files = Vec::new();
        let key_installed = key_present(&src.enterprise_pubkey, &src.enterprise)?;
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
        if let Some(key) = &src.orphan_pubkey {
            return Err(PolicyError::Signature {
                path: key.clone(),
                reason:
                    "JINGU_POLICY_PUBKEY names a key but JINGU_POLICY names no policy to verify"
                        .into(),
            });
        }
        if let Some(extra) = &src.extra {
            // Named explicitly, so a missing file is a mistake, not an empty layer.
            let (raw, bytes) =
                RawLayer::read(&extra.path, Layer::Extra)?.ok_or_else(|| PolicyError::Io {
                    path: extra.path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "JINGU_POLICY names a file that does not exist",
                    ),
                })?;
            if let Some(key) = &extra.pubkey {
                signature::verify(&extra.path, &bytes, key)?;
            }
            files.push((Layer::Extra, extra.path.clone()));
            raws.push((Layer::Extra, raw));
        }
        for (layer, path) in [(Layer::User, &src.user), (Layer::Workspace, &src.workspace)] {
            let Some(path) = path else { continue };
            match RawLayer::read(path, layer)? {
                Some((raw, _)) => {
                    files.push((layer, path.clone()));
                    raws.push((layer, raw));
                }
                None if layer == Layer::User && src.user_explicit => {
                    return Err(PolicyError::Io {
                        path: path.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "JINGU_CONFIG names a file that does not exist",
                        ),
                    });
                }
                None => {}
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
        Self::from_layer_texts(&[
            (Layer::Enterprise, enterprise),
            (Layer::User, user),
            (Layer::Workspace, workspace),
        ])
    }

    /// Merge in-memory texts of any layers (listed most trusted first).
    pub fn from_layer_texts(layers: &[(Layer, Option<&str>)]) -> Result<Policy, PolicyError> {
        let mut raws = Vec::new();
        for (layer, text) in layers {
            if let Some(t) = text {
                raws.push((*layer, RawLayer::parse(t, *layer, Path::new("<memory>"))?));
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
