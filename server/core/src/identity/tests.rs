//! Red-team tests: keys are generated in-test (openssl CLI) and every forged or invalid token is
//! refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use super::*;
use jingu_policy::{Layer, Sourced};

const ISS: &str = "https://idp.example";
const AUD: &str = "jingu";

struct Keys {
    _dir: tempfile::TempDir,
    rsa: EncodingKey,
    rsa_other: EncodingKey,
    ed: EncodingKey,
    ed_other: EncodingKey,
    rsa_pub_pem: Vec<u8>,
    jwks_path: PathBuf,
}

fn genpkey(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let status = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&out)
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl genpkey {args:?}");
    std::fs::read(out).expect("read key")
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let rsa_args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
        let rsa_pem = genpkey(dir.path(), "rsa.pem", &rsa_args);
        let rsa_other_pem = genpkey(dir.path(), "rsa2.pem", &rsa_args);
        let ed_pem = genpkey(dir.path(), "ed.pem", &["-algorithm", "ed25519"]);
        let ed_other_pem = genpkey(dir.path(), "ed2.pem", &["-algorithm", "ed25519"]);
        let pub_out = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(dir.path().join("rsa.pem"))
            .output()
            .expect("openssl pkey");
        let rsa = EncodingKey::from_rsa_pem(&rsa_pem).expect("rsa key");
        let ed = EncodingKey::from_ed_pem(&ed_pem).expect("ed key");
        let mut rsa_jwk = Jwk::from_encoding_key(&rsa, Algorithm::RS256).expect("rsa jwk");
        rsa_jwk.common.key_id = Some("rsa-1".into());
        let mut ed_jwk = Jwk::from_encoding_key(&ed, Algorithm::EdDSA).expect("ed jwk");
        ed_jwk.common.key_id = Some("ed-1".into());
        let jwks = JwkSet {
            keys: vec![rsa_jwk, ed_jwk],
        };
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, serde_json::to_vec(&jwks).expect("json")).expect("write");
        Keys {
            rsa,
            rsa_other: EncodingKey::from_rsa_pem(&rsa_other_pem).expect("rsa2"),
            ed,
            ed_other: EncodingKey::from_ed_pem(&ed_other_pem).expect("ed2"),
            rsa_pub_pem: pub_out.stdout,
            jwks_path,
            _dir: dir,
        }
    })
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> serde_json::Value {
    json!({"sub": "alice@example.com", "iss": ISS, "aud": AUD, "exp": now() + 600, "iat": now()})
}

fn token(
    alg: Algorithm,
    kid: Option<&str>,
    claims: &serde_json::Value,
    key: &EncodingKey,
) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(String::from);
    encode(&h, claims, key).expect("encode")
}

fn policy(required: bool) -> IdentityPolicy {
    IdentityPolicy {
        required: Sourced::new(required, Layer::Enterprise),
        issuer: Some(Sourced::new(ISS.into(), Layer::Enterprise)),
        audience: Some(Sourced::new(AUD.into(), Layer::Enterprise)),
        jwks_file: Some(Sourced::new(keys().jwks_path.clone(), Layer::Enterprise)),
        token_file: None,
    }
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn refused(token: &str) -> String {
    match Identity::resolve_token(&policy(true), Some(token)) {
        Err(IdentityError::Invalid(m)) => m,
        other => panic!("token accepted or wrong error: {other:?}"),
    }
}

#[test]
fn valid_rs256_and_eddsa_tokens_verify() {
    let k = keys();
    for t in [
        token(Algorithm::RS256, Some("rsa-1"), &claims(), &k.rsa),
        token(Algorithm::EdDSA, Some("ed-1"), &claims(), &k.ed),
    ] {
        let id = Identity::resolve_token(&policy(true), Some(&t)).expect("valid");
        assert_eq!(
            id,
            Identity {
                subject: "alice@example.com".into(),
                verified: true,
                issuer: Some(ISS.into()),
                expires_at: id.expires_at,
                not_before: None,
            }
        );
        assert!(id.expires_at.is_some_and(|e| e >= now() + 590));
        id.check_current().expect("valid now");
    }
}

#[test]
fn token_signed_by_another_key_is_refused() {
    let k = keys();
    refused(&token(
        Algorithm::RS256,
        Some("rsa-1"),
        &claims(),
        &k.rsa_other,
    ));
    refused(&token(
        Algorithm::EdDSA,
        Some("ed-1"),
        &claims(),
        &k.ed_other,
    ));
}

#[test]
fn tampered_payload_is_refused() {
    let t = token(Algorithm::EdDSA, Some("ed-1"), &claims(), &keys().ed);
    let parts: Vec<&str> = t.split('.').collect();
    let mut c = claims();
    c["sub"] = json!("root");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(&serde_json::to_vec(&c).expect("json")),
        parts[2]
    );
    refused(&forged);
}

#[test]
fn expired_token_is_refused() {
    let mut c = claims();
    c["exp"] = json!(now() - 3600);
    let m = refused(&token(Algorithm::RS256, Some("rsa-1"), &c, &keys().rsa));
    assert!(m.to_lowercase().contains("expired"), "{m}");
}

#[test]
fn not_yet_valid_token_is_refused() {
    let mut c = claims();
    c["nbf"] = json!(now() + 3600);
    refused(&token(Algorithm::RS256, Some("rsa-1"), &c, &keys().rsa));
}

#[test]
fn wrong_audience_is_refused() {
    let mut c = claims();
    c["aud"] = json!("another-app");
    refused(&token(Algorithm::EdDSA, Some("ed-1"), &c, &keys().ed));
}

#[test]
fn wrong_issuer_is_refused() {
    let mut c = claims();
    c["iss"] = json!("https://evil.example");
    refused(&token(Algorithm::EdDSA, Some("ed-1"), &c, &keys().ed));
}

#[test]
fn missing_claims_are_refused() {
    for drop in ["exp", "sub", "aud", "iss"] {
        let mut c = claims();
        c.as_object_mut().expect("obj").remove(drop);
        refused(&token(Algorithm::EdDSA, Some("ed-1"), &c, &keys().ed));
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let k = keys();
    let m = refused(&token(Algorithm::RS256, Some("rsa-9"), &claims(), &k.rsa));
    assert!(m.contains("unknown key id"), "{m}");
    refused(&token(Algorithm::RS256, None, &claims(), &k.rsa));
}

#[test]
fn kid_of_another_key_type_is_refused() {
    // An RS256 token pointing at the Ed25519 key id.
    let m = refused(&token(
        Algorithm::RS256,
        Some("ed-1"),
        &claims(),
        &keys().rsa,
    ));
    assert!(m.contains("does not match"), "{m}");
}

#[test]
fn alg_none_is_refused() {
    let header = b64url(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#);
    let body = b64url(&serde_json::to_vec(&claims()).expect("json"));
    refused(&format!("{header}.{body}."));
    refused(&format!("{header}.{body}"));
}

#[test]
fn hmac_with_public_key_as_secret_is_refused() {
    // Classic algorithm confusion: HS256 keyed with the RSA public key the verifier holds.
    let k = keys();
    let t = token(
        Algorithm::HS256,
        Some("rsa-1"),
        &claims(),
        &EncodingKey::from_secret(&k.rsa_pub_pem),
    );
    let m = refused(&t);
    assert!(m.contains("not accepted"), "{m}");
}

#[test]
fn garbage_is_refused() {
    for g in ["", "abc", "a.b.c", "eyJhbGciOiJSUzI1NiJ9..", "....."] {
        if g.is_empty() {
            continue;
        }
        refused(g);
    }
}

#[test]
fn required_identity_without_token_fails() {
    let err = Identity::resolve_token(&policy(true), None).expect_err("required");
    assert!(matches!(err, IdentityError::Missing { .. }));
    assert!(err.to_string().contains("enterprise"));
}

#[test]
fn optional_identity_falls_back_to_unverified_os_user() {
    let id = Identity::resolve_token(&policy(false), None).expect("os user");
    assert!(!id.verified);
    assert!(!id.subject.is_empty());
    assert_eq!(id.issuer, None);
    // A supplied but invalid token is still an error, not a silent downgrade.
    assert!(Identity::resolve_token(&policy(false), Some("a.b.c")).is_err());
}

#[test]
fn missing_verifier_config_fails_closed() {
    let t = token(Algorithm::EdDSA, Some("ed-1"), &claims(), &keys().ed);
    let mut p = policy(true);
    p.jwks_file = None;
    assert!(matches!(
        Identity::resolve_token(&p, Some(&t)),
        Err(IdentityError::Config(_))
    ));
    let mut p = policy(true);
    p.audience = None;
    assert!(matches!(
        Identity::resolve_token(&p, Some(&t)),
        Err(IdentityError::Config(_))
    ));
}

#[test]
fn a_session_identity_expires_and_is_rechecked() {
    let k = keys();
    let mut c = claims();
    c["exp"] = json!(now() + 100);
    c["nbf"] = json!(now() - 10);
    let t = token(Algorithm::EdDSA, Some("ed-1"), &c, &k.ed);
    let id = Identity::resolve_token(&policy(true), Some(&t)).expect("valid");
    id.check_at(now()).expect("valid now");
    id.check_at(now() + 100 + jwt::LEEWAY_SECS)
        .expect("within leeway");
    let err = id
        .check_at(now() + 100 + jwt::LEEWAY_SECS + 2)
        .expect_err("expired during the session");
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(
        id.check_at(now() - 10 - jwt::LEEWAY_SECS - 5).is_err(),
        "before nbf"
    );
    // An unverified OS identity has no token to expire.
    let os = Identity::resolve_token(&policy(false), None).expect("os user");
    os.check_at(u64::MAX).expect("no expiry");
}
