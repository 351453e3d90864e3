//! Version-checked edits, whole-batch planning and region-aware validation.

use super::*;
use crate::{Seen, check_fresh, plan_many, version};

const PY: &str = "import os\n\n\ndef alpha(x):\n    return x + 1\n\n\ndef beta(y):\n    return y * 2\n\n\nclass Gamma:\n    def delta(self):\n        return 3\n\n    def epsilon(self):\n        return 4\n";

const P: Option<Language> = Some(Language::Python);

fn seen<'a>(expect: &'a str, old: &'a str) -> Seen<'a> {
    Seen {
        expect,
        read: Some(old),
        latest: Some(old),
    }
}

/// Someone else's change to the targeted symbol, in 30 variations (each symbol × several kinds of
/// change): the edit planned against the old text is refused every time, and the refusal quotes
/// the symbol's current text.
#[test]
fn symbol_changed_by_someone_else_is_refused_in_every_variation() {
    let targets = [
        ("alpha", "return x + 1"),
        ("beta", "return y * 2"),
        ("Gamma/delta", "return 3"),
        ("Gamma/epsilon", "return 4"),
        ("Gamma", "def delta"),
    ];
    let changes: [&dyn Fn(&str) -> String; 6] = [
        &|body| format!("{body}  # changed"),
        &|body| format!("{body}  "),
        &|body| format!("{body} + 0"),
        &|body| format!("{body} "),
        &|body| body.replacen(' ', "  ", 1),
        &|body| body.to_uppercase(),
    ];
    let mut refused = 0;
    for (name, body) in targets {
        for change in changes {
            let theirs = PY.replacen(body, &change(body), 1);
            assert_ne!(theirs, PY);
            let v = version(PY.as_bytes());
            let err = check_fresh(&theirs, P, &sym(name), &seen(&v, PY))
                .expect_err(&format!("{name} changed: must be stale\n{theirs}"));
            let EditError::Stale { stale } = &err else {
                panic!("{err}");
            };
            assert!(
                stale
                    .current
                    .contains(&change(body).lines().next().unwrap_or_default()[..6]),
                "{err}"
            );
            assert_eq!(stale.version, version(theirs.as_bytes()));
            refused += 1;
        }
    }
    assert_eq!(refused, 30);
}

#[test]
fn changes_elsewhere_do_not_make_a_symbol_edit_stale() {
    let theirs = PY.replace("return y * 2", "return y * 3");
    let v = version(PY.as_bytes());
    check_fresh(&theirs, P, &sym("alpha"), &seen(&v, PY)).expect("alpha untouched");
    // Without the old text (CLI), the symbol's own version vouches for it.
    let file = jingu_syntax::file_symbols(Language::Python, PY);
    let sv = crate::version::symbol_version(PY, &file, "alpha").expect("symbol");
    let no_text = Seen {
        expect: &sv,
        read: None,
        latest: None,
    };
    check_fresh(&theirs, P, &sym("alpha"), &no_text).expect("symbol version matches");
    assert!(check_fresh(&theirs, P, &sym("beta"), &no_text).is_err());
    // The file's version always vouches; a full sha256 works too.
    let full = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(theirs.as_bytes()))
    };
    let exact = Seen {
        expect: &full,
        read: None,
        latest: None,
    };
    check_fresh(&theirs, P, &sym("beta"), &exact).expect("current version");
    let bad = Seen {
        expect: "xyz",
        read: None,
        latest: None,
    };
    assert!(matches!(
        check_fresh(&theirs, P, &sym("beta"), &bad),
        Err(EditError::BadVersion { .. })
    ));
}

#[test]
fn line_edits_after_lines_inserted_above_are_refused() {
    let v = version(PY.as_bytes());
    // Lines 8-9 are `def beta`; someone inserts a line at the top.
    for above in ["# header\n", "import sys\n", "\n", "x = 1\ny = 2\n"] {
        let theirs = format!("{above}{PY}");
        let err =
            check_fresh(&theirs, P, &lines(8, 9), &seen(&v, PY)).expect_err("lines moved: stale");
        assert!(
            err.to_string().contains("changed since you read it"),
            "{err}"
        );
    }
    // A change inside the range, too.
    let theirs = PY.replace("return y * 2", "return y * 5");
    assert!(check_fresh(&theirs, P, &lines(8, 9), &seen(&v, PY)).is_err());
    // Changes below the range leave it valid.
    let theirs = PY.replace("return 4", "return 44");
    check_fresh(&theirs, P, &lines(8, 9), &seen(&v, PY)).expect("below: fine");
    // Without the read text only the file's version is accepted for line targets.
    let blind = Seen {
        expect: &v,
        read: None,
        latest: None,
    };
    assert!(check_fresh(&theirs, P, &lines(8, 9), &blind).is_err());
}

#[test]
fn batch_targets_resolve_against_the_original_and_validate_once() {
    let c = "int f(void) {\n    return 1;\n}\n\nint g(void) {\n    return 2;\n}\n";
    let lang = Some(Language::C);
    // `#if` … `#endif` around g: each edit alone is valid C, together too; lines are original.
    let out = plan_many(
        c,
        lang,
        &[
            EditRequest::new(lines(5, 5), Op::InsertBefore, "#if HAVE_G\n"),
            EditRequest::new(lines(7, 7), Op::InsertAfter, "#endif\n"),
        ],
    )
    .expect("batch");
    assert_eq!(
        out.new_text,
        "int f(void) {\n    return 1;\n}\n\n#if HAVE_G\nint g(void) {\n    return 2;\n}\n#endif\n"
    );
    // A function split in two: each edit alone leaves the braces unbalanced, the pair does not.
    let two = "int f(void) {\n    a();\n    b();\n}\n";
    let split = [
        EditRequest::new(lines(2, 2), Op::InsertAfter, "}\n"),
        EditRequest::new(lines(3, 3), Op::InsertBefore, "\nint f2(void) {\n"),
    ];
    assert!(
        plan_many(two, lang, &split[..1]).is_err(),
        "alone it breaks f"
    );
    assert!(
        plan_many(two, lang, &split[1..]).is_err(),
        "alone it nests f2"
    );
    let out = plan_many(two, lang, &split).expect("split");
    assert_eq!(
        out.new_text,
        "int f(void) {\n    a();\n}\n\nint f2(void) {\n    b();\n}\n"
    );
    // Overlapping edits are refused, naming both.
    let err = plan_many(
        c,
        lang,
        &[
            EditRequest::new(lines(1, 3), Op::Delete, ""),
            EditRequest::new(lines(2, 2), Op::Replace, "    return 5;"),
        ],
    )
    .expect_err("overlap");
    assert!(
        matches!(
            err,
            EditError::Overlap {
                first: 1,
                second: 2,
                ..
            }
        ),
        "{err}"
    );
    // A failing edit names its index; nothing is planned.
    let err = plan_many(
        c,
        lang,
        &[
            EditRequest::new(sym("f"), Op::Delete, ""),
            EditRequest::new(sym("nope"), Op::Delete, ""),
        ],
    )
    .expect_err("no such symbol");
    assert!(err.to_string().starts_with("edit 2 of the batch"), "{err}");
}

#[test]
fn duplicate_suffixes_resolve_against_the_original() {
    let src = "def f():\n    return 1\n\n\ndef f():\n    return 2\n";
    let out = plan_many(
        src,
        P,
        &[
            EditRequest::new(sym("f[1]"), Op::Replace, "def f():\n    return 22"),
            EditRequest::new(sym("f"), Op::InsertBefore, "def e():\n    return 0"),
        ],
    );
    // `f` alone is ambiguous in the original: refused, not resolved in an intermediate state.
    assert!(out.is_err());
    let out = plan_many(
        src,
        P,
        &[
            EditRequest::new(sym("f[1]"), Op::Replace, "def f():\n    return 22"),
            EditRequest::new(sym("f[0]"), Op::Replace, "def f():\n    return 11"),
        ],
    )
    .expect("both");
    assert_eq!(
        out.new_text,
        "def f():\n    return 11\n\n\ndef f():\n    return 22\n"
    );
}

#[test]
fn missing_closing_brace_is_refused_even_in_a_file_with_errors() {
    // The file already has an error (in `broken`); removing `a`'s closing brace must still be
    // refused, although tree-sitter folds the damage into few error nodes.
    let src = "fn a() {\n    x();\n}\n\nfn broken() {\n    let = ;\n}\n\nfn b() {\n    y();\n}\n";
    assert!(!parses_cleanly(Language::Rust, src));
    let r = try_edit(
        src,
        Some(Language::Rust),
        lines(1, 3),
        Op::Replace,
        "fn a() {\n    x();\n",
    );
    assert!(
        r.is_err(),
        "a function missing its closing brace was accepted"
    );
    let r = try_edit(
        src,
        Some(Language::Rust),
        sym("b"),
        Op::Replace,
        "fn b() {\n    if y() {\n        z();\n    \n}",
    );
    assert!(r.is_err(), "an unclosed block was accepted");
    // An edit of a clean region elsewhere is accepted.
    edit(
        src,
        Some(Language::Rust),
        sym("b"),
        Op::Replace,
        "fn b() {\n    y();\n    z();\n}",
    );
}

#[test]
fn clean_edits_in_macro_heavy_c_are_accepted() {
    // tree-sitter cannot parse these macros; an edit of a clean function must not be refused.
    let src = "#include <x.h>\n\nDECLARE_THING(a, b) {\n  FOR_EACH(x) LOOP_BODY(x) END\n}\n\nBEGIN_NS(foo)\nint g(int v) {\n  return v + 1;\n}\nEND_NS\n\nstatic int h(void) {\n  return 2;\n}\n";
    let lang = Some(Language::C);
    assert!(!parses_cleanly(Language::C, src));
    let out = edit(
        src,
        lang,
        lines(13, 15),
        Op::Replace,
        "static int h(void) {\n  return 3;\n}",
    );
    assert!(out.contains("return 3;"));
    let out = edit(src, lang, lines(14, 14), Op::Replace, "  return 4;");
    assert!(out.contains("return 4;"));
    // But a broken edit there is still refused.
    assert!(try_edit(src, lang, lines(14, 14), Op::Replace, "  return (4;").is_err());
}
