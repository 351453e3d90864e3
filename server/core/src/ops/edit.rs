//! One RealDoc edit (or batch of edits of one file), end to end: confine → policy → read (buffer or
//! disk) → freshness check → plan (pure, validated) → approve → lock → re-read and re-plan if the
//! file moved → snapshot → write. The snapshot is recorded before the write so that no content ever
//! reaches disk without one; if the write then fails, a compensating snapshot records what the
//! disk actually holds. A per-file lock in the state directory serialises Jingu writers of one file
//! from the final read to the write, so concurrent editors never overwrite each other.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::error::OpsError;
use super::frontend::{Approval, Frontend};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_fs::atomic::{self as atomic, Hash};
use jingu_fs::filelock::FileLock;
use jingu_fs::tempfiles;
use jingu_policy::Tool;
use jingu_realdoc::{self as realdoc, EditError, EditRequest, Planned, Seen};
use jingu_snapshots::{Change, Meta};
use jingu_syntax::Language;

/// How long an edit waits for another Jingu writer of the same file.
const LOCK_WAIT: Duration = Duration::from_secs(60);
/// Re-plans after the file changed between planning and writing, before giving up.
const MAX_REPLANS: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct EditOutcome {
    /// Workspace-relative path.
    pub path: String,
    pub snapshot_id: String,
    pub summary: String,
    /// The file's version after the edit (pass it as `expect` to the next edit).
    pub version: String,
    #[serde(skip)]
    pub diff: String,
    /// The whole new text (for callers that track what was seen).
    #[serde(skip)]
    pub new_text: String,
}

/// What the editor of a request saw of the file, when the caller keeps track (the agent does).
#[derive(Debug, Clone, Default)]
pub struct SeenText {
    /// The text of the last read (where line numbers came from).
    pub read: String,
    /// The newest text known: the last read, or the result of the caller's own last edit.
    pub latest: String,
}

impl Session {
    /// Apply one edit to `raw_path` as part of `run`.
    pub async fn edit(
        &self,
        fe: &impl Frontend,
        run: &Run,
        raw_path: &str,
        req: &EditRequest,
    ) -> Result<EditOutcome, OpsError> {
        self.edit_batch(fe, run, raw_path, std::slice::from_ref(req), None)
            .await
    }

    /// Apply `reqs` to one file as one change: targets resolved against the current text, applied
    /// in order, validated once, written (and snapshotted) once. All or nothing.
    pub async fn edit_batch(
        &self,
        fe: &impl Frontend,
        run: &Run,
        raw_path: &str,
        reqs: &[EditRequest],
        seen: Option<&SeenText>,
    ) -> Result<EditOutcome, OpsError> {
        let (rel, ask) = self.authorize(run, Tool::Edit, raw_path)?;
        let abs = self.workspace.abs(&rel);
        let edit_err = |error: EditError| OpsError::Edit {
            path: rel.clone(),
            error,
        };
        let (old, old_hash) = self.current_text(fe, &rel, &abs).await?;
        let language = Language::detect(Path::new(&rel), &old);
        check_all(&old, language, reqs, seen).map_err(edit_err)?;
        let planned = realdoc::plan_many(&old, language, reqs).map_err(edit_err)?;
        let op = match reqs {
            [one] => one.op.as_str().to_string(),
            _ => "batch".to_string(),
        };
        let target = reqs
            .iter()
            .map(|r| r.target.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let summary = format!("{} in {rel}", planned.summary);
        if ask && old_hash.is_none() && planned.new_text != old && fe.reviews_in_buffer() {
            // An open buffer whose editor lets the user accept the changes one by one (an edit
            // that changes nothing has no change to offer: it is asked about as a whole).
            let meta = Meta {
                run_id: Some(run.id.clone()),
                actor: self.actor(),
                op,
                target,
                message: summary,
            };
            return self
                .edit_reviewed(fe, run, &rel, &old, &planned, meta)
                .await;
        }
        if ask {
            let approval = Approval {
                tool: "edit",
                summary: summary.clone(),
                // Only an asked edit shows its diff before it is made.
                detail: realdoc_diff(&rel, &old, &planned.new_text),
                path: Some(rel.clone()),
            };
            if !fe.approve(&approval).await {
                return Err(OpsError::Rejected {
                    tool: "edit",
                    summary,
                });
            }
        }

        // From here to the write, no other Jingu writer of this file runs.
        let _lock = self.lock_file(&rel).await?;
        if let Some(dir) = abs.parent() {
            tempfiles::clean_stale_temps(dir);
        }
        let mut approved = old;
        let mut planned = planned;
        let mut attempts = 0;
        loop {
            let (current, disk_hash) = self.current_text(fe, &rel, &abs).await?;
            if current != approved {
                // Someone wrote the file since it was planned (or approved): plan again on what is
                // there now, provided every target is still what was approved.
                attempts += 1;
                if attempts > MAX_REPLANS {
                    return Err(OpsError::Busy {
                        path: rel.clone(),
                        reason: "the file keeps changing while the edit is written".into(),
                    });
                }
                let approved_seen = SeenText {
                    read: seen.map_or_else(|| approved.clone(), |s| s.read.clone()),
                    latest: approved.clone(),
                };
                let language = Language::detect(Path::new(&rel), &current);
                check_all(
                    &current,
                    language,
                    &with_expect(reqs, &approved),
                    Some(&approved_seen),
                )
                .map_err(edit_err)?;
                planned = realdoc::plan_many(&current, language, reqs).map_err(edit_err)?;
                approved = current;
                continue;
            }
            let meta = Meta {
                run_id: Some(run.id.clone()),
                actor: self.actor(),
                op: op.clone(),
                target: target.clone(),
                message: summary.clone(),
            };
            match self
                .record_and_write(fe, run, &rel, &abs, &approved, disk_hash, &planned, meta)
                .await
            {
                Ok(id) => {
                    let outcome = EditOutcome {
                        path: rel.clone(),
                        snapshot_id: id,
                        summary,
                        version: realdoc::version(planned.new_text.as_bytes()),
                        diff: realdoc_diff(&rel, &approved, &planned.new_text),
                        new_text: planned.new_text.clone(),
                    };
                    fe.edit_applied(&outcome, &approved, &planned.new_text);
                    return Ok(outcome);
                }
                // A writer outside Jingu (editor, formatter) got in between: plan again.
                Err(OpsError::Write(atomic::WriteError::ConcurrentModification { .. }))
                    if attempts < MAX_REPLANS => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The text an edit starts from: the open buffer, else the file (with its hash), refusing
    /// read-only files up front.
    async fn current_text(
        &self,
        fe: &impl Frontend,
        rel: &str,
        abs: &Path,
    ) -> Result<(String, Option<Hash>), OpsError> {
        if let Some(text) = fe.buffer_text(rel).await {
            return Ok((text, None));
        }
        if let Ok(meta) = std::fs::metadata(abs)
            && meta.is_file()
            && meta.permissions().mode() & 0o222 == 0
        {
            return Err(OpsError::ReadOnly {
                path: rel.to_string(),
                mode: meta.permissions().mode() & 0o7777,
            });
        }
        let (text, hash) = atomic::read_for_edit(abs)?;
        Ok((text, Some(hash)))
    }

    /// The per-file writer lock, waited for without blocking the async runtime.
    pub(crate) async fn lock_file(&self, rel: &str) -> Result<FileLock, OpsError> {
        let state_dir = &self.workspace.state_dir;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            let lock = FileLock::try_acquire(state_dir, rel).map_err(|e| OpsError::Busy {
                path: rel.to_string(),
                reason: format!("cannot take its lock in {}: {e}", state_dir.display()),
            })?;
            if let Some(lock) = lock {
                return Ok(lock);
            }
            if std::time::Instant::now() >= deadline {
                return Err(OpsError::Busy {
                    path: rel.to_string(),
                    reason: "another Jingu process has been editing it for over a minute".into(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Snapshot (baseline + edit), audit, then write; on a failed write, record what the disk
    /// holds. Returns the snapshot id. Caller holds the file lock.
    #[allow(clippy::too_many_arguments)]
    async fn record_and_write(
        &self,
        fe: &impl Frontend,
        run: &Run,
        rel: &str,
        abs: &Path,
        old: &str,
        disk_hash: Option<Hash>,
        planned: &Planned,
        meta: Meta,
    ) -> Result<String, OpsError> {
        let mode = file_mode(abs);
        let (before, id, snapshots) = self.with_store(|store| -> Result<_, OpsError> {
            let baseline = store.record_baseline(rel, old.as_bytes(), &meta)?;
            let before = store.head()?.map(|h| h.short()).unwrap_or_default();
            let id = store.record(
                &[Change::Write {
                    path: rel.to_string(),
                    content: planned.new_text.as_bytes().to_vec(),
                    mode,
                }],
                &meta,
            )?;
            let snapshots: Vec<_> = baseline.into_iter().chain([id]).collect();
            Ok((before, id, snapshots))
        })?;
        // The audit record precedes the write: if it cannot be written, the file is not touched.
        let record = RecordKind::Edit {
            path: rel.to_string(),
            snapshot_before: before,
            snapshot_after: id.short(),
            snapshot_id: id.short(),
            after_sha256: Some(hex::encode(jingu_fs::atomic::sha256(
                planned.new_text.as_bytes(),
            ))),
        };
        let written = match disk_hash {
            None => match run.audit.append(record) {
                Err(e) => Err(OpsError::from(e)),
                Ok(_) => match fe.apply_to_buffer(rel, old, planned).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(OpsError::Buffer {
                        path: rel.to_string(),
                        reason: "the document closed before the edit arrived".into(),
                    }),
                    Err(reason) => Err(OpsError::Buffer {
                        path: rel.to_string(),
                        reason,
                    }),
                },
            },
            // Three syncs, overlapped, then the rename (ARCHITECTURE.md, "One edit, end to end"):
            // the audit record (fdatasync), the snapshot's objects in the journal (fdatasync),
            // and the new content staged in a temp file beside the file (fsync). The file is
            // replaced only once all three succeeded; a failed one leaves no trace (the temp
            // file is removed). The rename itself is not followed by a directory fsync: it is
            // atomic, and until the next sync a crash leaves the old content, still recorded
            // and recoverable.
            Some(hash) => jingu_audit::off_runtime(|| {
                let (audited, journaled, staged) = std::thread::scope(|scope| {
                    let audit = scope.spawn(|| run.audit.append(record));
                    let journal = scope.spawn(|| {
                        self.with_store(|s| s.make_durable(&snapshots, &[rel], Some(&run.id)))
                    });
                    let staged = atomic::stage(abs, planned.new_text.as_bytes());
                    let audited = audit
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    let journaled = journal
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (audited, journaled, staged)
                });
                match (audited, journaled, staged) {
                    (Err(e), _, _) => Err(OpsError::from(e)),
                    (Ok(_), Err(e), _) => Err(OpsError::from(e)),
                    (Ok(_), Ok(()), Err(e)) => Err(OpsError::from(e)),
                    (Ok(_), Ok(()), Ok(staged)) => {
                        staged.commit_unsynced(Some(hash)).map_err(OpsError::from)
                    }
                }
            }),
        };
        let Err(e) = written else {
            return Ok(id.short());
        };
        // Make the snapshot chain say what is really there now: the old text, or whatever
        // another writer put there (a buffer edit that did not happen leaves the disk as it was).
        let on_disk = match disk_hash {
            None => Some(old.as_bytes().to_vec()),
            Some(_) => match std::fs::read(abs) {
                Ok(bytes) => Some(bytes),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(_) => Some(old.as_bytes().to_vec()),
            },
        };
        let undo = Meta {
            op: "revert-failed-write".into(),
            message: format!("edit not applied: {e}"),
            ..meta
        };
        let change = match on_disk {
            Some(content) => Change::Write {
                path: rel.to_string(),
                content,
                mode: file_mode(abs),
            },
            None => Change::Delete {
                path: rel.to_string(),
            },
        };
        self.with_store(|s| s.record(&[change], &undo))?;
        Err(e)
    }
}

/// Requests that name no version of their own expect `text` (the one approved).
fn with_expect(reqs: &[EditRequest], text: &str) -> Vec<EditRequest> {
    let v = realdoc::version(text.as_bytes());
    reqs.iter()
        .map(|r| EditRequest {
            expect: r.expect.clone().or_else(|| Some(v.clone())),
            ..r.clone()
        })
        .collect()
}

/// Refuse the batch when any request's target changed since its author saw it. A request without
/// `expect` is checked against what the caller saw, when it says (the agent always does).
fn check_all(
    current: &str,
    language: Option<Language>,
    reqs: &[EditRequest],
    seen: Option<&SeenText>,
) -> Result<(), EditError> {
    let read_version = seen.map_or_else(String::new, |s| realdoc::version(s.read.as_bytes()));
    for (i, req) in reqs.iter().enumerate() {
        let check = match (req.expect.as_deref(), seen) {
            (None, None) => continue,
            (Some(expect), None) => Seen {
                expect,
                read: None,
                latest: None,
            },
            // Filled in for the caller: line numbers come from its last read, symbols and
            // keywords may also match the result of its own last edit.
            (None, Some(s)) => Seen {
                expect: &read_version,
                read: Some(&s.read),
                latest: Some(&s.latest),
            },
            // An explicit version of the caller's own last edit vouches for line numbers
            // relative to that text.
            (Some(expect), Some(s))
                if realdoc::version(s.latest.as_bytes()).starts_with(expect) =>
            {
                Seen {
                    expect,
                    read: Some(&s.latest),
                    latest: Some(&s.latest),
                }
            }
            (Some(expect), Some(s)) => Seen {
                expect,
                read: Some(&s.read),
                latest: Some(&s.latest),
            },
        };
        realdoc::check_fresh(current, language, &req.target, &check).map_err(|e| {
            if reqs.len() == 1 {
                e
            } else {
                EditError::InBatch {
                    index: i + 1,
                    error: Box::new(e),
                }
            }
        })?;
    }
    Ok(())
}

pub(crate) fn file_mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644)
}

/// A unified diff with 3 lines of context, for approvals and terminals.
pub fn unified_diff(rel: &str, old: &str, new: &str) -> String {
    realdoc_diff(rel, old, new)
}

fn realdoc_diff(rel: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{rel}"), &format!("b/{rel}"))
        .to_string()
}
