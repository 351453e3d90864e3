//! Values known to be secret, for exact-value redaction: whatever shape a secret has, once Jingu
//! knows it (it sits in a `deny_paths` file such as `.env`, or in a secret-named environment
//! variable) it is replaced wherever it appears — also base64-, hex-, percent-encoded or
//! reversed, the encodings a model or a command might print it in.

use std::path::Path;

use super::Policy;

/// Shorter values are not matched exactly (too many innocent collisions).
pub const MIN_KNOWN_LEN: usize = 8;
/// Bytes read per deny_paths file, and values kept overall.
const MAX_FILE_BYTES: u64 = 256 * 1024;
const MAX_VALUES: usize = 512;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8], url: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
            out.push(match (url, c) {
                (true, b'+') => '-',
                (true, b'/') => '_',
                _ => c as char,
            });
        }
    }
    out
}

/// The encodings of `v` to look for. Base64 also at the two other byte alignments (the value
/// embedded in a longer encoded string, e.g. `user:password` in a Basic auth header), keeping only
/// the characters that depend on `v` alone.
pub fn forms(v: &str) -> Vec<String> {
    if v.len() < MIN_KNOWN_LEN {
        return Vec::new();
    }
    let b = v.as_bytes();
    let mut out = vec![
        v.to_string(),
        v.chars().rev().collect(),
        hex::encode(b),
        hex::encode_upper(b),
    ];
    for url in [false, true] {
        for shift in 0..3usize {
            let mut buf = vec![0u8; shift];
            buf.extend_from_slice(b);
            let enc = base64(&buf, url);
            let start = if shift == 0 { 0 } else { 4 };
            let end = (buf.len() / 3) * 4;
            if end > start && end - start >= MIN_KNOWN_LEN {
                out.push(enc[start..end].to_string());
            }
            if shift == 0 {
                out.push(enc.clone());
            }
        }
    }
    let pct: String = b
        .iter()
        .map(|&c| {
            if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    out.push(pct);
    out.retain(|f| f.len() >= MIN_KNOWN_LEN);
    out.sort();
    out.dedup();
    out
}

/// The secret values in one file's text: `.env`/YAML/INI style `KEY=VALUE` / `KEY: VALUE` values
/// (quotes stripped), and whole lines that are a single token (a bare key file).
pub fn values_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("-----") {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let value = match line.split_once(['=', ':']) {
            Some((k, v)) if !k.trim().contains(char::is_whitespace) => v.trim(),
            _ => line,
        };
        let value = value
            .trim_matches(|c| c == '"' || c == '\'')
            .trim_end_matches(',');
        if value.len() >= MIN_KNOWN_LEN && !value.contains(char::is_whitespace) {
            out.push(value.to_string());
        }
    }
    out
}

/// At most [`MAX_FILE_BYTES`] of the regular file `path`, refusing a final symlink.
fn read_nofollow(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut out)?;
    Ok(out)
}

impl Policy {
    /// Secret values Jingu knows for the workspace at `root`: from the files `deny_paths` covers
    /// (bounded), and from secret-named variables in `env`.
    pub fn known_secrets(
        &self,
        root: &Path,
        env: impl IntoIterator<Item = (String, String)>,
        is_secret_name: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let (denied, _) = self.denied_entries(root);
        for path in denied {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            // A denied name that is a symlink is not followed (its target is not the secret).
            if let Ok(text) = read_nofollow(&root.join(rel)) {
                out.extend(values_in(&String::from_utf8_lossy(&text)));
            }
            if out.len() >= MAX_VALUES {
                break;
            }
        }
        for (name, value) in env {
            // Paths (`SSH_AUTH_SOCK`, `GITHUB_WORKSPACE`) name places, not secrets.
            let path_like = value.starts_with('/') || value.starts_with('~');
            if is_secret_name(&name)
                && value.len() >= MIN_KNOWN_LEN
                && !path_like
                && !value.contains(char::is_whitespace)
            {
                out.push(value);
            }
        }
        out.truncate(MAX_VALUES);
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64(b"hello", false), "aGVsbG8");
        assert_eq!(base64(b"hi?>", true), "aGk_Pg");
        assert_eq!(base64(b"abc", false), "YWJj");
    }

    #[test]
    fn forms_cover_encodings_and_alignments() {
        let f = forms("s3cr3t-v4lue-xyz");
        assert!(f.contains(&"s3cr3t-v4lue-xyz".to_string()));
        assert!(f.contains(&"zyx-eul4v-t3rc3s".to_string()));
        assert!(f.contains(&hex::encode("s3cr3t-v4lue-xyz")));
        // `user:` + value, base64: the value's part of the encoding is among the forms.
        let basic = base64(b"user:s3cr3t-v4lue-xyz", false);
        assert!(
            f.iter().any(|x| basic.contains(x.as_str())),
            "{basic} {f:?}"
        );
        assert!(forms("short").is_empty());
    }

    #[test]
    fn values_come_from_assignments_and_bare_lines() {
        let v = values_in(
            "# c\nexport DB_PASSWORD=\"hunter2hunter2\"\nplain: v4lue-123456\nTOKEN_ONLY_LINE_abcdef123\nshort=1\n",
        );
        assert_eq!(
            v,
            vec![
                "hunter2hunter2",
                "v4lue-123456",
                "TOKEN_ONLY_LINE_abcdef123"
            ]
        );
    }
}
