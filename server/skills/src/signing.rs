//! Ed25519 keys and bundle signatures (`jingu.sig`).
//!
//! The signed message is a domain tag followed by the canonical manifest (see [`super::bundle`]), so
//! a signature over a skill can never be replayed as a signature over anything else. The signature
//! file also records the manifest's file list, only so that a refusal can name what changed.

use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::SkillError;
use super::bundle::{self, BundleDiff, FileHashes, SIGNATURE_FILE};

const DOMAIN: &[u8] = b"jingu-skill-manifest-v1\n";
const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// A public key in its text form `ed25519:<64 hex digits>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn parse(text: &str) -> Result<Self, SkillError> {
        let bad = |reason: &str| SkillError::BadKey(format!("`{}`: {reason}", text.trim()));
        let hex_part = text
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| bad("expected `ed25519:<64 hex digits>`"))?;
        let bytes: [u8; 32] = hex::decode(hex_part)
            .map_err(|_| bad("not hex"))?
            .try_into()
            .map_err(|_| bad("an ed25519 public key is 32 bytes"))?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad("not a valid ed25519 point"))
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.0.to_bytes()))
    }
}

/// A private signing key, kept only in a 0600 file outside any repository.
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn generate() -> Result<Self, SkillError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| SkillError::BadKey(format!("no system randomness: {e}")))?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Write the key to a new file readable only by its owner; never overwrites an existing file.
    pub fn write_new(&self, path: &Path) -> Result<(), SkillError> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| SkillError::io(path, e))?;
        let line = format!("{SECRET_PREFIX}{}\n", hex::encode(self.0.to_bytes()));
        f.write_all(line.as_bytes())
            .map_err(|e| SkillError::io(path, e))?;
        f.sync_all().map_err(|e| SkillError::io(path, e))
    }

    pub fn read(path: &Path) -> Result<Self, SkillError> {
        let text = fs::read_to_string(path).map_err(|e| SkillError::io(path, e))?;
        let bad = || {
            SkillError::BadKey(format!(
                "{}: expected `{SECRET_PREFIX}<64 hex digits>`",
                path.display()
            ))
        };
        let seed: [u8; 32] = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }
}

/// The JSON content of `jingu.sig`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub version: u32,
    /// `ed25519:<hex>` of the signer.
    pub key: String,
    pub manifest_sha256: String,
    /// Hex of the 64-byte ed25519 signature over the domain tag and the canonical manifest.
    pub signature: String,
    /// The signed file list; diagnostic only: verification recomputes everything from disk.
    pub files: FileHashes,
}

/// Sign the bundle at `dir` in place, writing `dir/jingu.sig`; returns what was written.
pub fn sign_bundle(dir: &Path, key: &SecretKey) -> Result<SignatureFile, SkillError> {
    let files = bundle::hash_bundle(dir)?;
    let manifest = bundle::canonical_manifest(&files);
    let sig = key.0.sign(&signed_message(&manifest));
    let file = SignatureFile {
        version: 1,
        key: key.public().to_string(),
        manifest_sha256: bundle::sha256_hex(manifest.as_bytes()),
        signature: hex::encode(sig.to_bytes()),
        files,
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| SkillError::BadSignature {
        dir: dir.to_path_buf(),
        reason: format!("cannot encode: {e}"),
    })?;
    let path = dir.join(SIGNATURE_FILE);
    fs::write(&path, text + "\n").map_err(|e| SkillError::io(&path, e))?;
    Ok(file)
}

/// A bundle whose signature checked out and whose signer is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub key: PublicKey,
    pub manifest_sha256: String,
    /// The verified hashes, so a caller can check that bytes it read separately are the signed ones.
    pub files: FileHashes,
}

/// Check every file hash, the signature, and that the signer is one of `trusted`.
/// The order matters for the reason given: tampering is reported before a bad or untrusted key.
pub fn verify_bundle(dir: &Path, trusted: &[PublicKey]) -> Result<Verified, SkillError> {
    let sig_path = dir.join(SIGNATURE_FILE);
    let actual = bundle::hash_bundle(dir)?;
    let text = match fs::read_to_string(&sig_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SkillError::Unsigned {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(SkillError::io(&sig_path, e)),
    };
    let bad = |reason: String| SkillError::BadSignature {
        dir: dir.to_path_buf(),
        reason,
    };
    let sig_file: SignatureFile = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{SIGNATURE_FILE} is not valid: {e}")))?;
    if sig_file.version != 1 {
        return Err(bad(format!(
            "unsupported signature version {}",
            sig_file.version
        )));
    }
    let diff = BundleDiff::between(&sig_file.files, &actual);
    if !diff.is_empty() {
        return Err(SkillError::Tampered {
            dir: dir.to_path_buf(),
            diff,
        });
    }
    let manifest = bundle::canonical_manifest(&actual);
    let manifest_sha256 = bundle::sha256_hex(manifest.as_bytes());
    if manifest_sha256 != sig_file.manifest_sha256 {
        return Err(bad("manifest_sha256 does not match the files".into()));
    }
    let key = PublicKey::parse(&sig_file.key)?;
    let sig_bytes: [u8; 64] = hex::decode(&sig_file.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("signature is not 64 bytes of hex".into()))?;
    key.0
        .verify_strict(
            &signed_message(&manifest),
            &Signature::from_bytes(&sig_bytes),
        )
        .map_err(|_| bad(format!("the signature does not verify under {key}")))?;
    if !trusted.contains(&key) {
        return Err(SkillError::UntrustedKey {
            dir: dir.to_path_buf(),
            key: key.to_string(),
        });
    }
    Ok(Verified {
        key,
        manifest_sha256,
        files: actual,
    })
}

fn signed_message(manifest: &str) -> Vec<u8> {
    [DOMAIN, manifest.as_bytes()].concat()
}
