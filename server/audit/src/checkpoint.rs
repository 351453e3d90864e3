//! Signed checkpoints: every N records and at the end of each run, a record holding the count and
//! the hash of the last line, signed with the enterprise's ed25519 key. Whoever rewrites the chain
//! without that key cannot re-sign the checkpoints that cover the rewritten part.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

const DOMAIN: &str = "jingu-audit-checkpoint-v1";
const SECRET_PREFIX: &str = "ed25519-secret:";
pub(crate) const PUBLIC_PREFIX: &str = "ed25519:";

/// Records between two checkpoints when `[audit] checkpoint_every` is not set.
pub(crate) const DEFAULT_EVERY: u64 = 64;

#[derive(Debug, thiserror::Error)]
#[error("audit checkpoint key {path}: {reason}")]
pub struct KeyError {
    pub path: PathBuf,
    pub reason: String,
}

/// The signing key, read from `[audit] checkpoint_key_file` (`ed25519-secret:<hex>`, as written
/// by `jingu skills keygen`).
#[derive(Clone)]
pub struct CheckpointKey {
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointKey({})", self.key_id())
    }
}

impl CheckpointKey {
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let seed: [u8; 32] = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| err(format!("expected `{SECRET_PREFIX}<64 hex digits>`")))?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// `ed25519:<hex>` of the public half.
    pub fn key_id(&self) -> String {
        format!(
            "{PUBLIC_PREFIX}{}",
            hex::encode(self.key.verifying_key().to_bytes())
        )
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, count: u64, head_hash: &str, time: &str) -> String {
        hex::encode(
            self.key
                .sign(message(count, head_hash, time).as_bytes())
                .to_bytes(),
        )
    }
}

fn message(count: u64, head_hash: &str, time: &str) -> String {
    format!("{DOMAIN}\n{count}\n{head_hash}\n{time}")
}

/// Check a checkpoint's signature against `key`.
pub(crate) fn check(
    key: &VerifyingKey,
    count: u64,
    head_hash: &str,
    time: &str,
    signature: &str,
) -> Result<(), String> {
    let bytes: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 64 hex-encoded bytes")?;
    key.verify(
        message(count, head_hash, time).as_bytes(),
        &Signature::from_bytes(&bytes),
    )
    .map_err(|_| {
        "the signature does not match (checkpoint forged or the records it covers rewritten)"
            .to_string()
    })
}
