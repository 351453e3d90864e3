//! A bundle's resource files (templates, checklists, playbooks) served to the agent by relative path,
//! and only while their bytes are exactly the ones vetted when the skill was loaded.

use super::{Skill, SkillError, bundle};

/// Suggested name of the agent tool that reads a resource of the active skill.
pub const RESOURCE_TOOL: &str = "read_skill_resource";

impl Skill {
    /// Relative paths of the bundle's files other than SKILL.md, sorted.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.files
            .keys()
            .map(String::as_str)
            .filter(|p| *p != "SKILL.md")
    }

    /// Read one resource as UTF-8 text. Only paths that were in the bundle at load time are served
    /// (so `../` or absolute paths are never joined), and the bytes must still hash to the value
    /// vetted then: a file changed or swapped for a symlink since is refused.
    pub fn read_resource(&self, rel: &str) -> Result<String, SkillError> {
        let refuse = |reason: &str| SkillError::Resource {
            skill: self.name.clone(),
            path: rel.to_string(),
            reason: reason.to_string(),
        };
        let expected = self
            .files
            .get(rel)
            .filter(|_| rel != "SKILL.md")
            .ok_or_else(|| refuse("not a file of this skill"))?;
        let path = self.dir.join(rel);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| SkillError::io(&path, e))?;
        if !meta.is_file() || meta.len() > bundle::MAX_FILE_BYTES {
            return Err(refuse("no longer a regular file of the allowed size"));
        }
        let bytes = std::fs::read(&path).map_err(|e| SkillError::io(&path, e))?;
        if &bundle::sha256_hex(&bytes) != expected {
            return Err(refuse("changed since the skill was loaded"));
        }
        String::from_utf8(bytes).map_err(|_| refuse("not UTF-8 text"))
    }
}
