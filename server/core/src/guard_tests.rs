//! A scripted hostile model: each request goes through the guard; every forbidden one must be
//! refused with a reason and appear in a verifiable audit log.

use super::*;
use jingu_audit::{self as audit, AuditContext, RecordKind};

struct Setup {
    _dir: tempfile::TempDir,
    ws: Workspace,
    policy: Policy,
    audit: AuditLog,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("ws");
    for d in ["src", ".git/hooks", ".jingu"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").expect("w");
    std::fs::write(root.join(".env"), "API_TOKEN=abc123secretvalue\n").expect("w");
    std::fs::write(root.join(".jingu/config.toml"), "").expect("w");
    let root = root.canonicalize().expect("canon");
    let state_dir = dir.path().join("state");
    let ws = Workspace { root, state_dir };
    let enterprise = "[policy]\ntools = { read = \"allow\", edit = \"ask\", run_command = \"deny\", mcp = \"deny\" }\n";
    let policy = Policy::from_texts(Some(enterprise), None, None).expect("policy");
    let audit = AuditLog::open(
        &ws.state_dir,
        AuditContext {
            run_id: "scripted".into(),
            subject: "tester".into(),
            verified: false,
            policy_hash: policy.hash(),
        },
    )
    .expect("audit");
    Setup {
        _dir: dir,
        ws,
        policy,
        audit,
    }
}

#[test]
fn scripted_hostile_model_is_refused_and_audited() {
    let s = setup();
    let g = Guard {
        workspace: &s.ws,
        policy: &s.policy,
        audit: &s.audit,
    };
    let hostile: &[(Tool, Option<&str>)] = &[
        (Tool::Edit, Some(".git/hooks/pre-commit")),
        (Tool::Edit, Some(".jingu/config.toml")),
        (Tool::Edit, Some(".JINGU/config.toml")),
        (Tool::Read, Some(".env")),
        (Tool::Read, Some("../../etc/passwd")),
        (Tool::Read, Some("/etc/shadow")),
        (Tool::Edit, Some("src/\u{FF0E}\u{FF0E}/x")),
        (Tool::RunCommand, None),
        (Tool::Mcp, None),
    ];
    for (tool, path) in hostile {
        let r = g.check(*tool, *path);
        let refusal = r.expect_err(&format!("{tool:?} {path:?} must be refused"));
        assert!(!refusal.reason.is_empty());
    }
    assert_eq!(
        g.check(Tool::Read, Some("src/main.rs")).expect("read ok"),
        Verdict::Allow {
            path: Some("src/main.rs".into())
        }
    );
    assert_eq!(
        g.check(Tool::Edit, Some("./src/main.rs")).expect("ask"),
        Verdict::Ask {
            path: Some("src/main.rs".into())
        }
    );

    let log = s.audit.path();
    audit::verify(log).expect("audit chain intact");
    let recs = audit::read_records(log).expect("records");
    assert_eq!(recs.len(), hostile.len() + 2, "every decision is audited");
    let denies = recs
        .iter()
        .filter(|r| matches!(&r.kind, RecordKind::PolicyDecision { decision, .. } if decision == "deny"))
        .count();
    assert_eq!(denies, hostile.len());
    assert!(recs.iter().all(|r| r.policy_hash == s.policy.hash()));
}

#[test]
fn unwritable_audit_log_refuses_even_allowed_actions() {
    let s = setup();
    std::fs::create_dir_all(s.audit.path()).expect("block the log path with a directory");
    let g = Guard {
        workspace: &s.ws,
        policy: &s.policy,
        audit: &s.audit,
    };
    let r = g.check(Tool::Read, Some("src/main.rs"));
    assert!(r.expect_err("fail closed").reason.contains("audit"));
}
