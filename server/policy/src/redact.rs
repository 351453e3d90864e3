//! Secret redaction before any text leaves the machine (DESIGN §5 invariant 5).
//!
//! Secrets are replaced by placeholders such as `[REDACTED:aws-key:1]`. A [`Redactor`] keeps its
//! numbering for a whole run, so the same secret always gets the same placeholder and the model can
//! still tell two different secrets apart without seeing either.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Result of redacting one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    /// Number of secrets replaced in this text.
    pub count: usize,
    /// Replacements per kind.
    pub kinds: BTreeMap<&'static str, usize>,
}

/// A pattern; `group` is the capture holding the secret (0 = whole match).
struct Rule {
    kind: &'static str,
    re: Regex,
    group: usize,
    /// Extra check on the captured secret (and the whole match).
    accept: fn(&str, &Captures<'_>) -> bool,
}

fn always(_: &str, _: &Captures<'_>) -> bool {
    true
}

fn rule(
    kind: &'static str,
    re: &str,
    group: usize,
    accept: fn(&str, &Captures<'_>) -> bool,
) -> Rule {
    Rule {
        kind,
        // The patterns are constants exercised by the tests; a typo is a programming error.
        re: Regex::new(re).unwrap_or_else(|e| panic!("redaction rule {kind}: {e}")),
        group,
        accept,
    }
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A value assigned to a secret-looking name is a secret unless it is plainly code or a
/// placeholder. Quoted literals and `.env` lines are trusted more than bare code expressions.
fn assigned_secret(value: &str, caps: &Captures<'_>) -> bool {
    let quoted = caps.name("q").is_some_and(|q| !q.as_str().is_empty());
    let env_line = caps.name("env").is_some();
    let lower = value.to_ascii_lowercase();
    let placeholder = value.starts_with("${")
        || value.starts_with('<')
        || value.starts_with("[REDACTED")
        || matches!(
            lower.as_str(),
            "true" | "false" | "null" | "none" | "nil" | "undefined" | "string" | "str"
        );
    let numeric = value.chars().all(|c| c.is_ascii_digit() || c == '.');
    if placeholder || numeric || value.len() < 6 {
        return false;
    }
    let has_digit = value.chars().any(|c| c.is_ascii_digit());
    let has_alpha = value.chars().any(|c| c.is_ascii_alphabetic());
    if quoted || env_line {
        return !value.contains(' ');
    }
    // Bare code: only long, mixed, high-entropy tokens (not `self.token`, `get_password`).
    value.len() >= 16 && has_digit && has_alpha && entropy(value) >= 3.5
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    const NAME: &str = r"[A-Za-z0-9_.\-]*(?i:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|client[_\-]?secret|credentials?|authorization|auth(?:[_\-.]|\b))[A-Za-z0-9_.\-]*";
    vec![
        rule(
            "private-key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*\z)",
            0,
            always,
        ),
        rule(
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
            0,
            always,
        ),
        rule(
            "aws-key",
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
            0,
            always,
        ),
        rule(
            "aws-secret",
            r#"(?i)aws[_\-]?secret[_\-]?(?:access[_\-]?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b"#,
            1,
            always,
        ),
        rule(
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
            0,
            always,
        ),
        rule(
            "gitlab-token",
            r"\bgl(?:pat|dt|ptt|rt|oas)-[A-Za-z0-9_\-]{20,}",
            0,
            always,
        ),
        rule(
            "slack-token",
            r"\bxox[abposre]-[A-Za-z0-9\-]{10,}",
            0,
            always,
        ),
        rule(
            "slack-webhook",
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+",
            0,
            always,
        ),
        rule("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", 0, always),
        rule(
            "openai-key",
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
            0,
            always,
        ),
        rule("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}", 0, always),
        rule(
            "bearer-token",
            r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{16,}=*)",
            1,
            |v, _| !v.starts_with("[REDACTED"),
        ),
        rule(
            "stripe-key",
            r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}",
            0,
            always,
        ),
        rule(
            "url-password",
            r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@",
            1,
            |v, _| !v.starts_with("[REDACTED"),
        ),
        // `.env` style: KEY=VALUE at the start of a line.
        rule(
            "env-secret",
            &format!(r#"(?m)^(?P<env>(?:export\s+)?{NAME})\s*=\s*(?P<q>["']?)([^\s"'#]+)"#),
            3,
            assigned_secret,
        ),
        // Assignments in code, config and JSON: name = "value", name: value, "name": "value".
        rule(
            "secret-assignment",
            &format!(
                r#"(?:^|[^A-Za-z0-9_])["']?{NAME}["']?\s*(?::=|=|:)\s*(?P<q>["']?)([^\s"',;)}}\]]+)"#
            ),
            2,
            assigned_secret,
        ),
    ]
});

/// Redacts texts with placeholders that stay stable across calls.
#[derive(Debug, Default)]
pub struct Redactor {
    seen: HashMap<String, String>,
    next: HashMap<&'static str, usize>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn redact(&mut self, text: &str) -> Redacted {
        let mut out = text.to_string();
        let mut count = 0;
        let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
        for rule in RULES.iter() {
            // Collect spans first, then splice from the end so offsets stay valid.
            let mut spans = Vec::new();
            for caps in rule.re.captures_iter(&out) {
                let Some(m) = caps.get(rule.group) else {
                    continue;
                };
                if m.as_str().is_empty() || !(rule.accept)(m.as_str(), &caps) {
                    continue;
                }
                // Number in reading order, splice afterwards.
                let placeholder = self.placeholder(rule.kind, m.as_str());
                spans.push((m.start(), m.end(), placeholder));
            }
            for (start, end, placeholder) in spans.into_iter().rev() {
                out.replace_range(start..end, &placeholder);
                count += 1;
                *kinds.entry(rule.kind).or_default() += 1;
            }
        }
        Redacted {
            text: out,
            count,
            kinds,
        }
    }

    fn placeholder(&mut self, kind: &'static str, secret: &str) -> String {
        if let Some(p) = self.seen.get(secret) {
            return p.clone();
        }
        let n = self.next.entry(kind).or_default();
        *n += 1;
        let p = format!("[REDACTED:{kind}:{n}]");
        self.seen.insert(secret.to_string(), p.clone());
        p
    }
}

/// Redact one text with fresh numbering.
pub fn redact(text: &str) -> Redacted {
    Redactor::new().redact(text)
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
