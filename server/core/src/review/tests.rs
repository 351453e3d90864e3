//! Unit tests: positions on non-ASCII lines, validation, context, formats.

use ropey::Rope;
use serde_json::json;

use super::diff::{ChangedFile, hunks};
use super::finding::{Category, Finding, Severity};
use super::position::{Span, line_span_bytes};
use super::validate::{check, validate};
use super::{ReviewOutcome, context, model, rdjson, sarif};
use jingu_docs::Encoding;

// Line 2 has a 2-byte é (1 UTF-16 unit) and a 4-byte 😀 (2 UTF-16 units) before `x`.
const TEXT: &str = "fn main() {\n    let s = \"é😀\"; x\n}\n";

#[test]
fn positions_agree_on_a_non_ascii_line() {
    let rope = Rope::from_str(TEXT);
    let x = TEXT.find(" x").expect("x") + 1;
    let span = Span::of_bytes(&rope, x, x + 1);
    // bytes before x on its line: `    let s = "` (13) + é (2) + 😀 (4) + `"; ` (3) = 22
    assert_eq!(span.start.byte_col, 22);
    // UTF-16: 13 + 1 + 2 + 3 = 19
    assert_eq!(span.start.utf16_col, 19);
    let lsp16 = span.lsp(Encoding::Utf16);
    assert_eq!((lsp16.start.line, lsp16.start.character), (1, 19));
    assert_eq!(span.lsp(Encoding::Utf8).start.character, 22);
    assert_eq!(
        span.sarif_region(),
        json!({"startLine": 2, "startColumn": 20, "endLine": 2, "endColumn": 21})
    );
    assert_eq!(
        span.rdjson_range(),
        json!({"start": {"line": 2, "column": 23}, "end": {"line": 2, "column": 24}})
    );
    // Round trip: the LSP position maps back to the same byte in both encodings.
    for enc in [Encoding::Utf8, Encoding::Utf16] {
        let back = jingu_docs::position::to_byte(&rope, span.start.lsp(enc), enc).expect("byte");
        assert_eq!(back, x);
    }
}

#[test]
fn line_spans_exclude_terminators_and_refuse_missing_lines() {
    assert_eq!(line_span_bytes(TEXT, 2, 2), Some((12, 12 + 23)));
    assert_eq!(line_span_bytes("a\r\nb\r\n", 1, 2), Some((0, 4)));
    assert_eq!(
        line_span_bytes(TEXT, 3, 3),
        Some((TEXT.len() - 2, TEXT.len() - 1))
    );
    assert_eq!(
        line_span_bytes(TEXT, 4, 4),
        None,
        "a final newline starts no line"
    );
    assert_eq!(line_span_bytes(TEXT, 0, 1), None);
    assert_eq!(line_span_bytes(TEXT, 2, 1), None);
    assert_eq!(line_span_bytes("", 1, 1), None);
}

fn finding(start: usize, end: usize, replacement: Option<&str>) -> Finding {
    Finding {
        file: "src/main.rs".into(),
        start_line: start,
        end_line: end,
        severity: Severity::Warning,
        category: Category::Bug,
        message: "x is unused".into(),
        replacement: replacement.map(str::to_string),
    }
}

#[test]
fn a_replacement_is_planned_through_realdoc_and_positioned_exactly() {
    let v = check(
        "src/main.rs",
        TEXT,
        &finding(2, 2, Some("    let s = \"é😀\";")),
    )
    .expect("valid");
    assert_eq!(v.original, "    let s = \"é😀\"; x");
    let fix = v.fix.expect("fix");
    let rope = Rope::from_str(TEXT);
    let start =
        jingu_docs::position::to_byte(&rope, fix.span.start.lsp(Encoding::Utf8), Encoding::Utf8)
            .expect("start");
    let end =
        jingu_docs::position::to_byte(&rope, fix.span.end.lsp(Encoding::Utf8), Encoding::Utf8)
            .expect("end");
    let applied = format!("{}{}{}", &TEXT[..start], fix.text, &TEXT[end..]);
    assert_eq!(applied, "fn main() {\n    let s = \"é😀\";\n}\n");
    assert!(v.diff.contains("-    let s = \"é😀\"; x"), "{}", v.diff);
}

#[test]
fn hallucinated_ranges_and_breaking_replacements_are_dropped_with_reasons() {
    let file = ChangedFile {
        path: "src/main.rs".into(),
        old_text: String::new(),
        new_text: TEXT.into(),
        hunks: hunks("", TEXT),
    };
    let mut other = finding(1, 1, None);
    other.file = "src/elsewhere.rs".into();
    let (ok, dropped) = validate(
        &[file],
        vec![
            finding(2, 2, None),
            finding(40, 41, None),
            finding(2, 2, Some("    let s = {{{")),
            finding(2, 2, None),
            other,
        ],
        Vec::new(),
    );
    assert_eq!(ok.len(), 1);
    let reasons: Vec<&str> = dropped.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons[0].contains("lines 40-41 do not exist"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("replacement does not apply"),
        "{reasons:?}"
    );
    assert_eq!(reasons[2], "duplicate finding");
    assert!(
        reasons[3].contains("not among the reviewed files"),
        "{reasons:?}"
    );
}

#[test]
fn malformed_report_entries_are_dropped_individually() {
    let args = json!({"findings": [
        {"file": "a.rs", "start_line": 1, "end_line": 1, "severity": "error", "category": "bug", "message": "m"},
        {"file": "a.rs", "start_line": 1, "end_line": 1, "severity": "fatal", "category": "bug", "message": "m"},
        {"file": "a.rs", "start_line": "one"}
    ], "summary": "two issues"});
    let reply = model::parse_report(&args, "");
    assert_eq!(reply.findings.len(), 1);
    assert_eq!(reply.malformed.len(), 2);
    assert_eq!(reply.summary, "two issues");
    let none = model::parse_report(&json!({"oops": 1}), "text");
    assert_eq!(none.malformed.len(), 1);
}

#[test]
fn hunks_map_to_the_innermost_symbol_with_callers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = "struct P;\nimpl P {\n    fn parse(&self) -> u32 {\n        1\n    }\n}\n";
    let new = "struct P;\nimpl P {\n    fn parse(&self) -> u32 {\n        2\n    }\n}\n";
    let caller = "fn run(p: &P) -> u32 {\n    p.parse()\n}\n";
    std::fs::write(dir.path().join("p.rs"), new).expect("write");
    std::fs::write(dir.path().join("run.rs"), caller).expect("write");
    let file = ChangedFile {
        path: "p.rs".into(),
        old_text: old.into(),
        new_text: new.into(),
        hunks: hunks(old, new),
    };
    let ws = jingu_fs::workspace::Workspace::at(dir.path().to_path_buf());
    let policy = jingu_policy::Policy::from_texts(None, None, None).expect("policy");
    let ctx = context::build(&ws, &policy, &[file]);
    assert_eq!(ctx.units.len(), 1);
    let u = &ctx.units[0];
    assert_eq!(u.name_path.as_deref(), Some("impl P/parse"));
    assert_eq!((u.start_line, u.end_line), (3, 5));
    assert!(u.old_text.as_deref().is_some_and(|t| t.contains("1")));
    assert_eq!(
        u.callers,
        vec!["run.rs:2: in `fn run(p: &P) -> u32 {`: p.parse()"]
    );
    let prompt = context::render(&ctx);
    assert!(prompt.contains("    4|         2"), "{prompt}");
    assert!(
        !prompt.contains("struct P"),
        "only the symbol is sent: {prompt}"
    );
}

fn outcome() -> ReviewOutcome {
    let v = check(
        "src/main.rs",
        TEXT,
        &finding(2, 2, Some("    let s = \"é😀\";")),
    )
    .expect("valid");
    ReviewOutcome {
        run_id: "r".into(),
        base: "HEAD".into(),
        files: vec!["src/main.rs".into()],
        findings: vec![v],
        dropped: Vec::new(),
        summary: String::new(),
    }
}

#[test]
fn sarif_and_rdjson_carry_the_fix_in_their_own_conventions() {
    let o = outcome();
    let s = sarif::log(&o);
    let r = &s["runs"][0]["results"][0];
    assert_eq!(r["level"], "warning");
    assert_eq!(r["ruleId"], "bug");
    let rep = &r["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(
        rep["insertedContent"]["text"],
        o.findings[0]
            .fix
            .as_ref()
            .map(|f| f.text.clone())
            .unwrap_or_default()
    );
    assert_eq!(rep["deletedRegion"]["startLine"], 2);
    let d = &rdjson::result(&o)["diagnostics"][0];
    assert_eq!(d["severity"], "WARNING");
    assert_eq!(
        d["location"]["range"]["start"],
        json!({"line": 2, "column": 1})
    );
    // End of line 2's content: 23 bytes, so column 24 (1-based, exclusive) — UTF-8, not UTF-16 (21).
    assert_eq!(
        d["location"]["range"]["end"],
        json!({"line": 2, "column": 24})
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["endColumn"],
        21
    );
    assert!(d["suggestions"][0]["text"].is_string());
}

#[test]
fn text_output_colours_the_diff_only_for_a_terminal() {
    let o = outcome();
    let plain = super::format::text(&o, false);
    assert!(
        plain.contains("src/main.rs:2: warning [bug] x is unused"),
        "{plain}"
    );
    assert!(plain.contains("-    let s = \"é😀\"; x"), "{plain}");
    assert!(!plain.contains('\x1b'));
    let tty = super::format::text(&o, true);
    assert!(tty.contains("\x1b[31m-    let s"), "{tty}");
    assert!(tty.contains("\x1b[1;33mwarning\x1b[0m"), "{tty}");
}
