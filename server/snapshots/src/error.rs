//! Typed errors of the snapshot store; every message names the path or snapshot involved.

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot repository at {path}: {source}")]
    Repo {
        path: String,
        #[source]
        source: git2::Error,
    },
    #[error("{context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{context} `{path}`: {source}")]
    Io {
        context: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("path `{path}` refused: {reason}")]
    BadPath { path: String, reason: String },
    #[error("no snapshot matches `{0}`")]
    NotFound(String),
    #[error("snapshot id `{prefix}` is ambiguous: it matches {candidates}")]
    Ambiguous { prefix: String, candidates: String },
    #[error("no snapshot belongs to run `{0}`")]
    UnknownRun(String),
    #[error("the snapshot store is empty: nothing has been recorded yet")]
    Empty,
    #[error(
        "refusing to touch `{path}`: it was changed on disk since Jingu last recorded it and {detail}. \
         Save or revert your change, or snapshot it first (`jingu snapshot` scan), then retry"
    )]
    Conflict { path: String, detail: String },
    #[error("snapshot {id} cannot be rolled back: {reason}")]
    NotUndoable { id: String, reason: String },
    #[error("stat cache `{path}` is corrupt: {reason}")]
    CorruptCache { path: String, reason: String },
}

impl SnapshotError {
    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Self {
        let context = context.into();
        move |source| SnapshotError::Git { context, source }
    }

    pub(crate) fn io(
        context: &'static str,
        path: impl std::fmt::Display,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_string();
        move |source| SnapshotError::Io {
            context,
            path,
            source,
        }
    }
}
