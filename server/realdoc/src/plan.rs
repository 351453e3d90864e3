//! Planning an edit: pure, no I/O. Locate the target, splice, re-parse incrementally, validate.

use std::cell::OnceCell;
use std::ops::Range;

use tree_sitter::Tree;

use jingu_syntax::{FileSymbols, Language, extract, first_error, parse};

use super::error::EditError;
use super::locate::locate;
use super::request::EditRequest;
use super::splice::splice;
use super::validate::revalidate;

/// The result of planning one edit: the new text and the splice that produces it (what an LSP
/// `TextEdit` or a diff needs).
#[derive(Debug, Clone)]
pub struct Planned {
    pub new_text: String,
    /// Byte range of the old text that is replaced by `inserted`.
    pub changed: Range<usize>,
    pub inserted: String,
    /// 1-based inclusive lines of the target in the old text.
    pub start_line: usize,
    pub end_line: usize,
    /// One line for logs, audit records and snapshot messages:
    /// `replace symbol `impl Parser/parse_expr` (lines 10-42)`.
    pub summary: String,
    /// The new syntax tree, when the file has a language (reuse it for the next edit or the index).
    pub tree: Option<Tree>,
}

/// A file's text with its tree, parsed once and reusable across edits; symbols are extracted on
/// first use. Build it from a tree the caller already has (the LSP document mirror) to skip the
/// full parse.
pub struct ParsedFile<'a> {
    pub text: &'a str,
    pub language: Language,
    pub tree: Tree,
    symbols: OnceCell<FileSymbols>,
}

impl<'a> ParsedFile<'a> {
    pub fn new(text: &'a str, language: Language) -> Result<Self, EditError> {
        let tree = parse(language, text, None).ok_or(EditError::ParseFailed)?;
        Ok(Self::with_tree(text, language, tree))
    }

    /// `tree` must be the parse of exactly `text`.
    pub fn with_tree(text: &'a str, language: Language, tree: Tree) -> Self {
        Self {
            text,
            language,
            tree,
            symbols: OnceCell::new(),
        }
    }

    pub fn symbols(&self) -> &FileSymbols {
        self.symbols.get_or_init(|| {
            let symbols = extract(self.language, self.text, &self.tree);
            FileSymbols::new(self.language, symbols, first_error(&self.tree))
        })
    }
}

/// Plan one edit of `text`. Files without a language skip symbol targets and validation.
pub fn plan(
    text: &str,
    language: Option<Language>,
    req: &EditRequest,
) -> Result<Planned, EditError> {
    match language {
        Some(language) => plan_parsed(&ParsedFile::new(text, language)?, req),
        None => {
            let region = locate(text, None, &req.target)?;
            let (changed, inserted) = splice(text, None, None, &region, req)?;
            Ok(finish(text, req, &region, changed, inserted, None))
        }
    }
}

/// Plan one edit of an already-parsed file.
pub fn plan_parsed(file: &ParsedFile<'_>, req: &EditRequest) -> Result<Planned, EditError> {
    let text = file.text;
    let symbols = match req.target {
        super::Target::Symbol(_) => Some(file.symbols()),
        _ => None,
    };
    let region = locate(text, symbols, &req.target)?;
    let (changed, inserted) = splice(text, Some(file.language), Some(&file.tree), &region, req)?;
    let mut planned = finish(text, req, &region, changed, inserted, None);
    let tree = revalidate(
        file.language,
        &file.tree,
        text,
        &planned.new_text,
        &planned.changed,
        &planned.inserted,
    )?;
    planned.tree = Some(tree);
    Ok(planned)
}

fn finish(
    text: &str,
    req: &EditRequest,
    region: &super::locate::Region,
    changed: Range<usize>,
    inserted: String,
    tree: Option<Tree>,
) -> Planned {
    let mut new_text =
        String::with_capacity(text.len() - (changed.end - changed.start) + inserted.len());
    new_text.push_str(&text[..changed.start]);
    new_text.push_str(&inserted);
    new_text.push_str(&text[changed.end..]);
    let lines = if region.start_line == region.end_line {
        format!("line {}", region.start_line)
    } else {
        format!("lines {}-{}", region.start_line, region.end_line)
    };
    let summary = match &req.target {
        super::Target::Lines { .. } => format!("{} {}", req.op, region.label),
        _ => format!("{} {} ({lines})", req.op, region.label),
    };
    Planned {
        new_text,
        changed,
        inserted,
        start_line: region.start_line,
        end_line: region.end_line,
        summary,
        tree,
    }
}
