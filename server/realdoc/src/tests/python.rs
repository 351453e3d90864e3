use super::*;

const PY: &str = "import os


class Store:
    \"\"\"A store.\"\"\"

    def __init__(self):
        self.items = []

    @property
    def size(self):
        return len(self.items)


def helper(x):
    return x + 1
";

const P: Option<Language> = Some(Language::Python);

#[test]
fn every_target_and_op() {
    matrix(
        Language::Python,
        PY,
        &[
            Case {
                target: sym("Store/size"),
                old: "def size",
                text: "def added(self):\n    return 3\n",
                new: "def added",
            },
            Case {
                target: lines(10, 12),
                old: "def size",
                text: "def added(self):\n    return 3\n",
                new: "def added",
            },
            Case {
                target: sym("helper"),
                old: "def helper",
                text: "def added(y):\n    return y\n",
                new: "def added",
            },
            Case {
                // Indented as given: a column-0 line would end the class body above it.
                target: kw("A store", None),
                old: "A store",
                text: "    x = 1",
                new: "    x = 1",
            },
        ],
    );
}

#[test]
fn replace_method_reindents_flush_left_text() {
    let out = edit(
        PY,
        P,
        sym("Store/size"),
        Op::Replace,
        "@property\ndef size(self):\n    if self.items:\n        return len(self.items)\n    return 0\n",
    );
    assert!(out.contains(
        "    @property\n    def size(self):\n        if self.items:\n            return len(self.items)\n        return 0\n\n\ndef helper"
    ), "{out}");
}

#[test]
fn decorators_belong_to_the_symbol() {
    let out = edit(PY, P, sym("size"), Op::Delete, "");
    assert!(!out.contains("@property"), "{out}");
    assert!(
        out.contains("        self.items = []\n\n\ndef helper"),
        "{out}"
    );
}

#[test]
fn top_level_insert_uses_two_blank_lines_methods_one() {
    let out = edit(
        PY,
        P,
        sym("helper"),
        Op::InsertAfter,
        "def other():\n    pass",
    );
    assert!(
        out.ends_with("    return x + 1\n\n\ndef other():\n    pass\n"),
        "{out}"
    );
    let out = edit(
        PY,
        P,
        sym("Store/__init__"),
        Op::InsertAfter,
        "def clear(self):\n    self.items = []",
    );
    assert!(out.contains("        self.items = []\n\n    def clear(self):\n        self.items = []\n\n    @property"), "{out}");
    let out = edit(PY, P, sym("Store"), Op::InsertBefore, "X = 1");
    assert!(
        out.starts_with("import os\n\n\nX = 1\n\n\nclass Store:"),
        "{out}"
    );
}

#[test]
fn keyword_insert_after_block_opener_indents_one_level() {
    let out = edit(
        PY,
        P,
        kw("def helper", None),
        Op::InsertAfter,
        "\"\"\"Add one.\"\"\"",
    );
    assert!(
        out.contains("def helper(x):\n    \"\"\"Add one.\"\"\"\n    return x + 1"),
        "{out}"
    );
}

#[test]
fn dedent_error_is_refused() {
    // A method body that breaks the class's indentation does not parse.
    let r = try_edit(
        PY,
        P,
        sym("Store/__init__"),
        Op::Replace,
        "def __init__(self):\nself.items = [",
    );
    assert!(matches!(r, Err(EditError::SyntaxError { .. })), "{r:?}");
}

#[test]
fn a_body_left_empty_is_refused() {
    // tree-sitter-python parses `def helper(x):` with no body cleanly; Python does not.
    for text in ["def helper(x):", "def helper(x):\n    # gone"] {
        let r = try_edit(PY, P, sym("helper"), Op::Replace, text);
        assert!(
            matches!(r, Err(EditError::SyntaxError { line: 15, .. })),
            "{text:?}: {r:?}"
        );
    }
    let r = try_edit(PY, P, sym("Store/size"), Op::Replace, "def size(self):\n");
    assert!(matches!(r, Err(EditError::SyntaxError { .. })), "{r:?}");
    // A body is still free to shrink to one statement, or to `pass`.
    for text in [
        "def helper(x):\n    pass",
        "def helper(x):\n    \"\"\"Doc.\"\"\"",
    ] {
        assert!(
            try_edit(PY, P, sym("helper"), Op::Replace, text).is_ok(),
            "{text:?}"
        );
    }
}

#[test]
fn a_column_0_line_that_would_end_a_block_is_refused() {
    // Kept at column 0 (it may be a new top-level statement), it would leave `class Store:`
    // without a body: Python refuses the file, so the edit is refused too.
    let r = try_edit(PY, P, kw("A store", None), Op::InsertBefore, "x = 1");
    assert!(
        matches!(r, Err(EditError::SyntaxError { line: 4, .. })),
        "{r:?}"
    );
}

#[test]
fn an_empty_block_already_there_does_not_block_other_edits() {
    let broken = format!("{PY}\n\ndef stub():\n");
    let r = try_edit(
        &broken,
        P,
        sym("helper"),
        Op::Replace,
        "def helper(x):\n    return x + 2",
    );
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn keyword_occurrence_selects_the_nth_matching_line() {
    // `self.items` appears on two lines.
    match try_edit(PY, P, kw("self.items", None), Op::Delete, "") {
        Err(EditError::AmbiguousTarget { candidates, .. }) => {
            assert_eq!(candidates, vec!["line 8", "line 12"])
        }
        other => panic!("{other:?}"),
    }
    let out = edit(PY, P, kw("self.items", Some(2)), Op::Replace, "return 0");
    assert!(
        out.contains("    def size(self):\n        return 0\n"),
        "{out}"
    );
    assert!(matches!(
        try_edit(PY, P, kw("self.items", Some(3)), Op::Delete, ""),
        Err(EditError::NoSuchOccurrence { count: 2, .. })
    ));
}

#[test]
fn self_replacement_round_trips() {
    self_replacement_is_identity(Language::Python, PY);
    let commented = "class A:\n    x = 1\n\n    #\n    # Public methods.\n    #\n    def f(self):\n        return 1\n";
    self_replacement_is_identity(Language::Python, commented);
}
