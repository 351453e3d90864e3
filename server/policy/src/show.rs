//! `jingu policy show`: every effective value with the layer it came from, plus what was ignored.

use serde::Serialize;
use serde_json::{Value, json};

use super::Policy;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    /// Layer name, or `a+b` for values combined from several layers.
    pub layer: String,
}

fn entry(key: impl Into<String>, value: Value, layer: impl Into<String>) -> Entry {
    Entry {
        key: key.into(),
        value,
        layer: layer.into(),
    }
}

impl Policy {
    /// Effective security values in a fixed order (also the input of [`Policy::hash`]).
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        for (tool, d) in &self.tools {
            out.push(entry(
                format!("policy.tools.{}", tool.as_str()),
                json!(d.value),
                d.layer.as_str(),
            ));
        }
        for g in &self.deny_paths {
            out.push(entry(
                "policy.deny_paths[]",
                json!(g.value),
                g.layer.as_str(),
            ));
        }
        let ap = &self.allowed_providers;
        let layers: Vec<&str> = ap.layers.iter().map(|l| l.as_str()).collect();
        out.push(entry(
            "policy.allowed_providers",
            json!(ap.names),
            if layers.is_empty() {
                "default".to_string()
            } else {
                layers.join("+")
            },
        ));
        out.push(entry(
            "policy.sandbox",
            json!(self.sandbox.value),
            self.sandbox.layer.as_str(),
        ));
        out.push(entry(
            "policy.redact",
            json!(self.redact.value),
            self.redact.layer.as_str(),
        ));
        out.push(entry(
            "policy.require_inference_only",
            json!(self.require_inference_only.value),
            self.require_inference_only.layer.as_str(),
        ));
        let id = &self.identity;
        out.push(entry(
            "identity.required",
            json!(id.required.value),
            id.required.layer.as_str(),
        ));
        let opt = |k: &str, v: Option<(Value, &str)>| match v {
            Some((v, l)) => entry(k, v, l),
            None => entry(k, Value::Null, "default"),
        };
        out.push(opt(
            "identity.issuer",
            id.issuer
                .as_ref()
                .map(|s| (json!(s.value), s.layer.as_str())),
        ));
        out.push(opt(
            "identity.audience",
            id.audience
                .as_ref()
                .map(|s| (json!(s.value), s.layer.as_str())),
        ));
        out.push(opt(
            "identity.jwks_file",
            id.jwks_file
                .as_ref()
                .map(|s| (json!(s.value), s.layer.as_str())),
        ));
        out.push(opt(
            "identity.token_file",
            id.token_file
                .as_ref()
                .map(|s| (json!(s.value), s.layer.as_str())),
        ));
        out.push(entry(
            "skills.require_signed",
            json!(self.skills.require_signed.value),
            self.skills.require_signed.layer.as_str(),
        ));
        for k in &self.skills.trusted_keys {
            out.push(entry(
                "skills.trusted_keys[]",
                json!(k.value),
                k.layer.as_str(),
            ));
        }
        let f = &self.flows;
        // The built-in sinks are one entry; what layers add is listed with its layer.
        out.push(entry(
            "policy.flows.sensitive_sinks (built-in)",
            json!(super::flows::BUILTIN_SENSITIVE_SINKS.len()),
            "default",
        ));
        for (key, list) in [
            ("policy.flows.sensitive_sinks[]", &f.sensitive_sinks),
            ("policy.flows.trusted_paths[]", &f.trusted_paths),
            ("policy.flows.ask_human_paths[]", &f.ask_human_paths),
        ] {
            for g in list.iter().filter(|g| g.layer != super::Layer::Default) {
                out.push(entry(key, json!(g.value), g.layer.as_str()));
            }
        }
        out.push(entry(
            "policy.flows.untrusted_to_sink",
            json!(f.untrusted_to_sink.value),
            f.untrusted_to_sink.layer.as_str(),
        ));
        out.push(entry(
            "policy.flows.bulk_change_threshold",
            json!(f.bulk_change_threshold.value),
            f.bulk_change_threshold.layer.as_str(),
        ));
        for (name, table) in self.providers_table() {
            let layers: Vec<&str> = self
                .provider_layers(name)
                .iter()
                .map(|l| l.as_str())
                .collect();
            out.push(entry(
                format!("providers.{name}"),
                json!(table),
                layers.join("+"),
            ));
        }
        // Listed only when set, so policies without them keep their hash.
        for s in &self.audit.sinks {
            out.push(entry("audit.sink[]", json!(s.value), s.layer.as_str()));
        }
        for o in &self.audit.otlp {
            out.push(entry("audit.otlp[]", json!(o.value), o.layer.as_str()));
        }
        if let Some(k) = &self.audit.checkpoint_key_file {
            out.push(entry(
                "audit.checkpoint_key_file",
                json!(k.value),
                k.layer.as_str(),
            ));
        }
        if let Some(n) = &self.audit.checkpoint_every {
            out.push(entry(
                "audit.checkpoint_every",
                json!(n.value),
                n.layer.as_str(),
            ));
        }
        // Listed only when set, like the audit keys above.
        for (value, layer) in super::rules::entries(&self.rules) {
            out.push(entry("policy.rules[]", value, layer.as_str()));
        }
        for name in self.mcp_table().keys() {
            out.push(entry(
                format!("mcp.{name}"),
                json!(self.mcp_table().get(name)),
                "enterprise/user",
            ));
        }
        out
    }

    /// The whole report as one JSON document.
    pub fn show_json(&self) -> Value {
        json!({
            "hash": self.hash(),
            "signature": self.signature,
            "files": self.files.iter().map(|(l, p)| json!({"layer": l, "path": p})).collect::<Vec<_>>(),
            "values": self.entries(),
            "warnings": self.warnings,
        })
    }

    /// Human-readable report, one value per line.
    pub fn show_text(&self) -> String {
        let mut s = String::new();
        for (l, p) in &self.files {
            s.push_str(&format!("# {l:<10} {}\n", p.display()));
        }
        s.push_str(&format!(
            "# signature  {:?}\n# hash       {}\n",
            self.signature,
            self.hash()
        ));
        let entries = self.entries();
        let width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
        for e in entries {
            s.push_str(&format!(
                "{:<width$}  {:<40}  [{}]\n",
                e.key,
                e.value.to_string(),
                e.layer
            ));
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }
}
