//! `jingu.review`: review findings as diagnostics (source `jingu`), each with a fix offered as a
//! `quickfix` "Apply suggestion" whose command (`jingu.applySuggestion`) edits through RealDoc and
//! `ops` (Lines target: snapshotted, audited, rollbackable). A diagnostic disappears as soon as
//! the code under it changes; findings below or above an edit follow their lines.

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::server::{Backend, failed};
use jingu_core::review::position::line_span_bytes;
use jingu_core::review::{ReviewOptions, Severity, Validated};
use jingu_docs::Encoding;
use jingu_providers::CancelToken;
use jingu_realdoc::{EditRequest, Op, Target};

pub(crate) const APPLY_COMMAND: &str = "jingu.applySuggestion";
const APPLY_TITLE: &str = "Apply suggestion";

/// Findings currently shown, per document.
#[derive(Default)]
pub(crate) struct Reviews {
    by_uri: DashMap<Uri, Vec<Shown>>,
}

/// A published finding and where it is now.
#[derive(Debug, Clone)]
struct Shown {
    finding: Validated,
    /// The diagnostic's range, kept in step with edits above it.
    range: Range,
}

impl Shown {
    /// 1-based inclusive lines, as RealDoc and the model count them.
    fn lines(&self) -> (usize, usize) {
        let (start, end) = (self.finding.span.start.line, self.finding.span.end.line);
        let shift = self.range.start.line as i64 - start as i64;
        (
            (start as i64 + shift) as usize + 1,
            (end as i64 + shift) as usize + 1,
        )
    }

    fn diagnostic(&self) -> Diagnostic {
        let f = &self.finding.finding;
        Diagnostic {
            range: self.range,
            severity: Some(match f.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
                Severity::Info => DiagnosticSeverity::INFORMATION,
                Severity::Hint => DiagnosticSeverity::HINT,
            }),
            code: Some(NumberOrString::String(f.category.as_str().into())),
            source: Some("jingu".into()),
            message: f.message.clone(),
            ..Diagnostic::default()
        }
    }

    fn apply_args(&self, uri: &Uri) -> Option<ApplyArgs> {
        let replacement = self.finding.finding.replacement.clone()?;
        self.finding.fix.as_ref()?;
        let (start_line, end_line) = self.lines();
        Some(ApplyArgs {
            uri: uri.clone(),
            start_line,
            end_line,
            replacement,
            original: self.finding.original.clone(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewArgs {
    uri: Option<Uri>,
    base: Option<String>,
    provider: Option<String>,
}

/// The argument of `jingu.applySuggestion`: replace 1-based lines `start_line..=end_line`, which
/// must still read `original`, with `replacement`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyArgs {
    pub uri: Uri,
    pub start_line: usize,
    pub end_line: usize,
    pub replacement: String,
    pub original: String,
}

/// `jingu.review {uri?, base?, provider?}`: review, publish diagnostics for every reviewed file
/// (replacing earlier ones), and return counts.
pub(crate) async fn review(backend: &Backend, args: ReviewArgs) -> Result<Value> {
    let session = backend.session()?;
    let (fe, forwarder) = backend.frontend_with_progress("Jingu review").await?;
    let only = match &args.uri {
        Some(uri) => Some(backend.rel_path(uri).ok_or_else(|| {
            failed(format!(
                "{} is not a file inside the workspace",
                uri.as_str()
            ))
        })?),
        None => None,
    };
    let opts = ReviewOptions {
        base: args.base.unwrap_or_else(|| "HEAD".into()),
        only,
        provider: args.provider,
    };
    let outcome = jingu_core::review::review(&session, &fe, &opts, &CancelToken::new()).await;
    // The progress ends when the forwarder sees the frontend (its sender) dropped.
    drop(fe);
    let fe = backend.frontend()?;
    if let Some(h) = forwarder {
        let _ = h.await;
    }
    let outcome = outcome.map_err(|e| failed(e.to_string()))?;
    let enc = backend.encoding();
    let mut touched: Vec<Uri> = outcome.files.iter().filter_map(|rel| fe.uri(rel)).collect();
    match &args.uri {
        // A file with no changes left still gets its earlier findings cleared.
        Some(uri) => touched.push(uri.clone()),
        // A whole-workspace review replaces every earlier one.
        None => touched.extend(backend.reviews.by_uri.iter().map(|e| e.key().clone())),
    }
    for uri in &touched {
        backend.reviews.by_uri.remove(uri);
    }
    for v in outcome.findings.iter() {
        if let Some(uri) = fe.uri(&v.finding.file) {
            backend
                .reviews
                .by_uri
                .entry(uri)
                .or_default()
                .push(shown(v, enc));
        }
    }
    touched.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    touched.dedup();
    for uri in touched {
        publish(backend, &uri).await;
    }
    Ok(json!({
        "run_id": outcome.run_id,
        "files": outcome.files,
        "findings": outcome.findings.len(),
        "dropped": outcome.dropped.len(),
        "dropped_reasons": outcome.dropped.iter().map(|d| d.reason.clone()).collect::<Vec<_>>(),
        "summary": outcome.summary,
    }))
}

fn shown(v: &Validated, enc: Encoding) -> Shown {
    Shown {
        finding: v.clone(),
        range: v.span.lsp(enc),
    }
}

async fn publish(backend: &Backend, uri: &Uri) {
    let diags: Vec<Diagnostic> = backend
        .reviews
        .by_uri
        .get(uri)
        .map(|list| list.iter().map(Shown::diagnostic).collect())
        .unwrap_or_default();
    backend
        .client
        .publish_diagnostics(uri.clone(), diags, None)
        .await;
}

/// Quick fixes for the findings with a suggestion that intersect `params.range`.
pub(crate) fn code_actions(
    backend: &Backend,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    let Some(list) = backend.reviews.by_uri.get(uri) else {
        return Vec::new();
    };
    let want = params.range;
    list.iter()
        .filter(|s| s.range.start <= want.end && want.start <= s.range.end)
        .filter_map(|s| {
            let args = s.apply_args(uri)?;
            let arg = serde_json::to_value(&args).ok()?;
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: APPLY_TITLE.into(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![s.diagnostic()]),
                is_preferred: Some(true),
                command: Some(Command {
                    title: APPLY_TITLE.into(),
                    command: APPLY_COMMAND.into(),
                    arguments: Some(vec![arg]),
                }),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// `jingu.applySuggestion`: the RealDoc edit of a suggestion, refused if its lines changed since.
pub(crate) async fn apply_suggestion(backend: &Backend, args: ApplyArgs) -> Result<Value> {
    let session = backend.session()?;
    let fe = backend.frontend()?;
    let rel = backend.rel_path(&args.uri).ok_or_else(|| {
        failed(format!(
            "{} is not a file inside the workspace",
            args.uri.as_str()
        ))
    })?;
    let current = match backend.docs.text(&args.uri) {
        Some(t) => t,
        None => {
            session
                .read_confined(&rel)
                .map_err(|e| failed(e.to_string()))?
                .1
        }
    };
    let still = line_span_bytes(&current, args.start_line, args.end_line)
        .is_some_and(|(a, b)| current[a..b] == args.original);
    if !still {
        return Err(failed(format!(
            "the code under the suggestion at {rel}:{}-{} changed since the review; review again",
            args.start_line, args.end_line
        )));
    }
    let op = if args.replacement.is_empty() {
        Op::Delete
    } else {
        Op::Replace
    };
    let req = EditRequest::new(
        Target::Lines {
            start: args.start_line,
            end: args.end_line,
        },
        op,
        args.replacement,
    );
    let run = session
        .begin_run(None, &format!("{APPLY_COMMAND} {rel} {}", req.target))
        .map_err(|e| failed(e.to_string()))?;
    let result = session.edit(&fe, &run, &rel, &req).await;
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result.map_err(|e| failed(e.to_string()))?;
    // The applied finding (and any other on those lines) is resolved.
    let (a, b) = (args.start_line as u32 - 1, args.end_line as u32 - 1);
    if let Some(mut list) = backend.reviews.by_uri.get_mut(&args.uri) {
        list.retain(|s| s.range.end.line < a || s.range.start.line > b);
    }
    publish(backend, &args.uri).await;
    Ok(json!({"snapshot_id": outcome.snapshot_id, "summary": outcome.summary}))
}

/// Follow a `didChange`: findings whose lines a change touches are cleared, findings below it
/// move with their lines. Republishes when anything moved or cleared.
pub(crate) async fn did_change(
    backend: &Backend,
    uri: &Uri,
    changes: &[TextDocumentContentChangeEvent],
) {
    let changed = match backend.reviews.by_uri.get_mut(uri) {
        Some(mut list) => follow(&mut list, changes),
        None => return,
    };
    if changed {
        publish(backend, uri).await;
    }
}

/// Apply `changes` (in order, as LSP sends them) to the tracked ranges; true if any changed.
fn follow(list: &mut Vec<Shown>, changes: &[TextDocumentContentChangeEvent]) -> bool {
    let before = list.len();
    let mut moved = false;
    for c in changes {
        let Some(r) = c.range else {
            list.clear(); // the whole text was replaced
            break;
        };
        let delta = c.text.matches('\n').count() as i64 - (r.end.line - r.start.line) as i64;
        list.retain(|s| !(r.start.line <= s.range.end.line && r.end.line >= s.range.start.line));
        for s in list.iter_mut() {
            if r.end.line < s.range.start.line && delta != 0 {
                s.range.start.line = (s.range.start.line as i64 + delta) as u32;
                s.range.end.line = (s.range.end.line as i64 + delta) as u32;
                moved = true;
            }
        }
    }
    moved || list.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingu_core::review::finding::{Category, Finding};
    use jingu_core::review::validate::check;

    const TEXT: &str = "def a():\n    return 1\n\n\ndef b():\n    return 'é' + x\n";

    fn shown_at(line: usize) -> Shown {
        let f = Finding {
            file: "m.py".into(),
            start_line: line,
            end_line: line,
            severity: Severity::Warning,
            category: Category::Bug,
            message: "m".into(),
            replacement: Some("    return 'é'".into()),
        };
        shown(&check("m.py", TEXT, &f).expect("valid"), Encoding::Utf16)
    }

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn findings_follow_edits_above_and_clear_when_their_code_changes() {
        let mut list = vec![shown_at(6)];
        assert_eq!(
            list[0].range.end.character, 18,
            "UTF-16 end of `    return 'é' + x`"
        );
        // Two lines inserted at the top: the finding moves down with its code.
        assert!(follow(&mut list, &[change(0, 0, 0, 0, "# one\n# two\n")]));
        assert_eq!(list[0].range.start.line, 7);
        assert_eq!(list[0].lines(), (8, 8));
        let args = list[0]
            .apply_args(&"file:///m.py".parse().expect("uri"))
            .expect("fix");
        assert_eq!((args.start_line, args.end_line), (8, 8));
        // An edit below it changes nothing.
        assert!(!follow(&mut list, &[change(9, 0, 9, 0, "pass\n")]));
        assert_eq!(list.len(), 1);
        // Typing inside its line clears it.
        assert!(follow(&mut list, &[change(7, 4, 7, 4, "z")]));
        assert!(list.is_empty());
        // A full-text replacement clears everything.
        let mut list = vec![shown_at(2), shown_at(6)];
        let full = TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: String::new(),
        };
        assert!(follow(&mut list, &[full]));
        assert!(list.is_empty());
    }
}
