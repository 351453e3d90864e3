//! `verbatim_at` / `line_kind_at` (the point queries an edit makes) agree with `verbatim_spans` /
//! `line_kinds` (the whole-tree walk) at every byte and every line, on real files and on the
//! literal forms each grammar has — including broken code.

use crate::{Language, Verbatim, line_kind_at, line_kinds, parse, verbatim_at, verbatim_spans};

fn agree(language: Language, text: &str) {
    let tree = parse(language, text, None).expect("parse");
    let spans = verbatim_spans(&tree);
    let containing = |pos: usize| -> Option<Verbatim> {
        let i = spans.partition_point(|s| s.range.end <= pos);
        spans.get(i).filter(|s| s.range.start <= pos).cloned()
    };
    for pos in 0..=text.len() {
        assert_eq!(
            verbatim_at(&tree, pos),
            containing(pos),
            "{} at byte {pos}: {:?}",
            language.name(),
            &text[pos.saturating_sub(20).min(text.len())..(pos + 20).min(text.len())]
        );
    }
    let kinds = line_kinds(text, &spans);
    let mut start = 0;
    for (i, line) in text.split('\n').enumerate() {
        assert_eq!(
            line_kind_at(text, &tree, start),
            kinds[i],
            "{} line {}: {line:?}",
            language.name(),
            i + 1
        );
        start += line.len() + 1;
    }
}

#[test]
fn point_queries_agree_with_the_walk_on_real_files() {
    agree(Language::Rust, include_str!("../verbatim.rs"));
    agree(Language::Rust, include_str!("../extract.rs"));
    agree(
        Language::Python,
        include_str!("../../../benches/py_tags.py"),
    );
    agree(
        Language::TypeScript,
        include_str!("../../../../editors/vscode/src/logic.ts"),
    );
}

#[test]
fn point_queries_agree_on_every_literal_form() {
    agree(
        Language::Rust,
        "fn f() {\n    let a = \"x\\n  y\";\n    let b = r#\"raw\n   \"# ; /* block\n  comment */ // line\n    let c = b\"bytes\";\n}\n/// doc\nstruct S;\n",
    );
    agree(
        Language::Python,
        "def f():\n    '''doc\n    string'''\n    x = f\"a{b!r}c\"  # note\n    y = ('a'\n         'b')\n    return \"\"\"\n  kept\n\"\"\"\n",
    );
    agree(
        Language::JavaScript,
        "const t = `a ${f('x', \"y\")} b\n  c`;\n/* one\n two */ let s = 'q'; // end\n",
    );
    agree(
        Language::Go,
        "package p\n\n// C is.\nconst C = `raw\n  text`\nvar s = \"x\"\n",
    );
    agree(
        Language::Java,
        "class A {\n  String s = \"\"\"\n    block\n    \"\"\";\n  /** doc */ int x; // c\n}\n",
    );
    agree(
        Language::C,
        "/* a */\nint main() { return puts(\"x\"); } // y\n",
    );
    agree(
        Language::Cpp,
        "auto s = R\"(raw\n  text)\";\n// tail\nint f();\n",
    );
}

#[test]
fn point_queries_agree_on_broken_code() {
    agree(
        Language::Rust,
        "fn f( {\n    let s = \"unterminated\n    /* open comment\n}\n",
    );
    agree(Language::Python, "def f(:\n    s = '''never\n  closed\n");
    agree(
        Language::TypeScript,
        "let t = `a ${ 'b' \n// c\nfunction (\n",
    );
}
