//! RealDoc tests: per-language addressing × operation matrices, text-level behaviour (line endings,
//! final newline, re-indentation), refusals, and the file-system edge (atomic writes, batches).

mod batch;
mod fresh;
mod go;
mod python;
mod rust;
mod text;
mod verbatim;

use jingu_syntax::{Language, error_count, parse};

use super::{EditError, EditRequest, Op, Planned, Target, plan};

pub(crate) const OPS: [Op; 4] = [Op::Replace, Op::InsertBefore, Op::InsertAfter, Op::Delete];

pub(crate) fn sym(name: &str) -> Target {
    Target::Symbol(name.to_string())
}

pub(crate) fn kw(text: &str, occurrence: Option<usize>) -> Target {
    Target::Keyword {
        text: text.to_string(),
        occurrence,
    }
}

pub(crate) fn lines(start: usize, end: usize) -> Target {
    Target::Lines { start, end }
}

pub(crate) fn try_edit(
    text: &str,
    lang: Option<Language>,
    target: Target,
    op: Op,
    new: &str,
) -> Result<Planned, EditError> {
    plan(text, lang, &EditRequest::new(target, op, new))
}

/// Plan an edit that must succeed, check the splice reproduces the new text, return it.
pub(crate) fn edit(
    text: &str,
    lang: Option<Language>,
    target: Target,
    op: Op,
    new: &str,
) -> String {
    let p = try_edit(text, lang, target.clone(), op, new)
        .unwrap_or_else(|e| panic!("{op} {target} failed: {e}"));
    let mut spliced = text.to_string();
    spliced.replace_range(p.changed.clone(), &p.inserted);
    assert_eq!(
        spliced, p.new_text,
        "changed/inserted must describe the edit"
    );
    p.new_text
}

pub(crate) fn parses_cleanly(lang: Language, text: &str) -> bool {
    parse(lang, text, None).is_some_and(|t| error_count(&t) == 0)
}

/// One row of a [`matrix`]: a target, a marker unique to its old text, new text and its marker.
pub(crate) struct Case<'a> {
    pub target: Target,
    pub old: &'a str,
    pub text: &'a str,
    pub new: &'a str,
}

/// Every case × every op: the result parses, the new text lands where asked (before, instead of,
/// after the old marker), and a delete removes the target.
pub(crate) fn matrix(lang: Language, src: &str, cases: &[Case<'_>]) {
    for case in cases {
        let target = &case.target;
        for op in OPS {
            let out = edit(src, Some(lang), target.clone(), op, case.text);
            assert!(
                parses_cleanly(lang, &out),
                "{op} {target} broke the syntax:\n{out}"
            );
            let new_at = out.find(case.new);
            let old_at = out.find(case.old);
            let ok = match op {
                Op::Replace => new_at.is_some() && old_at.is_none(),
                Op::Delete => old_at.is_none() && new_at.is_none() && out.len() < src.len(),
                Op::InsertBefore => new_at.is_some() && new_at < old_at,
                Op::InsertAfter => old_at.is_some() && new_at > old_at,
            };
            assert!(ok, "{op} {target}:\n{out}");
        }
    }
}

/// Replacing every symbol with its own text, sliced from the file as a model would copy it (the
/// first line without its indentation), must give back the file byte for byte.
pub(crate) fn self_replacement_is_identity(lang: Language, src: &str) {
    let symbols = jingu_syntax::file_symbols(lang, src);
    assert!(!symbols.symbols.is_empty());
    for s in &symbols.symbols {
        let copy = &src[s.range.clone()];
        let out = edit(src, Some(lang), sym(&s.name_path), Op::Replace, copy);
        assert_eq!(
            out, src,
            "self-replacement of {} changed the file",
            s.name_path
        );
    }
}
