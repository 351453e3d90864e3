//! TypeScript and TSX: interfaces, enums, overload signatures, decorated classes, abstract
//! members, namespaces, ambient modules, arrow functions and recovery after an error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"import { x } from "./x";

/** Config for things. */
export interface Config {
  name: string;
  run(): void;
}

export type Id = string | number;

export enum Color {
  Red,
  Green = "g",
}

/**
 * Overloaded.
 */
export function parse(s: string): number;
export function parse(n: number): number;
export function parse(v: any): number {
  return 0;
}

@Component({ selector: "app" })
export class Widget<T> extends Base implements Config {
  name = "w";
  private readonly items: T[] = [];

  constructor(private svc: Service) {
    super();
  }

  /** Run it. */
  run(): void {}

  @HostListener("click")
  onClick(e: Event) {}

  get size(): number { return 1; }

  static create(): Widget<string>;
  static create(x?: number): Widget<string> {
    return new Widget(null);
  }
}

export abstract class Shape {
  abstract area(): number;
}

export const handler = async (req: Request) => {
  return req;
};

const helper = function () {};

export default function main() {}

namespace NS {
  export function inner() {}
}

declare module "foo" {
  export function ambient(): void;
}

export const API_URL = "http://x";
let notConst = 5;

function ñandú() {}

function broken( {
}

function afterError() {}
"#;

const EXPECTED: &[(&str, &str, usize, usize)] = &[
    ("Config", "interface", 3, 7),
    ("Config/name", "field", 5, 5),
    ("Config/run", "method", 6, 6),
    ("Id", "type", 9, 9),
    ("Color", "enum", 11, 14),
    ("Color/Red", "variant", 12, 12),
    ("Color/Green", "variant", 13, 13),
    ("parse[0]", "function", 16, 19),
    ("parse[1]", "function", 20, 20),
    ("parse[2]", "function", 21, 23),
    ("Widget", "class", 25, 46),
    ("Widget/name", "field", 27, 27),
    ("Widget/items", "field", 28, 28),
    ("Widget/constructor", "constructor", 30, 32),
    ("Widget/run", "method", 34, 35),
    ("Widget/onClick", "method", 37, 38),
    ("Widget/size", "method", 40, 40),
    ("Widget/create[0]", "method", 42, 42),
    ("Widget/create[1]", "method", 43, 45),
    ("Shape", "class", 48, 50),
    ("Shape/area", "method", 49, 49),
    ("handler", "function", 52, 54),
    ("helper", "function", 56, 56),
    ("main", "function", 58, 58),
    ("NS", "module", 60, 62),
    ("NS/inner", "function", 61, 61),
    ("\"foo\"", "module", 64, 66),
    ("\"foo\"/ambient", "function", 65, 65),
    ("API_URL", "constant", 68, 68),
    ("ñandú", "function", 71, 71),
    ("afterError", "function", 76, 76),
];

#[test]
fn typescript_name_paths_kinds_and_lines() {
    assert_symbols(Language::TypeScript, SRC, EXPECTED);
}

#[test]
fn tsx_shares_the_typescript_query() {
    assert_symbols(Language::Tsx, SRC, EXPECTED);
    let tsx = "export const App = () => <div className=\"x\">{items.map((i) => <Item key={i} />)}</div>;\n";
    assert_symbols(Language::Tsx, tsx, &[("App", "function", 1, 1)]);
}

#[test]
fn decorators_jsdoc_and_overload_docs_are_in_range() {
    let file = file_symbols(Language::TypeScript, SRC);
    let widget = range_text(SRC, sym(&file, "Widget"));
    assert!(widget.starts_with("@Component({ selector: \"app\" })\nexport class Widget"));
    assert!(range_text(SRC, sym(&file, "parse[0]")).starts_with("/**\n * Overloaded."));
    assert!(range_text(SRC, sym(&file, "Widget/onClick")).starts_with("@HostListener"));
    assert!(
        sym(&file, "parse[1]").body.is_none(),
        "an overload signature has no body"
    );
    assert!(sym(&file, "parse[2]").body.is_some());
}
