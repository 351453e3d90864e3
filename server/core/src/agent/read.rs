//! The read-only tools: outlines, symbols and line ranges with line numbers, and bounded search.
//! Results are plain text for the model; every path was confined by the caller.

use std::fmt::Write as _;
use std::path::Path;

use jingu_fs::workspace::Workspace;
use jingu_policy::Policy;

use jingu_realdoc::version;
use jingu_syntax::{self as syntax, Language};

/// Most matches one `search` returns, and the longest line it quotes.
pub const MAX_SEARCH_MATCHES: usize = 100;
const MAX_QUOTED_LINE: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("{0}: no symbols (unsupported language)")]
    Unsupported(String),
    #[error("{path}: no symbol `{name}`{hint}")]
    NoSymbol {
        path: String,
        name: String,
        hint: String,
    },
    #[error("{path}: lines {start}-{end} are past the end of the file ({lines} lines)")]
    PastEnd {
        path: String,
        start: usize,
        end: usize,
        lines: usize,
    },
    #[error("invalid glob `{0}`: {1}")]
    Glob(String, String),
}

/// `list_symbols`: one line per symbol: `start-end kind name_path`.
pub fn outline(rel: &str, text: &str) -> Result<String, ReadError> {
    let lang =
        Language::detect(Path::new(rel), text).ok_or_else(|| ReadError::Unsupported(rel.into()))?;
    let file = syntax::file_symbols(lang, text);
    let mut out = format!(
        "{rel} ({} lines, {}, version {})\n",
        text.lines().count(),
        lang.name(),
        version(text.as_bytes())
    );
    for s in &file.symbols {
        let _ = writeln!(
            out,
            "{}-{} {} {}",
            s.start_line,
            s.end_line,
            s.kind.as_str(),
            s.name_path
        );
    }
    if file.symbols.is_empty() {
        out.push_str("(no symbols)\n");
    }
    Ok(out)
}

/// `read_symbol`: the symbol's full range (doc comments included) with line numbers.
pub fn symbol(rel: &str, text: &str, name_path: &str) -> Result<String, ReadError> {
    let lang =
        Language::detect(Path::new(rel), text).ok_or_else(|| ReadError::Unsupported(rel.into()))?;
    let file = syntax::file_symbols(lang, text);
    let sym = file.get(name_path).or_else(|| {
        // Accept a unique simple name or a unique suffix of a name path.
        let mut found = file
            .symbols
            .iter()
            .filter(|s| s.name == name_path || s.name_path.ends_with(&format!("/{name_path}")));
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    });
    let Some(sym) = sym else {
        let mut close: Vec<&str> = file
            .symbols
            .iter()
            .map(|s| s.name_path.as_str())
            .filter(|p| {
                let last = name_path
                    .rsplit('/')
                    .next()
                    .unwrap_or(name_path)
                    .to_lowercase();
                p.to_lowercase().contains(&last)
            })
            .take(8)
            .collect();
        if close.is_empty() {
            close = file
                .symbols
                .iter()
                .take(8)
                .map(|s| s.name_path.as_str())
                .collect();
        }
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("; candidates: {}", close.join(", "))
        };
        return Err(ReadError::NoSymbol {
            path: rel.into(),
            name: name_path.into(),
            hint,
        });
    };
    let header = format!(
        "{rel}:{}-{} {} {} (version {}, symbol {})\n",
        sym.start_line,
        sym.end_line,
        sym.kind.as_str(),
        sym.name_path,
        version(text.as_bytes()),
        version(text.get(sym.range.clone()).unwrap_or_default().as_bytes()),
    );
    Ok(header + &numbered(text, sym.start_line, sym.end_line))
}

/// `read_lines`: a 1-based inclusive range with line numbers (clamped to the file's end).
pub fn lines(rel: &str, text: &str, start: usize, end: usize) -> Result<String, ReadError> {
    let total = text.lines().count();
    if start > total.max(1) {
        return Err(ReadError::PastEnd {
            path: rel.into(),
            start,
            end,
            lines: total,
        });
    }
    let end = end.min(total);
    let v = version(text.as_bytes());
    Ok(format!("{rel}:{start}-{end} (of {total}, version {v})\n") + &numbered(text, start, end))
}

fn numbered(text: &str, start: usize, end: usize) -> String {
    let width = end.to_string().len();
    let mut out = String::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(start - 1)
        .take(end + 1 - start)
    {
        let _ = writeln!(out, "{:>width$}| {}", i + 1, line.trim_end_matches('\r'));
    }
    out
}

/// `search`: regex over the workspace (the one walker: gitignore-aware, `deny_paths` left out).
/// Also returns the files with hits and their texts (what the model has now seen of them).
pub fn search(
    ws: &Workspace,
    policy: &Policy,
    pattern: &regex::Regex,
    glob: Option<&str>,
) -> Result<(String, Vec<(String, String)>), ReadError> {
    let root = ws.root.as_path();
    let matcher = match glob {
        Some(g) => Some(
            globset::Glob::new(g)
                .map_err(|e| ReadError::Glob(g.into(), e.to_string()))?
                .compile_matcher(),
        ),
        None => None,
    };
    let mut out = String::new();
    let mut count = 0;
    let mut hit_files: Vec<(String, String)> = Vec::new();
    let walker = jingu_fs::walk::walker(ws, Some(policy))
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    'files: for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str() else { continue };
        if matcher.as_ref().is_some_and(|m| !m.is_match(rel)) {
            continue;
        }
        // By handle, no symlink followed: the walk's answer may be stale by now.
        let Ok(text) = jingu_fs::workspace::beneath::read_text(
            root,
            std::path::Path::new(rel),
            jingu_index::MAX_SOURCE_BYTES,
        ) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if pattern.is_match(line) {
                let quoted: String = line.trim().chars().take(MAX_QUOTED_LINE).collect();
                let _ = writeln!(out, "{rel}:{}: {quoted}", i + 1);
                if hit_files.last().is_none_or(|(p, _)| p != rel) {
                    hit_files.push((rel.to_string(), text.clone()));
                }
                count += 1;
                if count == MAX_SEARCH_MATCHES {
                    let _ = writeln!(
                        out,
                        "(stopped at {MAX_SEARCH_MATCHES} matches; narrow the pattern or glob)"
                    );
                    break 'files;
                }
            }
        }
    }
    if count == 0 {
        out.push_str("no matches\n");
    } else {
        let versions: Vec<String> = hit_files
            .iter()
            .map(|(p, t)| format!("{p} {}", version(t.as_bytes())))
            .collect();
        let _ = writeln!(out, "(versions: {})", versions.join(", "));
    }
    Ok((out, hit_files))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "/// Doc.\nfn alpha() {\n    1\n}\n\nstruct Beta;\nimpl Beta {\n    fn gamma(&self) {}\n}\n";

    #[test]
    fn outline_lists_name_paths_with_lines() {
        let o = outline("src/a.rs", SRC).expect("rust");
        assert!(o.contains("1-4 function alpha\n"), "{o}");
        assert!(
            o.starts_with(&format!(
                "src/a.rs (9 lines, rust, version {})\n",
                version(SRC.as_bytes())
            )),
            "{o}"
        );
        assert!(o.contains("8-8 method impl Beta/gamma\n"), "{o}");
    }

    #[test]
    fn read_symbol_by_path_suffix_and_refusal_with_candidates() {
        let s = symbol("src/a.rs", SRC, "gamma").expect("unique simple name");
        let header = format!(
            "src/a.rs:8-8 method impl Beta/gamma (version {}, symbol {})\n8|     fn gamma",
            version(SRC.as_bytes()),
            version(b"fn gamma(&self) {}")
        );
        assert!(s.starts_with(&header), "{s}");
        let err = symbol("src/a.rs", SRC, "Beta/gama").expect_err("missing");
        assert!(err.to_string().contains("candidates"), "{err}");
    }

    #[test]
    fn lines_are_numbered_and_bounded() {
        let l = lines("a.rs", SRC, 2, 3).expect("in range");
        let v = version(SRC.as_bytes());
        assert_eq!(
            l,
            format!("a.rs:2-3 (of 9, version {v})\n2| fn alpha() {{\n3|     1\n")
        );
        assert!(lines("a.rs", SRC, 50, 60).is_err());
    }

    #[test]
    fn search_respects_gitignore_glob_and_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).expect("git dir");
        std::fs::write(root.join(".gitignore"), "gen/\n").expect("write");
        std::fs::create_dir_all(root.join("gen")).expect("mkdir");
        std::fs::write(root.join("gen/x.rs"), "fn needle() {}\n").expect("write");
        std::fs::write(root.join("a.rs"), "fn needle() {}\n").expect("write");
        std::fs::write(root.join("b.py"), "needle = 1\n").expect("write");
        std::fs::write(root.join(".env"), "needle=secret\n").expect("write");
        let re = regex::Regex::new("needle").expect("regex");
        let ws = Workspace::at(root.to_path_buf());
        let policy = Policy::from_texts(None, Some("[policy]\ndeny_paths = [\".env\"]\n"), None)
            .expect("policy");
        let (all, seen) = search(&ws, &policy, &re, None).expect("search");
        let (va, vb) = (version(b"fn needle() {}\n"), version(b"needle = 1\n"));
        assert_eq!(
            all,
            format!(
                "a.rs:1: fn needle() {{}}\nb.py:1: needle = 1\n(versions: a.rs {va}, b.py {vb})\n"
            )
        );
        assert_eq!(seen.len(), 2);
        let (rs, _) = search(&ws, &policy, &re, Some("*.rs")).expect("search");
        assert_eq!(
            rs,
            format!("a.rs:1: fn needle() {{}}\n(versions: a.rs {va})\n")
        );
    }
}
