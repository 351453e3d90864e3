//! JSON Schema → GBNF for the local model's tool calls. Each tool's argument schema becomes grammar
//! rules, so the sampler can only produce arguments the schema accepts: the listed properties and
//! no others, every required one, `enum` values verbatim (the agent narrows `path` and `symbol` to
//! real files and name paths this way), bounded strings, integers with their minimum, arrays of
//! the item type. Unsupported keywords fall back to "any JSON value", never to a wrong constraint.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Longest string any argument may have when its schema gives no `maxLength` and it is not
/// free text: paths, names, patterns. Free text (`text`) is bounded by the token limit instead.
pub const DEFAULT_MAX_STRING: usize = 256;

/// Rules shared by every generated grammar.
pub const COMMON_RULES: &str = concat!(
    "value ::= object | array | string | number | \"true\" | \"false\" | \"null\"\n",
    "object ::= \"{\" ws ( member ( \",\" ws member )* )? \"}\"\n",
    "member ::= string ws \":\" ws value ws\n",
    "array ::= \"[\" ws ( value ws ( \",\" ws value ws )* )? \"]\"\n",
    "char ::= [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] )\n",
    "string ::= \"\\\"\" char* \"\\\"\"\n",
    "number ::= \"-\"? ( \"0\" | [1-9] [0-9]* ) ( \".\" [0-9]+ )? ( [eE] [-+]? [0-9]+ )?\n",
    "ws ::= [ ]?\n",
);

/// A GBNF literal matching exactly `text`.
pub fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A GBNF literal matching the JSON encoding of `v`.
pub fn json_literal(v: &Value) -> String {
    literal(&v.to_string())
}

/// Builds rules with unique names under a prefix (GBNF names: letters, digits and dashes).
pub struct Rules {
    prefix: String,
    out: String,
    n: usize,
}

impl Rules {
    pub fn new(prefix: &str) -> Self {
        let prefix: String = prefix
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        Self {
            prefix,
            out: String::new(),
            n: 0,
        }
    }

    /// Add a rule and return its name.
    pub fn add(&mut self, body: &str) -> String {
        self.n += 1;
        let name = format!("{}-{}", self.prefix, self.n);
        let _ = writeln!(self.out, "{name} ::= {body}");
        name
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// The rule (name or inline expression) for a value matching `schema`.
    pub fn schema(&mut self, schema: &Value) -> String {
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return self.alternatives(values);
        }
        if let Some(v) = schema.get("const") {
            return json_literal(v);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => match schema.get("properties").and_then(Value::as_object) {
                Some(props) => self.object(schema, props, &[]),
                None => "object".into(),
            },
            Some("string") => {
                let max = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map_or(DEFAULT_MAX_STRING, |m| m as usize);
                match schema.get("pattern").and_then(Value::as_str) {
                    Some(p) => match pattern(p) {
                        Some(body) => {
                            let inner = self.add(&body);
                            self.add(&format!("\"\\\"\" {inner} \"\\\"\""))
                        }
                        None => self.bounded_string(max),
                    },
                    None => self.bounded_string(max),
                }
            }
            Some("integer") => {
                let min = schema.get("minimum").and_then(Value::as_i64);
                match min {
                    Some(m) if m >= 1 => self.add("[1-9] [0-9]{0,8}"),
                    Some(0) => self.add("( \"0\" | [1-9] [0-9]{0,8} )"),
                    _ => self.add("\"-\"? ( \"0\" | [1-9] [0-9]{0,8} )"),
                }
            }
            Some("number") => "number".into(),
            Some("boolean") => "( \"true\" | \"false\" )".into(),
            Some("array") => {
                let item = schema
                    .get("items")
                    .map_or_else(|| "value".to_string(), |s| self.schema(s));
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                let rest = format!("( \", \" {item} )*");
                if min >= 1 {
                    self.add(&format!("\"[\" {item} {rest} \"]\""))
                } else {
                    self.add(&format!("\"[\" ( {item} {rest} )? \"]\""))
                }
            }
            _ => "value".into(),
        }
    }

    fn alternatives(&mut self, values: &[Value]) -> String {
        if values.is_empty() {
            // An empty enum admits nothing; keep the grammar valid with an impossible string.
            return self.add("\"\\\"\" [\\x00] \"\\\"\"");
        }
        let alts: Vec<String> = values.iter().map(json_literal).collect();
        self.add(&alts.join(" | "))
    }

    fn bounded_string(&mut self, max: usize) -> String {
        self.add(&format!("\"\\\"\" char{{0,{max}}} \"\\\"\""))
    }

    /// An object with exactly the schema's properties, `skip` left out (the caller emits those
    /// elsewhere), in [`property_order`].
    pub fn object(&mut self, schema: &Value, props: &Map<String, Value>, skip: &[&str]) -> String {
        let mut items: Vec<(String, bool)> = Vec::new();
        for (name, required) in property_order(schema) {
            if skip.contains(&name.as_str()) {
                continue;
            }
            let value = self.schema(&props[&name]);
            let key = literal(&format!("{}: ", Value::String(name.clone())));
            let kv = format!("{key} {value}");
            items.push((kv, required));
        }
        let body = match items.first() {
            None => String::new(),
            Some((_, true)) => {
                let mut s = items[0].0.clone();
                for (kv, req) in &items[1..] {
                    if *req {
                        let _ = write!(s, " \", \" {kv}");
                    } else {
                        let _ = write!(s, " ( \", \" {kv} )?");
                    }
                }
                s
            }
            Some((_, false)) => {
                // All optional: any ordered, non-empty subset, or nothing.
                let mut tail = String::new();
                for (kv, _) in items.iter().rev() {
                    let chain = if tail.is_empty() {
                        kv.clone()
                    } else {
                        format!("{kv} ( \", \" {tail} )? | {tail}")
                    };
                    tail = self.add(&format!("( {chain} )"));
                }
                format!("( {tail} )?")
            }
        };
        self.add(&format!("\"{{\" {body} \"}}\""))
    }
}

/// The order the grammar emits an object's properties in (required ones first, then optional,
/// each in the schema's map order), with whether each is required. Examples and earlier turns are
/// rendered in the same order, so what the model reads is what it may write.
pub fn property_order(schema: &Value) -> Vec<(String, bool)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool)> = props
        .keys()
        .map(|k| (k.clone(), required.contains(&k.as_str())))
        .collect();
    out.sort_by_key(|(_, req)| !req);
    out
}

/// GBNF for the JSON string body of a simple anchored regex (`^…$` of literals, classes, groups
/// and `? * +`); `None` when the pattern uses anything else.
pub fn pattern(p: &str) -> Option<String> {
    let inner = p.strip_prefix('^')?.strip_suffix('$')?;
    let chars: Vec<char> = inner.chars().collect();
    let (out, used) = seq(&chars, 0)?;
    (used == chars.len()).then_some(out)
}

fn seq(c: &[char], mut i: usize) -> Option<(String, usize)> {
    let mut parts: Vec<String> = Vec::new();
    while i < c.len() {
        let atom = match c[i] {
            ')' => break,
            '(' => {
                let (inner, j) = seq(c, i + 1)?;
                if c.get(j) != Some(&')') {
                    return None;
                }
                i = j + 1;
                format!("( {inner} )")
            }
            '[' => {
                let end = c[i..].iter().position(|&x| x == ']')? + i;
                let class: String = c[i + 1..end].iter().collect();
                if class.contains(['\\', '"']) || class.is_empty() {
                    return None;
                }
                i = end + 1;
                format!("[{class}]")
            }
            ch if ch.is_ascii_alphanumeric() || "-_ :/.,".contains(ch) => {
                i += 1;
                literal(&ch.to_string())
            }
            _ => return None,
        };
        match c.get(i) {
            Some(q @ ('?' | '*' | '+')) => {
                parts.push(format!("{atom}{q}"));
                i += 1;
            }
            _ => parts.push(atom),
        }
    }
    Some((parts.join(" "), i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_escape_quotes_backslashes_and_newlines() {
        assert_eq!(literal("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(json_literal(&json!("x\"y")), r#""\"x\\\"y\"""#);
    }

    #[test]
    fn enums_become_alternatives_of_their_json_text() {
        let mut r = Rules::new("t");
        let name = r.schema(&json!({"type": "string", "enum": ["a.py", "b c.py"]}));
        let g = r.finish();
        assert_eq!(name, "t-1");
        assert!(g.contains(r#"t-1 ::= "\"a.py\"" | "\"b c.py\"""#), "{g}");
    }

    #[test]
    fn objects_keep_required_properties_and_admit_no_others() {
        let mut r = Rules::new("edit");
        let schema = json!({"type": "object", "properties": {
            "path": {"type": "string", "enum": ["a.py"]},
            "symbol": {"type": "string"},
            "op": {"type": "string", "enum": ["replace", "delete"]},
            "text": {"type": "string"}},
            "required": ["path", "op"], "additionalProperties": false});
        let props = schema["properties"].as_object().expect("props").clone();
        let name = r.object(&schema, &props, &["text"]);
        let g = r.finish();
        let rule = g
            .lines()
            .find(|l| l.starts_with(&format!("{name} ::=")))
            .expect("object rule");
        assert!(!g.contains("\\\"text\\\""), "skipped property: {g}");
        // Required properties first (path, op), then the optional symbol.
        let p = rule.find("path").expect("path");
        let o = rule.find("\\\"op\\\"").expect("op");
        let s = rule.find("symbol").expect("symbol");
        assert!(p.max(o) < s, "{rule}");
        assert!(rule.contains("( \", \" \"\\\"symbol\\\": \""), "{rule}");
    }

    #[test]
    fn simple_patterns_translate_and_others_fall_back() {
        assert_eq!(
            pattern("^[0-9]+(-[0-9]+)?$").as_deref(),
            Some("[0-9]+ ( \"-\" [0-9]+ )?")
        );
        assert_eq!(pattern("^a{2}$"), None);
        assert_eq!(pattern("no anchors"), None);
    }
}
