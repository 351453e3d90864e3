//! SKILL.md parsing: YAML front matter between `---` lines, then a Markdown body.
//!
//! The front matter is parsed with `serde_norway` (the maintained fork of `serde_yaml`) into a
//! typed struct with `deny_unknown_fields`: a full YAML parser accepts every quoting and folding
//! style authors of public Agent Skills use, while the typed struct keeps the accepted subset
//! strict. Field limits follow the public Agent Skills convention (STACK.md).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SkillError;

/// Longest SKILL.md accepted: a procedure, not a data dump.
pub const MAX_SKILL_MD_BYTES: usize = 256 * 1024;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
pub const MAX_COMPATIBILITY_CHARS: usize = 500;
const MAX_SHORT_FIELD_CHARS: usize = 64;

/// The validated contents of one SKILL.md.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillDoc {
    pub name: String,
    pub description: String,
    pub version: String,
    /// `None` when the field is absent (the skill does not narrow); `Some(vec![])` narrows to nothing.
    pub allowed_tools: Option<Vec<String>>,
    pub model: Option<String>,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FrontMatter {
    name: String,
    description: String,
    /// Authors write `version: 1` or `version: 1.2` as often as quoted strings.
    version: Option<serde_norway::Value>,
    allowed_tools: Option<ToolList>,
    model: Option<String>,
    license: Option<String>,
    compatibility: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

/// The public convention writes `allowed-tools` as a space-delimited string; a YAML list is clearer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ToolList {
    Text(String),
    List(Vec<String>),
}

/// Parse and validate SKILL.md text. `folder` is the bundle directory's name, which must equal `name`.
pub fn parse_skill_md(text: &str, folder: &str) -> Result<SkillDoc, SkillError> {
    let invalid = |reason: String| SkillError::Invalid {
        skill: folder.to_string(),
        reason,
    };
    if text.len() > MAX_SKILL_MD_BYTES {
        return Err(invalid(format!(
            "SKILL.md is {} bytes, the limit is {MAX_SKILL_MD_BYTES}",
            text.len()
        )));
    }
    let (yaml, body) = split_front_matter(text).ok_or_else(|| {
        invalid(
            "SKILL.md must start with a `---` line and close its front matter with `---`".into(),
        )
    })?;
    let fm: FrontMatter = serde_norway::from_str(yaml)
        .map_err(|e| invalid(format!("front matter is not valid: {e}")))?;

    validate_name(&fm.name, folder).map_err(&invalid)?;
    let description = fm.description.trim().to_string();
    check_len("description", &description, 1, MAX_DESCRIPTION_CHARS).map_err(&invalid)?;
    let mut metadata = fm.metadata.unwrap_or_default();
    // Public skills keep their version in `metadata`; Jingu's own bundles use the top-level key.
    let version = match fm.version {
        Some(serde_norway::Value::String(s)) => s,
        Some(serde_norway::Value::Number(n)) => n.to_string(),
        Some(_) => return Err(invalid("`version` must be a string or a number".into())),
        None => metadata
            .remove("version")
            .ok_or_else(|| invalid("missing `version` (top level or in `metadata`)".into()))?,
    };
    let version = version.trim().to_string();
    check_len("version", &version, 1, MAX_SHORT_FIELD_CHARS).map_err(&invalid)?;
    if let Some(c) = &fm.compatibility {
        check_len("compatibility", c, 1, MAX_COMPATIBILITY_CHARS).map_err(&invalid)?;
    }
    if let Some(m) = &fm.model {
        check_len("model", m, 1, MAX_SHORT_FIELD_CHARS).map_err(&invalid)?;
    }
    let allowed_tools = match fm.allowed_tools {
        None => None,
        Some(list) => Some(tool_list(list).map_err(&invalid)?),
    };
    let body = body.trim().to_string();
    if body.is_empty() {
        return Err(invalid("the Markdown body (the procedure) is empty".into()));
    }
    Ok(SkillDoc {
        name: fm.name,
        description,
        version,
        allowed_tools,
        model: fm.model,
        license: fm.license,
        compatibility: fm.compatibility,
        metadata,
        body,
    })
}

/// Split `---\nYAML\n---\nBODY`; tolerates CRLF line ends.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn validate_name(name: &str, folder: &str) -> Result<(), String> {
    check_len("name", name, 1, MAX_NAME_CHARS)?;
    let well_formed = name.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !well_formed {
        return Err(format!(
            "name `{name}` must be lowercase letters, digits and single hyphens, not starting or ending with a hyphen"
        ));
    }
    if name != folder {
        return Err(format!(
            "name `{name}` must equal its folder name `{folder}`"
        ));
    }
    Ok(())
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n < min {
        return Err(format!("`{field}` is empty"));
    }
    if n > max {
        return Err(format!("`{field}` is {n} characters, the limit is {max}"));
    }
    Ok(())
}

fn tool_list(list: ToolList) -> Result<Vec<String>, String> {
    let tools: Vec<String> = match list {
        ToolList::Text(s) => s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        ToolList::List(v) => v.into_iter().map(|t| t.trim().to_string()).collect(),
    };
    for t in &tools {
        let ok = !t.is_empty()
            && t.len() <= MAX_SHORT_FIELD_CHARS
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'*');
        if !ok {
            return Err(format!(
                "allowed-tools entry `{t}` must be a tool name (letters, digits, `_`, `-`, optional `*` wildcard)"
            ));
        }
    }
    Ok(tools)
}
