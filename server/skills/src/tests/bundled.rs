//! The ten shipped bundles: well-formed, signed, and verifying against the committed project key.

use std::path::PathBuf;

use crate::discovery::PROJECT_KEY_FILE;
use crate::{SkillRoots, SkillSource, SkillsPolicy, Trust, discover, select, verify_bundle};

const SHIPPED: [&str; 10] = [
    "cross-border-commerce",
    "design",
    "e-commerce",
    "finance",
    "knowledge-blogging",
    "legal",
    "manufacturing",
    "recruiting",
    "retail-storefront",
    "software-development",
];

fn shipped_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../skills"))
}

fn project_policy() -> SkillsPolicy {
    let roots = SkillRoots {
        bundled: Some(shipped_root()),
        ..Default::default()
    };
    let key = roots
        .project_key()
        .expect("read key")
        .expect("PROJECT_KEY.pub is shipped");
    SkillsPolicy {
        require_signed: true,
        trusted_keys: vec![key],
    }
}

#[test]
fn every_shipped_bundle_verifies_against_the_project_key() {
    let policy = project_policy();
    for name in SHIPPED {
        let dir = shipped_root().join(name);
        verify_bundle(&dir, &policy.trusted_keys)
            .unwrap_or_else(|e| panic!("{name} does not verify: {e}"));
    }
    assert!(shipped_root().join(PROJECT_KEY_FILE).is_file());
}

#[test]
fn all_ten_load_verified_under_require_signed() {
    let roots = SkillRoots {
        bundled: Some(shipped_root()),
        ..Default::default()
    };
    let found = discover(&roots, &project_policy());
    assert!(found.refused.is_empty(), "{:?}", found.refused);
    let names: Vec<_> = found.skills.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, SHIPPED);
    for skill in &found.skills {
        assert!(
            matches!(skill.trust, Trust::Verified { .. }),
            "{}",
            skill.name
        );
        assert_eq!(skill.source, SkillSource::Bundled);
        let tools = skill
            .allowed_tools
            .as_ref()
            .expect("shipped skills declare allowed-tools");
        // Shipped skills name their tools: no wildcards, no MCP tools; only software development
        // asks for run_command (to run tests), which policy and the sandbox still gate.
        assert!(
            !tools
                .iter()
                .any(|t| t.contains('*') || t.starts_with("mcp__")),
            "{}",
            skill.name
        );
        let runs_commands = tools.iter().any(|t| t == "run_command");
        assert_eq!(
            runs_commands,
            skill.name == "software-development",
            "{}",
            skill.name
        );
        // A real procedure, not a placeholder.
        assert!(
            skill.body.lines().count() >= 30,
            "{} body is too short",
            skill.name
        );
        assert!(
            skill.body.contains("edit"),
            "{} uses RealDoc edits",
            skill.name
        );
    }
}

#[test]
fn software_development_covers_its_five_procedures_with_symbol_addressed_tools() {
    let roots = SkillRoots {
        bundled: Some(shipped_root()),
        ..Default::default()
    };
    let found = discover(&roots, &project_policy());
    let dev = found.get("software-development").expect("present");
    for section in [
        "Code review",
        "Refactor",
        "Write tests",
        "Fix a failing test",
        "Document an API",
    ] {
        assert!(dev.body.contains(section), "missing section {section}");
    }
    for tool in [
        "list_symbols",
        "read_symbol",
        "read_lines",
        "search",
        "--symbol",
        "--lines",
        "--keyword",
    ] {
        assert!(dev.body.contains(tool), "procedure never uses {tool}");
    }
}

#[test]
fn shipped_resources_are_signed_and_readable() {
    let roots = SkillRoots {
        bundled: Some(shipped_root()),
        ..Default::default()
    };
    let found = discover(&roots, &project_policy());
    for (skill, resource, needle) in [
        ("legal", "playbook.md", "Limitation of liability"),
        ("finance", "reconciliation-report-template.md", "Residual"),
        (
            "recruiting",
            "scorecard-template.md",
            "Overall recommendation",
        ),
    ] {
        let s = found.get(skill).expect("present");
        assert!(s.body.contains(resource), "{skill} refers to {resource}");
        let text = s.read_resource(resource).expect("readable");
        assert!(text.contains(needle), "{skill}/{resource}");
    }
}

#[test]
fn instructions_select_the_matching_shipped_skill() {
    let roots = SkillRoots {
        bundled: Some(shipped_root()),
        ..Default::default()
    };
    let found = discover(&roots, &project_policy());
    let cases = [
        (
            "review this supplier contract and redline the indemnity clause",
            "legal",
        ),
        (
            "reconcile the March ledger CSV against the bank statement",
            "finance",
        ),
        (
            "write a job description and an interview kit for a backend engineer",
            "recruiting",
        ),
        (
            "the parser unit test is failing, find the cause and fix it",
            "software-development",
        ),
        (
            "draft a blog post from my research notes",
            "knowledge-blogging",
        ),
    ];
    for (instruction, expected) in cases {
        let picked = select(&found.skills, instruction).map(|s| s.name.as_str());
        assert_eq!(picked, Some(expected), "{instruction}");
    }
}
