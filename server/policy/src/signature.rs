//! Optional ed25519 signature over the enterprise policy file (`policy.toml.sig`, detached, over
//! the exact file bytes). A signature is *required* when a public key is installed or the policy
//! itself says `require_signature = true`; then a missing or bad signature fails closed.
//!
//! Key and signature files hold either raw bytes (32 / 64) or hex text, optionally prefixed
//! `ed25519:`.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, VerifyingKey};

use super::PolicyError;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// No key installed and not required: the file was taken as is.
    NotRequired,
    /// Verified against the installed key.
    Verified,
    /// No enterprise policy file exists.
    NoEnterprisePolicy,
}

fn decode_material(bytes: &[u8], len: usize) -> Option<Vec<u8>> {
    if bytes.len() == len {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let text = text.strip_prefix("ed25519:").unwrap_or(text);
    let out = hex::decode(text).ok()?;
    (out.len() == len).then_some(out)
}

pub(crate) fn sig_path_for(policy: &Path) -> PathBuf {
    let mut s = policy.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

/// Verify `policy_bytes` against the detached signature next to `policy_path`.
pub(crate) fn verify(
    policy_path: &Path,
    policy_bytes: &[u8],
    pubkey: &Path,
) -> Result<(), PolicyError> {
    let fail = |reason: String| PolicyError::Signature {
        path: policy_path.to_path_buf(),
        reason,
    };
    let key_bytes = read_small(pubkey)
        .map_err(|e| fail(format!("cannot read public key {}: {e}", pubkey.display())))?;
    let key = decode_material(&key_bytes, 32)
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .ok_or_else(|| fail(format!("{} is not an ed25519 public key", pubkey.display())))?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| {
        fail(format!(
            "{} is not a valid ed25519 key: {e}",
            pubkey.display()
        ))
    })?;
    let sig_path = sig_path_for(policy_path);
    if !sig_path.exists() {
        // Installed by `jingu policy sync`: the repository's signed manifest stands beside the file.
        if let Some(m) = manifest_beside(policy_path) {
            return verify_by_manifest(policy_bytes, &m, &key).map_err(fail);
        }
    }
    let sig_bytes = read_small(&sig_path)
        .map_err(|e| fail(format!("signature {} unreadable: {e}", sig_path.display())))?;
    let sig = decode_material(&sig_bytes, 64)
        .and_then(|s| <[u8; 64]>::try_from(s.as_slice()).ok())
        .ok_or_else(|| {
            fail(format!(
                "{} is not an ed25519 signature",
                sig_path.display()
            ))
        })?;
    // Strict: rejects small-order keys and non-canonical signatures (malleability).
    key.verify_strict(policy_bytes, &Signature::from_bytes(&sig))
        .map_err(|_| fail("signature does not match the policy file".into()))
}

/// `jingu-policy.sig` in the directory the policy file really lives in (it is a symlink into the
/// installed release when `jingu policy sync` put it there).
fn manifest_beside(policy_path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(policy_path).ok()?;
    let m = real.parent()?.join(super::manifest::MANIFEST_FILE);
    m.is_file().then_some(m)
}

fn verify_by_manifest(bytes: &[u8], manifest: &Path, key: &VerifyingKey) -> Result<(), String> {
    let text = std::fs::read(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let m = super::manifest::verify_listed(&text, key).map_err(|e| e.to_string())?;
    match m.files.get(super::manifest::POLICY_FILE) {
        Some(h) if *h == super::manifest::sha256_hex(bytes) => Ok(()),
        Some(_) => Err(format!(
            "the policy file differs from the one {} signed",
            manifest.display()
        )),
        None => Err(format!(
            "{} does not list the policy file",
            manifest.display()
        )),
    }
}

/// Key and signature files are tiny; refuse to slurp a huge file (or a FIFO) named as one.
fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::new();
    file.take(4096).read_to_end(&mut out)?;
    Ok(out)
}
