//! Typed sandbox failures.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox required but unavailable: {why}; refusing to run the command")]
    Unavailable { why: String },
    #[error("empty command line")]
    EmptyCommand,
    #[error("workspace {path}: {source}")]
    Workspace {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("working directory {0:?} escapes the workspace")]
    CwdEscape(String),
    #[error("building the Landlock ruleset for {path}: {message}")]
    Landlock { path: PathBuf, message: String },
    #[error("building the seccomp filter: {0}")]
    Seccomp(String),
    #[error("creating the private temp dir: {0}")]
    TempDir(std::io::Error),
    #[error("spawning {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for the command: {0}")]
    Wait(std::io::Error),
}
