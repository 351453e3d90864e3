//! Sequences of edits of one file, each planned against the previous one's result (pure: the
//! caller reads and writes; `jingu_core::ops` is the only write path).

use jingu_syntax::Language;

use super::error::EditError;
use super::plan::{ParsedFile, Planned, plan, plan_parsed};
use super::request::EditRequest;

/// Plan a sequence of edits of one file, each against the previous result, reusing the new tree
/// so later edits re-parse incrementally. On failure, the index of the failing request.
pub fn plan_sequence(
    text: &str,
    language: Option<Language>,
    requests: &[EditRequest],
) -> Result<Vec<Planned>, (usize, EditError)> {
    let mut out: Vec<Planned> = Vec::with_capacity(requests.len());
    for (i, req) in requests.iter().enumerate() {
        let (current, tree) = match out.last() {
            Some(p) => (p.new_text.as_str(), p.tree.clone()),
            None => (text, None),
        };
        let planned = match (language, tree) {
            (Some(lang), Some(tree)) => {
                plan_parsed(&ParsedFile::with_tree(current, lang, tree), req)
            }
            _ => plan(current, language, req),
        };
        out.push(planned.map_err(|e| (i, e))?);
    }
    Ok(out)
}
