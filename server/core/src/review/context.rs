//! What the model sees: each changed hunk mapped to its innermost enclosing symbol, that symbol's
//! old and new text (new text numbered, so findings cite real lines) and the lines that call it,
//! each with the signature of the function it sits in. Never whole files.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use jingu_fs::workspace::Workspace;
use jingu_policy::Policy;

use super::diff::ChangedFile;
use jingu_index::MAX_SOURCE_BYTES;
use jingu_syntax::{FileSymbols, Language, Symbol, file_symbols};

/// Lines of context around a change outside any symbol.
const FRAGMENT_CONTEXT: usize = 3;
/// Most caller lines sent per changed symbol.
const MAX_CALLERS: usize = 8;
/// Most files scanned for callers (a review must not walk a monorepo).
const MAX_SCANNED_FILES: usize = 5000;

/// One reviewed region of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub path: String,
    /// `None` for a change outside any symbol (top-level statements, imports).
    pub name_path: Option<String>,
    pub name: Option<String>,
    pub kind: &'static str,
    /// 1-based inclusive lines in the current text.
    pub start_line: usize,
    pub end_line: usize,
    /// Text at the base revision; `None` when the symbol is new.
    pub old_text: Option<String>,
    pub new_text: String,
    /// `path:line: in <signature>: <call line>`.
    pub callers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Context {
    pub units: Vec<Unit>,
}

/// Map every hunk of `files` to a unit and find the callers of changed symbols under `root`,
/// reading only files the agent's read gate passes, by handle, never via symlinks.
pub fn build(ws: &Workspace, policy: &Policy, files: &[ChangedFile]) -> Context {
    let mut units = Vec::new();
    for file in files {
        units.extend(units_of(file));
    }
    let names: BTreeSet<String> = units.iter().filter_map(|u| u.name.clone()).collect();
    let callers = find_callers(ws, policy, &names);
    for u in &mut units {
        if let Some(name) = &u.name
            && let Some(hits) = callers.get(name)
        {
            u.callers = hits
                .iter()
                .filter(|(path, line, _)| {
                    !(path == &u.path && (u.start_line..=u.end_line).contains(line))
                })
                .take(MAX_CALLERS)
                .map(|(path, line, text)| format!("{path}:{line}: {text}"))
                .collect();
        }
    }
    Context { units }
}

fn units_of(file: &ChangedFile) -> Vec<Unit> {
    let lang = Language::from_path(Path::new(&file.path));
    let new_syms = lang.map(|l| file_symbols(l, &file.new_text));
    let old_syms = lang.map(|l| file_symbols(l, &file.old_text));
    let line_count = file.new_text.lines().count().max(1);
    let mut out: Vec<Unit> = Vec::new();
    for h in &file.hunks {
        let a = h.new_start.clamp(1, line_count);
        let b = (h.new_start + h.new_lines.saturating_sub(1)).clamp(a, line_count);
        let syms = new_syms
            .as_ref()
            .map(|s| touched(s, a, b))
            .unwrap_or_default();
        let mut found: Vec<Unit> = syms
            .into_iter()
            .map(|s| Unit {
                path: file.path.clone(),
                name_path: Some(s.name_path.clone()),
                name: Some(s.name.clone()),
                kind: s.kind.as_str(),
                start_line: s.start_line,
                end_line: s.end_line,
                old_text: old_syms
                    .as_ref()
                    .and_then(|o| o.get(&s.name_path))
                    .map(|o| file.old_text[o.range.clone()].to_string()),
                new_text: file.new_text[s.range.clone()].to_string(),
                callers: Vec::new(),
            })
            .collect();
        if found.is_empty() {
            let start = a.saturating_sub(FRAGMENT_CONTEXT).max(1);
            let end = (b + FRAGMENT_CONTEXT).min(line_count);
            let old_a = h.old_start.saturating_sub(FRAGMENT_CONTEXT).max(1);
            let old_b = h.old_start + h.old_lines + FRAGMENT_CONTEXT;
            found.push(Unit {
                path: file.path.clone(),
                name_path: None,
                name: None,
                kind: "fragment",
                start_line: start,
                end_line: end,
                old_text: Some(lines(&file.old_text, old_a, old_b)),
                new_text: lines(&file.new_text, start, end),
                callers: Vec::new(),
            });
        }
        for unit in found {
            // Several hunks in one symbol make one unit; overlapping fragments merge.
            match out.iter_mut().find(|u| {
                u.name_path == unit.name_path
                    && (unit.name_path.is_some() || unit.start_line <= u.end_line + 1)
            }) {
                Some(u) if u.name_path.is_none() => {
                    u.end_line = u.end_line.max(unit.end_line);
                    u.new_text = lines(&file.new_text, u.start_line, u.end_line);
                }
                Some(_) => {}
                None => out.push(unit),
            }
        }
    }
    out
}

/// The symbols a change on lines `a..=b` belongs to: the smallest one containing all of it, else
/// the outermost ones it overlaps (an added function with blank lines before it).
fn touched(syms: &FileSymbols, a: usize, b: usize) -> Vec<&Symbol> {
    if let Some(s) = innermost(syms, a, b) {
        return vec![s];
    }
    let overlaps = |s: &Symbol| s.start_line <= b && s.end_line >= a;
    syms.symbols
        .iter()
        .filter(|s| overlaps(s) && !s.parent.is_some_and(|p| overlaps(&syms.symbols[p])))
        .collect()
}

/// The smallest symbol containing lines `a..=b`.
fn innermost(syms: &FileSymbols, a: usize, b: usize) -> Option<&Symbol> {
    syms.symbols
        .iter()
        .filter(|s| s.start_line <= a && s.end_line >= b)
        .min_by_key(|s| s.end_line - s.start_line)
}

/// 1-based inclusive lines `a..=b` of `text` (clamped).
fn lines(text: &str, a: usize, b: usize) -> String {
    text.lines()
        .skip(a.saturating_sub(1))
        .take((b + 1).saturating_sub(a.max(1)))
        .collect::<Vec<_>>()
        .join("\n")
}

type Hits = HashMap<String, Vec<(String, usize, String)>>;

/// Lines calling any of `names` (`name(`, at an identifier boundary), with the signature of the
/// enclosing symbol: `(path, line, "in <signature>: <line>")`.
fn find_callers(ws: &Workspace, policy: &Policy, names: &BTreeSet<String>) -> Hits {
    let root = ws.root.as_path();
    let mut hits: Hits = HashMap::new();
    if names.is_empty() {
        return hits;
    }
    let walker = jingu_fs::walk::walker(ws, Some(policy)).build();
    for entry in walker.flatten().take(MAX_SCANNED_FILES) {
        let path = entry.path();
        let Some(lang) = Language::from_path(path) else {
            continue;
        };
        if entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX) > MAX_SOURCE_BYTES {
            continue;
        }
        if entry.file_type().is_none_or(|t| !t.is_file()) {
            continue; // symlinks are never followed into
        }
        let Some(rel) = path.strip_prefix(root).ok().and_then(Path::to_str) else {
            continue;
        };
        let rel = rel.to_string();
        if policy.path_denied(&rel).is_some() {
            continue;
        }
        let Some(text) = super::diff::read_beneath(root, &rel) else {
            continue;
        };
        let mut syms: Option<FileSymbols> = None;
        for (i, line) in text.lines().enumerate() {
            for name in names {
                if !calls(line, name) {
                    continue;
                }
                let found = hits.entry(name.clone()).or_default();
                if found.len() > MAX_CALLERS * 4 {
                    continue;
                }
                let syms = syms.get_or_insert_with(|| file_symbols(lang, &text));
                let n = i + 1;
                let sig = innermost(syms, n, n)
                    .map(|s| signature(&text, s))
                    .unwrap_or_else(|| "top level".into());
                found.push((rel.clone(), n, format!("in `{sig}`: {}", line.trim())));
            }
        }
    }
    hits
}

fn calls(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + name.len()..].trim_start();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after.starts_with('(')
    })
}

/// The first line of a symbol's definition (doc comments and attributes skipped).
fn signature(text: &str, s: &Symbol) -> String {
    text[s.decl_range.clone()]
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The review request's user message.
pub fn render(ctx: &Context) -> String {
    let mut s = String::from(
        "Review the changes below. Line numbers are those of the current text of each file. \
         Report every finding with one `report_findings` call; use an empty list when the \
         changes look right.\n",
    );
    for u in &ctx.units {
        let what = match &u.name_path {
            Some(np) => format!("{} `{np}`", u.kind),
            None => "changed lines outside any symbol".into(),
        };
        let _ = writeln!(
            s,
            "\n## {} — {what}, lines {}-{}",
            u.path, u.start_line, u.end_line
        );
        match &u.old_text {
            Some(old) => {
                let _ = writeln!(s, "### before\n```\n{old}\n```");
            }
            None => s.push_str("### before\n(new)\n"),
        }
        s.push_str("### now\n```\n");
        for (i, line) in u.new_text.lines().enumerate() {
            let _ = writeln!(s, "{:>5}| {line}", u.start_line + i);
        }
        s.push_str("```\n");
        if !u.callers.is_empty() {
            s.push_str("### callers\n");
            for c in &u.callers {
                let _ = writeln!(s, "- {c}");
            }
        }
    }
    s
}
