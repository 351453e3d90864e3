//! Attacks on where the layers come from: the environment may add a layer, never replace or
//! unsign the enterprise one.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey};

use super::*;

const ENTERPRISE: &str =
    "[policy]\nsandbox = \"required\"\nredact = true\ntools = { run_command = \"deny\" }\n";
const PERMISSIVE: &str = "[policy]\nsandbox = \"off\"\nredact = false\ntools = { run_command = \"allow\", edit = \"allow\" }\n";

struct Sys {
    dir: tempfile::TempDir,
}

impl Sys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("etc")).expect("etc");
        std::fs::create_dir_all(dir.path().join("ws")).expect("ws");
        Self { dir }
    }
    fn etc(&self, name: &str) -> PathBuf {
        self.dir.path().join("etc").join(name)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, p: &Path, text: impl AsRef<[u8]>) {
        std::fs::write(p, text).expect("write");
    }
    fn sources(&self, env: &[(&str, &Path)]) -> PolicySources {
        PolicySources::for_tests(&self.dir.path().join("etc"), &self.path("ws"), env)
    }
    fn load(&self, env: &[(&str, &Path)]) -> Result<Policy, PolicyError> {
        Policy::load_from(&self.sources(env))
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn pub_hex(k: &SigningKey) -> String {
    format!("ed25519:{}\n", hex::encode(k.verifying_key().to_bytes()))
}

#[test]
fn jingu_policy_adds_a_layer_and_cannot_replace_the_enterprise_one() {
    let s = Sys::new();
    s.write(&s.etc("policy.toml"), ENTERPRISE);
    s.write(&s.path("mine.toml"), PERMISSIVE);
    let p = s
        .load(&[("JINGU_POLICY", &s.path("mine.toml"))])
        .expect("load");
    assert_eq!(p.sandbox.value, SandboxMode::Required);
    assert_eq!(p.sandbox.layer, Layer::Enterprise);
    assert_eq!(
        p.tool_decision(Tool::RunCommand).value,
        ToolDecision::Deny,
        "the added layer loosened run_command"
    );
    assert!(p.redact.value, "the added layer switched redaction off");
    assert_eq!(
        p.files.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        vec![Layer::Enterprise, Layer::Extra]
    );
}

#[test]
fn the_added_layer_can_tighten() {
    let s = Sys::new();
    s.write(
        &s.path("tight.toml"),
        "[policy]\ntools = { read = \"ask\" }\ndeny_paths = [\"vendor/**\"]\n",
    );
    let p = s
        .load(&[("JINGU_POLICY", &s.path("tight.toml"))])
        .expect("load");
    assert_eq!(p.tool_decision(Tool::Read).value, ToolDecision::Ask);
    assert_eq!(p.tool_decision(Tool::Read).layer, Layer::Extra);
    assert!(p.path_denied("vendor/x.rs").is_some());
}

#[test]
fn a_user_key_cannot_stand_in_for_the_enterprise_key() {
    let s = Sys::new();
    let corp = key(1);
    let mallory = key(2);
    s.write(&s.etc("policy.pub"), pub_hex(&corp));
    // Mallory loosens the enterprise file and signs it with her own key.
    s.write(&s.etc("policy.toml"), PERMISSIVE);
    s.write(
        &s.etc("policy.toml.sig"),
        hex::encode(mallory.sign(PERMISSIVE.as_bytes()).to_bytes()),
    );
    s.write(&s.path("mallory.pub"), pub_hex(&mallory));
    let err = s
        .load(&[("JINGU_POLICY_PUBKEY", &s.path("mallory.pub"))])
        .expect_err("a user key replaced the enterprise key");
    assert!(matches!(err, PolicyError::Signature { .. }), "{err}");
    let err = s
        .load(&[
            ("JINGU_POLICY", &s.etc("policy.toml")),
            ("JINGU_POLICY_PUBKEY", &s.path("mallory.pub")),
        ])
        .expect_err("the enterprise file was verified against a user key");
    assert!(matches!(err, PolicyError::Signature { .. }), "{err}");
}

#[test]
fn removing_the_signed_enterprise_file_while_pointing_elsewhere_fails() {
    let s = Sys::new();
    s.write(&s.etc("policy.pub"), pub_hex(&key(1)));
    s.write(&s.path("mine.toml"), PERMISSIVE);
    let err = s
        .load(&[("JINGU_POLICY", &s.path("mine.toml"))])
        .expect_err("policy file removed");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn the_added_layer_verifies_against_the_key_it_names() {
    let s = Sys::new();
    let k = key(3);
    let text = "[policy]\ntools = { edit = \"deny\" }\n";
    s.write(&s.path("add.toml"), text);
    s.write(&s.path("add.pub"), pub_hex(&k));
    let env = [
        ("JINGU_POLICY", s.path("add.toml")),
        ("JINGU_POLICY_PUBKEY", s.path("add.pub")),
    ];
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    assert!(matches!(s.load(&env), Err(PolicyError::Signature { .. })));
    s.write(
        &s.path("add.toml.sig"),
        hex::encode(key(4).sign(text.as_bytes()).to_bytes()),
    );
    assert!(matches!(s.load(&env), Err(PolicyError::Signature { .. })));
    s.write(
        &s.path("add.toml.sig"),
        hex::encode(k.sign(text.as_bytes()).to_bytes()),
    );
    let p = s.load(&env).expect("signed");
    assert_eq!(p.tool_decision(Tool::Edit).value, ToolDecision::Deny);
}

#[test]
fn a_key_without_a_layer_or_a_missing_layer_is_an_error() {
    let s = Sys::new();
    s.write(&s.path("k.pub"), pub_hex(&key(1)));
    assert!(
        s.load(&[("JINGU_POLICY_PUBKEY", &s.path("k.pub"))])
            .is_err()
    );
    let err = s
        .load(&[("JINGU_POLICY", &s.path("typo.toml"))])
        .expect_err("missing added layer");
    assert!(err.to_string().contains("typo.toml"), "{err}");
    let err = s
        .load(&[("JINGU_CONFIG", &s.path("nope.toml"))])
        .expect_err("missing JINGU_CONFIG");
    assert!(err.to_string().contains("JINGU_CONFIG"), "{err}");
}

#[test]
fn an_unstatable_key_fails_closed_instead_of_skipping_the_signature() {
    let s = Sys::new();
    s.write(&s.etc("policy.toml"), PERMISSIVE);
    // A symlink loop: `exists()` says false, `try_exists()` reports ELOOP.
    std::os::unix::fs::symlink("policy.pub", s.etc("policy.pub")).expect("loop");
    let err = s.load(&[]).expect_err("signature check skipped");
    assert!(matches!(err, PolicyError::Signature { .. }), "{err}");
    // A key path under a regular file: ENOTDIR, not "absent".
    s.write(&s.etc("notdir"), "x");
    let src = PolicySources {
        enterprise_pubkey: s.etc("notdir/policy.pub"),
        ..s.sources(&[])
    };
    assert!(Policy::load_from(&src).is_err());
}

#[test]
fn a_small_order_key_with_a_trivial_signature_is_refused() {
    let s = Sys::new();
    // The identity point as the key: with non-strict verification the all-identity signature
    // (R = identity, s = 0) "verifies" for any message.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let mut sig = [0u8; 64];
    sig[0] = 1;
    s.write(&s.etc("policy.toml"), PERMISSIVE);
    s.write(&s.etc("policy.pub"), weak);
    s.write(&s.etc("policy.toml.sig"), sig);
    assert!(matches!(s.load(&[]), Err(PolicyError::Signature { .. })));
}

#[test]
fn a_fifo_or_directory_as_the_signature_is_refused_without_hanging() {
    let s = Sys::new();
    s.write(&s.etc("policy.toml"), ENTERPRISE);
    s.write(&s.etc("policy.pub"), pub_hex(&key(1)));
    std::fs::create_dir(s.etc("policy.toml.sig")).expect("dir");
    assert!(matches!(s.load(&[]), Err(PolicyError::Signature { .. })));
}

#[test]
fn from_env_always_reads_the_system_directory() {
    let src = PolicySources::from_env(Path::new("/nonexistent-ws"));
    assert_eq!(src.enterprise, Path::new(SYSTEM_DIR).join("policy.toml"));
    assert_eq!(
        src.enterprise_pubkey,
        Path::new(SYSTEM_DIR).join("policy.pub")
    );
}
