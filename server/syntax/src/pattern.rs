//! A matcher for the subset of tree-sitter's query language the symbols queries use, so a process
//! that extracts symbols does not compile a `tree_sitter::Query`. Compiling one analyses the
//! grammar's whole parse table: 1.4 ms for a one-pattern Rust query, 4 ms for Rust's symbols
//! query, 19 ms for TypeScript's and 58 ms for C++'s on this project's 2-core machine — a fixed
//! cost paid by every `jingu edit`, `jingu symbols` and server start, often more than the parse.
//!
//! Supported: `(kind child…)`, `(_)`, `(ERROR …)`, `"anonymous"`, `[alternatives]`, `field:`, a
//! `?` quantifier on a child, `@captures`, and `(#eq? @capture "text")` / `(#not-eq? …)`. Any
//! other syntax is [`Unsupported`] and the caller compiles a real query instead, so an installed
//! query may use the whole language. Matching follows tree-sitter's: child steps match the node's
//! children in order, not necessarily adjacent; a field step only a child in that field; `(_)`
//! any named node. Where a step can match several children, each assignment is a match; an
//! optional step that can match is matched (never also skipped). The built-in queries give the
//! same symbols as tree-sitter's matcher on real corpora (tests/pattern.rs).

use std::collections::HashMap;
use std::num::NonZeroU16;

use tree_sitter::Node;

/// Query text this matcher does not handle (or names a kind or field the grammar lacks: the
/// real query compiler then reports it precisely).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsupported(pub String);

/// The patterns of one query, ready to match.
#[derive(Debug)]
pub(crate) struct Patterns {
    patterns: Vec<Pattern>,
    capture_names: Vec<String>,
}

#[derive(Debug)]
struct Pattern {
    root: Step,
    predicates: Vec<Predicate>,
}

#[derive(Debug)]
enum Predicate {
    Eq(u32, String),
    NotEq(u32, String),
}

#[derive(Debug)]
struct Step {
    kind: Kind,
    children: Vec<Child>,
    captures: Vec<u32>,
}

#[derive(Debug)]
enum Kind {
    /// `(_)`: any named node.
    AnyNamed,
    /// `(ERROR …)`.
    Error,
    /// Named (or, for `"…"`, anonymous) kinds of one name: aliases give a name several ids.
    Ids(Vec<u16>),
    Alternatives(Vec<Step>),
}

#[derive(Debug)]
struct Child {
    field: Option<NonZeroU16>,
    step: Step,
    optional: bool,
}

/// The captures of one match: capture index and node.
pub(crate) type Captures<'t> = Vec<(u32, Node<'t>)>;

impl Patterns {
    pub(crate) fn parse(
        grammar: &tree_sitter::Language,
        source: &str,
    ) -> Result<Self, Unsupported> {
        let mut kinds: HashMap<(&str, bool), Vec<u16>> = HashMap::new();
        for id in 0..grammar.node_kind_count() as u16 {
            if let Some(name) = grammar.node_kind_for_id(id)
                && grammar.node_kind_is_visible(id)
            {
                kinds
                    .entry((name, grammar.node_kind_is_named(id)))
                    .or_default()
                    .push(id);
            }
        }
        let mut p = Parser {
            src: source,
            at: 0,
            grammar,
            kinds,
            capture_names: Vec::new(),
        };
        let mut patterns = Vec::new();
        loop {
            p.skip_space();
            if p.at >= p.src.len() {
                break;
            }
            let mut predicates = Vec::new();
            let root = p.step(&mut predicates)?;
            if matches!(root.kind, Kind::Alternatives(_)) || p.peek() == Some('?') {
                return Err(p.unsupported("a pattern rooted at an alternation or quantified"));
            }
            patterns.push(Pattern { root, predicates });
        }
        if patterns.is_empty() {
            return Err(Unsupported("no patterns".into()));
        }
        Ok(Self {
            patterns,
            capture_names: p.capture_names,
        })
    }

    pub(crate) fn capture_names(&self) -> &[String] {
        &self.capture_names
    }

    /// Each pattern's root kind: `None` for a pattern that may be rooted at any node, `Some(None)`
    /// for ERROR, else the kind ids.
    pub(crate) fn roots(&self) -> impl Iterator<Item = Option<Option<&[u16]>>> {
        self.patterns.iter().map(|p| match &p.root.kind {
            Kind::Ids(ids) => Some(Some(ids.as_slice())),
            Kind::Error => Some(None),
            Kind::AnyNamed | Kind::Alternatives(_) => None,
        })
    }

    /// Every match rooted at `node`, pattern by pattern, appended to `out`.
    pub(crate) fn matches_at<'t>(&self, node: Node<'t>, src: &[u8], out: &mut Vec<Captures<'t>>) {
        for pattern in &self.patterns {
            let from = out.len();
            match_step(&pattern.root, node, out);
            if pattern.predicates.is_empty() {
                continue;
            }
            let mut keep = from;
            for i in from..out.len() {
                if pattern.predicates.iter().all(|p| holds(p, &out[i], src)) {
                    out.swap(keep, i);
                    keep += 1;
                }
            }
            out.truncate(keep);
        }
    }
}

fn holds(p: &Predicate, caps: &Captures<'_>, src: &[u8]) -> bool {
    let (cap, text, want) = match p {
        Predicate::Eq(c, t) => (*c, t, true),
        Predicate::NotEq(c, t) => (*c, t, false),
    };
    // Like tree-sitter: a predicate on a capture that did not take part holds.
    caps.iter()
        .filter(|(c, _)| *c == cap)
        .all(|(_, n)| (src.get(n.byte_range()) == Some(text.as_bytes())) == want)
}

fn kind_matches(kind: &Kind, node: Node<'_>) -> bool {
    match kind {
        Kind::AnyNamed => node.is_named(),
        Kind::Error => node.is_error(),
        Kind::Ids(ids) => ids.contains(&node.kind_id()) && !node.is_error(),
        Kind::Alternatives(_) => false,
    }
}

/// Append to `out` every way `step` matches `node`.
fn match_step<'t>(step: &Step, node: Node<'t>, out: &mut Vec<Captures<'t>>) {
    if let Kind::Alternatives(alts) = &step.kind {
        for alt in alts {
            let from = out.len();
            match_step(alt, node, out);
            for caps in &mut out[from..] {
                caps.extend(step.captures.iter().map(|&c| (c, node)));
            }
        }
        return;
    }
    if !kind_matches(&step.kind, node) {
        return;
    }
    let mine: Captures<'t> = step.captures.iter().map(|&c| (c, node)).collect();
    if step.children.is_empty() {
        out.push(mine);
        return;
    }
    let mut children: Vec<(Node<'t>, Option<NonZeroU16>)> = Vec::new();
    let mut cursor = node.walk();
    if cursor.goto_first_child() {
        loop {
            children.push((cursor.node(), cursor.field_id()));
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    match_children(&step.children, &children, 0, mine, out);
}

fn match_children<'t>(
    steps: &[Child],
    children: &[(Node<'t>, Option<NonZeroU16>)],
    from: usize,
    so_far: Captures<'t>,
    out: &mut Vec<Captures<'t>>,
) {
    let Some((first, rest)) = steps.split_first() else {
        out.push(so_far);
        return;
    };
    let mut matched = false;
    for (j, &(child, field)) in children.iter().enumerate().skip(from) {
        if first.field.is_some() && first.field != field {
            continue;
        }
        let mut here = Vec::new();
        match_step(&first.step, child, &mut here);
        for caps in here {
            matched = true;
            let mut next = so_far.clone();
            next.extend(caps);
            match_children(rest, children, j + 1, next, out);
        }
    }
    if first.optional && !matched {
        match_children(rest, children, from, so_far, out);
    }
}

struct Parser<'a> {
    src: &'a str,
    at: usize,
    grammar: &'a tree_sitter::Language,
    kinds: HashMap<(&'a str, bool), Vec<u16>>,
    capture_names: Vec<String>,
}

impl<'a> Parser<'a> {
    fn unsupported(&self, what: &str) -> Unsupported {
        Unsupported(format!("{what} at byte {}", self.at))
    }

    fn peek(&self) -> Option<char> {
        self.src[self.at..].chars().next()
    }

    fn skip_space(&mut self) {
        loop {
            let rest = &self.src[self.at..];
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with(';') {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    fn ident(&mut self) -> &'a str {
        let rest = &self.src[self.at..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(rest.len());
        self.at += end;
        &rest[..end]
    }

    fn string(&mut self) -> Result<String, Unsupported> {
        // Opening quote consumed by the caller; escapes other than \" and \\ are unsupported.
        let mut out = String::new();
        let mut chars = self.src[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => out.push(e),
                    _ => return Err(self.unsupported("a string escape")),
                },
                '\n' => break,
                c => out.push(c),
            }
        }
        Err(self.unsupported("an unterminated string"))
    }

    fn capture(&mut self) -> u32 {
        let name = self.ident();
        match self.capture_names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.capture_names.push(name.to_string());
                (self.capture_names.len() - 1) as u32
            }
        }
    }

    fn captures(&mut self) -> Vec<u32> {
        let mut out = Vec::new();
        loop {
            self.skip_space();
            if self.peek() != Some('@') {
                return out;
            }
            self.at += 1;
            out.push(self.capture());
        }
    }

    fn kind_ids(&self, name: &str, named: bool) -> Result<Vec<u16>, Unsupported> {
        self.kinds
            .get(&(name, named))
            .cloned()
            .ok_or_else(|| self.unsupported(&format!("unknown node kind {name:?}")))
    }

    /// One step: a node, an anonymous node or an alternation, with its captures. Predicates
    /// inside go to `predicates` (they belong to the whole pattern).
    fn step(&mut self, predicates: &mut Vec<Predicate>) -> Result<Step, Unsupported> {
        self.skip_space();
        let kind = match self.peek() {
            Some('"') => {
                self.at += 1;
                let name = self.string()?;
                Kind::Ids(self.kind_ids(&name, false)?)
            }
            Some('[') => {
                self.at += 1;
                let mut alts = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(']') => {
                            self.at += 1;
                            break;
                        }
                        None => return Err(self.unsupported("an unclosed alternation")),
                        _ => alts.push(self.step(predicates)?),
                    }
                }
                if alts.is_empty() {
                    return Err(self.unsupported("an empty alternation"));
                }
                Kind::Alternatives(alts)
            }
            Some('(') => {
                self.at += 1;
                self.skip_space();
                if !self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    return Err(self.unsupported("a grouping or predicate in place of a node"));
                }
                let name = self.ident();
                if self.peek() == Some('/') {
                    return Err(self.unsupported("a supertype"));
                }
                let kind = match name {
                    "_" => Kind::AnyNamed,
                    "ERROR" => Kind::Error,
                    n if n.starts_with('_') => return Err(self.unsupported("a hidden kind")),
                    n => Kind::Ids(self.kind_ids(n, true)?),
                };
                let mut children = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(')') => {
                            self.at += 1;
                            break;
                        }
                        None => return Err(self.unsupported("an unclosed node")),
                        Some('(') if self.src[self.at + 1..].trim_start().starts_with('#') => {
                            predicates.push(self.predicate()?);
                        }
                        _ => children.push(self.child(predicates)?),
                    }
                }
                return Ok(Step {
                    kind,
                    captures: self.captures(),
                    children,
                });
            }
            _ => return Err(self.unsupported("unsupported syntax")),
        };
        Ok(Step {
            kind,
            children: Vec::new(),
            captures: self.captures(),
        })
    }

    fn child(&mut self, predicates: &mut Vec<Predicate>) -> Result<Child, Unsupported> {
        self.skip_space();
        let mut field = None;
        if self.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
            let name = self.ident();
            if self.peek() != Some(':') {
                return Err(self.unsupported("a bare word"));
            }
            self.at += 1;
            let id = self
                .grammar
                .field_id_for_name(name)
                .ok_or_else(|| self.unsupported(&format!("unknown field {name:?}")))?;
            field = Some(id);
        } else if matches!(self.peek(), Some('!' | '.')) {
            return Err(self.unsupported("a negated field or an anchor"));
        }
        let mut step = self.step(predicates)?;
        self.skip_space();
        let optional = match self.peek() {
            Some('?') => {
                self.at += 1;
                true
            }
            Some('*' | '+') => return Err(self.unsupported("a repetition")),
            _ => false,
        };
        if optional {
            // Captures may follow the quantifier: `(_)? @body`.
            step.captures.extend(self.captures());
        }
        Ok(Child {
            field,
            step,
            optional,
        })
    }

    fn predicate(&mut self) -> Result<Predicate, Unsupported> {
        self.at += 1; // (
        self.skip_space();
        self.at += 1; // #
        let mut name = self.ident().to_string();
        if let Some(c @ ('?' | '!')) = self.peek() {
            self.at += 1;
            name.push(c);
        }
        self.skip_space();
        if self.peek() != Some('@') {
            return Err(self.unsupported("a predicate without a capture"));
        }
        self.at += 1;
        let cap = self.capture();
        self.skip_space();
        if self.peek() != Some('"') {
            return Err(self.unsupported("a predicate comparing captures"));
        }
        self.at += 1;
        let text = self.string()?;
        self.skip_space();
        if self.peek() != Some(')') {
            return Err(self.unsupported("a predicate with more arguments"));
        }
        self.at += 1;
        match name.as_str() {
            "eq?" => Ok(Predicate::Eq(cap, text)),
            "not-eq?" => Ok(Predicate::NotEq(cap, text)),
            _ => Err(self.unsupported(&format!("the predicate #{name}"))),
        }
    }
}
