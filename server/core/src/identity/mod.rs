//! Who is acting: a JWT verified offline against the JWKS file named by policy, or else the OS
//! user marked unverified. The subject is stamped on every audit record and snapshot.
//!
//! With `[identity] required = true` nothing runs without a valid token. A token that is present
//! but fails verification is always an error, never a silent fallback to the OS user.

mod jwt;
pub mod os_user;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use jingu_policy::IdentityPolicy;

pub use jwt::{Claims, verify_token};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub subject: String,
    /// True only when the subject comes from a token that verified against the policy's JWKS.
    pub verified: bool,
    pub issuer: Option<String>,
    /// The token's `exp` and `nbf` (seconds since the epoch): a long-lived LSP/ACP session
    /// re-checks them at every run and tool call ([`Identity::check_current`]).
    #[serde(skip)]
    pub expires_at: Option<u64>,
    #[serde(skip)]
    pub not_before: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "identity is required by the {layer} policy but no token was provided (set JINGU_IDENTITY_TOKEN or JINGU_IDENTITY_TOKEN_FILE)"
    )]
    Missing { layer: String },
    #[error("identity token rejected: {0}")]
    Invalid(String),
    #[error("identity verification is misconfigured: {0}")]
    Config(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn read_trimmed(path: &Path) -> Result<String, IdentityError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| IdentityError::Io {
            path: path.to_path_buf(),
            source,
        })
}

impl Identity {
    /// Resolve from `JINGU_IDENTITY_TOKEN`, `JINGU_IDENTITY_TOKEN_FILE`, or the policy's
    /// `identity.token_file`, in that order.
    pub fn resolve(policy: &IdentityPolicy) -> Result<Identity, IdentityError> {
        let token = match std::env::var("JINGU_IDENTITY_TOKEN") {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => match std::env::var_os("JINGU_IDENTITY_TOKEN_FILE").filter(|v| !v.is_empty()) {
                Some(p) => Some(read_trimmed(Path::new(&p))?),
                None => match &policy.token_file {
                    Some(f) if f.value.exists() => Some(read_trimmed(&f.value)?),
                    _ => None,
                },
            },
        };
        Self::resolve_token(policy, token.as_deref())
    }

    /// Resolve from an explicit token (or none).
    pub fn resolve_token(
        policy: &IdentityPolicy,
        token: Option<&str>,
    ) -> Result<Identity, IdentityError> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            if policy.required.value {
                return Err(IdentityError::Missing {
                    layer: policy.required.layer.to_string(),
                });
            }
            return Ok(Identity {
                subject: os_user::name(),
                verified: false,
                issuer: None,
                expires_at: None,
                not_before: None,
            });
        };
        let cfg = |what: &str| {
            IdentityError::Config(format!(
                "[identity] {what} is not set in the enterprise or user config"
            ))
        };
        let jwks_file = policy.jwks_file.as_ref().ok_or_else(|| cfg("jwks_file"))?;
        let issuer = policy.issuer.as_ref().ok_or_else(|| cfg("issuer"))?;
        let audience = policy.audience.as_ref().ok_or_else(|| cfg("audience"))?;
        let jwks_text = read_trimmed(&jwks_file.value)?;
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&jwks_text).map_err(|e| {
            IdentityError::Config(format!(
                "{} is not a JWKS document: {e}",
                jwks_file.value.display()
            ))
        })?;
        let claims = verify_token(token, &jwks, &issuer.value, &audience.value)?;
        Ok(Identity {
            subject: claims.sub,
            verified: true,
            issuer: Some(claims.iss),
            expires_at: Some(claims.exp),
            not_before: claims.nbf,
        })
    }

    /// Still valid now? A token verified at start-up expires during a long session; from then on
    /// nothing may run under it.
    pub fn check_current(&self) -> Result<(), IdentityError> {
        self.check_at(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }

    /// [`Identity::check_current`] at `now` (seconds since the epoch).
    pub fn check_at(&self, now: u64) -> Result<(), IdentityError> {
        if let Some(exp) = self.expires_at
            && now > exp.saturating_add(jwt::LEEWAY_SECS)
        {
            return Err(IdentityError::Invalid(format!(
                "token for {} expired {}s ago; provide a fresh token and restart the session",
                self.subject,
                now - exp
            )));
        }
        if let Some(nbf) = self.not_before
            && now.saturating_add(jwt::LEEWAY_SECS) < nbf
        {
            return Err(IdentityError::Invalid(format!(
                "token for {} is not valid for another {}s",
                self.subject,
                nbf - now
            )));
        }
        Ok(())
    }
}
