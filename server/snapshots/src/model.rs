//! The data the store records and reports: who/why metadata, changes, and listing records.

use serde::Serialize;

/// Who did what, and why; becomes the commit message and its `Jingu-*` trailers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub run_id: Option<String>,
    /// The verified identity's subject, or the OS user for local commands.
    pub actor: String,
    /// The operation (`replace`, `insert-after`, `rollback`, `scan`, `baseline`, …).
    pub op: String,
    /// What the operation addressed (symbol name path, line range, snapshot id, …).
    pub target: String,
    /// Free text shown first in `snapshot show`.
    pub message: String,
}

/// One change to record. Paths are workspace-relative with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Write {
        path: String,
        content: Vec<u8>,
        /// Unix permission bits; any execute bit records the file as executable.
        mode: u32,
    },
    Delete {
        path: String,
    },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Write { path, .. } | Change::Delete { path } => path,
        }
    }
}

/// A snapshot (a commit of the shadow repository).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SnapshotId(pub git2::Oid);

impl SnapshotId {
    /// The short form printed to users; any unique prefix resolves back.
    pub fn short(&self) -> String {
        let full = self.0.to_string();
        full[..SHORT_LEN.min(full.len())].to_string()
    }
}

impl std::fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.short())
    }
}

pub(crate) const SHORT_LEN: usize = 12;

/// One line of `jingu snapshot list --json` (DESIGN §2), field order as documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub run_id: Option<String>,
    pub actor: String,
    pub op: String,
    pub target: String,
    pub paths: Vec<String>,
}

/// `jingu snapshot show`: the listing record plus the message and parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotDetail {
    #[serde(flatten)]
    pub info: SnapshotInfo,
    pub full_id: String,
    pub parent: Option<String>,
    pub message: String,
}

/// Which snapshots `list` returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only snapshots touching this path (or anything under it, for a directory).
    pub path: Option<String>,
    pub run: Option<String>,
    /// At most this many (newest first); `None` means all.
    pub limit: Option<usize>,
}

/// What a rollback did: the new snapshot and the paths it wrote or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackOutcome {
    pub snapshot_id: String,
    pub restored: Vec<String>,
    /// Paths where the user's later, non-overlapping edits were kept by a 3-way merge.
    pub merged: Vec<String>,
    /// Open editor buffers the caller must bring to their restored content: recorded in the
    /// rollback snapshot, not written on disk (the editor saves them, as after an edit).
    #[serde(skip)]
    pub buffers: Vec<BufferRestore>,
}

/// Text of open editor buffers by workspace path: in a rollback it stands in for the disk.
pub type OpenBuffers = std::collections::BTreeMap<String, Vec<u8>>;

/// One open buffer a rollback restores: its text now and the text it must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferRestore {
    pub path: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Build the commit message: a summary line, optional body, then the trailers.
pub(crate) fn compose_message(meta: &Meta) -> String {
    let mut msg = String::new();
    let summary = one_line(&meta.message);
    if summary.is_empty() {
        msg.push_str(&format!(
            "{} {}",
            one_line(&meta.op),
            one_line(&meta.target)
        ));
    } else {
        msg.push_str(&summary);
    }
    msg.push_str("\n\n");
    if let Some(run) = &meta.run_id {
        msg.push_str(&format!("Jingu-Run: {}\n", one_line(run)));
    }
    msg.push_str(&format!("Jingu-Actor: {}\n", one_line(&meta.actor)));
    msg.push_str(&format!("Jingu-Op: {}\n", one_line(&meta.op)));
    msg.push_str(&format!("Jingu-Target: {}\n", one_line(&meta.target)));
    msg
}

/// Trailer values must stay on one line or they would forge other trailers.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ").trim().to_string()
}

/// The `Jingu-*` trailers of a commit message.
#[derive(Debug, Default, Clone)]
pub(crate) struct Trailers {
    pub run_id: Option<String>,
    pub actor: String,
    pub op: String,
    pub target: String,
}

pub(crate) fn parse_trailers(message: &str) -> Trailers {
    let mut t = Trailers::default();
    let Ok(parsed) = git2::message_trailers_strs(message) else {
        return t;
    };
    for (key, value) in parsed.iter() {
        match key {
            "Jingu-Run" => t.run_id = Some(value.to_string()),
            "Jingu-Actor" => t.actor = value.to_string(),
            "Jingu-Op" => t.op = value.to_string(),
            "Jingu-Target" => t.target = value.to_string(),
            _ => {}
        }
    }
    t
}

/// RFC 3339 UTC for a unix time in seconds (civil-from-days, no calendar crate needed).
pub(crate) fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}
