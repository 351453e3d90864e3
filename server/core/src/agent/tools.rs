//! The tools offered to the model: their JSON schemas (the same for every provider) and the strict
//! parsing of a model's call into a typed [`ToolRequest`]. Nothing here executes anything.

use serde_json::{Map, Value, json};

use jingu_providers::{ToolArguments, ToolCall, ToolSpec};
use jingu_realdoc::{EditRequest, Op, Target};

/// Tool names, as the model sees them.
pub const LIST_SYMBOLS: &str = "list_symbols";
pub const READ_SYMBOL: &str = "read_symbol";
pub const READ_LINES: &str = "read_lines";
pub const SEARCH: &str = "search";
pub const EDIT: &str = "edit";
pub const RUN_COMMAND: &str = "run_command";

pub const ALL: &[&str] = &[
    LIST_SYMBOLS,
    READ_SYMBOL,
    READ_LINES,
    SEARCH,
    EDIT,
    RUN_COMMAND,
];

/// Longest `read_lines` window: context goes by symbol and range, never whole large files.
pub const MAX_READ_LINES: usize = 400;

/// A validated tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolRequest {
    ListSymbols {
        path: String,
    },
    ReadSymbol {
        path: String,
        name_path: String,
    },
    ReadLines {
        path: String,
        start: usize,
        end: usize,
    },
    Search {
        pattern: String,
        glob: Option<String>,
    },
    Edit {
        path: String,
        edit: EditRequest,
    },
    /// Create, delete or rename a whole file.
    File(crate::ops::FileOp),
    /// Several edits of one file, applied together and validated once (all or nothing).
    EditMany {
        path: String,
        edits: Vec<EditRequest>,
    },
    RunCommand {
        argv: Vec<String>,
    },
    /// A tool of an MCP server (`mcp__<server>__<tool>`), offered or not: the host audits the
    /// attempt and refuses tools that were not offered.
    Mcp {
        name: String,
        arguments: Value,
    },
}

impl ToolRequest {
    pub fn name(&self) -> &'static str {
        match self {
            Self::ListSymbols { .. } => LIST_SYMBOLS,
            Self::ReadSymbol { .. } => READ_SYMBOL,
            Self::ReadLines { .. } => READ_LINES,
            Self::Search { .. } => SEARCH,
            Self::Edit { .. } | Self::EditMany { .. } | Self::File(_) => EDIT,
            Self::RunCommand { .. } => RUN_COMMAND,
            Self::Mcp { .. } => "mcp",
        }
    }

    /// The workspace path the call names, if any (confined and policy-checked before execution).
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::ListSymbols { path }
            | Self::ReadSymbol { path, .. }
            | Self::ReadLines { path, .. }
            | Self::Edit { path, .. }
            | Self::EditMany { path, .. } => Some(path),
            Self::File(op) => Some(match op {
                crate::ops::FileOp::Create { path, .. }
                | crate::ops::FileOp::DeleteFile { path }
                | crate::ops::FileOp::Rename { path, .. } => path,
            }),
            Self::Search { .. } | Self::RunCommand { .. } | Self::Mcp { .. } => None,
        }
    }
}

/// Why a call was not accepted; returned to the model as a tool error it can recover from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    #[error("unknown tool `{0}`; available tools: {1}")]
    UnknownTool(String, String),
    #[error("tool `{tool}`: arguments are not valid JSON ({raw:.200})")]
    InvalidJson { tool: String, raw: String },
    #[error("tool `{tool}`: arguments must be a JSON object; received {received}")]
    NotAnObject { tool: String, received: String },
    #[error("tool `{tool}`: missing required argument `{arg}`")]
    Missing { tool: String, arg: &'static str },
    #[error("tool `{tool}`: argument `{arg}` {problem}")]
    Invalid {
        tool: String,
        arg: &'static str,
        problem: String,
    },
    #[error("tool `{tool}`: unexpected argument `{arg}`; expected only {expected}")]
    Unexpected {
        tool: String,
        arg: String,
        expected: String,
    },
}

/// JSON schemas of the tools in `names` (unknown names are skipped).
pub fn specs(names: &[&str]) -> Vec<ToolSpec> {
    names.iter().filter_map(|n| spec(n)).collect()
}

/// What the run knows about valid targets, offered to the model as `enum`s in the tool schemas:
/// the local model's grammar then cannot name anything else, and hosted models are told the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// Workspace files the run may name (`path`); `None` leaves `path` free.
    pub paths: Option<Vec<String>>,
    /// Real name paths for `symbol` and `name_path` (of the focused file); `None` leaves them free.
    pub symbols: Option<Vec<String>>,
    /// How a `replace` of each named symbol begins (for grammar-constrained models).
    pub heads: Vec<jingu_providers::SymbolHead>,
}

/// [`specs`] narrowed by `hints`.
pub fn specs_with(names: &[&str], hints: &Hints) -> Vec<ToolSpec> {
    let mut out = specs(names);
    for spec in &mut out {
        let Some(props) = spec
            .parameters
            .get_mut("properties")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let (Some(paths), Some(p)) = (&hints.paths, props.get_mut("path"))
            && !paths.is_empty()
        {
            p["enum"] = json!(paths);
        }
        for key in ["symbol", "name_path"] {
            if let (Some(symbols), Some(p)) = (&hints.symbols, props.get_mut(key))
                && !symbols.is_empty()
            {
                p["enum"] = json!(symbols);
            }
        }
    }
    out
}

/// Repair the slips real models make that have one obvious meaning: a tool name in the wrong
/// case, arguments sent as a JSON string, edit text wrapped in a Markdown code fence. Returns
/// the repaired call and what was repaired, to tell the model.
pub fn normalise(call: &ToolCall) -> (ToolCall, Vec<String>) {
    let mut call = call.clone();
    let mut notes = Vec::new();
    if !ALL.contains(&call.name.as_str())
        && let Some(name) = ALL.iter().find(|n| {
            n.eq_ignore_ascii_case(call.name.trim())
                || n.replace('_', "")
                    == call
                        .name
                        .trim()
                        .to_ascii_lowercase()
                        .replace(['_', '-'], "")
        })
    {
        notes.push(format!("tool name `{}` read as `{name}`", call.name));
        call.name = (*name).to_string();
    }
    if let ToolArguments::Json(Value::String(raw)) = &call.arguments
        && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(raw)
    {
        notes.push("arguments came as a JSON string; decoded it (send an object next time)".into());
        call.arguments = ToolArguments::Json(v);
    }
    if call.name == EDIT
        && let ToolArguments::Json(Value::Object(obj)) = &mut call.arguments
        && let Some(Value::String(text)) = obj.get_mut("text")
        && let Some(inner) = strip_fence(text)
    {
        notes.push("removed the Markdown code fence around `text` (send only the code)".into());
        *text = inner;
    }
    (call, notes)
}

/// The body of a text that is exactly one fenced code block (```lang … ```).
fn strip_fence(text: &str) -> Option<String> {
    let t = text.trim();
    let rest = t.strip_prefix("```")?;
    let (_lang, body) = rest.split_once('\n')?;
    let body = body.trim_end().strip_suffix("```")?;
    if body.contains("\n```") {
        return None;
    }
    Some(body.strip_suffix('\n').unwrap_or(body).to_string())
}

fn spec(name: &str) -> Option<ToolSpec> {
    let path = json!({"type": "string", "description": "File path relative to the workspace root"});
    let (description, parameters) = match name {
        LIST_SYMBOLS => (
            "List the symbols (functions, classes, methods…) of a file with their name paths and line ranges.",
            json!({"type": "object", "properties": {"path": path}, "required": ["path"], "additionalProperties": false}),
        ),
        READ_SYMBOL => (
            "Read one symbol's source, with line numbers, by its name path (e.g. `impl Parser/parse_expr`).",
            json!({"type": "object", "properties": {"path": path, "name_path": {"type": "string"}},
                   "required": ["path", "name_path"], "additionalProperties": false}),
        ),
        READ_LINES => (
            "Read a 1-based inclusive line range of a file (at most 400 lines), with line numbers.",
            json!({"type": "object", "properties": {"path": path, "start": {"type": "integer", "minimum": 1},
                   "end": {"type": "integer", "minimum": 1}},
                   "required": ["path", "start", "end"], "additionalProperties": false}),
        ),
        SEARCH => (
            "Search the workspace (gitignore-aware) for a regular expression; returns matching lines, bounded.",
            json!({"type": "object", "properties": {"pattern": {"type": "string"},
                   "glob": {"type": "string", "description": "Optional file glob such as `src/**/*.rs`"}},
                   "required": ["pattern"], "additionalProperties": false}),
        ),
        EDIT => (
            "Edit a file at one target: exactly one of `symbol` (name path), `lines` (\"A-B\", 1-based inclusive) \
             or `keyword` (the line containing this text; `occurrence` picks among several). `op` is replace, \
             insert-before, insert-after or delete. `text` is the new code (not needed for delete). Never send whole files. \
             For several changes to one file, give `edits` (a list of {target, op, text} objects) instead: their targets and \
             line numbers all refer to the file as you read it, and they are applied and checked together. \
             `expect` is the version your last read showed (filled in for you); an edit whose target changed since is refused \
             with the current text. Whole files: op `create` (with `text`; never overwrites), `delete-file`, or `rename` \
             (with `to`).",
            json!({"type": "object", "properties": {
                "path": path,
                "symbol": {"type": "string"},
                "lines": {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?$"},
                "keyword": {"type": "string"},
                "occurrence": {"type": "integer", "minimum": 1},
                "op": {"type": "string", "enum": ["replace", "insert-before", "insert-after", "delete",
                       "create", "delete-file", "rename"]},
                "text": {"type": "string"},
                "to": {"type": "string", "description": "New path, for op `rename`"},
                "expect": {"type": "string"},
                "edits": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
                    "symbol": {"type": "string"},
                    "lines": {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?$"},
                    "keyword": {"type": "string"},
                    "occurrence": {"type": "integer", "minimum": 1},
                    "op": {"type": "string", "enum": ["replace", "insert-before", "insert-after", "delete"]},
                    "text": {"type": "string"}},
                    "required": ["op"], "additionalProperties": false}}},
                "required": ["path"], "additionalProperties": false}),
        ),
        RUN_COMMAND => (
            "Run a command (argv, no shell) in the workspace inside a sandbox without network access.",
            json!({"type": "object", "properties": {"argv": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
                   "required": ["argv"], "additionalProperties": false}),
        ),
        _ => return None,
    };
    Some(ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    })
}

/// Parse and validate a model's tool call against the tool's schema.
pub fn parse(call: &ToolCall) -> Result<ToolRequest, ToolError> {
    let tool = call.name.as_str();
    // MCP tools are checked by the host against what was offered, after auditing the attempt.
    if tool.starts_with(jingu_skills::mcp::TOOL_PREFIX) {
        return match &call.arguments {
            ToolArguments::Json(v) => Ok(ToolRequest::Mcp {
                name: tool.to_string(),
                arguments: v.clone(),
            }),
            ToolArguments::Invalid(raw) => Err(ToolError::InvalidJson {
                tool: tool.into(),
                raw: raw.clone(),
            }),
        };
    }
    if !ALL.contains(&tool) {
        return Err(ToolError::UnknownTool(call.name.clone(), ALL.join(", ")));
    }
    let obj = match &call.arguments {
        ToolArguments::Invalid(raw) => {
            return Err(ToolError::InvalidJson {
                tool: tool.into(),
                raw: raw.clone(),
            });
        }
        ToolArguments::Json(Value::Object(m)) => m,
        ToolArguments::Json(other) => {
            return Err(ToolError::NotAnObject {
                tool: tool.into(),
                received: describe(other),
            });
        }
    };
    let args = Args { tool, obj };
    let allowed: &[&str] = match tool {
        LIST_SYMBOLS => &["path"],
        READ_SYMBOL => &["path", "name_path"],
        READ_LINES => &["path", "start", "end"],
        SEARCH => &["pattern", "glob"],
        EDIT => &[
            "path",
            "symbol",
            "lines",
            "keyword",
            "occurrence",
            "op",
            "text",
            "expect",
            "edits",
            "to",
        ],
        _ => &["argv"],
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ToolError::Unexpected {
            tool: tool.into(),
            arg: extra.clone(),
            expected: allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(match tool {
        LIST_SYMBOLS => ToolRequest::ListSymbols {
            path: args.string("path")?,
        },
        READ_SYMBOL => ToolRequest::ReadSymbol {
            path: args.string("path")?,
            name_path: args.string("name_path")?,
        },
        READ_LINES => {
            let start = args.line("start")?;
            let end = args.line("end")?;
            if end < start {
                return Err(args.invalid("end", format!("({end}) is before start ({start})")));
            }
            if end - start + 1 > MAX_READ_LINES {
                return Err(args.invalid(
                    "end",
                    format!(
                        "asks for {} lines; read at most {MAX_READ_LINES} at a time",
                        end - start + 1
                    ),
                ));
            }
            ToolRequest::ReadLines {
                path: args.string("path")?,
                start,
                end,
            }
        }
        SEARCH => {
            let pattern = args.string("pattern")?;
            if let Err(e) = regex::Regex::new(&pattern) {
                return Err(args.invalid("pattern", format!("is not a valid regex: {e}")));
            }
            ToolRequest::Search {
                pattern,
                glob: args.opt_string("glob")?,
            }
        }
        EDIT => parse_edit(&args)?,
        _ => {
            let argv = match obj.get("argv") {
                Some(Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| args.invalid("argv", "must contain only strings".into()))?,
                Some(_) => {
                    return Err(args.invalid("argv", "must be a non-empty array of strings".into()));
                }
                None => return Err(args.missing("argv")),
            };
            ToolRequest::RunCommand { argv }
        }
    })
}

fn parse_edit(args: &Args) -> Result<ToolRequest, ToolError> {
    let path = args.string("path")?;
    if let Some(op) = parse_file_op(args, &path)? {
        return Ok(ToolRequest::File(op));
    }
    if args.obj.contains_key("to") {
        return Err(args.invalid("to", "only applies to op `rename`".into()));
    }
    let expect = args.opt_string("expect")?;
    let Some(list) = args.obj.get("edits") else {
        let edit = parse_one_edit(args)?.expecting(expect);
        return Ok(ToolRequest::Edit { path, edit });
    };
    if let Some(k) = ["symbol", "lines", "keyword", "occurrence", "op", "text"]
        .iter()
        .find(|k| args.obj.contains_key(**k))
    {
        return Err(args.invalid(
            "edits",
            format!("— give either `edits` or one edit's fields, not both (found `{k}`)"),
        ));
    }
    let items = match list {
        Value::Array(items) if !items.is_empty() => items,
        _ => return Err(args.invalid("edits", "must be a non-empty array of edits".into())),
    };
    let mut edits = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(obj) = item else {
            return Err(args.invalid("edits", format!("item {} is not an object", i + 1)));
        };
        let allowed = ["symbol", "lines", "keyword", "occurrence", "op", "text"];
        if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(args.invalid(
                "edits",
                format!("item {}: unexpected field `{extra}`", i + 1),
            ));
        }
        let item_args = Args {
            tool: args.tool,
            obj,
        };
        let edit = parse_one_edit(&item_args)
            .map_err(|e| args.invalid("edits", format!("item {}: {e}", i + 1)))?;
        edits.push(edit.expecting(expect.clone()));
    }
    Ok(ToolRequest::EditMany { path, edits })
}

/// `create`, `delete-file` and `rename`: whole-file operations (no target).
fn parse_file_op(args: &Args, path: &str) -> Result<Option<crate::ops::FileOp>, ToolError> {
    use crate::ops::FileOp;
    let Some(Value::String(op)) = args.obj.get("op") else {
        return Ok(None);
    };
    if !matches!(op.as_str(), "create" | "delete-file" | "rename") {
        return Ok(None);
    }
    if let Some(k) = [
        "symbol",
        "lines",
        "keyword",
        "occurrence",
        "edits",
        "expect",
    ]
    .iter()
    .find(|k| args.obj.contains_key(**k))
    {
        return Err(args.invalid("op", format!("`{op}` takes no `{k}`")));
    }
    let path = path.to_string();
    Ok(Some(match op.as_str() {
        "create" => FileOp::Create {
            path,
            text: args.string("text")?,
        },
        "delete-file" => FileOp::DeleteFile { path },
        _ => FileOp::Rename {
            path,
            to: args.string("to")?,
        },
    }))
}

/// Target, operation and text of one edit (the tool's own fields, or one item of `edits`).
fn parse_one_edit(args: &Args) -> Result<EditRequest, ToolError> {
    let op: Op = args
        .string("op")?
        .parse()
        .map_err(|e: jingu_realdoc::ParseError| args.invalid("op", e.to_string()))?;
    let symbol = args.opt_string("symbol")?;
    let lines = args.opt_string("lines")?;
    let keyword = args.opt_string("keyword")?;
    let given = [symbol.is_some(), lines.is_some(), keyword.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given != 1 {
        return Err(args.invalid(
            "symbol",
            "— give exactly one target: `symbol`, `lines` or `keyword`".into(),
        ));
    }
    let occurrence = match args.obj.get("occurrence") {
        None | Some(Value::Null) => None,
        Some(_) => Some(args.line("occurrence")?),
    };
    if occurrence.is_some() && keyword.is_none() {
        return Err(args.invalid("occurrence", "only applies to a `keyword` target".into()));
    }
    let target = if let Some(s) = symbol {
        Target::Symbol(s)
    } else if let Some(l) = lines {
        Target::lines_from_str(&l).map_err(|e| args.invalid("lines", e.to_string()))?
    } else {
        Target::Keyword {
            text: keyword.unwrap_or_default(),
            occurrence,
        }
    };
    let text = args.opt_string("text")?;
    if op != Op::Delete && text.is_none() {
        return Err(args.missing("text"));
    }
    Ok(EditRequest::new(target, op, text.unwrap_or_default()))
}

/// A short description of a received JSON value for error messages.
fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_object()) => {
            return "a JSON string holding an object — send the object itself".into();
        }
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let text = v.to_string();
    let cut: String = text.chars().take(80).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!("{kind} ({cut}{more})")
}

struct Args<'a> {
    tool: &'a str,
    obj: &'a Map<String, Value>,
}

impl Args<'_> {
    fn missing(&self, arg: &'static str) -> ToolError {
        ToolError::Missing {
            tool: self.tool.into(),
            arg,
        }
    }

    fn invalid(&self, arg: &'static str, problem: String) -> ToolError {
        ToolError::Invalid {
            tool: self.tool.into(),
            arg,
            problem,
        }
    }

    fn string(&self, arg: &'static str) -> Result<String, ToolError> {
        self.opt_string(arg)?.ok_or_else(|| self.missing(arg))
    }

    fn opt_string(&self, arg: &'static str) -> Result<Option<String>, ToolError> {
        match self.obj.get(arg) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.invalid(
                arg,
                format!("must be a string; received {}", describe(other)),
            )),
        }
    }

    /// A positive 1-based integer.
    fn line(&self, arg: &'static str) -> Result<usize, ToolError> {
        match self.obj.get(arg) {
            None | Some(Value::Null) => Err(self.missing(arg)),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v >= 1 => Ok(v as usize),
                _ => Err(self.invalid(arg, "must be an integer ≥ 1".into())),
            },
            Some(other) => Err(self.invalid(
                arg,
                format!("must be an integer; received {}", describe(other)),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Value) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments: ToolArguments::Json(args),
        }
    }

    #[test]
    fn every_tool_has_an_object_schema() {
        let specs = specs(ALL);
        assert_eq!(specs.len(), ALL.len());
        for s in specs {
            assert_eq!(s.parameters["type"], "object", "{}", s.name);
            assert!(!s.description.is_empty());
        }
    }

    #[test]
    fn edit_targets_parse_into_realdoc_requests() {
        let r = parse(&call(
            EDIT,
            json!({"path": "src/a.rs", "symbol": "impl P/f", "op": "replace", "text": "fn f() {}"}),
        ));
        assert_eq!(
            r,
            Ok(ToolRequest::Edit {
                path: "src/a.rs".into(),
                edit: EditRequest::new(Target::Symbol("impl P/f".into()), Op::Replace, "fn f() {}")
            })
        );
        let r = parse(&call(
            EDIT,
            json!({"path": "a.py", "lines": "3-5", "op": "delete"}),
        ));
        assert!(
            matches!(r, Ok(ToolRequest::Edit { edit, .. }) if edit.target == Target::Lines { start: 3, end: 5 })
        );
        let r = parse(&call(
            EDIT,
            json!({"path": "a.py", "keyword": "TODO", "occurrence": 2, "op": "insert-after", "text": "x"}),
        ));
        assert!(matches!(r, Ok(ToolRequest::Edit { edit, .. })
            if edit.target == Target::Keyword { text: "TODO".into(), occurrence: Some(2) }));
        let r = parse(&call(
            EDIT,
            json!({"path": "a.c", "expect": "0123456789ab", "edits": [
                {"lines": "3", "op": "insert-before", "text": "#if X"},
                {"lines": "9", "op": "insert-after", "text": "#endif"}]}),
        ));
        let Ok(ToolRequest::EditMany { path, edits }) = r else {
            panic!("a batch: {r:?}");
        };
        assert_eq!(path, "a.c");
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[1].target, Target::Lines { start: 9, end: 9 });
        assert_eq!(edits[0].expect.as_deref(), Some("0123456789ab"));
        let r = parse(&call(
            EDIT,
            json!({"path": "src/new.rs", "op": "create", "text": "fn n() {}\n"}),
        ));
        assert_eq!(
            r,
            Ok(ToolRequest::File(crate::ops::FileOp::Create {
                path: "src/new.rs".into(),
                text: "fn n() {}\n".into()
            }))
        );
        let r = parse(&call(
            EDIT,
            json!({"path": "a.rs", "op": "rename", "to": "b.rs"}),
        ));
        assert!(matches!(
            r,
            Ok(ToolRequest::File(crate::ops::FileOp::Rename { .. }))
        ));
        for bad in [
            json!({"path": "a.rs", "op": "rename"}),
            json!({"path": "a.rs", "op": "create"}),
            json!({"path": "a.rs", "op": "delete-file", "symbol": "f"}),
            json!({"path": "a.rs", "op": "delete", "lines": "1", "to": "b.rs"}),
        ] {
            assert!(parse(&call(EDIT, bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_calls_become_recoverable_errors() {
        let cases = [
            call("rm_rf", json!({})),
            ToolCall {
                id: "x".into(),
                name: EDIT.into(),
                arguments: ToolArguments::Invalid("{\"path\": ".into()),
            },
            call(EDIT, json!([1, 2])),
            call(EDIT, json!({"path": "a.rs", "op": "replace", "text": "x"})),
            call(
                EDIT,
                json!({"path": "a.rs", "symbol": "f", "lines": "1-2", "op": "replace", "text": "x"}),
            ),
            call(
                EDIT,
                json!({"path": "a.rs", "symbol": "f", "op": "rewrite", "text": "x"}),
            ),
            call(
                EDIT,
                json!({"path": "a.rs", "symbol": "f", "op": "replace"}),
            ),
            call(
                EDIT,
                json!({"path": "a.rs", "lines": "9-x", "op": "delete"}),
            ),
            call(
                EDIT,
                json!({"path": "a.rs", "symbol": "f", "occurrence": 1, "op": "delete"}),
            ),
            call(READ_LINES, json!({"path": "a.rs", "start": 0, "end": 3})),
            call(READ_LINES, json!({"path": "a.rs", "start": 5, "end": 3})),
            call(
                READ_LINES,
                json!({"path": "a.rs", "start": 1, "end": 100000}),
            ),
            call(SEARCH, json!({"pattern": "(unclosed"})),
            call(RUN_COMMAND, json!({"argv": []})),
            call(RUN_COMMAND, json!({"argv": "rm -rf /"})),
            call(RUN_COMMAND, json!({"argv": ["ls", 3]})),
            call(LIST_SYMBOLS, json!({"path": "a.rs", "sudo": true})),
            call(LIST_SYMBOLS, json!({})),
            call(EDIT, json!({"path": "a.rs", "edits": []})),
            call(
                EDIT,
                json!({"path": "a.rs", "op": "delete", "edits": [{"lines": "1", "op": "delete"}]}),
            ),
            call(
                EDIT,
                json!({"path": "a.rs", "edits": [{"lines": "1", "op": "delete", "path": "b"}]}),
            ),
        ];
        for c in cases {
            let err = parse(&c).expect_err(&format!("{c:?} must be refused"));
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn hints_become_enums_on_paths_and_symbols() {
        let hints = Hints {
            paths: Some(vec!["a.py".into()]),
            symbols: Some(vec!["f".into(), "C/m".into()]),
            heads: Vec::new(),
        };
        for spec in specs_with(ALL, &hints) {
            let props = &spec.parameters["properties"];
            if props.get("path").is_some() {
                assert_eq!(props["path"]["enum"], json!(["a.py"]), "{}", spec.name);
            }
            for key in ["symbol", "name_path"] {
                if props.get(key).is_some() {
                    assert_eq!(props[key]["enum"], json!(["f", "C/m"]), "{}", spec.name);
                }
            }
        }
        assert_eq!(specs_with(ALL, &Hints::default()), specs(ALL));
    }

    #[test]
    fn slips_with_one_meaning_are_repaired_and_named() {
        let raw = json!({"path": "a.py", "symbol": "f", "op": "replace",
                         "text": "```python\ndef f():\n    pass\n```"});
        let slipped = ToolCall {
            id: "c".into(),
            name: "EDIT".into(),
            arguments: ToolArguments::Json(Value::String(raw.to_string())),
        };
        let (fixed, notes) = normalise(&slipped);
        assert_eq!(fixed.name, EDIT);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            matches!(parse(&fixed), Ok(ToolRequest::Edit { edit, .. }) if edit.text == "def f():\n    pass")
        );
        // A fence inside the code is code, and a clean call needs no repair.
        let inner = call(
            EDIT,
            json!({"path": "a.py", "symbol": "f", "op": "replace",
                                      "text": "x = 1\n```\ny = 2"}),
        );
        assert_eq!(normalise(&inner), (inner.clone(), vec![]));
        // Unknown names stay unknown.
        assert_eq!(normalise(&call("rm_rf", json!({}))).0.name, "rm_rf");
    }

    #[test]
    fn errors_say_what_was_received_and_what_was_expected() {
        let e = parse(&ToolCall {
            id: "c".into(),
            name: LIST_SYMBOLS.into(),
            arguments: ToolArguments::Json(Value::String("{\"path\": \"a\"}".into())),
        })
        .expect_err("a string is not an object");
        assert!(
            e.to_string()
                .contains("received a JSON string holding an object"),
            "{e}"
        );
        let e =
            parse(&call(LIST_SYMBOLS, json!({"path": "a", "type": "object"}))).expect_err("extra");
        assert!(
            e.to_string()
                .contains("unexpected argument `type`; expected only `path`"),
            "{e}"
        );
        let e =
            parse(&call(LIST_SYMBOLS, json!({"path": {"type": "string"}}))).expect_err("object");
        assert!(
            e.to_string()
                .contains("must be a string; received an object"),
            "{e}"
        );
    }
}
