//! What the model (or a user) asks for: a target, an operation and the new text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an edit applies. Lines are 1-based and inclusive (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A tree-sitter symbol by name path (`impl Parser/parse_expr`); see [`super::resolve`] for the
    /// forgiving forms accepted when there is no exact match.
    Symbol(String),
    Lines {
        start: usize,
        end: usize,
    },
    /// The line containing `text`; `occurrence` (1-based) picks one when several lines match.
    Keyword {
        text: String,
        #[serde(default)]
        occurrence: Option<usize>,
    },
}

impl Target {
    /// Parse the CLI form `A-B` (or a single line `A`) into [`Target::Lines`].
    pub fn lines_from_str(spec: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::Lines(spec.to_string());
        let (a, b) = match spec.split_once('-') {
            Some((a, b)) => (a, b),
            None => (spec, spec),
        };
        let start: usize = a.trim().parse().map_err(|_| bad())?;
        let end: usize = b.trim().parse().map_err(|_| bad())?;
        Ok(Self::Lines { start, end })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Symbol(name) => write!(f, "symbol `{name}`"),
            Self::Lines { start, end } if start == end => write!(f, "line {start}"),
            Self::Lines { start, end } => write!(f, "lines {start}-{end}"),
            Self::Keyword {
                text,
                occurrence: None,
            } => write!(f, "keyword {text:?}"),
            Self::Keyword {
                text,
                occurrence: Some(n),
            } => write!(f, "keyword {text:?} (occurrence {n})"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Replace,
    InsertBefore,
    InsertAfter,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replace => "replace",
            Self::InsertBefore => "insert-before",
            Self::InsertAfter => "insert-after",
            Self::Delete => "delete",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "replace" => Self::Replace,
            "insert-before" => Self::InsertBefore,
            "insert-after" => Self::InsertAfter,
            "delete" => Self::Delete,
            other => return Err(ParseError::Op(other.to_string())),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "unknown edit operation {0:?}: expected replace, insert-before, insert-after or delete"
    )]
    Op(String),
    #[error("invalid line range {0:?}: expected A-B with 1-based line numbers")]
    Lines(String),
}

/// One edit. `text` is ignored by [`Op::Delete`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRequest {
    pub target: Target,
    pub op: Op,
    #[serde(default)]
    pub text: String,
    /// The version the author planned against (a read's file or symbol version); the edit is
    /// refused when its target changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

impl EditRequest {
    pub fn new(target: Target, op: Op, text: impl Into<String>) -> Self {
        Self {
            target,
            op,
            text: text.into(),
            expect: None,
        }
    }

    pub fn expecting(mut self, version: Option<String>) -> Self {
        self.expect = version;
        self
    }
}
