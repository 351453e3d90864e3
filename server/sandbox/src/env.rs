//! The environment a sandboxed command sees: built from nothing, never carrying secrets.

use std::path::Path;

/// Variables copied from the parent when present (besides the allowlist in the config).
const BASE_PASSTHROUGH: &[&str] = &["LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ"];

/// Name fragments that mark a variable as secret; such variables are dropped even if allowlisted.
const SECRET_MARKERS: &[&str] = &[
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
    "SESSION",
    "PRIVATE",
    "CERT",
];
const SECRET_PREFIXES: &[&str] = &[
    "AWS_", "AZURE_", "GOOGLE_", "GCP_", "GH_", "GITHUB_", "SSH_",
];

/// True for names like `OPENAI_API_KEY`, `AWS_REGION`, `SSH_AUTH_SOCK`, `DB_PASSWORD`.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_PREFIXES.iter().any(|p| upper.starts_with(p))
        || SECRET_MARKERS.iter().any(|m| upper.contains(m))
}

/// Builds the child's environment. `PATH` keeps only entries that satisfy `path_visible`
/// (directories the sandbox can read), so lookups never land on an unreadable shim.
pub(crate) fn scrubbed_env(
    parent: impl IntoIterator<Item = (String, String)>,
    allowlist: &[String],
    tmp: &Path,
    path_visible: impl Fn(&Path) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut parent_path = None;
    for (k, v) in parent {
        if k == "PATH" {
            parent_path = Some(v);
        } else if (BASE_PASSTHROUGH.contains(&k.as_str()) || allowlist.contains(&k))
            && !is_secret_name(&k)
        {
            out.push((k, v));
        }
    }
    let path = parent_path
        .as_deref()
        .unwrap_or("/usr/local/bin:/usr/bin:/bin")
        .split(':')
        .filter(|d| !d.is_empty() && Path::new(d).is_absolute() && path_visible(Path::new(d)))
        .collect::<Vec<_>>()
        .join(":");
    let path = if path.is_empty() {
        "/usr/local/bin:/usr/bin:/bin".to_string()
    } else {
        path
    };
    let tmp = tmp.to_string_lossy().into_owned();
    out.push(("PATH".into(), path));
    out.push(("HOME".into(), tmp.clone()));
    out.push(("TMPDIR".into(), tmp));
    if !out.iter().any(|(k, _)| k == "LANG") {
        out.push(("LANG".into(), "C.UTF-8".into()));
    }
    out
}
