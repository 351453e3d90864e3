//! The signed manifest of an enterprise policy repository (`jingu-policy.sig` at its root): every
//! file of the tree (the policy, skill bundles, …) with its SHA-256, a serial number that must grow
//! with every release, and an ed25519 signature over both. The serial is what makes a replayed
//! older release (validly signed, but superseded) detectable: `jingu policy sync` remembers the last
//! installed one and refuses anything not greater.
//!
//! Signed message: the domain tag, `serial N\n`, then one `path\tsha256hex\n` line per file in path
//! order. The tag differs from skill bundles' so neither signature can stand in for the other.
//! Keys use the skills' text forms (`ed25519:<hex>` public, `ed25519-secret:<hex>` secret), so
//! `jingu skills keygen` makes a policy key too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name at the repository root; the only file it does not list.
pub const MANIFEST_FILE: &str = "jingu-policy.sig";
/// The policy file inside the repository.
pub const POLICY_FILE: &str = "policy.toml";
const DOMAIN: &[u8] = b"jingu-policy-manifest-v1\n";
/// Bounds that keep checking a hostile repository cheap.
pub const MAX_FILES: usize = 5000;
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Relative `/`-separated path → lowercase hex SHA-256.
pub type FileHashes = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyManifest {
    pub version: u32,
    pub serial: u64,
    /// `ed25519:<hex>` of the signer (diagnostic: verification uses the trusted key only).
    pub key: String,
    pub files: FileHashes,
    /// Hex of the 64-byte signature.
    pub signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("{MANIFEST_FILE} is not a valid manifest: {0}")]
    Malformed(String),
    #[error("files differ from the signed manifest ({0})")]
    Tampered(String),
    #[error("signed by {signed_by}, not by the trusted enterprise key {trusted}")]
    WrongKey { signed_by: String, trusted: String },
    #[error("the signature does not verify under the trusted enterprise key {0}")]
    BadSignature(String),
    #[error("bad key: {0}")]
    BadKey(String),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn message(serial: u64, files: &FileHashes) -> Vec<u8> {
    let mut m = DOMAIN.to_vec();
    m.extend_from_slice(format!("serial {serial}\n").as_bytes());
    for (p, h) in files {
        m.extend_from_slice(format!("{p}\t{h}\n").as_bytes());
    }
    m
}

/// `ed25519:<64 hex>` → key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, ManifestError> {
    let bad = |r: &str| ManifestError::BadKey(format!("`{}`: {r}", text.trim()));
    let bytes: [u8; 32] = text
        .trim()
        .strip_prefix("ed25519:")
        .ok_or_else(|| bad("expected `ed25519:<64 hex digits>`"))
        .and_then(|h| hex::decode(h).map_err(|_| bad("not hex")))?
        .try_into()
        .map_err(|_| bad("an ed25519 public key is 32 bytes"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not a valid ed25519 point"))
}

pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("ed25519:{}", hex::encode(key.to_bytes()))
}

/// Read an `ed25519-secret:<64 hex>` file (as written by `jingu skills keygen`).
pub fn read_secret_key(path: &Path) -> Result<SigningKey, ManifestError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ManifestError::BadKey(format!("{}: {e}", path.display())))?;
    let seed: [u8; 32] = text
        .trim()
        .strip_prefix("ed25519-secret:")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ManifestError::BadKey(format!(
                "{}: expected `ed25519-secret:<64 hex digits>`",
                path.display()
            ))
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn sign(files: FileHashes, serial: u64, key: &SigningKey) -> PolicyManifest {
    let sig = key.sign(&message(serial, &files));
    PolicyManifest {
        version: 1,
        serial,
        key: public_key_text(&key.verifying_key()),
        files,
        signature: hex::encode(sig.to_bytes()),
    }
}

/// Check `manifest_bytes` against the files actually present and the trusted key; the signed
/// serial on success. Tampering is reported before a wrong key, a wrong key before a bad signature.
pub fn verify(
    manifest_bytes: &[u8],
    actual: &FileHashes,
    trusted: &VerifyingKey,
) -> Result<PolicyManifest, ManifestError> {
    let m: PolicyManifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| ManifestError::Malformed(e.to_string()))?;
    if m.version != 1 {
        return Err(ManifestError::Malformed(format!(
            "unsupported version {}",
            m.version
        )));
    }
    let diff = describe_diff(&m.files, actual);
    if !diff.is_empty() {
        return Err(ManifestError::Tampered(diff));
    }
    let trusted_text = public_key_text(trusted);
    if m.key.trim() != trusted_text {
        return Err(ManifestError::WrongKey {
            signed_by: m.key.clone(),
            trusted: trusted_text,
        });
    }
    let sig: [u8; 64] = hex::decode(&m.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ManifestError::Malformed("signature is not 64 bytes of hex".into()))?;
    trusted
        .verify_strict(&message(m.serial, actual), &Signature::from_bytes(&sig))
        .map_err(|_| ManifestError::BadSignature(trusted_text))?;
    Ok(m)
}

/// Check the signature over the manifest's own file list (for a tree already verified in full at
/// install time, when only one of its files is read back).
pub fn verify_listed(
    manifest_bytes: &[u8],
    trusted: &VerifyingKey,
) -> Result<PolicyManifest, ManifestError> {
    let m: PolicyManifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| ManifestError::Malformed(e.to_string()))?;
    verify(manifest_bytes, &m.files, trusted)
}

fn describe_diff(recorded: &FileHashes, actual: &FileHashes) -> String {
    let mut parts = Vec::new();
    let changed: Vec<&str> = actual
        .iter()
        .filter(|(p, h)| recorded.get(*p).is_some_and(|r| r != *h))
        .map(|(p, _)| p.as_str())
        .collect();
    let added: Vec<&str> = actual
        .keys()
        .filter(|p| !recorded.contains_key(*p))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = recorded
        .keys()
        .filter(|p| !actual.contains_key(*p))
        .map(String::as_str)
        .collect();
    for (label, list) in [("changed", changed), ("added", added), ("removed", removed)] {
        if !list.is_empty() {
            parts.push(format!("{label}: {}", list.join(", ")));
        }
    }
    parts.join("; ")
}

/// Hash a checked-out policy directory for signing: every regular file except `.git/` and the
/// manifest itself; symlinks and special files are refused.
pub fn hash_dir(dir: &Path) -> Result<FileHashes, String> {
    let mut out = FileHashes::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel_dir) = stack.pop() {
        let abs = dir.join(&rel_dir);
        let entries = std::fs::read_dir(&abs).map_err(|e| format!("{}: {e}", abs.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", abs.display()))?;
            let rel = rel_dir.join(entry.file_name());
            let rel_str = rel
                .to_str()
                .filter(|s| !s.contains(['\t', '\n', '\r']))
                .ok_or_else(|| format!("file name {rel:?} is not UTF-8 or has a tab or newline"))?
                .replace('\\', "/");
            if rel_str == ".git" || rel_str == MANIFEST_FILE {
                continue;
            }
            let meta = std::fs::symlink_metadata(entry.path())
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if meta.is_dir() {
                stack.push(rel);
            } else if meta.is_file() {
                if meta.len() > MAX_FILE_BYTES || out.len() >= MAX_FILES {
                    return Err(format!("`{rel_str}`: over the size or file-count limit"));
                }
                let bytes = std::fs::read(entry.path())
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
                out.insert(rel_str, sha256_hex(&bytes));
            } else {
                return Err(format!(
                    "`{rel_str}` is a symlink or special file; only regular files can be signed"
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> FileHashes {
        [
            ("policy.toml".to_string(), sha256_hex(b"[policy]\n")),
            ("skills/a/SKILL.md".to_string(), sha256_hex(b"hi")),
        ]
        .into()
    }

    #[test]
    fn a_manifest_verifies_and_every_change_is_named() {
        let k = SigningKey::from_bytes(&[7; 32]);
        let m = sign(files(), 4, &k);
        let bytes = serde_json::to_vec(&m).unwrap();
        assert_eq!(
            verify(&bytes, &files(), &k.verifying_key()).unwrap().serial,
            4
        );

        let mut changed = files();
        changed.insert(
            "policy.toml".into(),
            sha256_hex(b"[policy]\nsandbox=\"off\"\n"),
        );
        changed.insert("extra".into(), sha256_hex(b"x"));
        let err = verify(&bytes, &changed, &k.verifying_key()).unwrap_err();
        assert_eq!(
            err,
            ManifestError::Tampered("changed: policy.toml; added: extra".into())
        );

        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(
            verify(&bytes, &files(), &other.verifying_key()),
            Err(ManifestError::WrongKey { .. })
        ));

        // A raised serial under the old signature: the key matches, the signature does not.
        let mut forged = m.clone();
        forged.serial = 5;
        let bytes = serde_json::to_vec(&forged).unwrap();
        assert!(matches!(
            verify(&bytes, &files(), &k.verifying_key()),
            Err(ManifestError::BadSignature(_))
        ));
    }
}
