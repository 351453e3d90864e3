use super::*;

const GO: &str = "package main

// Server serves.
type Server struct {
\taddr string
}

// Start starts it.
func (s *Server) Start() error {
\treturn nil
}

func helper(x int) int {
\treturn x + 1
}
";

const G: Option<Language> = Some(Language::Go);

#[test]
fn every_target_and_op() {
    matrix(
        Language::Go,
        GO,
        &[
            Case {
                target: sym("Server/Start"),
                old: "Start()",
                text: "func added() int {\n\treturn 3\n}\n",
                new: "func added",
            },
            Case {
                target: lines(8, 11),
                old: "Start()",
                text: "func added() int {\n\treturn 3\n}\n",
                new: "func added",
            },
            Case {
                target: kw("addr string", None),
                old: "addr",
                text: "port int",
                new: "port int",
            },
        ],
    );
}

#[test]
fn spaces_become_tabs_in_a_tab_indented_file() {
    let out = edit(
        GO,
        G,
        sym("helper"),
        Op::Replace,
        "func helper(x int) int {\n    if x > 0 {\n        return x\n    }\n    return 0\n}\n",
    );
    assert!(
        out.ends_with("func helper(x int) int {\n\tif x > 0 {\n\t\treturn x\n\t}\n\treturn 0\n}\n"),
        "{out:?}"
    );
}

#[test]
fn insert_after_method_keeps_blank_line_and_comment_goes_with_symbol() {
    let out = edit(
        GO,
        G,
        sym("Start"),
        Op::InsertAfter,
        "func (s *Server) Stop() {}",
    );
    assert!(
        out.contains("\treturn nil\n}\n\nfunc (s *Server) Stop() {}\n\nfunc helper"),
        "{out}"
    );
    let out = edit(GO, G, sym("Server/Start"), Op::Delete, "");
    assert!(!out.contains("Start starts it"), "{out}");
    assert!(out.contains("\taddr string\n}\n\nfunc helper"), "{out}");
}

#[test]
fn self_replacement_round_trips() {
    self_replacement_is_identity(Language::Go, GO);
}
