//! Why an edit was refused. Every refusal leaves the file untouched.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditError {
    #[error("no symbol `{name}` in this file{}", list("closest", closest))]
    NoSuchSymbol { name: String, closest: Vec<String> },
    #[error("{target} is ambiguous{}", list("candidates", candidates))]
    AmbiguousTarget {
        target: String,
        candidates: Vec<String>,
    },
    #[error("keyword {text:?} not found")]
    KeywordNotFound { text: String },
    #[error(
        "keyword {text:?} has {count} matching line(s); occurrence {occurrence} does not exist"
    )]
    NoSuchOccurrence {
        text: String,
        occurrence: usize,
        count: usize,
    },
    #[error("the keyword must be non-empty")]
    EmptyKeyword,
    #[error("lines {start}-{end} are out of range: the file has {line_count} line(s)")]
    LinesOutOfRange {
        start: usize,
        end: usize,
        line_count: usize,
    },
    #[error("invalid line range {start}-{end}: lines are 1-based and start <= end")]
    InvalidLines { start: usize, end: usize },
    #[error("symbol targets need a language with a tree-sitter grammar; this file has none")]
    NoLanguage,
    #[error("{op} needs non-empty text (use delete to remove the target)")]
    EmptyText { op: &'static str },
    #[error("the edit would introduce a syntax error at line {line}, column {column}: {snippet}")]
    SyntaxError {
        line: usize,
        column: usize,
        snippet: String,
    },
    #[error(
        "the file already had {before} syntax error(s); the edit would raise that to {after} \
         (first at line {line}, column {column}: {snippet})"
    )]
    MoreSyntaxErrors {
        before: usize,
        after: usize,
        line: usize,
        column: usize,
        snippet: String,
    },
    #[error("tree-sitter could not parse the file")]
    ParseFailed,
    #[error(
        "{} changed since you read it (the file is now version {}); nothing was changed. Its \
         current text:\n{}Redo the edit against this text.",
        .stale.target, .stale.version, .stale.current
    )]
    Stale { stale: Box<Staleness> },
    #[error("invalid version {given:?}: expected the hex version a read returned (8+ digits)")]
    BadVersion { given: String },
    #[error("edit {index} of the batch: {error}")]
    InBatch { index: usize, error: Box<EditError> },
    #[error(
        "edits {first} and {second} of the batch overlap ({detail}); targets are resolved \
         against the file before the batch, so give each part of the file one edit"
    )]
    Overlap {
        first: usize,
        second: usize,
        detail: String,
    },
    #[error("the {count} edits together: {error}")]
    BatchInvalid { count: usize, error: Box<EditError> },
    #[error("the batch is empty")]
    EmptyBatch,
}

fn list(label: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("; {label}: {}", items.join(", "))
    }
}

/// What a stale edit is told: its target and the target's current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    pub target: String,
    /// The file's version now.
    pub version: String,
    /// The target's current text, with line numbers.
    pub current: String,
}
