//! Hash tables from name paths and simple names to the files that define them, so lookups by
//! name never scan the workspace.

use std::collections::HashMap;
use std::sync::Arc;

use super::FileSymbols;

#[derive(Debug, Default)]
pub struct NameTables {
    /// Exact name path → files defining it (usually one).
    by_path: HashMap<String, Vec<Arc<str>>>,
    /// Simple name → lowercased name (for search) and, per file, the name paths it has.
    by_name: HashMap<String, NameEntry>,
}

#[derive(Debug)]
struct NameEntry {
    lower: String,
    defs: HashMap<Arc<str>, Vec<String>>,
}

/// How well a name matches a search query; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Score {
    Exact,
    Prefix,
    Substring,
    Fuzzy,
}

impl NameTables {
    pub fn insert(&mut self, file: &Arc<str>, symbols: &FileSymbols) {
        for s in &symbols.symbols {
            let files = self.by_path.entry(s.name_path.clone()).or_default();
            if !files.iter().any(|f| f == file) {
                files.push(file.clone());
            }
            self.by_name
                .entry(s.name.clone())
                .or_insert_with(|| NameEntry {
                    lower: s.name.to_lowercase(),
                    defs: HashMap::new(),
                })
                .defs
                .entry(file.clone())
                .or_default()
                .push(s.name_path.clone());
        }
    }

    pub fn remove(&mut self, file: &str, symbols: &FileSymbols) {
        for s in &symbols.symbols {
            if let Some(files) = self.by_path.get_mut(&s.name_path) {
                files.retain(|f| &**f != file);
                if files.is_empty() {
                    self.by_path.remove(&s.name_path);
                }
            }
            if let Some(entry) = self.by_name.get_mut(&s.name) {
                entry.defs.remove(file);
                if entry.defs.is_empty() {
                    self.by_name.remove(&s.name);
                }
            }
        }
    }

    /// Files defining exactly `name_path`.
    pub fn files_with_path(&self, name_path: &str) -> &[Arc<str>] {
        self.by_path.get(name_path).map_or(&[], Vec::as_slice)
    }

    /// `(file, name_path)` of every symbol whose simple name is `name`.
    pub fn defs_named<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (&'a Arc<str>, &'a String)> + 'a {
        self.by_name
            .get(name)
            .into_iter()
            .flat_map(|e| e.defs.iter())
            .flat_map(|(file, paths)| paths.iter().map(move |p| (file, p)))
    }

    /// Simple names matching `query` case-insensitively, best first: exact, prefix, substring,
    /// then in-order subsequence (fuzzy); shorter names first within a score.
    pub fn matching_names(&self, query: &str) -> Vec<&str> {
        let q = query.to_lowercase();
        let mut hits: Vec<(Score, &str)> = self
            .by_name
            .iter()
            .filter_map(|(name, e)| score(&e.lower, &q).map(|s| (s, name.as_str())))
            .collect();
        hits.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.len().cmp(&b.1.len()))
                .then(a.1.cmp(b.1))
        });
        hits.into_iter().map(|(_, n)| n).collect()
    }
}

fn score(name: &str, query: &str) -> Option<Score> {
    if name == query {
        Some(Score::Exact)
    } else if name.starts_with(query) {
        Some(Score::Prefix)
    } else if name.contains(query) {
        Some(Score::Substring)
    } else if is_subsequence(query, name) {
        Some(Score::Fuzzy)
    } else {
        None
    }
}

fn is_subsequence(needle: &str, hay: &str) -> bool {
    let mut hay = hay.chars();
    needle.chars().all(|c| hay.any(|h| h == c))
}
