//! Prompt, grammar and output format of the in-process local model. Small models copy what they
//! see, so the prompt shows one-line tool signatures and one worked example (never raw schemas),
//! and sampling is constrained by a GBNF grammar derived from the tools' JSON Schemas: a reply is
//! always `{"tool": NAME, "arguments": {…}}` with arguments the schema accepts, or (unless a tool
//! call is required) `{"answer": TEXT}`. Free text (`text`, the new code of an edit) follows the
//! JSON line in a ``` block, so code is written as code, not as an escaped JSON string.
//! Pure functions, testable without the model.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::local_grammar::{COMMON_RULES, Rules, literal, property_order};
use super::types::{
    ChatRequest, FinishReason, Message, SymbolHead, ToolArguments, ToolCall, ToolChoice, ToolSpec,
};

/// The argument that travels as a code block after the JSON line instead of inside it.
pub const BLOCK_ARG: &str = "text";
const FENCE: &str = "```";

/// One turn for the model's chat template: `system`, `user` or `assistant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: &'static str,
    pub content: String,
}

/// Whether `spec` carries its free text as a block (a string `text` property without an enum).
fn has_block(spec: &ToolSpec) -> bool {
    spec.parameters
        .get("properties")
        .and_then(|p| p.get(BLOCK_ARG))
        .is_some_and(|t| t.get("type") == Some(&json!("string")) && t.get("enum").is_none())
}

/// `name(path: "a.py"|"b.py", op: …, symbol?: string) + text block — description`.
fn signature(spec: &ToolSpec) -> String {
    let mut args = Vec::new();
    for (name, required) in property_order(&spec.parameters) {
        if name == BLOCK_ARG && has_block(spec) {
            continue;
        }
        let schema = &spec.parameters["properties"][&name];
        let ty = match schema.get("enum").and_then(Value::as_array) {
            Some(values) if values.len() <= 8 => values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("|"),
            Some(values) => format!("one of {} values", values.len()),
            None => schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("value")
                .to_string(),
        };
        args.push(format!("{name}{}: {ty}", if required { "" } else { "?" }));
    }
    let block = if has_block(spec) {
        " + the new code in a ``` block"
    } else {
        ""
    };
    format!(
        "{}({}){block}: {}",
        spec.name,
        args.join(", "),
        spec.description
    )
}

/// The JSON line of a call (keys in the grammar's order) and its block, as the model writes them.
pub fn render_call(spec: Option<&ToolSpec>, name: &str, args: &Value) -> String {
    let empty = Map::new();
    let obj = args.as_object().unwrap_or(&empty);
    let mut parts = Vec::new();
    let mut block = None;
    let order: Vec<String> = match spec {
        Some(s) => property_order(&s.parameters)
            .into_iter()
            .map(|(k, _)| k)
            .collect(),
        None => obj.keys().cloned().collect(),
    };
    for key in order
        .iter()
        .chain(obj.keys().filter(|k| !order.contains(*k)))
    {
        let Some(v) = obj.get(key) else { continue };
        if key == BLOCK_ARG
            && spec.is_some_and(has_block)
            && let Some(text) = v.as_str()
        {
            block = Some(text.to_string());
            continue;
        }
        parts.push(format!(
            "{}: {}",
            Value::String(key.clone()),
            render_value(v)
        ));
    }
    let mut out = format!(
        "{{\"tool\": {}, \"arguments\": {{{}}}}}",
        Value::String(name.to_string()),
        parts.join(", ")
    );
    if let Some(text) = block {
        let _ = write!(out, "\n{FENCE}\n{}\n{FENCE}", text.trim_end_matches('\n'));
    }
    out
}

fn render_value(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(render_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn render_answer(text: &str) -> String {
    json!({ "answer": text })
        .to_string()
        .replacen("\":", "\": ", 1)
}

/// The worked example: one symbol edit and the answer after it. Shown only when an `edit` tool
/// with a symbol target is offered; the call goes through [`render_call`], so it has exactly the
/// shape the grammar allows.
fn example(req: &ChatRequest) -> Option<String> {
    let edit = req.tools.iter().find(|t| t.name == "edit")?;
    let props = edit.parameters.get("properties")?;
    if props.get("symbol").is_none() || props.get("op").is_none() || !has_block(edit) {
        return None;
    }
    let call = render_call(
        Some(edit),
        "edit",
        &json!({"path": "cart.py", "symbol": "total", "op": "replace",
                "text": "def total(prices):\n    \"\"\"Return the sum of the prices.\"\"\"\n    return sum(prices)"}),
    );
    Some(format!(
        "User: Instruction: Add a docstring to total\nSource of total in cart.py:\n\
         def total(prices):\n    return sum(prices)\n\
         Assistant: {call}\n\
         Tool edit returned: applied: replaced symbol `total` in cart.py\n\
         Assistant: {}\n",
        render_answer("Added a docstring to total in cart.py.")
    ))
}

/// The system part: the agent's rules, the tool signatures, the reply format and the example.
fn system_text(req: &ChatRequest) -> String {
    let mut p = String::new();
    if let Some(system) = &req.system {
        p.push_str(system.trim());
        p.push_str("\n\n");
    }
    if req.tools.is_empty() {
        p.push_str("Reply with one JSON object: {\"answer\": TEXT}.\n");
        return p;
    }
    p.push_str("Tools:\n");
    for t in &req.tools {
        let _ = writeln!(p, "- {}", signature(t));
    }
    p.push_str(
        "Reply with one line {\"tool\": NAME, \"arguments\": {...}} to call a tool (new code \
         follows in a ``` block), or {\"answer\": TEXT} when done.\n",
    );
    if let Some(ex) = example(req) {
        let _ = write!(p, "\nExample:\n{ex}");
    }
    p
}

fn tool_turn(name: &str, content: &str) -> String {
    format!("Tool {name} returned: {}", content.trim())
}

/// The conversation as chat-template turns (tool results are user turns: small chat models know
/// only system, user and assistant).
pub fn turns(req: &ChatRequest) -> Vec<Turn> {
    let mut out = vec![Turn {
        role: "system",
        content: system_text(req),
    }];
    for m in &req.messages {
        match m {
            Message::User { content } => out.push(Turn {
                role: "user",
                content: content.trim().to_string(),
            }),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                if !content.is_empty() {
                    out.push(Turn {
                        role: "assistant",
                        content: render_answer(content),
                    });
                }
                for c in tool_calls {
                    out.push(Turn {
                        role: "assistant",
                        content: render_call(
                            spec_of(req, &c.name),
                            &c.name,
                            &c.arguments.to_value(),
                        ),
                    });
                }
            }
            Message::Tool { name, content, .. } => out.push(Turn {
                role: "user",
                content: tool_turn(name, content),
            }),
        }
    }
    out
}

fn spec_of<'a>(req: &'a ChatRequest, name: &str) -> Option<&'a ToolSpec> {
    req.tools.iter().find(|t| t.name == name)
}

/// The plain transcript for a model without a chat template; it ends where the reply starts.
pub fn render_prompt(req: &ChatRequest) -> String {
    let mut p = String::new();
    for t in turns(req) {
        match t.role {
            "system" => {
                p.push_str(&t.content);
                p.push('\n');
            }
            "user" if t.content.starts_with("Tool ") => {
                let _ = writeln!(p, "{}", t.content);
            }
            "user" => {
                let _ = writeln!(p, "User: {}", t.content);
            }
            _ => {
                let _ = writeln!(p, "Assistant: {}", t.content);
            }
        }
    }
    p.push_str("Assistant: ");
    p
}

/// The `edit` call's variants when some offered symbols have a [`SymbolHead`]: a `replace` of
/// such a symbol (its only target) has a block that starts with the head; every other call is
/// as the schema says. `None` when nothing narrows (no `symbol` enum, no `replace`, no head).
fn headed_variants(
    spec: &ToolSpec,
    heads: &[SymbolHead],
    r: &mut Rules,
) -> Option<Vec<(Value, String)>> {
    let params = &spec.parameters;
    let props = params.get("properties")?.as_object()?;
    let symbols: Vec<Value> = props.get("symbol")?.get("enum")?.as_array()?.clone();
    let ops: Vec<Value> = props.get("op")?.get("enum")?.as_array()?.clone();
    let replace = json!("replace");
    if !ops.contains(&replace) {
        return None;
    }
    let headed: Vec<&SymbolHead> = heads
        .iter()
        .filter(|h| symbols.contains(&json!(h.symbol)))
        .collect();
    if headed.is_empty() {
        return None;
    }
    // `symbol` required and narrowed, `op` narrowed; `only_target` drops every other target.
    let with_symbol = |syms: Vec<Value>, ops: Vec<Value>, only_target: bool| {
        let mut p = params.clone();
        p["properties"]["symbol"]["enum"] = Value::Array(syms);
        p["properties"]["op"]["enum"] = Value::Array(ops);
        let mut required: Vec<Value> = p
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut need = vec!["symbol"];
        if only_target {
            need.push("op");
            if let Some(props) = p["properties"].as_object_mut() {
                for k in ["lines", "keyword", "occurrence", "edits", "to"] {
                    props.remove(k);
                }
            }
        }
        for k in need {
            if !required.contains(&json!(k)) {
                required.push(json!(k));
            }
        }
        p["required"] = Value::Array(required);
        p
    };
    let mut out = Vec::new();
    let mut no_symbol = params.clone();
    if let Some(props) = no_symbol["properties"].as_object_mut() {
        props.remove("symbol");
    }
    out.push((no_symbol, " block?".to_string()));
    let plain: Vec<Value> = symbols
        .iter()
        .filter(|s| !headed.iter().any(|h| json!(h.symbol) == **s))
        .cloned()
        .collect();
    if !plain.is_empty() {
        out.push((with_symbol(plain, ops.clone(), false), " block?".into()));
    }
    let others: Vec<Value> = ops.iter().filter(|o| **o != replace).cloned().collect();
    if !others.is_empty() {
        let syms = headed.iter().map(|h| json!(h.symbol)).collect();
        out.push((with_symbol(syms, others, false), " block?".into()));
    }
    for h in headed {
        let lead = if h.lines_before { " lead" } else { "" };
        // Where nothing goes above the declaration (Python), the body follows it: at least one
        // indented line that is not a fence, so the replacement cannot be a bare header.
        let rest = if h.lines_before {
            "headrest"
        } else {
            "headbody"
        };
        let block = r.add(&format!(
            "{}{lead} {} {rest}",
            literal(&format!("\n{FENCE}\n")),
            literal(&h.head)
        ));
        out.push((
            with_symbol(vec![json!(h.symbol)], vec![replace.clone()], true),
            format!(" {block}"),
        ));
    }
    Some(out)
}

/// Whether a reply's code block has fallen into a loop: its last non-blank lines are one run of
/// one to three lines said three times over (greedy decoding never leaves such a loop, so the
/// rest would only burn the token limit). Returns the repeated lines.
pub fn repeating_block(output: &str) -> Option<String> {
    let start = output.find(&format!("\n{FENCE}\n"))? + FENCE.len() + 2;
    let body = output.get(start..)?;
    let complete = &body[..body.rfind('\n')?];
    let lines: Vec<&str> = complete
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    (1..=3).find_map(|k| {
        let tail = lines.get(lines.len().checked_sub(3 * k)?..)?;
        let unit = &tail[..k];
        let long = unit.iter().map(|l| l.trim().len()).sum::<usize>() >= 24;
        (long && tail.chunks(k).all(|c| c == unit)).then(|| unit.join("\n"))
    })
}

/// The grammar every reply must match: a call of an offered tool with schema-valid arguments,
/// or (unless a tool call is required) an answer.
pub fn grammar(req: &ChatRequest) -> String {
    let mut g = String::new();
    let must_call = req.tool_choice == ToolChoice::Required && !req.tools.is_empty();
    let mut calls = Vec::new();
    let mut rules = String::new();
    for spec in &req.tools {
        let mut r = Rules::new(&format!("t-{}", spec.name));
        let block = has_block(spec);
        let skip: &[&str] = if block { &[BLOCK_ARG] } else { &[] };
        let head = literal(&format!(
            "{{\"tool\": {}, \"arguments\": ",
            Value::String(spec.name.clone())
        ));
        let variants = block
            .then(|| headed_variants(spec, &req.symbol_heads, &mut r))
            .flatten()
            .unwrap_or_else(|| {
                let tail = if block { " block?" } else { "" };
                vec![(spec.parameters.clone(), tail.to_string())]
            });
        let alternatives: Vec<String> = variants
            .iter()
            .map(|(params, tail)| {
                let args = match params.get("properties").and_then(Value::as_object) {
                    Some(props) => r.object(params, props, skip),
                    None => "object".into(),
                };
                format!("{head} {args} \"}}\"{tail}")
            })
            .collect();
        let call = r.add(&alternatives.join(" | "));
        calls.push(call);
        rules.push_str(&r.finish());
    }
    let mut root = Vec::new();
    if !calls.is_empty() {
        root.push(calls.join(" | "));
    }
    if !must_call {
        root.push("answer".into());
    }
    let _ = writeln!(g, "root ::= {}", root.join(" | "));
    g.push_str(&rules);
    g.push_str("answer ::= \"{\\\"answer\\\": \" string \"}\"\n");
    // A block: lines not starting with a backtick, then the closing fence.
    g.push_str(&format!(
        "block ::= {} bline* {}\nbline ::= [^`\\n] [^\\n]* \"\\n\" | \"\\n\"\n",
        literal(&format!("\n{FENCE}\n")),
        literal(FENCE)
    ));
    // After a symbol's head: the rest of its first line, then lines as in any block. Before it,
    // where the language puts them there: comment, doc and attribute/decorator lines.
    g.push_str(&format!(
        "headrest ::= [^\\n]* \"\\n\" bline* {}\n\
         headbody ::= [^\\n]* \"\\n\" [ \\t]+ [^ \\t\\n`] [^\\n]* \"\\n\" bline* {}\n\
         lead ::= ( [ \\t]* ( \"#\" | \"//\" | \"/*\" | \"*\" | \"@\" | \"--\" ) [^\\n]* \"\\n\" )*\n",
        literal(FENCE),
        literal(FENCE)
    ));
    g.push_str(COMMON_RULES);
    g
}

/// What a finished generation means: an answer, a tool call, or (cut off by the token limit)
/// the raw text with finish reason `Length`.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Answer(String),
    Call(ToolCall),
}

pub fn parse_reply(output: &str, call_index: usize) -> (Reply, Option<FinishReason>) {
    let trimmed = output.trim_start();
    let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
    let parsed = stream.next().and_then(Result::ok);
    let rest = &trimmed[stream.byte_offset()..];
    match parsed {
        Some(v) if v.get("tool").is_some() => {
            let name = v["tool"].as_str().unwrap_or_default().to_owned();
            let mut arguments = v.get("arguments").cloned().unwrap_or_else(|| json!({}));
            if let Some(body) = rest.strip_prefix(&format!("\n{FENCE}\n")) {
                let Some(text) = body.strip_suffix(FENCE) else {
                    return (Reply::Answer(output.to_owned()), Some(FinishReason::Length));
                };
                if let Some(obj) = arguments.as_object_mut() {
                    obj.insert(
                        BLOCK_ARG.into(),
                        Value::String(text.strip_suffix('\n').unwrap_or(text).to_string()),
                    );
                }
            } else if !rest.trim().is_empty() {
                return (Reply::Answer(output.to_owned()), Some(FinishReason::Length));
            }
            (
                Reply::Call(ToolCall {
                    id: format!("call_{call_index}"),
                    name,
                    arguments: ToolArguments::Json(arguments),
                }),
                Some(FinishReason::ToolCalls),
            )
        }
        Some(v) if v.get("answer").and_then(Value::as_str).is_some() => (
            Reply::Answer(v["answer"].as_str().unwrap_or_default().to_owned()),
            None,
        ),
        _ => (Reply::Answer(output.to_owned()), Some(FinishReason::Length)),
    }
}

/// The prefix every streamed answer starts with.
pub const ANSWER_PREFIX: &str = "{\"answer\": \"";

/// The decoded text of a partial answer (`output` starts with [`ANSWER_PREFIX`]), up to the last
/// complete character, so answers stream as they are sampled.
pub fn partial_answer(output: &str) -> Option<String> {
    let body = output.strip_prefix(ANSWER_PREFIX)?;
    // Cut before an unfinished escape; the closing quote ends the string.
    let mut end = 0;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => break,
            b'\\' => {
                let need = if bytes.get(i + 1) == Some(&b'u') {
                    6
                } else {
                    2
                };
                if i + need > bytes.len() {
                    break;
                }
                i += need;
            }
            _ => i += 1,
        }
        end = i;
    }
    serde_json::from_str::<String>(&format!("\"{}\"", &body[..end])).ok()
}
