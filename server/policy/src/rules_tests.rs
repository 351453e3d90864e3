#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::{Decision, Policy};

const ALLOW_LIB: &str =
    "[[policy.rules]]\ntool = \"edit\"\npath = \"src/lib.rs\"\ndecision = \"allow\"\n";

fn policy(layers: &[(Layer, Option<&str>)]) -> Policy {
    Policy::from_layer_texts(layers).expect("policy")
}

#[test]
fn a_user_allow_rule_answers_the_default_ask_for_its_path_only() {
    let p = policy(&[(Layer::User, Some(ALLOW_LIB))]);
    assert_eq!(p.decide(Tool::Edit, Some("src/lib.rs")), Decision::Allow);
    assert_eq!(p.decide(Tool::Edit, Some("src/main.rs")), Decision::Ask);
    assert_eq!(p.decide(Tool::Edit, None), Decision::Ask);
    assert_eq!(p.decide(Tool::RunCommand, None), Decision::Ask);
    // deny_paths still win over any rule.
    let secret = "[[policy.rules]]\ntool = \"edit\"\ndecision = \"allow\"\n";
    let p = policy(&[(Layer::User, Some(secret))]);
    assert!(matches!(
        p.decide(Tool::Edit, Some(".env")),
        Decision::Deny(_)
    ));
    assert_eq!(p.decide(Tool::Edit, Some("a/b.rs")), Decision::Allow);
}

#[test]
fn an_allow_rule_never_loosens_a_more_trusted_or_stricter_decision() {
    for enterprise in [
        "[policy]\ntools = { edit = \"ask\" }\n",
        "[policy]\ntools = { edit = \"ask-human\" }\n",
        "[policy]\ntools = { edit = \"deny\" }\n",
    ] {
        for top in [Layer::Enterprise, Layer::Extra] {
            let p = policy(&[(top, Some(enterprise)), (Layer::User, Some(ALLOW_LIB))]);
            assert_ne!(
                p.decide(Tool::Edit, Some("src/lib.rs")),
                Decision::Allow,
                "{top} {enterprise}"
            );
        }
    }
    // The workspace tightened default-allow reads to ask: a user rule cannot undo that either.
    let ws = "[policy]\ntools = { read = \"ask\" }\n";
    let rule = "[[policy.rules]]\ntool = \"read\"\ndecision = \"allow\"\n";
    let p = policy(&[(Layer::User, Some(rule)), (Layer::Workspace, Some(ws))]);
    assert_eq!(p.decide(Tool::Read, Some("a.rs")), Decision::Ask);
}

#[test]
fn deny_rules_tighten_and_workspace_rules_are_ignored() {
    let deny = "[[policy.rules]]\ntool = \"edit\"\npath = \"src/**\"\ndecision = \"deny\"\n";
    let p = policy(&[(Layer::User, Some(deny))]);
    match p.decide(Tool::Edit, Some("src/a/b.rs")) {
        Decision::Deny(r) => assert!(
            r.contains("standing rule `edit src/**` (user config)"),
            "{r}"
        ),
        d => panic!("{d:?}"),
    }
    let p = policy(&[(Layer::Workspace, Some(ALLOW_LIB))]);
    assert_eq!(p.decide(Tool::Edit, Some("src/lib.rs")), Decision::Ask);
    assert!(
        p.warnings.iter().any(|w| w.contains("[[policy.rules]]")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn bad_rules_are_errors_naming_the_problem() {
    let bad = "[[policy.rules]]\ntool = \"edti\"\ndecision = \"allow\"\n";
    let e = Policy::from_texts(None, Some(bad), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown tool `edti`"), "{e}");
    let bad = "[[policy.rules]]\ntool = \"edit\"\ndecision = \"maybe\"\n";
    assert!(Policy::from_texts(None, Some(bad), None).is_err());
    let bad = "[[policy.rules]]\ntool = \"edit\"\npath = \"src/[\"\ndecision = \"allow\"\n";
    let e = Policy::from_texts(None, Some(bad), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad [[policy.rules]] path glob"), "{e}");
}

#[test]
fn append_keeps_the_file_and_adds_the_rule_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let before =
        "# mine\n[policy]\ntools = { run_command = \"ask\" }\n\n[routing]\ndefault = \"local\"\n";
    std::fs::write(&path, before).unwrap();
    let rule = RawRule {
        tool: "edit".into(),
        path: Some("src/we\"ird.rs".into()),
        decision: RuleDecision::Allow,
    };
    assert_eq!(append_user_rule(&path, &rule).unwrap(), Appended::Added);
    assert_eq!(
        append_user_rule(&path, &rule).unwrap(),
        Appended::AlreadyThere
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.starts_with(before), "{after}");
    let p = Policy::from_texts(None, Some(&after), None).unwrap();
    assert_eq!(
        p.decide(Tool::Edit, Some("src/we\"ird.rs")),
        Decision::Allow
    );
    assert_eq!(p.rules.len(), 1);
    assert!(p.show_text().contains("policy.rules[]"));

    // A file the rule cannot be added to is left as it was.
    let inline = "policy = { tools = { edit = \"ask\" } }\n";
    std::fs::write(&path, inline).unwrap();
    assert!(append_user_rule(&path, &rule).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), inline);
    // A missing file is created.
    let fresh = dir.path().join("sub/config.toml");
    assert_eq!(append_user_rule(&fresh, &rule).unwrap(), Appended::Added);
    assert!(fresh.exists());
}
