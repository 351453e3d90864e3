//! Java: annotations and Javadoc in range, constructor and method overloads, nested classes,
//! interfaces, enums, records, multi-declarator fields and unicode names.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"package com.example;

import java.util.List;

/**
 * A service.
 */
@Service
@Deprecated(since = "1")
public class UserService extends Base implements Api {
    /** The id. */
    private final int id;
    private String a, b;

    public UserService(int id) {
        this.id = id;
    }

    public UserService() {
        this(0);
    }

    /** Find one. */
    @Override
    public User find(int id) {
        return null;
    }

    public User find(String name) {
        return null;
    }

    static class Inner {
        void run() {}
    }

    interface Callback {
        void call();
    }

    enum Mode { ON, OFF; void flip() {} }

    record Point(int x, int y) {}

    void größe() {}
}
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::Java,
        SRC,
        &[
            ("UserService", "class", 5, 46),
            ("UserService/id", "field", 11, 12),
            ("UserService/a", "field", 13, 13),
            ("UserService/b", "field", 13, 13),
            ("UserService/UserService[0]", "constructor", 15, 17),
            ("UserService/UserService[1]", "constructor", 19, 21),
            ("UserService/find[0]", "method", 23, 27),
            ("UserService/find[1]", "method", 29, 31),
            ("UserService/Inner", "class", 33, 35),
            ("UserService/Inner/run", "method", 34, 34),
            ("UserService/Callback", "interface", 37, 39),
            ("UserService/Callback/call", "method", 38, 38),
            ("UserService/Mode", "enum", 41, 41),
            ("UserService/Mode/ON", "variant", 41, 41),
            ("UserService/Mode/OFF", "variant", 41, 41),
            ("UserService/Mode/flip", "method", 41, 41),
            ("UserService/Point", "class", 43, 43),
            ("UserService/größe", "method", 45, 45),
        ],
    );
}

#[test]
fn javadoc_and_annotations_are_in_range() {
    let file = file_symbols(Language::Java, SRC);
    let class = range_text(SRC, sym(&file, "UserService"));
    assert!(class.starts_with("/**\n * A service.\n */\n@Service\n@Deprecated"));
    let find = range_text(SRC, sym(&file, "UserService/find[0]"));
    assert!(find.starts_with("/** Find one. */\n    @Override\n    public User find(int id)"));
    assert!(sym(&file, "UserService/Callback/call").body.is_none());
    assert!(sym(&file, "UserService/find[1]").body.is_some());
}

#[test]
fn symbols_after_a_syntax_error_survive() {
    let src =
        "class Broken {\n    void bad( {\n    }\n\n    void afterError() {}\n}\n\nclass Fine {}\n";
    let file = file_symbols(Language::Java, src);
    assert!(file.first_error.is_some());
    assert!(file.get("Fine").is_some());
}
