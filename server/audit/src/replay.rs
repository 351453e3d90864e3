//! `jingu audit replay RUN_ID`: re-derive a run's final file states from the snapshots its edit
//! records name, and check them against what was recorded.
//!
//! Checks per path, in record order: the snapshot after each edit holds content whose SHA-256 is
//! the one recorded; the snapshot before an edit holds exactly what the previous edit of the run
//! left (nothing changed the file in between behind the log's back). The final content is then
//! compared with the file on disk, which is reported (drift since the run) but is not a failure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::record::{Record, RecordKind, sha256_hex};

/// Where snapshot content comes from (the snapshot store implements this).
pub trait SnapshotSource {
    /// Content of `path` in snapshot `id`; `None` if the path does not exist there (or the
    /// snapshot is unknown).
    fn content_at(&self, id: &str, path: &str) -> Option<Vec<u8>>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskState {
    Matches,
    Differs,
    /// Absent on disk (matches when the run deleted it).
    Missing,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileState {
    pub path: String,
    pub final_snapshot: String,
    /// SHA-256 of the final content derived from the snapshot; `None` if the run deleted the file.
    pub sha256: Option<String>,
    pub disk: DiskState,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub run_id: String,
    pub edits: usize,
    pub files: Vec<FileState>,
    /// Mismatches between the log and the snapshots; empty means the replay checks out.
    pub problems: Vec<String>,
}

impl ReplayReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no run `{0}` in the audit log")]
    UnknownRun(String),
}

struct Step<'a> {
    seq: u64,
    before: Option<&'a str>,
    after: &'a str,
    /// Recorded hash of the content after the step (`None` = deleted); unset for rollbacks.
    expect: Option<Option<&'a str>>,
}

/// Replay `run_id` from `records` (already verified), reading snapshots from `snapshots` and the
/// current files through `disk`.
pub fn replay(
    records: &[Record],
    run_id: &str,
    snapshots: &dyn SnapshotSource,
    disk: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<ReplayReport, ReplayError> {
    let run: Vec<&Record> = records.iter().filter(|r| r.run_id == run_id).collect();
    if run.is_empty() {
        return Err(ReplayError::UnknownRun(run_id.to_string()));
    }
    let mut steps: BTreeMap<&str, Vec<Step<'_>>> = BTreeMap::new();
    let mut edits = 0;
    for r in &run {
        match &r.kind {
            RecordKind::Edit {
                path,
                snapshot_before,
                snapshot_after,
                after_sha256,
                ..
            } => {
                edits += 1;
                steps.entry(path).or_default().push(Step {
                    seq: r.seq,
                    before: Some(snapshot_before),
                    after: snapshot_after,
                    expect: Some(after_sha256.as_deref()),
                });
            }
            RecordKind::Rollback {
                snapshot_id, paths, ..
            } => {
                for p in paths {
                    steps.entry(p).or_default().push(Step {
                        seq: r.seq,
                        before: None,
                        after: snapshot_id,
                        expect: None,
                    });
                }
            }
            _ => {}
        }
    }

    let mut problems = Vec::new();
    let mut files = Vec::new();
    for (path, steps) in steps {
        let mut prev: Option<(u64, Option<Vec<u8>>)> = None;
        for s in &steps {
            let after = snapshots.content_at(s.after, path);
            let got = after.as_deref().map(sha256_hex);
            if let Some(expect) = s.expect
                && got.as_deref() != expect
            {
                problems.push(format!(
                    "record {}: `{path}` in snapshot {} has {} but the log recorded {}",
                    s.seq,
                    s.after,
                    got.as_deref().unwrap_or("no file"),
                    expect.unwrap_or("a deletion")
                ));
            }
            if let (Some(before), Some((pseq, pcontent))) = (s.before, &prev)
                && snapshots.content_at(before, path) != *pcontent
            {
                problems.push(format!(
                    "record {}: `{path}` before this edit differs from what record {pseq} left (changed outside the run)",
                    s.seq
                ));
            }
            prev = Some((s.seq, after));
        }
        let Some(last) = steps.last() else { continue };
        let final_content = prev.and_then(|(_, c)| c);
        let disk_now = disk(path);
        let state = match (&disk_now, &final_content) {
            (None, _) => DiskState::Missing,
            (Some(d), Some(f)) if d == f => DiskState::Matches,
            _ => DiskState::Differs,
        };
        files.push(FileState {
            path: path.to_string(),
            final_snapshot: last.after.to_string(),
            sha256: final_content.as_deref().map(sha256_hex),
            disk: state,
        });
    }
    Ok(ReplayReport {
        run_id: run_id.to_string(),
        edits,
        files,
        problems,
    })
}
