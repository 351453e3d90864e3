//! `[audit]` across layers. Sinks are additive: each trusted layer may add one, none can remove,
//! disable or re-point a sink a more trusted layer defined (each keeps its own URL, credentials
//! and `required`). The workspace, which anyone may have written, can add none. The checkpoint
//! key is the enterprise's alone.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::Sourced;
use super::layer::{Layer, RawLayer};

/// `[audit.sink]` as configured (the audit crate connects; this crate only decides which apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkConfig {
    pub kind: String,
    pub url: String,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub required: bool,
    pub organisation: String,
    pub ca_file: Option<PathBuf>,
}

/// `[audit.otlp]`: an OpenTelemetry collector every record and run is exported to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtlpConfig {
    pub endpoint: String,
    /// Header values are credentials: `policy show` prints only their names.
    #[serde(serialize_with = "header_names")]
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: u64,
}

/// The export timeout when none is configured, and the most a flush may wait.
pub(crate) const OTLP_TIMEOUT_MS_DEFAULT: u64 = 3000;
pub(crate) const OTLP_TIMEOUT_MS_MAX: u64 = 5000;

fn header_names<S: serde::Serializer>(
    h: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(h.keys())
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditPolicy {
    /// Most trusted first.
    pub sinks: Vec<Sourced<SinkConfig>>,
    /// Collectors, most trusted first; like sinks, a lower layer can only add one.
    pub otlp: Vec<Sourced<OtlpConfig>>,
    pub checkpoint_key_file: Option<Sourced<PathBuf>>,
    pub checkpoint_every: Option<Sourced<u64>>,
}

/// `[audit.otlp]` of one layer, checked: an endpoint that is not an http(s) URL, a header that
/// cannot be sent or a timeout out of range is a configuration error, not a silent no-export.
pub(super) fn otlp_config(raw: &super::layer::RawOtlp) -> Result<OtlpConfig, String> {
    let bad = |what: String| Err(format!("[audit.otlp] {what}"));
    let e = raw.endpoint.trim();
    let rest = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => {}
        _ => {
            return bad(format!(
                "endpoint `{}` is not an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://collector:4318)",
                raw.endpoint
            ));
        }
    }
    for (k, v) in &raw.headers {
        let name_ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return bad(format!("header name `{k}` is not a valid HTTP header name"));
        }
        if v.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
            return bad(format!("header `{k}` has a control character in its value"));
        }
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(OTLP_TIMEOUT_MS_DEFAULT);
    if timeout_ms == 0 || timeout_ms > OTLP_TIMEOUT_MS_MAX {
        return bad(format!(
            "timeout_ms = {timeout_ms} is out of range (1..={OTLP_TIMEOUT_MS_MAX})"
        ));
    }
    Ok(OtlpConfig {
        endpoint: e.to_string(),
        headers: raw.headers.clone(),
        timeout_ms,
    })
}

pub(super) fn merge(layers: &[(Layer, &RawLayer)], warnings: &mut Vec<String>) -> AuditPolicy {
    let mut out = AuditPolicy::default();
    for (layer, raw) in layers {
        let a = &raw.audit;
        if let Some(o) = &a.otlp {
            if *layer == Layer::Workspace {
                warnings.push("workspace config sets [audit.otlp]; ignored (collectors come only from enterprise or user config)".into());
            } else {
                match otlp_config(o) {
                    Ok(cfg) => {
                        if !out.otlp.iter().any(|x| x.value == cfg) {
                            out.otlp.push(Sourced::new(cfg, *layer));
                        }
                    }
                    Err(e) => warnings.push(e),
                }
            }
        }
        if let Some(s) = &a.sink {
            if *layer == Layer::Workspace {
                warnings.push("workspace config sets [audit.sink]; ignored (sinks come only from enterprise or user config)".into());
            } else {
                let cfg = SinkConfig {
                    kind: s.kind.clone(),
                    url: s.url.clone(),
                    password_env: s.password_env.clone(),
                    password_file: s.password_file.clone(),
                    required: s.required.unwrap_or(false),
                    organisation: s.organisation.clone().unwrap_or_default(),
                    ca_file: s.ca_file.clone(),
                };
                if !out.sinks.iter().any(|x| x.value == cfg) {
                    out.sinks.push(Sourced::new(cfg, *layer));
                }
            }
        }
        if let Some(k) = &a.checkpoint_key_file {
            // The administrators' layers only: the enterprise policy, else the extra layer
            // `$JINGU_POLICY` adds on top of it (a key only adds a witness; it loosens nothing).
            if matches!(layer, Layer::Enterprise | Layer::Extra) {
                if out.checkpoint_key_file.is_none() {
                    out.checkpoint_key_file = Some(Sourced::new(k.clone(), *layer));
                }
            } else {
                warnings.push(format!(
                    "{layer} config sets audit.checkpoint_key_file; ignored (enterprise policy only)"
                ));
            }
        }
        if let Some(n) = a.checkpoint_every {
            match (&out.checkpoint_every, layer) {
                (_, Layer::Workspace) => {
                    warnings.push("workspace config sets audit.checkpoint_every; ignored".into())
                }
                // Enterprise (listed first) decides; a lower layer may only checkpoint more often.
                (Some(prev), _) if n == 0 || (prev.value != 0 && n >= prev.value) => {}
                _ => out.checkpoint_every = Some(Sourced::new(n, *layer)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{Layer, Policy};

    const ENTERPRISE: &str = r#"
[audit]
checkpoint_key_file = "/etc/jingu/audit-checkpoint.key"
checkpoint_every = 32
[audit.sink]
kind = "postgres"
url = "postgres://jingu_writer@db.corp:5432/audit"
password_env = "JINGU_AUDIT_PW"
required = true
organisation = "acme"
"#;

    #[test]
    fn lower_layers_cannot_remove_disable_or_repoint_the_enterprise_sink() {
        let user = r#"
[audit]
checkpoint_key_file = "/home/u/my.key"
checkpoint_every = 1000
[audit.sink]
kind = "postgres"
url = "postgres://me@localhost/audit"
required = false
"#;
        let workspace = "[audit.sink]\nkind = \"postgres\"\nurl = \"postgres://evil@attacker/x\"\n";
        let p = Policy::from_texts(Some(ENTERPRISE), Some(user), Some(workspace)).expect("policy");
        let sinks = &p.audit.sinks;
        assert_eq!(
            sinks.len(),
            2,
            "the user may add a sink; the workspace may not"
        );
        assert_eq!(sinks[0].layer, Layer::Enterprise);
        assert_eq!(
            sinks[0].value.url,
            "postgres://jingu_writer@db.corp:5432/audit"
        );
        assert!(sinks[0].value.required, "still required");
        assert_eq!(
            sinks[0].value.password_env.as_deref(),
            Some("JINGU_AUDIT_PW")
        );
        assert_eq!(sinks[1].layer, Layer::User);
        assert!(!sinks[1].value.required);
        assert!(sinks.iter().all(|s| !s.value.url.contains("attacker")));
        let key = p.audit.checkpoint_key_file.as_ref().expect("key");
        assert_eq!(
            key.layer,
            Layer::Enterprise,
            "the key is the enterprise's alone"
        );
        assert_eq!(p.audit.checkpoint_every.as_ref().map(|n| n.value), Some(32));
        assert!(p.warnings.iter().any(|w| w.contains("[audit.sink]")));
        assert!(p.warnings.iter().any(|w| w.contains("checkpoint_key_file")));
        // And the sinks are part of the policy's identity.
        let without = Policy::from_texts(None, Some(user), None).expect("policy");
        assert_ne!(p.hash(), without.hash());
    }

    #[test]
    fn unknown_audit_keys_are_errors() {
        for bad in [
            "[audit]\ncheckpoint_key = \"x\"\n",
            "[audit.sink]\nkind = \"postgres\"\nurl = \"u\"\npassword = \"inline\"\n",
            "[audit.sink]\nurl = \"u\"\n",
        ] {
            assert!(Policy::from_texts(None, Some(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn lower_layers_cannot_remove_or_repoint_the_enterprise_collector() {
        let enterprise = "[audit.otlp]\nendpoint = \"http://otel.corp:4318\"\nheaders = { authorization = \"Bearer corp-secret\" }\n";
        let user = "[audit.otlp]\nendpoint = \"http://127.0.0.1:4318/\"\ntimeout_ms = 500\n";
        let workspace = "[audit.otlp]\nendpoint = \"http://attacker:4318\"\n";
        let p = Policy::from_texts(Some(enterprise), Some(user), Some(workspace)).expect("policy");
        let o = &p.audit.otlp;
        assert_eq!(
            o.len(),
            2,
            "the user may add a collector; the workspace may not"
        );
        assert_eq!(o[0].layer, Layer::Enterprise);
        assert_eq!(o[0].value.endpoint, "http://otel.corp:4318");
        assert_eq!(o[0].value.timeout_ms, super::OTLP_TIMEOUT_MS_DEFAULT);
        assert_eq!(
            o[0].value.headers.get("authorization").map(String::as_str),
            Some("Bearer corp-secret")
        );
        assert_eq!(o[1].layer, Layer::User);
        assert_eq!(o[1].value.timeout_ms, 500);
        assert!(o.iter().all(|c| !c.value.endpoint.contains("attacker")));
        assert!(p.warnings.iter().any(|w| w.contains("[audit.otlp]")));
        // Header values are credentials: shown by name only.
        let shown = serde_json::to_string(&p.audit).expect("json");
        assert!(
            shown.contains("authorization") && !shown.contains("corp-secret"),
            "{shown}"
        );
        // Part of the policy's identity.
        let without = Policy::from_texts(None, Some(user), None).expect("policy");
        assert_ne!(p.hash(), without.hash());
    }

    #[test]
    fn a_malformed_otlp_section_is_an_error_naming_what_is_wrong() {
        for (bad, says) in [
            (
                "[audit.otlp]\nendpoint = \"collector:4318\"\n",
                "not an http:// or https:// URL",
            ),
            (
                "[audit.otlp]\nendpoint = \"http://\"\n",
                "not an http:// or https:// URL",
            ),
            (
                "[audit.otlp]\nendpoint = \"http://c\"\ntimeout_ms = 0\n",
                "timeout_ms = 0",
            ),
            (
                "[audit.otlp]\nendpoint = \"http://c\"\nheaders = { \"a b\" = \"x\" }\n",
                "header name `a b`",
            ),
            (
                "[audit.otlp]\nendpoint = \"http://c\"\nheaders = { a = \"x\\ny\" }\n",
                "control character",
            ),
            ("[audit.otlp]\nurl = \"http://c\"\n", "url"),
        ] {
            let err = Policy::from_texts(Some(bad), None, None).expect_err(bad);
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_lower_layer_may_only_checkpoint_more_often() {
        let user = "[audit]\ncheckpoint_every = 8\n";
        let p = Policy::from_texts(Some(ENTERPRISE), Some(user), None).expect("policy");
        assert_eq!(p.audit.checkpoint_every.as_ref().map(|n| n.value), Some(8));
    }
}
