//! Tests of the skills module: each file covers one responsibility.

mod bundled;
mod mcp;
mod parsing;
mod selection;
mod signing;

use std::path::{Path, PathBuf};

use super::*;

/// Write `root/<name>/SKILL.md` with the given description and tool list; returns the bundle dir.
pub(super) fn write_skill(
    root: &Path,
    name: &str,
    description: &str,
    tools: Option<&str>,
) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let tools_line = tools
        .map(|t| format!("allowed-tools: {t}\n"))
        .unwrap_or_default();
    let text = format!(
        "---\nname: {name}\ndescription: {description}\nversion: 1.0.0\n{tools_line}---\n# Procedure\n\n1. Do the thing.\n"
    );
    std::fs::write(dir.join("SKILL.md"), text).expect("write SKILL.md");
    dir
}

pub(super) fn skill_with(tools: Option<Vec<&str>>, trust: Trust) -> Skill {
    Skill {
        name: "t".into(),
        description: "d".into(),
        version: "1".into(),
        allowed_tools: tools.map(|v| v.into_iter().map(String::from).collect()),
        model: None,
        license: None,
        metadata: Default::default(),
        body: "steps".into(),
        dir: PathBuf::from("/nowhere"),
        source: SkillSource::Workspace,
        trust,
        files: Default::default(),
    }
}

pub(super) fn verified() -> Trust {
    Trust::Verified {
        key: "ed25519:00".into(),
    }
}

pub(super) fn restricted() -> Trust {
    Trust::Restricted {
        reason: "unsigned".into(),
    }
}
