//! Where skills come from: the enterprise skills `jingu policy sync` installed
//! (`/etc/jingu/enterprise/skills`), the install's bundled `skills/`, the user's `~/.config/jingu/skills/`, and
//! the workspace's `.jingu/skills/`, in that order of trust. On a name clash the more trusted source
//! wins, so a repository cannot shadow a bundled or user skill with its own text.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{PublicKey, Skill, SkillError, SkillsPolicy, load_skill, settings};

/// The project's public key file, shipped beside the bundled skills.
pub const PROJECT_KEY_FILE: &str = "PROJECT_KEY.pub";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillSource {
    Enterprise,
    Bundled,
    User,
    Workspace,
}

impl SkillSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SkillSource::Enterprise => "enterprise",
            SkillSource::Bundled => "bundled",
            SkillSource::User => "user",
            SkillSource::Workspace => "workspace",
        }
    }
}

/// The roots, most trusted first; any may be absent.
#[derive(Debug, Clone, Default)]
pub struct SkillRoots {
    /// Installed by `jingu policy sync` where the enterprise layer is read from.
    pub enterprise: Option<PathBuf>,
    pub bundled: Option<PathBuf>,
    pub user: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
}

impl SkillRoots {
    /// `$JINGU_SKILLS`, else `skills/` or `share/jingu/skills` next to or above the executable;
    /// the user's config dir; and `<workspace>/.jingu/skills`.
    pub fn standard(workspace: Option<&Path>) -> Self {
        SkillRoots {
            enterprise: Some(Path::new(jingu_policy::SYSTEM_DIR).join("enterprise/skills")),
            bundled: installed_skills_dir(),
            user: settings::home_config().map(|d| d.join("skills")),
            workspace: workspace.map(|w| w.join(".jingu/skills")),
        }
    }

    fn ordered(&self) -> impl Iterator<Item = (SkillSource, &Path)> {
        [
            (SkillSource::Enterprise, self.enterprise.as_deref()),
            (SkillSource::Bundled, self.bundled.as_deref()),
            (SkillSource::User, self.user.as_deref()),
            (SkillSource::Workspace, self.workspace.as_deref()),
        ]
        .into_iter()
        .filter_map(|(s, p)| p.map(|p| (s, p)))
    }

    /// The install's project key, trusted like the binary that ships it.
    pub fn project_key(&self) -> Result<Option<PublicKey>, SkillError> {
        let Some(dir) = &self.bundled else {
            return Ok(None);
        };
        let path = dir.join(PROJECT_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => PublicKey::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SkillError::io(&path, e)),
        }
    }
}

pub fn installed_skills_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("JINGU_SKILLS") {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .flat_map(|d| [d.join("skills"), d.join("share/jingu/skills")])
        .find(|d| d.join(PROJECT_KEY_FILE).is_file())
}

/// The loaded skills plus every bundle that was refused, with its reason.
#[derive(Debug, Default)]
pub struct Discovery {
    pub skills: Vec<Skill>,
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub dir: PathBuf,
    pub source: SkillSource,
    pub reason: String,
}

impl Discovery {
    pub fn get(&self, name: &str) -> Result<&Skill, SkillError> {
        self.skills
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| SkillError::NotFound(name.to_string()))
    }
}

/// Load every bundle under the roots. A missing root is empty; a bad bundle is refused, not fatal.
pub fn discover(roots: &SkillRoots, policy: &SkillsPolicy) -> Discovery {
    let mut found = Discovery::default();
    for (source, root) in roots.ordered() {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let refuse = |reason: String| Refusal {
                dir: dir.clone(),
                source,
                reason,
            };
            match load_skill(&dir, source, policy) {
                Ok(skill) => {
                    if let Some(first) = found.skills.iter().find(|s| s.name == skill.name) {
                        let reason = format!(
                            "duplicate name `{}`: the {} skill at {} takes precedence",
                            skill.name,
                            first.source.as_str(),
                            first.dir.display()
                        );
                        found.refused.push(refuse(reason));
                    } else {
                        found.skills.push(skill);
                    }
                }
                Err(e) => found.refused.push(refuse(e.to_string())),
            }
        }
    }
    found
}
