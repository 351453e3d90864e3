//! Go: methods named under their receiver (pointer and generic), structs, interfaces, grouped
//! vars, doc comments and recovery after a syntax error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"package server

import "fmt"

// MaxConn is the limit.
const MaxConn = 10

var (
	a = 1
	b = 2
)

// Server serves.
type Server struct {
	Addr string
	port int
}

type Handler interface {
	Serve(r *Request) error
}

type ID int64

type List[T any] struct{ items []T }

// Start starts the server.
func (s *Server) Start() error {
	return nil
}

func (s Server) stop() {}

func (l *List[T]) Push(v T) {}

// New makes one.
func New(addr string) *Server {
	return &Server{Addr: addr}
}

func Größe() int { return 1 }
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::Go,
        SRC,
        &[
            ("MaxConn", "constant", 5, 6),
            ("a", "variable", 9, 9),
            ("b", "variable", 10, 10),
            ("Server", "struct", 13, 17),
            ("Server/Addr", "field", 15, 15),
            ("Server/port", "field", 16, 16),
            ("Handler", "interface", 19, 21),
            ("Handler/Serve", "method", 20, 20),
            ("ID", "type", 23, 23),
            ("List", "struct", 25, 25),
            ("List/items", "field", 25, 25),
            ("Server/Start", "method", 27, 30),
            ("Server/stop", "method", 32, 32),
            ("List/Push", "method", 34, 34),
            ("New", "function", 36, 39),
            ("Größe", "function", 41, 41),
        ],
    );
}

#[test]
fn doc_comments_and_type_keyword_are_in_range() {
    let file = file_symbols(Language::Go, SRC);
    assert!(
        range_text(SRC, sym(&file, "Server")).starts_with("// Server serves.\ntype Server struct")
    );
    assert!(
        range_text(SRC, sym(&file, "Server/Start"))
            .starts_with("// Start starts the server.\nfunc (s *Server)")
    );
    assert!(sym(&file, "Server/Start").body.is_some());
}

#[test]
fn symbols_after_a_syntax_error_survive() {
    let src = "package x\n\nfunc ok() {}\n\nfunc broken( {\n}\n\nfunc afterError() {}\n";
    let file = file_symbols(Language::Go, src);
    assert!(file.first_error.is_some());
    assert!(file.get("ok").is_some());
    assert!(file.get("afterError").is_some());
}
