use super::*;

/// Seeded secrets of every kind (fake, but shaped like the real ones), each with the kind expected.
fn seeded() -> Vec<(&'static str, String)> {
    let b = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0";
    vec![
        ("aws-key", "AKIAIOSFODNN7EXAMPLE".to_string()),
        ("aws-key", "ASIAY34FZKBOKMUTVV7A".to_string()),
        ("github-token", format!("ghp_{}", &b[..36])),
        ("github-token", format!("github_pat_11ABCDEFG0{}", &b[..30])),
        ("gitlab-token", "glpat-xYz12AbC34dEf56GhI78".to_string()),
        (
            "slack-token",
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx".to_string(),
        ),
        (
            "slack-webhook",
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX".to_string(),
        ),
        ("anthropic-key", format!("sk-ant-api03-{}", &b[..32])),
        ("openai-key", format!("sk-proj-{}", &b[..40])),
        ("openai-key", format!("sk-{}", &b[..32])),
        (
            "google-api-key",
            "AIzaSyD-1234567890abcdefghijklmnopqrstu".to_string(),
        ),
        ("stripe-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc".to_string()),
        (
            "jwt",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU".to_string(),
        ),
    ]
}

#[test]
fn every_seeded_token_kind_is_redacted() {
    for (kind, secret) in seeded() {
        let text = format!("config: use {secret} for the call\n");
        let r = redact(&text);
        assert!(!r.text.contains(&secret), "{kind} leaked: {}", r.text);
        assert_eq!(
            r.kinds.get(kind),
            Some(&1),
            "{kind}: {:?} in {}",
            r.kinds,
            r.text
        );
        assert!(
            r.text.contains(&format!("[REDACTED:{kind}:1]")),
            "{}",
            r.text
        );
    }
}

#[test]
fn private_key_blocks_are_redacted_whole() {
    for label in [
        "RSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ] {
        let text = format!(
            "key:\n-----BEGIN {label}-----\nMIIEpAIBAAKCAQEA1234\nabcdEFGH5678\n-----END {label}-----\ndone\n"
        );
        let r = redact(&text);
        assert_eq!(r.text, "key:\n[REDACTED:private-key:1]\ndone\n", "{label}");
    }
    // An unterminated block (truncated paste) is redacted to the end.
    let r = redact("x\n-----BEGIN PRIVATE KEY-----\nMIIEv\nQwerty");
    assert_eq!(r.text, "x\n[REDACTED:private-key:1]");
}

#[test]
fn passwords_in_urls_keep_user_and_host() {
    let r = redact("DATABASE_URL is postgres://app:Sup3r-S3cret!@db.internal:5432/app");
    assert_eq!(
        r.text,
        "DATABASE_URL is postgres://app:[REDACTED:url-password:1]@db.internal:5432/app"
    );
    let r = redact("git clone https://bob:ghs_notreallyatokenbutlong@example.com/r.git");
    assert!(!r.text.contains("notreally"), "{}", r.text);
}

#[test]
fn env_file_content_is_redacted() {
    let env = "\
# comment
DATABASE_PASSWORD=hunter2hunter2
export STRIPE_SECRET='s3cr3t-value-here'
API_KEY=\"abc123def456\"
SESSION_TOKEN=q8Zt1LmN0pRsVwXy
PORT=8080
DEBUG=true
MAX_TOKENS=4096
APP_NAME=jingu
";
    let r = redact(env);
    for secret in [
        "hunter2hunter2",
        "s3cr3t-value-here",
        "abc123def456",
        "q8Zt1LmN0pRsVwXy",
    ] {
        assert!(!r.text.contains(secret), "{secret} leaked:\n{}", r.text);
    }
    for kept in [
        "PORT=8080",
        "DEBUG=true",
        "MAX_TOKENS=4096",
        "APP_NAME=jingu",
        "# comment",
    ] {
        assert!(r.text.contains(kept), "{kept} mangled:\n{}", r.text);
    }
    assert_eq!(r.count, 4);
}

#[test]
fn assignments_in_code_and_config_are_redacted() {
    let cases = [
        r#"let password = "correct-horse-battery";"#,
        r#"db_password: "Pa55w0rd!x""#,
        r#"{"client_secret": "9f8e7d6c5b4a3210fedc"}"#,
        r#"AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"#,
        r#"aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"#,
        r#"self.api_key = 'k-7Hq2Lx9Pz4Wm1Rt8'"#,
        r#"auth_token := "tok_8d7f6e5d4c3b2a19""#,
        r#"config.secret = Zx9Kq2Lm8Np4Rt7Vw3Ys6"#,
        r#"curl -H "Authorization: Bearer abcdef0123456789ghijklmnop""#,
    ];
    for c in cases {
        let r = redact(c);
        assert!(r.count >= 1, "not redacted: {c} -> {}", r.text);
        assert!(r.text.contains("[REDACTED:"), "{}", r.text);
        for secret in [
            "correct-horse",
            "Pa55w0rd",
            "9f8e7d6c",
            "wJalrXUtn",
            "k-7Hq2",
            "tok_8d7f",
            "Zx9Kq2",
            "abcdef0123",
        ] {
            assert!(!r.text.contains(secret), "{secret} leaked: {}", r.text);
        }
    }
}

#[test]
fn same_secret_same_placeholder_across_calls() {
    let mut r = Redactor::new();
    let a = r.redact("key AKIAIOSFODNN7EXAMPLE and AKIAI44QH8DHBEXAMPLE");
    assert_eq!(a.text, "key [REDACTED:aws-key:1] and [REDACTED:aws-key:2]");
    let b = r.redact("again AKIAI44QH8DHBEXAMPLE then AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        b.text,
        "again [REDACTED:aws-key:2] then [REDACTED:aws-key:1]"
    );
    assert_eq!(b.count, 2);
}

#[test]
fn ordinary_code_is_not_mangled() {
    let code = r#"
use std::collections::HashMap;

/// Tokenizer for the expression language.
pub struct Lexer<'a> { src: &'a str, pos: usize }

fn next_token(&mut self) -> Option<Token> {
    let token = self.lexer.next_token();
    if token == Token::Eof { return None; }
    let password: String = read_password_from_tty()?;
    let api_key: Option<String> = std::env::var("OPENAI_API_KEY").ok();
    let secret_len = 32;
    let auth = Auth::new(user);
    let author = "Jane Doe";
    let url = "https://example.com/path?q=1";
    let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    token_count += 1;
    Some(token)
}

def check_password(user, password):
    return bcrypt.checkpw(password.encode(), user.password_hash)

const MAX_TOKENS = 4096;
const TOKEN_TTL_SECS = 3600;
"#;
    let r = redact(code);
    assert_eq!(r.count, 0, "false positives: {:?}\n{}", r.kinds, r.text);
    assert_eq!(r.text, code);
}

#[test]
fn placeholders_are_not_re_redacted() {
    let once = redact("password = \"hunter2hunter2\"\nAKIAIOSFODNN7EXAMPLE");
    let twice = redact(&once.text);
    assert_eq!(twice.count, 0);
    assert_eq!(twice.text, once.text);
}
