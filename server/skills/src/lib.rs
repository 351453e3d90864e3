//! Skills: SKILL.md bundles (a procedure the agent follows for one kind of work), their signature
//! vetting, and MCP servers exposed as policy-gated tools (DESIGN §1, §4).
//!
//! A skill only ever narrows what a run may do: its `allowed-tools` intersect the run's tools, and a
//! bundle that is not signed by a trusted key loads [`Trust::Restricted`] (or is refused when
//! `require_signed` is set).

pub mod bundle;
pub mod discovery;
pub mod frontmatter;
pub mod mcp;
mod resources;
pub mod select;
pub mod settings;
pub mod signing;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use bundle::{BundleDiff, SIGNATURE_FILE};
pub use discovery::{Discovery, SkillRoots, SkillSource, discover};
pub use resources::RESOURCE_TOOL;
pub use select::{effective_tools, select, system_prompt_section};
pub use settings::SkillsPolicy;
pub use signing::{PublicKey, SecretKey, SignatureFile, Verified, sign_bundle, verify_bundle};

/// One loaded skill.
#[derive(Debug, Clone, Serialize)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub version: String,
    /// `None`: the skill does not narrow the run's tools (it still cannot widen them).
    pub allowed_tools: Option<Vec<String>>,
    pub model: Option<String>,
    pub license: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The Markdown procedure, placed in the system prompt by [`system_prompt_section`].
    pub body: String,
    pub dir: PathBuf,
    pub source: SkillSource,
    pub trust: Trust,
    /// Every file's hash as vetted at load time; resources are served only if they still match.
    #[serde(skip)]
    pub files: bundle::FileHashes,
}

/// Whether a skill's bundle is vouched for by a trusted signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Trust {
    /// Every file matches a signature by this trusted key.
    Verified { key: String },
    /// Loaded without a valid trusted signature: no `run_command`, no network tools, no MCP.
    Restricted { reason: String },
}

impl Trust {
    pub fn is_verified(&self) -> bool {
        matches!(self, Trust::Verified { .. })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("skill `{skill}`: {reason}")]
    Invalid { skill: String, reason: String },
    #[error("{}: {reason}", dir.display())]
    BadBundle { dir: PathBuf, reason: String },
    #[error("{}: unsigned (no {SIGNATURE_FILE})", dir.display())]
    Unsigned { dir: PathBuf },
    #[error("{}: tampered since it was signed ({diff})", dir.display())]
    Tampered { dir: PathBuf, diff: BundleDiff },
    #[error("{}: bad signature: {reason}", dir.display())]
    BadSignature { dir: PathBuf, reason: String },
    #[error("{}: signed by {key}, which is not a trusted key", dir.display())]
    UntrustedKey { dir: PathBuf, key: String },
    #[error("bad key: {0}")]
    BadKey(String),
    #[error("skill `{name}` refused: {reason}")]
    Refused { name: String, reason: String },
    #[error("skill `{skill}`: resource `{path}`: {reason}")]
    Resource {
        skill: String,
        path: String,
        reason: String,
    },
    #[error("no skill named `{0}`")]
    NotFound(String),
}

impl SkillError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SkillError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Load the bundle at `dir`: parse SKILL.md, then vet the signature against `policy`.
/// With `require_signed` anything short of a valid trusted signature is refused with the reason;
/// otherwise the skill loads [`Trust::Restricted`] and carries that reason.
pub fn load_skill(
    dir: &Path,
    source: SkillSource,
    policy: &SkillsPolicy,
) -> Result<Skill, SkillError> {
    let folder = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SkillError::BadBundle {
            dir: dir.to_path_buf(),
            reason: "folder name is not UTF-8".into(),
        })?;
    let md_path = dir.join("SKILL.md");
    let meta = std::fs::symlink_metadata(&md_path).map_err(|e| SkillError::io(&md_path, e))?;
    if !meta.is_file() {
        return Err(SkillError::BadBundle {
            dir: dir.to_path_buf(),
            reason: "SKILL.md must be a regular file".into(),
        });
    }
    let text = std::fs::read_to_string(&md_path).map_err(|e| SkillError::io(&md_path, e))?;
    let doc = frontmatter::parse_skill_md(&text, folder)?;
    // The SKILL.md text used is the one read above; it must be the signed one, even if the file
    // changed between that read and the verification's own read.
    let signed_text =
        |v: &Verified| v.files.get("SKILL.md") == Some(&bundle::sha256_hex(text.as_bytes()));
    let mut verified_files = None;
    let trust = match verify_bundle(dir, &policy.trusted_keys) {
        Ok(v) if signed_text(&v) => {
            let key = v.key.to_string();
            verified_files = Some(v.files);
            Trust::Verified { key }
        }
        Ok(_) => {
            let reason = "SKILL.md changed while it was being verified".to_string();
            if policy.require_signed {
                return Err(SkillError::Refused {
                    name: doc.name,
                    reason,
                });
            }
            Trust::Restricted { reason }
        }
        // A bundle that cannot be read or holds a symlink is never loaded, signed or not.
        Err(e @ (SkillError::Io { .. } | SkillError::BadBundle { .. })) => return Err(e),
        Err(e) if policy.require_signed => {
            return Err(SkillError::Refused {
                name: doc.name,
                reason: e.to_string(),
            });
        }
        Err(e) => Trust::Restricted {
            reason: e.to_string(),
        },
    };
    let files = match verified_files {
        Some(files) => files,
        None => bundle::hash_bundle(dir)?,
    };
    Ok(Skill {
        name: doc.name,
        description: doc.description,
        version: doc.version,
        allowed_tools: doc.allowed_tools,
        model: doc.model,
        license: doc.license,
        metadata: doc.metadata,
        body: doc.body,
        dir: dir.to_path_buf(),
        source,
        trust,
        files,
    })
}
