//! Merging layers into the effective policy.
//!
//! Security keys: the trusted layers (enterprise, user) that set a key decide it, most restrictive
//! first; when neither sets it the built-in default stands in, so the untrusted workspace can only
//! ever tighten, never go below the default. Trust-bearing sections (providers, MCP servers,
//! trusted keys, identity verifiers) are never taken from the workspace.

use std::path::PathBuf;

use super::decide::DenySet;
use super::layer::{Layer, RawLayer};
use super::{
    AllowedProviders, IdentityPolicy, Policy, SandboxMode, SignatureStatus, SkillsPolicy, Sourced,
    Tool, ToolDecision,
};

/// Secrets that are never sent or touched whatever the config says.
pub(crate) const DEFAULT_DENY_PATHS: [&str; 7] = [
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
];

fn default_tool(tool: Tool) -> ToolDecision {
    match tool {
        Tool::Read | Tool::Complete => ToolDecision::Allow,
        Tool::Edit | Tool::RunCommand | Tool::Mcp => ToolDecision::Ask,
    }
}

/// Most restrictive (maximum) of the values set by `layers`, per the rule in the module comment.
fn strictest<T: Ord + Copy + serde::Serialize>(
    key: &str,
    default: T,
    layers: &[(Layer, &RawLayer)],
    get: impl Fn(&RawLayer) -> Option<T>,
    warnings: &mut Vec<String>,
) -> Sourced<T> {
    let trusted: Vec<Sourced<T>> = layers
        .iter()
        .filter(|(l, _)| *l != Layer::Workspace)
        .filter_map(|(l, r)| get(r).map(|v| Sourced::new(v, *l)))
        .collect();
    let mut best = trusted
        .into_iter()
        .reduce(|a, b| if b.value > a.value { b } else { a })
        .unwrap_or(Sourced::new(default, Layer::Default));
    if let Some((_, ws)) = layers.iter().find(|(l, _)| *l == Layer::Workspace)
        && let Some(v) = get(ws)
    {
        if v > best.value {
            best = Sourced::new(v, Layer::Workspace);
        } else if v < best.value {
            let show = |x: &T| serde_json::to_string(x).unwrap_or_default();
            warnings.push(format!(
                "workspace config tries to loosen {key} to {}; ignored (effective {} from {})",
                show(&v),
                show(&best.value),
                best.layer
            ));
        }
    }
    best
}

/// First value set by a trusted layer (enterprise before user); workspace values are ignored.
fn trusted_only<T: Clone>(
    key: &str,
    layers: &[(Layer, &RawLayer)],
    get: impl Fn(&RawLayer) -> Option<T>,
    warnings: &mut Vec<String>,
) -> Option<Sourced<T>> {
    let mut out = None;
    for (l, r) in layers {
        let Some(v) = get(r) else { continue };
        if *l == Layer::Workspace {
            warnings.push(format!(
                "workspace config sets {key}; ignored (only enterprise or user config may)"
            ));
        } else if out.is_none() {
            out = Some(Sourced::new(v, *l));
        }
    }
    out
}

/// Keys that point Jingu at a network endpoint: never honoured from the workspace.
const ENDPOINT_KEYS: [&str; 4] = ["base_url", "url", "endpoint", "api_base"];

fn strip_endpoints(table: &mut toml::Table, at: &str, warnings: &mut Vec<String>) {
    let keys: Vec<String> = table.keys().cloned().collect();
    for k in keys {
        let here = format!("{at}.{k}");
        if ENDPOINT_KEYS.contains(&k.as_str()) {
            table.remove(&k);
            warnings.push(format!("workspace config sets {here}; ignored (base URLs come only from enterprise or user config)"));
        } else if let Some(toml::Value::Table(sub)) = table.get_mut(&k) {
            strip_endpoints(sub, &here, warnings);
        }
    }
}

/// Fields of a provider that a layer below its owner may still set: they cannot redirect the
/// request or its credentials. `model` is further limited to the owner's `allowed_models`.
const NARROWABLE_PROVIDER_KEYS: [&str; 5] = [
    "model",
    "connect_timeout_ms",
    "read_timeout_ms",
    "max_attempts",
    "max_tokens",
];

/// The providers of the trusted layers (most trusted first). The most trusted layer defining a
/// provider owns it: lower layers may only narrow it (see [`NARROWABLE_PROVIDER_KEYS`]), so a user
/// config cannot re-point an enterprise provider's endpoint or key at its own server.
fn merge_providers(
    layers: &[(Layer, &RawLayer)],
    warnings: &mut Vec<String>,
) -> (toml::Table, std::collections::BTreeMap<String, Vec<Layer>>) {
    let mut providers = toml::Table::new();
    let mut owners: std::collections::BTreeMap<String, Vec<Layer>> = Default::default();
    for (l, r) in layers.iter().filter(|(l, _)| *l != Layer::Workspace) {
        for (name, v) in &r.providers {
            let Some(owned) = providers.get_mut(name).and_then(toml::Value::as_table_mut) else {
                providers.insert(name.clone(), v.clone());
                owners.insert(name.clone(), vec![*l]);
                continue;
            };
            let owner = owners.get(name).and_then(|o| o.first()).copied();
            let owner = owner.unwrap_or(Layer::Enterprise);
            let Some(fields) = v.as_table() else { continue };
            let mut used = false;
            for (k, val) in fields {
                let allowed_models = owned
                    .get("allowed_models")
                    .and_then(toml::Value::as_array)
                    .map(|a| a.iter().filter_map(toml::Value::as_str).collect::<Vec<_>>());
                let ok = match k.as_str() {
                    "model" => val
                        .as_str()
                        .is_some_and(|m| allowed_models.is_some_and(|a| a.contains(&m))),
                    k => NARROWABLE_PROVIDER_KEYS.contains(&k),
                };
                if ok {
                    owned.insert(k.clone(), val.clone());
                    used = true;
                } else {
                    warnings.push(format!(
                        "{l} config sets providers.{name}.{k}; ignored (provider `{name}` is defined by the {owner} config{})",
                        if k == "model" {
                            ", and a model must come from its allowed_models"
                        } else {
                            ", which seals its endpoint, credentials and data use"
                        }
                    ));
                }
            }
            if used && let Some(o) = owners.get_mut(name) {
                o.push(*l);
            }
        }
    }
    (providers, owners)
}

/// MCP servers: the most trusted layer defining a server owns all of it (a command or URL is
/// where tool output and arguments go, so nothing below may change it).
fn merge_mcp(layers: &[(Layer, &RawLayer)], warnings: &mut Vec<String>) -> toml::Table {
    let mut mcp = toml::Table::new();
    let mut owner: std::collections::BTreeMap<String, Layer> = Default::default();
    for (l, r) in layers.iter().filter(|(l, _)| *l != Layer::Workspace) {
        for (name, v) in &r.mcp {
            match owner.get(name) {
                Some(o) => warnings.push(format!(
                    "{l} config redefines MCP server `{name}`; ignored (defined by the {o} config)"
                )),
                None => {
                    owner.insert(name.clone(), *l);
                    mcp.insert(name.clone(), v.clone());
                }
            }
        }
    }
    mcp
}

pub(crate) fn merge(
    layers: &[(Layer, &RawLayer)],
    signature: SignatureStatus,
    files: Vec<(Layer, PathBuf)>,
) -> Result<Policy, globset::Error> {
    let mut warnings = Vec::new();
    let tools = Tool::ALL
        .into_iter()
        .map(|t| {
            let key = format!("policy.tools.{}", t.as_str());
            let d = strictest(
                &key,
                default_tool(t),
                layers,
                |r| {
                    r.policy
                        .tools
                        .as_ref()
                        .and_then(|m| m.get(t.as_str()).copied())
                },
                &mut warnings,
            );
            (t, d)
        })
        .collect();

    let mut deny_paths: Vec<Sourced<String>> = DEFAULT_DENY_PATHS
        .iter()
        .map(|g| Sourced::new((*g).to_string(), Layer::Default))
        .collect();
    for (l, r) in layers {
        for g in r.policy.deny_paths.iter().flatten() {
            if !deny_paths.iter().any(|d| &d.value == g) {
                deny_paths.push(Sourced::new(g.clone(), *l));
            }
        }
    }

    let mut allowed = AllowedProviders {
        names: None,
        layers: Vec::new(),
    };
    for (l, r) in layers {
        if let Some(names) = &r.policy.allowed_providers {
            allowed.layers.push(*l);
            allowed.names = Some(match allowed.names.take() {
                None => names.clone(),
                Some(prev) => prev.into_iter().filter(|n| names.contains(n)).collect(),
            });
        }
    }

    // Fail closed by default: no usable backend means no command, unless a trusted layer says
    // best-effort (then every downgrade is shown and audited).
    let sandbox = strictest(
        "policy.sandbox",
        SandboxMode::Required,
        layers,
        |r| r.policy.sandbox,
        &mut warnings,
    );
    let redact = strictest(
        "policy.redact",
        true,
        layers,
        |r| r.policy.redact,
        &mut warnings,
    );
    let require_inference_only = strictest(
        "policy.require_inference_only",
        false,
        layers,
        |r| r.policy.require_inference_only,
        &mut warnings,
    );
    for (l, r) in layers {
        if *l != Layer::Enterprise && r.policy.require_signature.is_some() {
            warnings.push(format!(
                "{l} config sets policy.require_signature; ignored (enterprise policy only)"
            ));
        }
    }

    let identity = IdentityPolicy {
        required: strictest(
            "identity.required",
            false,
            layers,
            |r| r.identity.required,
            &mut warnings,
        ),
        issuer: trusted_only(
            "identity.issuer",
            layers,
            |r| r.identity.issuer.clone(),
            &mut warnings,
        ),
        audience: trusted_only(
            "identity.audience",
            layers,
            |r| r.identity.audience.clone(),
            &mut warnings,
        ),
        jwks_file: trusted_only(
            "identity.jwks_file",
            layers,
            |r| r.identity.jwks_file.clone(),
            &mut warnings,
        ),
        token_file: trusted_only(
            "identity.token_file",
            layers,
            |r| r.identity.token_file.clone(),
            &mut warnings,
        ),
    };

    let trusted_keys = trusted_only(
        "skills.trusted_keys",
        layers,
        |r| r.skills.trusted_keys.clone(),
        &mut warnings,
    )
    .map(|s| {
        s.value
            .into_iter()
            .map(|k| Sourced::new(k, s.layer))
            .collect()
    })
    .unwrap_or_default();
    let skills = SkillsPolicy {
        require_signed: strictest(
            "skills.require_signed",
            false,
            layers,
            |r| r.skills.require_signed,
            &mut warnings,
        ),
        trusted_keys,
    };

    for (l, r) in layers {
        if *l == Layer::Workspace {
            for name in r.providers.keys() {
                warnings.push(format!("workspace config defines provider `{name}`; ignored (providers come only from enterprise or user config)"));
            }
            for name in r.mcp.keys() {
                warnings.push(format!("workspace config defines MCP server `{name}`; ignored (MCP servers come only from enterprise or user config)"));
            }
        }
    }
    let (providers, provider_layers) = merge_providers(layers, &mut warnings);
    let mcp = merge_mcp(layers, &mut warnings);
    let mut routing = toml::Table::new();
    for (l, r) in layers {
        let mut t = r.routing.clone();
        if *l == Layer::Workspace {
            strip_endpoints(&mut t, "routing", &mut warnings);
            let mut other = r.other.clone();
            strip_endpoints(&mut other, "", &mut warnings);
            // A repository naming a provider this machine does not have must not stop the
            // agent: its routing choice is dropped, the trusted layers' stands.
            let known = |n: &str| n == super::LOCAL_PROVIDER || providers.contains_key(n);
            if let Some(d) = t.get("default").and_then(toml::Value::as_str)
                && !known(d)
            {
                warnings.push(format!(
                    "workspace config sets routing.default = \"{d}\", which is not a configured provider; ignored"
                ));
                t.remove("default");
            }
            if let Some(toml::Value::Array(fb)) = t.get_mut("fallback") {
                fb.retain(|v| {
                    let n = v.as_str().unwrap_or_default();
                    let ok = known(n);
                    if !ok {
                        warnings.push(format!(
                            "workspace config lists `{n}` in routing.fallback, which is not a configured provider; ignored"
                        ));
                    }
                    ok
                });
            }
        }
        for (k, v) in t {
            routing.insert(k, v);
        }
    }

    let audit = super::audit::merge(layers, &mut warnings);
    let enterprise = super::enterprise::merge(layers, &mut warnings);
    let completion = super::completion::merge(layers);
    let snapshots = super::snapshots::merge(layers);
    let flows = super::flows::merge(layers, &mut warnings);
    let rules = super::rules::merge(layers, &mut warnings);
    let deny_set = DenySet::build(&deny_paths)?;
    Ok(Policy {
        tools,
        deny_paths,
        allowed_providers: allowed,
        sandbox,
        redact,
        require_inference_only,
        identity,
        skills,
        audit,
        enterprise,
        completion,
        snapshots,
        flows,
        rules,
        signature,
        warnings,
        files,
        providers,
        provider_layers,
        mcp,
        routing,
        deny_set,
    })
}
