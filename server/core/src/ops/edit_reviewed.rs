//! An edit of an open buffer reviewed change by change in the editor (issue #20): instead of one
//! Apply/Reject question, the proposal goes to the editor as changes the user accepts or rejects
//! one by one, and what is recorded is what the buffer holds afterwards — the accepted changes,
//! not the whole proposal. The proposal is audited before it is sent; the snapshot and the `edit`
//! record follow the user's answer, since only then is it known what landed (the disk is not
//! written: the buffer is the user's, and saving it is theirs too). A proposal rejected entirely
//! is recorded as a rejection and leaves no snapshot.

use super::edit::{EditOutcome, file_mode, unified_diff};
use super::error::OpsError;
use super::frontend::{Frontend, Reviewed};
use super::session::{Run, Session};
use jingu_audit::RecordKind;
use jingu_realdoc::{self as realdoc, Planned};
use jingu_snapshots::{Change, Meta};

impl Session {
    /// Offer `planned` (made from the buffer text `old`) for review in the editor and record what
    /// the user accepted. Caller has authorized the edit and policy said `ask`.
    pub(super) async fn edit_reviewed(
        &self,
        fe: &impl Frontend,
        run: &Run,
        rel: &str,
        old: &str,
        planned: &Planned,
        meta: Meta,
    ) -> Result<EditOutcome, OpsError> {
        let _lock = self.lock_file(rel).await?;
        let summary = meta.message.clone();
        let decision = |decision: &str, reason: String| {
            run.audit.append(RecordKind::PolicyDecision {
                tool: "edit".into(),
                path: Some(rel.to_string()),
                decision: decision.to_string(),
                reason: Some(reason),
            })
        };
        decision(
            "propose",
            format!("{summary}: sent to the editor to accept or reject change by change"),
        )?;
        let buffer_err = |reason: String| OpsError::Buffer {
            path: rel.to_string(),
            reason,
        };
        let reviewed = fe
            .review_in_buffer(rel, old, &planned.new_text, &summary)
            .await
            .map_err(buffer_err)?
            .ok_or_else(|| buffer_err("the document closed before the edit arrived".into()))?;
        let Reviewed {
            text,
            proposed,
            accepted,
            exact,
        } = reviewed;
        if text == old {
            decision(
                "rejected",
                format!("the user accepted none of the {proposed} proposed change(s)"),
            )?;
            return Err(OpsError::Rejected {
                tool: "edit",
                summary,
            });
        }
        let what = if exact {
            format!("accepted {accepted} of {proposed} change(s)")
        } else {
            "the buffer also changed otherwise; recorded as it is".to_string()
        };
        let summary = if exact && accepted == proposed {
            summary
        } else {
            format!("{summary} ({what})")
        };
        let meta = Meta {
            message: summary.clone(),
            ..meta
        };
        let mode = file_mode(&self.workspace.abs(rel));
        let (before, id) = self.with_store(|store| -> Result<_, OpsError> {
            store.record_baseline(rel, old.as_bytes(), &meta)?;
            let before = store.head()?.map(|h| h.short()).unwrap_or_default();
            let id = store.record(
                &[Change::Write {
                    path: rel.to_string(),
                    content: text.as_bytes().to_vec(),
                    mode,
                }],
                &meta,
            )?;
            Ok((before, id))
        })?;
        let audited = run.audit.append(RecordKind::Edit {
            path: rel.to_string(),
            snapshot_before: before,
            snapshot_after: id.short(),
            snapshot_id: id.short(),
            after_sha256: Some(hex::encode(jingu_fs::atomic::sha256(text.as_bytes()))),
        });
        if let Err(e) = audited {
            // Unaudited, the accepted changes do not stay: put the buffer back, and make the
            // history say what it holds now.
            let restored = matches!(fe.restore_buffer(rel, &text, old).await, Ok(true));
            let content = if restored { old } else { text.as_str() };
            let undo = Meta {
                op: "revert-failed-write".into(),
                message: format!("edit not kept: {e}"),
                ..meta
            };
            self.with_store(|s| {
                s.record(
                    &[Change::Write {
                        path: rel.to_string(),
                        content: content.as_bytes().to_vec(),
                        mode,
                    }],
                    &undo,
                )
            })?;
            return Err(e.into());
        }
        let outcome = EditOutcome {
            path: rel.to_string(),
            snapshot_id: id.short(),
            summary,
            version: realdoc::version(text.as_bytes()),
            diff: unified_diff(rel, old, &text),
            new_text: text.clone(),
        };
        fe.edit_applied(&outcome, old, &text);
        Ok(outcome)
    }
}
