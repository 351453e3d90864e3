//! Offline JWT verification: the key is chosen by `kid` from the JWKS, only RS256 and EdDSA are
//! accepted, and the algorithm must fit the key (no `none`, no HMAC with a public key as secret).

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::IdentityError;

#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub exp: u64,
    #[serde(default)]
    pub nbf: Option<u64>,
}

/// Clock skew tolerated on `exp` and `nbf`, at verification and at every re-check.
pub(crate) const LEEWAY_SECS: u64 = 30;

const ACCEPTED: [Algorithm; 2] = [Algorithm::RS256, Algorithm::EdDSA];

/// Verify `token` against `jwks`, checking signature, issuer, audience, expiry and not-before.
pub fn verify_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    audience: &str,
) -> Result<Claims, IdentityError> {
    let invalid = |m: String| IdentityError::Invalid(m);
    let header = decode_header(token).map_err(|e| invalid(format!("malformed header: {e}")))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(invalid(format!(
            "algorithm {:?} is not accepted (RS256 or EdDSA only)",
            header.alg
        )));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| invalid("token has no `kid`".into()))?;
    let jwk = jwks
        .find(kid)
        .ok_or_else(|| invalid(format!("unknown key id `{kid}`")))?;
    let fits = matches!(
        (&jwk.algorithm, header.alg),
        (AlgorithmParameters::RSA(_), Algorithm::RS256)
            | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
    );
    if !fits {
        return Err(invalid(format!(
            "algorithm {:?} does not match key `{kid}`",
            header.alg
        )));
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|e| IdentityError::Config(format!("key `{kid}` in the JWKS is unusable: {e}")))?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    let data = decode::<Claims>(token, &key, &v).map_err(|e| invalid(e.to_string()))?;
    if data.claims.sub.trim().is_empty() {
        return Err(invalid("empty subject".into()));
    }
    Ok(data.claims)
}
