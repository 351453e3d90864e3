//! The files `deny_paths` covers in a workspace, for the sandbox to mask: a command must not be
//! able to read what the agent's own read tool may not (`cat .env` through `run_command`).

use std::path::{Path, PathBuf};

use super::Policy;

/// Entries visited at most (about 2 s warm); past that `run_command` refuses rather than run with
/// deny_paths files unmasked.
const MAX_ENTRIES: usize = 500_000;

impl Policy {
    /// Absolute paths under `root` matching `deny_paths` (a matching directory is listed, not
    /// entered). Symlinks are listed by name, never followed. `.git` is not walked (it is
    /// read-only to commands and never matched by a glob a user would write for it).
    /// The second value is false when the walk stopped at [`MAX_ENTRIES`].
    pub fn denied_entries(&self, root: &Path) -> (Vec<PathBuf>, bool) {
        let mut out = Vec::new();
        let mut stack = vec![(root.to_path_buf(), String::new())];
        let mut seen = 0usize;
        while let Some((dir, rel)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                seen += 1;
                if seen > MAX_ENTRIES {
                    return (out, false);
                }
                let name = e.file_name();
                let Some(name) = name.to_str() else { continue };
                let child_rel = if rel.is_empty() {
                    name.to_string()
                } else {
                    format!("{rel}/{name}")
                };
                if self.deny_set.matching(&child_rel).is_some() {
                    out.push(e.path());
                    continue;
                }
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() && !(rel.is_empty() && name == ".git") {
                    stack.push((e.path(), child_rel));
                }
            }
        }
        (out, true)
    }
}
