//! The agent: turns an instruction into reviewed, snapshotted edits through a tool loop.
//!
//! [`ask`] is the entry point shared by `jingu ask` and `jingu.ask`: it routes to the providers the
//! policy allows, opens an audited run, builds symbol-addressed context and drives [`run::run`]
//! with a [`host::SessionHost`].

pub mod attach;
pub mod conversation;
pub mod flows;
pub mod hints;
pub mod host;
pub mod mcp;
pub mod project;
pub mod prompt;
pub mod provenance;
pub mod read;
pub mod run;
pub mod tools;

use crate::ops::{Frontend, OpsError, Session};
use jingu_policy::{Policy, Tool};
use jingu_providers::{CancelToken, ProvidersConfig, Router};
use jingu_skills as skills;

pub use run::{AppliedEdit, RunConfig, RunOutcome, StopReason};

#[derive(Debug, Clone, Default)]
pub struct AskRequest {
    pub instruction: String,
    /// A file the instruction is about (as the user named it).
    pub path: Option<String>,
    pub symbol: Option<String>,
    /// 1-based inclusive lines.
    pub lines: Option<(usize, usize)>,
    /// Use this provider (it must still be allowed by policy).
    pub provider: Option<String>,
    /// Follow this skill's procedure; without it a skill is chosen by matching its description.
    pub skill: Option<String>,
    /// Earlier turns of the conversation this instruction continues (compacted before sending).
    pub history: Vec<jingu_providers::Message>,
    /// Report the project instructions' full text through `Frontend::progress` (`--verbose`).
    pub show_context: bool,
    /// Use this model of the provider; it must be one of [`model_choices`].
    pub model: Option<String>,
    /// Files the user attached (ACP `resource` / `resource_link` blocks): confined, decided by
    /// policy and given to the model as untrusted context.
    pub attachments: Vec<attach::Attachment>,
    /// MCP servers kept across the runs of one conversation (an ACP session); without it the
    /// run starts its own and stops them when it ends.
    pub mcp_pool: Option<std::sync::Arc<mcp::McpPool>>,
    /// The run's id, chosen by the caller so that its front end can label what it shows before
    /// the run ends (the LSP's `jingu/runEvent`); a new one when `None`.
    pub run_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error("no model provider is usable: {0}")]
    NoProvider(String),
    #[error(transparent)]
    Skill(#[from] jingu_skills::SkillError),
    #[error("MCP: {0}")]
    Mcp(String),
}

/// The provider configuration of the trusted layers (enterprise and user; a workspace config can
/// never add a provider or a base URL), with the policy's inference-only rule applied.
pub fn providers_config(policy: &Policy) -> Result<ProvidersConfig, AgentError> {
    let mut table = toml::Table::new();
    table.insert(
        "providers".into(),
        toml::Value::Table(policy.providers_table().clone()),
    );
    table.insert(
        "routing".into(),
        toml::Value::Table(policy.routing_table().clone()),
    );
    let mut config: ProvidersConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e| AgentError::NoProvider(format!("invalid provider configuration: {e}")))?;
    config.policy.require_inference_only = policy.require_inference_only.value;
    Ok(config)
}

/// One model a session may be switched to (a model picker's entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub provider: String,
    pub model: String,
}

impl ModelChoice {
    /// `provider/model`, the id a picker shows and sends back.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider, self.model)
    }
}

/// The models `policy` lets a session use, the routing default first: for each provider in
/// routing order (then the other configured ones) that the policy allows and that resolves, its
/// configured model and the rest of its `allowed_models` (set by the layer that defines it).
pub fn model_choices(policy: &Policy) -> Result<Vec<ModelChoice>, AgentError> {
    let config = providers_config(policy)?;
    let mut names = config.chain();
    for name in config.providers.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut out = Vec::new();
    for name in names {
        if policy.check_provider(&name).is_err() {
            continue;
        }
        let Ok(resolved) = config.resolve(&name) else {
            continue;
        };
        let mut models = vec![resolved.model.clone()];
        if let Some(allowed) = config
            .providers
            .get(&name)
            .and_then(|t| t.allowed_models.as_ref())
        {
            models.extend(allowed.iter().filter(|m| **m != resolved.model).cloned());
        }
        out.extend(models.into_iter().map(|model| ModelChoice {
            provider: name.clone(),
            model,
        }));
    }
    Ok(out)
}

/// The providers this session may use, in routing order. A provider the policy does not allow is
/// never built, so no request can reach it.
pub fn router(session: &Session, only: Option<&str>) -> Result<(Router, String), AgentError> {
    router_with_model(session, only, None)
}

/// [`router`], with `model` (one of [`model_choices`] for the provider `only`, or the default
/// provider) instead of the configured one; a model the policy does not allow is refused.
pub fn router_with_model(
    session: &Session,
    only: Option<&str>,
    model: Option<&str>,
) -> Result<(Router, String), AgentError> {
    let policy = &session.policy;
    let mut config = providers_config(policy)?;
    if let Some(name) = only {
        config.routing.default = Some(name.to_string());
        config.routing.fallback.clear();
    }
    if let Some(model) = model {
        let provider = config.chain().first().cloned().unwrap_or_default();
        let choices = model_choices(policy)?;
        let wanted = ModelChoice {
            provider: provider.clone(),
            model: model.to_string(),
        };
        if !choices.contains(&wanted) {
            return Err(AgentError::NoProvider(format!(
                "model `{}` is not allowed (allowed: {})",
                wanted.id(),
                choices
                    .iter()
                    .map(ModelChoice::id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        config.providers.entry(provider).or_default().model = Some(model.to_string());
        // One model was asked for: no fallback to another.
        config.routing.fallback.clear();
    }
    let mut refused = Vec::new();
    let chain: Vec<String> = config
        .chain()
        .into_iter()
        .filter(|name| match policy.check_provider(name) {
            Ok(()) => true,
            Err(why) => {
                refused.push(why);
                false
            }
        })
        .collect();
    if chain.is_empty() {
        return Err(AgentError::NoProvider(refused.join("; ")));
    }
    config.routing.default = chain.first().cloned();
    config.routing.fallback = chain[1..].to_vec();
    let router = Router::from_config(&config);
    let label = router
        .providers()
        .first()
        .map(|p| format!("{}/{}", p.name(), p.settings().model))
        .ok_or_else(|| {
            AgentError::NoProvider(format!(
                "none of {} could be set up: {}",
                chain.join(", "),
                router.unavailable_summary()
            ))
        })?;
    Ok((router, label))
}

/// The skill the user named, or the best match for the instruction among verified skills.
fn choose_skill(session: &Session, req: &AskRequest) -> Result<Option<skills::Skill>, AgentError> {
    let roots = skills::SkillRoots::standard(Some(&session.workspace.root));
    let mut policy = skills::SkillsPolicy::from_policy(&session.policy)?;
    if let Some(key) = roots.project_key()? {
        policy = policy.with_install_key(key);
    }
    let found = skills::discover(&roots, &policy);
    match &req.skill {
        Some(name) => Ok(Some(found.get(name)?.clone())),
        None => Ok(skills::select(&found.skills, &req.instruction).cloned()),
    }
}

/// Run the agent on one instruction. Every edit lands in one snapshot run (`outcome.run_id`).
pub async fn ask<F: Frontend>(
    session: &Session,
    fe: &F,
    req: &AskRequest,
    cfg: &RunConfig,
    cancel: CancelToken,
) -> Result<RunOutcome, AgentError> {
    let (router, label) =
        router_with_model(session, req.provider.as_deref(), req.model.as_deref())?;
    let run = session.begin_run(req.run_id.clone(), &req.instruction)?;
    let mut focus = prompt::Focus {
        symbol: req.symbol.clone(),
        lines: req.lines,
        file: None,
        named: Vec::new(),
    };
    if let Some(raw) = &req.path {
        let (rel, _) = session.authorize(&run, Tool::Read, raw)?;
        let text = match fe.buffer_text(&rel).await {
            Some(t) => Some(t),
            None => jingu_fs::workspace::beneath::read_text(
                &session.workspace.root,
                std::path::Path::new(&rel),
                jingu_index::MAX_SOURCE_BYTES,
            )
            .ok(),
        };
        focus.file = text.map(|t| (rel, t));
    }
    let skill = choose_skill(session, req)?;
    let mut cfg = cfg.clone();
    cfg.history = conversation::compact(&req.history, conversation::HISTORY_TOKEN_BUDGET);
    let mut system = prompt::SYSTEM.to_string();
    if let Some(skill) = &skill {
        // A skill narrows the run's tools, never widens them.
        let allowed = skills::effective_tools(&cfg.tools, skill);
        cfg.tools.retain(|t| allowed.iter().any(|a| a == t));
        system.push_str("\n\n");
        system.push_str(&skills::system_prompt_section(skill));
        fe.progress(&format!("following skill `{}`", skill.name));
    }
    // Valid targets: the files the run may name and the focused file's real symbols, narrowed to
    // the ones the instruction names; those are quoted so the model can edit them directly.
    let policy = &session.policy;
    let listed = prompt::list_files(&session.workspace, policy);
    // A full listing may be cut short: then `path` stays free rather than wrongly narrowed.
    let complete = listed.len() < prompt::MAX_LISTED_FILES;
    let mut paths: Vec<String> = listed
        .into_iter()
        .filter(|rel| policy.path_denied(rel).is_none())
        .collect();
    if let Some((rel, _)) = &focus.file
        && !paths.contains(rel)
    {
        paths.push(rel.clone());
    }
    let names = paths.clone();
    if !complete {
        paths.clear();
    }
    let mut heads = Vec::new();
    let symbols = match &focus.file {
        Some((rel, text)) => {
            let found = hints::focus_symbols(rel, text, &req.instruction, req.symbol.as_deref());
            focus.named = hints::named_sources(rel, text, &found.named);
            heads = hints::symbol_heads(rel, text, &found.named);
            found
        }
        None => hints::FocusSymbols::default(),
    };
    // Without a focused file, symbols stay free: they could belong to any file.
    cfg.hints = hints::hints(paths, &symbols);
    if focus.file.is_none() {
        cfg.hints.symbols = None;
    } else {
        cfg.hints.heads = heads;
    }
    tracing::debug!(hints = ?cfg.hints, "tool schema hints");
    let mut first = prompt::first_message(
        &session.workspace,
        &session.policy,
        &req.instruction,
        &focus,
        None,
    );
    // AGENTS.md and friends: read like any file the model is given, labelled untrusted below.
    let instructions = project::load(
        session,
        &run,
        focus.file.as_ref().map(|(rel, _)| rel.as_str()),
    );
    if let Some(section) = project::section(&instructions) {
        let paths: Vec<&str> = instructions.iter().map(|i| i.path.as_str()).collect();
        fe.progress(&format!("project instructions: {}", paths.join(", ")));
        if req.show_context {
            fe.progress(&section);
        }
        first.push('\n');
        first.push_str(&section);
    }
    // Attached files (editor selections, links): confined and decided like any read.
    let attached = attach::load(session, fe, &run, &req.attachments).await;
    for a in &attached {
        match a {
            attach::Attached::Given { path, .. } => fe.progress(&format!("attached {path}")),
            attach::Attached::Omitted { uri, reason } => {
                fe.progress(&format!("attachment {uri} omitted: {reason}"));
            }
        }
    }
    if let Some(section) = attach::section(&attached) {
        first.push('\n');
        first.push_str(&section);
    }
    // MCP servers start only now, when the run's tools are known, and stop with the run (or,
    // with a session's pool, with the session).
    let mcp = mcp::start(session, fe, &run, skill.as_ref(), req.mcp_pool.as_deref()).await;
    cfg.mcp_tools = mcp.as_ref().map(mcp::RunMcp::specs).unwrap_or_default();
    let host = host::SessionHost::new(session, fe, &run, label).with_mcp(mcp.as_ref());
    {
        // Labels on everything the first request carries (issue #23).
        use provenance::Label;
        let mut prov = host.provenance();
        prov.add(Label::User, &req.instruction);
        prov.add(Label::System, prompt::SYSTEM);
        if let Some(skill) = &skill {
            prov.add(
                Label::Skill {
                    name: skill.name.clone(),
                    signed: skill.trust.is_verified(),
                },
                &skills::system_prompt_section(skill),
            );
        }
        for name in &names {
            prov.add(Label::FileName { path: name.clone() }, name);
        }
        for message in &cfg.history {
            let (role, text) = match message {
                jingu_providers::Message::User { content } => ("user", content),
                jingu_providers::Message::Assistant { content, .. } => ("assistant", content),
                jingu_providers::Message::Tool { content, .. } => ("tool", content),
            };
            prov.add(Label::History { role: role.into() }, text);
        }
    }
    if let Some((rel, text)) = &focus.file {
        host.label_file(rel, text);
    }
    for found in &instructions {
        host.label_file(&found.path, &found.text);
    }
    for a in &attached {
        if let attach::Attached::Given { path, text, .. } = a {
            host.label_file(path, text);
        }
    }
    let mut outcome = run::run(&host, &router, run.id.clone(), system, first, &cfg, cancel).await;
    outcome.flags = host.take_flags();
    drop(host);
    if let Some(mcp) = mcp {
        mcp.shutdown().await;
    }
    let status = serde_json::to_value(&outcome.stop)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_else(|| "finished".into());
    session.end_run(&run, &status);
    Ok(outcome)
}

/// The longest prefix of `s` of at most `max` bytes ending on a character boundary.
pub(crate) fn bounded(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    &s[..cut]
}

/// A user layer cannot re-point an enterprise provider: what the router resolves is sealed.
#[cfg(test)]
mod seal_tests {
    use jingu_policy::Policy;

    const CORP: &str = "[providers.corp]\npreset = \"openai\"\napi_key_env = \"CORP_KEY\"\ndata_use = \"inference-only\"\nallowed_models = [\"gpt-4.1\", \"gpt-4.1-mini\"]\n";

    #[test]
    fn the_resolved_provider_keeps_the_enterprise_endpoint_and_key() {
        let user =
            "[providers.corp]\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"USER_KEY\"\n";
        let p = Policy::from_texts(Some(CORP), Some(user), None).expect("policy");
        let cfg = super::providers_config(&p).expect("config");
        let r = cfg.resolve("corp").expect("resolve");
        assert!(
            r.base_url.starts_with("https://api.openai.com"),
            "{}",
            r.base_url
        );
        assert_eq!(
            r.key_source,
            jingu_providers::KeySource::Env("CORP_KEY".into())
        );
    }

    #[test]
    fn a_model_outside_allowed_models_does_not_resolve() {
        let ent =
            "[providers.corp]\npreset = \"openai\"\nmodel = \"x\"\nallowed_models = [\"y\"]\n";
        let p = Policy::from_texts(Some(ent), None, None).expect("policy");
        let cfg = super::providers_config(&p).expect("config");
        assert!(cfg.resolve("corp").is_err());
    }
}

#[cfg(test)]
mod model_tests {
    use jingu_policy::Policy;

    #[test]
    fn choices_are_the_allowed_models_of_allowed_providers_default_first() {
        let user = "[providers.corp]\nkind = \"openai-compatible\"\nbase_url = \"https://corp.example/v1\"\nmodel = \"m2\"\nallowed_models = [\"m1\", \"m2\"]\ndata_use = \"inference-only\"\n\
                    [providers.other]\nkind = \"openai-compatible\"\nbase_url = \"https://other.example/v1\"\nmodel = \"o1\"\n\
                    [routing]\ndefault = \"corp\"\n";
        let p = Policy::from_texts(None, Some(user), None).expect("policy");
        let ids: Vec<String> = super::model_choices(&p)
            .expect("choices")
            .iter()
            .map(super::ModelChoice::id)
            .collect();
        assert_eq!(ids, ["corp/m2", "corp/m1", "other/o1"]);
        // The enterprise allows only `corp`: `other` is not offered.
        let ent = "[policy]\nallowed_providers = [\"corp\"]\n";
        let p = Policy::from_texts(Some(ent), Some(user), None).expect("policy");
        let ids: Vec<String> = super::model_choices(&p)
            .expect("choices")
            .iter()
            .map(super::ModelChoice::id)
            .collect();
        assert_eq!(ids, ["corp/m2", "corp/m1"]);
    }
}
