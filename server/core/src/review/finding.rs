//! A finding as the model reports it, and as it survives validation.

use serde::{Deserialize, Serialize};

use super::position::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Hint => "hint",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Bug,
    Security,
    Performance,
    Style,
    Test,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bug => "bug",
            Self::Security => "security",
            Self::Performance => "performance",
            Self::Style => "style",
            Self::Test => "test",
        }
    }
}

/// One finding exactly as the model sent it (lines 1-based, inclusive, in the current text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub file: String,
    pub start_line: usize,
    pub end_line: usize,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
    /// Exact new text for lines `start_line..=end_line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// A suggested change as a splice of the current text (what RealDoc would write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// The replaced region of the current text (end exclusive).
    pub span: Span,
    /// The text that replaces it.
    pub text: String,
}

/// A finding that passed validation, with exact positions in every convention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validated {
    #[serde(flatten)]
    pub finding: Finding,
    /// Whole lines `start_line..=end_line` (end exclusive, at the end of the last line's content).
    pub span: Span,
    /// The text of those lines when the review ran: a fix applies only while it is unchanged.
    pub original: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Unified diff of the fix, for terminals.
    #[serde(skip)]
    pub diff: String,
}

/// A finding that never reached anyone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// The finding as sent, or the raw JSON when it did not even parse.
    pub finding: serde_json::Value,
    pub reason: String,
}
