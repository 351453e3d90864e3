//! JavaScript: classes with constructors and fields, arrow functions and function expressions
//! bound to `const`, exported declarations with JSDoc, constants, and recovery after an error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"import React from "react";

/** Adds. */
export function add(a, b) {
  return a + b;
}

export const handler = async (req) => {
  return req;
};

const helper = function () {};

export default class Store extends Base {
  items = [];
  static #count = 0;

  constructor(name) {
    super();
    this.name = name;
  }

  /** Gets one. */
  get(id) {
    return this.items[id];
  }

  *[Symbol.iterator]() {}
}

export const API_URL = "http://localhost";
let mutable = 1;
const Button = () => <button onClick={() => add(1, 2)}>ok</button>;

function* gen() {}

function broken( {
}

function afterError() {}
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::JavaScript,
        SRC,
        &[
            ("add", "function", 3, 6),
            ("handler", "function", 8, 10),
            ("helper", "function", 12, 12),
            ("Store", "class", 14, 29),
            ("Store/items", "field", 15, 15),
            ("Store/#count", "field", 16, 16),
            ("Store/constructor", "constructor", 18, 21),
            ("Store/get", "method", 23, 26),
            ("Store/[Symbol.iterator]", "method", 28, 28),
            ("API_URL", "constant", 31, 31),
            ("Button", "function", 33, 33),
            ("gen", "function", 35, 35),
            ("afterError", "function", 40, 40),
        ],
    );
}

#[test]
fn export_and_jsdoc_are_in_range() {
    let file = file_symbols(Language::JavaScript, SRC);
    assert!(range_text(SRC, sym(&file, "add")).starts_with("/** Adds. */\nexport function add"));
    assert!(range_text(SRC, sym(&file, "handler")).starts_with("export const handler"));
    assert!(range_text(SRC, sym(&file, "Store/get")).starts_with("/** Gets one. */"));
    let body = sym(&file, "handler").body.clone().expect("arrow body");
    assert!(SRC[body].starts_with('{'));
}
