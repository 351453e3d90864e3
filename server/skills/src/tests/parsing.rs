use super::super::frontmatter::{MAX_DESCRIPTION_CHARS, parse_skill_md};
use crate::SkillError;

fn reason(text: &str, folder: &str) -> String {
    match parse_skill_md(text, folder) {
        Err(SkillError::Invalid { reason, .. }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn parses_all_fields_and_body() {
    let text = "---\nname: legal\ndescription: >\n  Review contracts\n  clause by clause.\nversion: \"2.1\"\n\
                allowed-tools: [read_symbol, edit]\nmodel: qwen3-coder-plus\nlicense: Apache-2.0\n\
                metadata:\n  author: jingu\n---\n# Steps\r\n\r\n1. Read.\n";
    let doc = parse_skill_md(text, "legal").expect("valid");
    assert_eq!(doc.name, "legal");
    assert_eq!(doc.description, "Review contracts clause by clause.");
    assert_eq!(doc.version, "2.1");
    assert_eq!(
        doc.allowed_tools,
        Some(vec!["read_symbol".to_string(), "edit".to_string()])
    );
    assert_eq!(doc.model.as_deref(), Some("qwen3-coder-plus"));
    assert_eq!(doc.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(
        doc.metadata.get("author").map(String::as_str),
        Some("jingu")
    );
    assert!(doc.body.starts_with("# Steps"));
}

#[test]
fn public_convention_space_delimited_tools_and_metadata_version() {
    let text = "---\nname: pdf-tools\ndescription: Work with PDFs.\nallowed-tools: read_lines search\n\
                compatibility: needs python3\nmetadata:\n  version: \"0.3\"\n---\nbody\n";
    let doc = parse_skill_md(text, "pdf-tools").expect("valid");
    assert_eq!(doc.version, "0.3");
    assert_eq!(
        doc.allowed_tools,
        Some(vec!["read_lines".into(), "search".into()])
    );
    assert!(
        !doc.metadata.contains_key("version"),
        "version is lifted out of metadata"
    );
}

#[test]
fn absent_allowed_tools_is_none_not_empty() {
    let doc =
        parse_skill_md("---\nname: a\ndescription: d\nversion: 1\n---\nb\n", "a").expect("valid");
    assert_eq!(doc.allowed_tools, None);
}

#[test]
fn name_limits() {
    let long = "a".repeat(65);
    let text = format!("---\nname: {long}\ndescription: d\nversion: 1\n---\nb\n");
    assert!(reason(&text, &long).contains("limit is 64"));
    for bad in ["Legal", "-legal", "legal-", "le--gal", "le_gal"] {
        let text = format!("---\nname: {bad}\ndescription: d\nversion: 1\n---\nb\n");
        assert!(
            reason(&text, bad).contains("lowercase"),
            "{bad} must be refused"
        );
    }
    let ok_64 = "a".repeat(64);
    let text = format!("---\nname: {ok_64}\ndescription: d\nversion: 1\n---\nb\n");
    assert!(parse_skill_md(&text, &ok_64).is_ok());
}

#[test]
fn name_must_equal_folder() {
    let text = "---\nname: legal\ndescription: d\nversion: 1\n---\nb\n";
    assert!(reason(text, "finance").contains("must equal its folder name `finance`"));
}

#[test]
fn description_limit_and_empty() {
    let at_limit = "x".repeat(MAX_DESCRIPTION_CHARS);
    let text = format!("---\nname: a\ndescription: {at_limit}\nversion: 1\n---\nb\n");
    assert!(parse_skill_md(&text, "a").is_ok());
    let over = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
    let text = format!("---\nname: a\ndescription: {over}\nversion: 1\n---\nb\n");
    assert!(reason(&text, "a").contains("limit is 1024"));
    assert!(
        reason(
            "---\nname: a\ndescription: \"  \"\nversion: 1\n---\nb\n",
            "a"
        )
        .contains("empty")
    );
}

#[test]
fn structural_errors_are_clear() {
    assert!(reason("name: a\n", "a").contains("must start with a `---` line"));
    assert!(reason("---\nname: a\n", "a").contains("close its front matter"));
    assert!(reason("---\nname: a\ndescription: d\nversion: 1\n---\n   \n", "a").contains("body"));
    assert!(reason("---\nname: a\ndescription: d\n---\nb\n", "a").contains("missing `version`"));
    let unknown = reason(
        "---\nname: a\ndescription: d\nversion: 1\npermissions: all\n---\nb\n",
        "a",
    );
    assert!(unknown.contains("unknown field `permissions`"), "{unknown}");
    let bad_tool = reason(
        "---\nname: a\ndescription: d\nversion: 1\nallowed-tools: [\"Bash(rm -rf)\"]\n---\nb\n",
        "a",
    );
    assert!(bad_tool.contains("allowed-tools entry"), "{bad_tool}");
}
