//! C: functions (pointer-returning too), structs, typedefs, enums, macros, prototypes, comments
//! in range and a syntax error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"#include <stdio.h>

#define LIMIT 10

/* A point. */
struct point {
    int x;
    int y;
};

typedef struct {
    int w, h;
} size_t2;

enum color { RED, GREEN };

/** Add numbers. */
static int add(int a, int b) {
    return a + b;
}

char *dup(const char *s) {
    return 0;
}

int broken( {
}

void after_error(void) {}
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::C,
        SRC,
        &[
            ("LIMIT", "macro", 3, 3),
            ("point", "struct", 5, 9),
            ("point/x", "field", 7, 7),
            ("point/y", "field", 8, 8),
            ("size_t2", "type", 11, 13),
            ("size_t2/w", "field", 12, 12),
            ("size_t2/h", "field", 12, 12),
            ("color", "enum", 15, 15),
            ("color/RED", "variant", 15, 15),
            ("color/GREEN", "variant", 15, 15),
            ("add", "function", 17, 20),
            ("dup", "function", 22, 24),
            ("broken", "function", 26, 29),
        ],
    );
}

#[test]
fn comments_are_in_range_and_bodies_set() {
    let file = file_symbols(Language::C, SRC);
    assert!(range_text(SRC, sym(&file, "add")).starts_with("/** Add numbers. */\nstatic int add"));
    assert!(range_text(SRC, sym(&file, "point")).starts_with("/* A point. */\nstruct point"));
    assert!(sym(&file, "dup").body.is_some());
    assert!(file.first_error.is_some());
}

#[test]
fn prototypes_are_functions_without_body() {
    let file = file_symbols(Language::C, "int area(int w, int h);\n");
    let area = sym(&file, "area");
    assert_eq!(area.kind.as_str(), "function");
    assert!(area.body.is_none());
}
