//! Sequences: each edit is planned against the previous one's result.

use crate::{EditRequest, Op, Target, plan_sequence};
use jingu_syntax::Language;

fn req(target: Target, op: Op, text: &str) -> EditRequest {
    EditRequest {
        target,
        op,
        text: text.to_string(),
        expect: None,
    }
}

#[test]
fn edits_apply_in_order_against_the_previous_result() {
    let text = "fn a() {}\n\nfn b() {}\n";
    let reqs = [
        req(Target::Symbol("a".into()), Op::Replace, "fn a() { 1; }"),
        req(Target::Symbol("b".into()), Op::Delete, ""),
    ];
    let planned = plan_sequence(text, Some(Language::Rust), &reqs).expect("plans");
    assert_eq!(planned.len(), 2);
    let last = planned.last().expect("last");
    assert!(last.new_text.contains("fn a() { 1; }"), "{}", last.new_text);
    assert!(!last.new_text.contains("fn b"), "{}", last.new_text);
}

#[test]
fn a_failing_edit_names_its_index() {
    let text = "fn a() {}\n";
    let reqs = [
        req(Target::Symbol("a".into()), Op::Replace, "fn a() { 2; }"),
        req(Target::Symbol("missing".into()), Op::Delete, ""),
    ];
    let (index, _) = plan_sequence(text, Some(Language::Rust), &reqs).expect_err("refused");
    assert_eq!(index, 1);
}
