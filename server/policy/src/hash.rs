//! Identity of the effective policy, recorded in every audit record.

use sha2::{Digest, Sha256};

use super::Policy;

impl Policy {
    /// SHA-256 (hex) of the canonical effective policy: key, value and layer of every entry, in the
    /// fixed order of [`Policy::entries`], as compact JSON.
    pub fn hash(&self) -> String {
        let canonical: Vec<(String, String, String)> = self
            .entries()
            .into_iter()
            .map(|e| (e.key, e.value.to_string(), e.layer))
            .collect();
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}
