//! `jingu providers list [--json]` and `jingu providers check [NAME] [--json]`.
//!
//! Config comes from the trusted policy layers (enterprise, user), exactly as the agent routes.
//! Keys are never printed: `list` says only whether one is present and where it is looked up.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde::Serialize;

use super::{CmdResult, print_json};
use jingu_providers::{
    CancelToken, ChatRequest, Event, KeySource, Message, Provider, ProvidersConfig,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ProvidersCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProvidersCommand {
    /// List presets and configured providers, with whether a key is present.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Send a real request and report latency, time to first token and tokens.
    Check {
        /// Provider to check; default: every provider in the routing chain.
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(args: Args) -> CmdResult {
    // The same merged, policy-governed configuration the agent routes with.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let workspace =
        jingu_core::ops::Workspace::discover(&cwd).context("cannot find the workspace")?;
    let policy = jingu_policy::Policy::load(&workspace.root)?;
    let config = jingu_core::agent::providers_config(&policy)?;
    match args.command {
        ProvidersCommand::List { json } => list(&config, json),
        ProvidersCommand::Check { name, json } => {
            let names = name.map_or_else(|| config.chain(), |n| vec![n]);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(check(&config, &names, json))
        }
    }
}

#[derive(Debug, Serialize)]
struct ListRow {
    name: String,
    kind: Option<&'static str>,
    model: Option<String>,
    base_url: Option<String>,
    /// "yes", "no", or "not needed" — never the key.
    key: &'static str,
    key_source: Option<KeySource>,
    configured: bool,
    /// "default", "fallback" or absent.
    route: Option<&'static str>,
    error: Option<String>,
}

fn list(config: &ProvidersConfig, json: bool) -> CmdResult {
    let chain = config.chain();
    let rows: Vec<ListRow> = config
        .names()
        .into_iter()
        .map(|name| {
            let route = match chain.iter().position(|n| *n == name) {
                Some(0) => Some("default"),
                Some(_) => Some("fallback"),
                None => None,
            };
            let configured = config.providers.contains_key(&name);
            match config.resolve(&name) {
                Ok(r) => ListRow {
                    kind: Some(r.kind.as_str()),
                    model: Some(r.model.clone()),
                    base_url: Some(r.base_url.clone()).filter(|u| !u.is_empty()),
                    key: match (r.needs_key(), r.key.is_some()) {
                        (false, _) => "not needed",
                        (true, true) => "yes",
                        (true, false) => "no",
                    },
                    key_source: Some(r.key_source.clone()).filter(|s| *s != KeySource::None),
                    name,
                    configured,
                    route,
                    error: None,
                },
                Err(e) => ListRow {
                    name,
                    kind: None,
                    model: None,
                    base_url: None,
                    key: "no",
                    key_source: None,
                    configured,
                    route,
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    if json {
        return print_json(&rows);
    }
    println!(
        "{:<10} {:<18} {:<32} {:<10} {:<9} BASE URL",
        "NAME", "KIND", "MODEL", "KEY", "ROUTE"
    );
    for r in &rows {
        println!(
            "{:<10} {:<18} {:<32} {:<10} {:<9} {}",
            r.name,
            r.kind.unwrap_or("-"),
            r.model.as_deref().unwrap_or("-"),
            r.key,
            r.route.unwrap_or(""),
            r.error
                .as_deref()
                .or(r.base_url.as_deref())
                .unwrap_or("(in process)")
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct CheckRow {
    name: String,
    ok: bool,
    model: Option<String>,
    /// In-process model load time (local provider only).
    load_ms: Option<f64>,
    /// Request sent → response headers received.
    latency_ms: Option<f64>,
    time_to_first_token_ms: Option<f64>,
    total_ms: Option<f64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    tokens_per_second: Option<f64>,
    reply: Option<String>,
    error: Option<String>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

async fn check(config: &ProvidersConfig, names: &[String], json: bool) -> CmdResult {
    let mut rows = Vec::new();
    for name in names {
        let row = match config.resolve(name).and_then(Provider::new) {
            Ok(p) => check_one(&p).await,
            Err(e) => CheckRow::failed(name, None, e.to_string()),
        };
        if !json {
            print_check(&row);
        }
        rows.push(row);
    }
    if json {
        print_json(&rows)?;
    }
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("check failed for: {}", failed.join(", "))
    }
}

impl CheckRow {
    fn failed(name: &str, model: Option<String>, error: String) -> Self {
        Self {
            name: name.to_owned(),
            ok: false,
            model,
            load_ms: None,
            latency_ms: None,
            time_to_first_token_ms: None,
            total_ms: None,
            input_tokens: None,
            output_tokens: None,
            tokens_per_second: None,
            reply: None,
            error: Some(error),
        }
    }
}

async fn check_one(provider: &Provider) -> CheckRow {
    let name = provider.name();
    let model = Some(provider.settings().model.clone());
    let req = ChatRequest {
        system: Some("You are a connectivity check. Answer in one word.".into()),
        messages: vec![Message::user("Reply with the single word: pong")],
        max_tokens: Some(16),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let start = Instant::now();
    let mut events = match provider.stream(&req, &CancelToken::new()).await {
        Ok(s) => s,
        Err(e) => return CheckRow::failed(name, model, e.to_string()),
    };
    let latency = start.elapsed();
    let (mut first, mut usage, mut reply) = (None, None, String::new());
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::TextDelta(t)) => {
                first.get_or_insert_with(|| start.elapsed());
                reply.push_str(&t);
            }
            Ok(Event::ToolCall(_)) => {
                first.get_or_insert_with(|| start.elapsed());
            }
            Ok(Event::Usage(u)) => usage = Some(u),
            Ok(Event::Done { .. }) => {}
            Err(e) => return CheckRow::failed(name, model, e.to_string()),
        }
    }
    let total = start.elapsed();
    let load = provider.local_load_time();
    // The local model hands over its reply whole, so its rate is measured over the run minus the
    // load; remote rates over the time after the first token.
    let generating = match load {
        Some(l) => Some(total.saturating_sub(l).as_secs_f64()),
        None => first.map(|f| total.saturating_sub(f).as_secs_f64()),
    };
    CheckRow {
        name: name.to_owned(),
        ok: true,
        model,
        load_ms: load.map(ms),
        latency_ms: Some(ms(latency)),
        time_to_first_token_ms: first.map(ms),
        total_ms: Some(ms(total)),
        input_tokens: usage.map(|u| u.input_tokens),
        output_tokens: usage.map(|u| u.output_tokens),
        tokens_per_second: match (usage, generating) {
            (Some(u), Some(secs)) if secs > 0.0 && u.output_tokens > 1 => {
                let counted = if load.is_some() {
                    u.output_tokens
                } else {
                    u.output_tokens - 1
                };
                Some((counted as f64 / secs * 10.0).round() / 10.0)
            }
            _ => None,
        },
        reply: Some(reply.trim().chars().take(80).collect()),
        error: None,
    }
}

fn print_check(r: &CheckRow) {
    if let Some(e) = &r.error {
        println!("{:<10} FAILED  {e}", r.name);
        return;
    }
    let opt = |v: Option<f64>, unit: &str| v.map_or("-".to_owned(), |v| format!("{v}{unit}"));
    let tok = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
    println!(
        "{:<10} ok  model={} load={} latency={} ttft={} total={} tokens in/out={}/{} tok/s={} reply={:?}",
        r.name,
        r.model.as_deref().unwrap_or("-"),
        opt(r.load_ms, "ms"),
        opt(r.latency_ms, "ms"),
        opt(r.time_to_first_token_ms, "ms"),
        opt(r.total_ms, "ms"),
        tok(r.input_tokens),
        tok(r.output_tokens),
        opt(r.tokens_per_second, ""),
        r.reply.as_deref().unwrap_or("")
    );
}
