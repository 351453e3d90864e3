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
    const NAME: &str = r"[A-Za-z0-9_.\-]*(?i:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|client[_\-]?secret|credentials?|authorization|auth(?:[_\-.]|\b))[A-Za-z0-9_.\-]*";
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
            "google-oauth-secret",
            r"\bGOCSPX-[A-Za-z0-9_\-]{20,}",
            0,
            always,
        ),
        rule(
            "google-oauth-token",
            r"\bya29\.[0-9A-Za-z_\-]{20,}",
            0,
            always,
        ),
        rule("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", 0, always),
        rule("pypi-token", r"\bpypi-AgE[A-Za-z0-9_\-]{40,}", 0, always),
        rule("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b", 0, always),
        rule(
            "sendgrid-key",
            r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{30,}",
            0,
            always,
        ),
        rule(
            "digitalocean-token",
            r"\bdo[por]_v1_[a-f0-9]{64}\b",
            0,
            always,
        ),
        rule(
            "shopify-token",
            r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b",
            0,
            always,
        ),
        rule(
            "slack-app-token",
            r"\b(?:xapp-\d-[A-Za-z0-9\-]{10,}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9\-]{10,})",
            0,
            always,
        ),
        rule(
            "stripe-webhook-secret",
            r"\bwhsec_[A-Za-z0-9]{24,}",
            0,
            always,
        ),
        rule(
            "azure-storage-key",
            r"(?i)(?:AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{40,}={0,2})",
            1,
            always,
        ),
        rule(
            "azure-sas-signature",
            r"(?i)[?&]sig=([A-Za-z0-9%+/=]{30,})",
            1,
            always,
        ),
        rule(
            "azure-client-secret",
            r"\b[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}",
            0,
            always,
        ),
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
        // A password typed in a sentence: `pw=hunter2…`, `pass: …`, `passphrase = …`.
        rule(
            "typed-password",
            r#"(?im)(?:^|[^A-Za-z0-9_])(?:pw|pwd|pass|passwd|password|passphrase|pin)\s*(?:=|:|\s+is\s+)\s*(?P<q>["'`]?)([^\s"'`,;]{4,})"#,
            2,
            typed_password,
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
        // Any name assigned a long, random-looking value (base64/base62 alphabet, several
        // character classes, high entropy): a credential whatever it is called.
        rule(
            "high-entropy-assignment",
            r#"(?m)(?:^|[^A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_.\-]*["']?\s*(?::=|=|:)\s*(?P<q>["']?)([A-Za-z0-9+/_\-]{20,}={0,2})(?:["']|\s|$|[,;)}\]])"#,
            2,
            high_entropy,
        ),
    ]
});

/// `password: String`, `pass = get_pass()`, `pw: Option<&str>` are code, not passwords.
fn typed_password(v: &str, _: &Captures<'_>) -> bool {
    let code = v.contains(['(', ')', '<', '>', '[', ']', '{', '}', '&'])
        || v.contains("::")
        || v.starts_with("[REDACTED")
        || v.starts_with("${")
        || v.starts_with('$');
    let type_name = v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && v.chars().skip(1).all(|c| c.is_ascii_lowercase());
    let keyword = matches!(
        v.to_ascii_lowercase().as_str(),
        "self"
            | "this"
            | "none"
            | "null"
            | "nil"
            | "true"
            | "false"
            | "str"
            | "string"
            | "bool"
            | "bytes"
            | "required"
            | "optional"
            | "undefined"
            | "empty"
            | "unset"
    );
    !(code || type_name || keyword)
}

/// Random-looking enough to be a key: ≥ 20 chars, upper, lower and digits, ≥ 4.2 bits/char.
/// Pure hex (hashes, commit ids) and identifiers made of words are left alone.
fn high_entropy(value: &str, _: &Captures<'_>) -> bool {
    let upper = value.chars().filter(char::is_ascii_uppercase).count();
    let lower = value.chars().filter(char::is_ascii_lowercase).count();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let hex_only = value.chars().all(|c| c.is_ascii_hexdigit());
    !value.starts_with("REDACTED")
        && !hex_only
        && upper >= 2
        && lower >= 2
        && digits >= 2
        && entropy(value) >= 4.2
}

/// Redacts texts with placeholders that stay stable across calls.
#[derive(Debug, Default)]
pub struct Redactor {
    seen: HashMap<String, String>,
    next: HashMap<&'static str, usize>,
    /// Exact values known to be secret (and their encodings), longest first, in chunks that each
    /// compile well under the regex size limit; see [`super::known`].
    known: Vec<Regex>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor that also replaces every occurrence of `values` (exactly, and their base64,
    /// hex, reversed and percent-encoded forms), whatever pattern they have.
    pub fn with_known(values: &[String]) -> Self {
        let mut forms: Vec<String> = values.iter().flat_map(|v| super::known::forms(v)).collect();
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        forms.dedup();
        let known = forms
            .chunks(256)
            .filter_map(|chunk| {
                let alt: Vec<String> = chunk.iter().map(|f| regex::escape(f)).collect();
                // Escaped literals always compile; a size-limit failure is logged, not silent.
                regex::RegexBuilder::new(&alt.join("|"))
                    .size_limit(64 << 20)
                    .build()
                    .map_err(|e| tracing::error!("known-secret matcher not built: {e}"))
                    .ok()
            })
            .collect();
        Self {
            known,
            ..Self::default()
        }
    }

    pub fn redact(&mut self, text: &str) -> Redacted {
        let mut out = text.to_string();
        let mut count = 0;
        let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
        for re in self.known.clone() {
            let spans: Vec<(usize, usize, String)> = re
                .find_iter(&out)
                .map(|m| (m.start(), m.end(), m.as_str().to_string()))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|(a, b, secret)| (a, b, self.placeholder("known-secret", &secret)))
                .collect();
            for (start, end, placeholder) in spans.into_iter().rev() {
                out.replace_range(start..end, &placeholder);
                count += 1;
                *kinds.entry("known-secret").or_default() += 1;
            }
        }
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
