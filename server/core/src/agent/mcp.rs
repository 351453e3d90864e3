//! MCP servers as the agent's tools, governed.
//!
//! Servers come only from the enterprise and user layers (`Policy::mcp_table`; the workspace layer
//! is stripped by the merge). They are started when a run needs them — never when `tools.mcp` is
//! `deny`, never for a restricted skill, never a server the run's skill leaves no tool of — and
//! stopped when it ends. Each offered tool is `mcp__<server>__<tool>` with the server's schema,
//! narrowed by the server's `tools` allowlist and the skill. Every call is audited before anything
//! else happens (also calls of tools that were never offered), then decided by the guard
//! (`tools.mcp` and the server's `decisions`, most restrictive wins) and asked where that says ask.
//!
//! A tool's description and schema are pinned (their SHA-256, in `mcp-pins.json` in the state
//! directory and in each call's audit record) when a call of it is first approved. A tool whose
//! fingerprint later differs ("rug pull") is withheld from the model and its calls are refused
//! until the user re-approves it (`jingu mcp approve SERVER`). Results are untrusted data: capped,
//! redacted, framed as data; nothing they say reaches policy, which is immutable for the session.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AgentError;
use super::host::SessionHost;
use super::run::ToolOutcome;
use crate::guard::{Guard, Verdict};
use crate::ops::{Approval, Frontend, Session};
use jingu_audit::RecordKind;
use jingu_policy::{Tool, ToolDecision};
use jingu_providers::ToolSpec;
use jingu_skills::mcp::{
    McpError, McpHub, McpOptions, McpServerConfig, McpTool, servers_from_table, split_tool_name,
};
use jingu_skills::{Skill, Trust};

/// File in the state directory holding the approved fingerprints.
pub const PINS_FILE: &str = "mcp-pins.json";

/// One approved tool: the fingerprint of its description and schema when it was approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub fingerprint: String,
    /// The description as the model saw it then (for `jingu mcp list`).
    pub description: String,
}

/// The pins of a workspace, keyed by `mcp__<server>__<tool>`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Pins(pub BTreeMap<String, Pin>);

impl Pins {
    fn path(session: &Session) -> PathBuf {
        session.workspace.state_dir.join(PINS_FILE)
    }

    /// The pins on disk. A file that cannot be read or parsed is an error, never "no pins": that
    /// would let every changed tool through as new.
    pub fn load(session: &Session) -> Result<Self, String> {
        let path = Self::path(session);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Pins)
                .map_err(|e| format!("{} is not valid: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Pins::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn save(&self, session: &Session) -> Result<(), String> {
        let path = Self::path(session);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let bytes = serde_json::to_vec_pretty(&self.0).map_err(|e| e.to_string())?;
        jingu_fs::durable::atomic_write(&path, &bytes, Some(0o600))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Whether `tool` is new, approved as it is, or changed since its approval.
    pub fn status(&self, tool: &McpTool) -> PinStatus {
        match self.0.get(&tool.name) {
            None => PinStatus::New,
            Some(p) if p.fingerprint == tool.fingerprint => PinStatus::Pinned,
            Some(_) => PinStatus::Changed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinStatus {
    /// Never approved: pinned at its first approved call.
    New,
    Pinned,
    /// Its description or schema changed since it was approved: refused until re-approved.
    Changed,
}

/// MCP servers kept for a longer-lived conversation (an ACP session): started by its first run
/// that needs them, reused by its later runs while the configured servers stay the same
/// (policy is re-read every run: a changed `[mcp]` restarts them), stopped by [`McpPool::shutdown`]
/// — and killed with their transport if the pool is dropped without it. What each run offers
/// (skill, decisions, pins) is still worked out per run.
#[derive(Default)]
pub struct McpPool {
    inner: tokio::sync::Mutex<Option<Pooled>>,
}

struct Pooled {
    servers: BTreeMap<String, McpServerConfig>,
    hub: Arc<McpHub>,
}

impl std::fmt::Debug for McpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("McpPool")
    }
}

impl McpPool {
    /// The hub for `servers`, connected now unless the pool already holds one for exactly these
    /// servers with all of them up. `true` when it was connected now.
    async fn hub(&self, servers: &BTreeMap<String, McpServerConfig>) -> (Arc<McpHub>, bool) {
        let mut inner = self.inner.lock().await;
        if let Some(p) = inner.as_mut()
            && &p.servers == servers
            && p.hub.failures.is_empty()
        {
            // Listed again, so a description changed since the last run is seen (and withheld
            // until re-approved) as when the servers were started per run. Only one run of a
            // session holds the hub at a time, so it is not shared here.
            let refreshed = match Arc::get_mut(&mut p.hub) {
                Some(hub) => hub.refresh_tools().await.is_empty(),
                None => false,
            };
            if refreshed {
                return (p.hub.clone(), false);
            }
        }
        if let Some(old) = inner.take() {
            close(old.hub).await;
        }
        let hub = Arc::new(McpHub::connect(servers, McpOptions::default()).await);
        *inner = Some(Pooled {
            servers: servers.clone(),
            hub: hub.clone(),
        });
        (hub, true)
    }

    /// Stop the pooled servers (the session ended).
    pub async fn shutdown(&self) {
        if let Some(old) = self.inner.lock().await.take() {
            close(old.hub).await;
        }
    }
}

/// Close `hub` when this was its last holder (else the last holder's drop kills its children).
async fn close(hub: Arc<McpHub>) {
    if let Ok(hub) = Arc::try_unwrap(hub) {
        hub.shutdown().await;
    }
}

/// The MCP side of one run: the connected servers and what the model is offered.
pub struct RunMcp {
    hub: Arc<McpHub>,
    /// The hub belongs to a [`McpPool`], which stops it; the run leaves it running.
    pooled: bool,
    /// Offered tools by name.
    offered: BTreeMap<String, McpTool>,
    /// Tools not offered, with the reason the model is told if it calls them anyway.
    withheld: BTreeMap<String, String>,
}

/// Servers configured by the trusted layers, parsed; bad sections are reported per server.
fn configured(session: &Session) -> (BTreeMap<String, McpServerConfig>, Vec<(String, McpError)>) {
    servers_from_table(session.policy.mcp_table())
}

/// Whether the skill's `allowed-tools` can match any tool of `server`.
fn skill_reaches(skill: Option<&Skill>, server: &str) -> bool {
    let Some(allowed) = skill.and_then(|s| s.allowed_tools.as_ref()) else {
        return true;
    };
    let prefix = jingu_skills::mcp::tool_name(server, "");
    allowed.iter().any(|p| match p.strip_suffix('*') {
        Some(pre) => prefix.starts_with(pre) || pre.starts_with(&prefix),
        None => p.starts_with(&prefix),
    })
}

/// Start the servers this run may use and work out what to offer. `None` when no MCP tool can
/// be used at all (then no server process is started).
pub(crate) async fn start<F: Frontend>(
    session: &Session,
    fe: &F,
    run: &crate::ops::Run,
    skill: Option<&Skill>,
    pool: Option<&McpPool>,
) -> Option<RunMcp> {
    let policy = &session.policy;
    let (servers, bad) = configured(session);
    if servers.is_empty() && bad.is_empty() {
        return None;
    }
    if policy.tool_decision(Tool::Mcp).value == ToolDecision::Deny {
        return None;
    }
    if skill.is_some_and(|s| matches!(s.trust, Trust::Restricted { .. })) {
        return None;
    }
    let warn = |message: String| {
        fe.progress(&format!("warning: {message}"));
        if let Err(e) = run.audit.append(RecordKind::Warning {
            message: message.clone(),
        }) {
            tracing::error!("cannot audit a warning ({message}): {e}");
        }
    };
    for (_, e) in &bad {
        warn(e.to_string());
    }
    let wanted: BTreeMap<String, McpServerConfig> = servers
        .into_iter()
        .filter(|(name, cfg)| {
            !cfg.tools.is_empty()
                && cfg.decision("*") != Some(ToolDecision::Deny)
                && skill_reaches(skill, name)
        })
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let (hub, fresh) = match pool {
        Some(pool) => pool.hub(&wanted).await,
        None => (
            Arc::new(McpHub::connect(&wanted, McpOptions::default()).await),
            true,
        ),
    };
    if fresh {
        for (_, e) in &hub.failures {
            warn(e.to_string());
        }
    } else {
        tracing::debug!("MCP servers reused from the session: {:?}", wanted.keys());
    }
    let pooled = pool.is_some();
    let pins = match Pins::load(session) {
        Ok(p) => p,
        Err(e) => {
            warn(format!("MCP tools are not offered: {e}"));
            if !pooled {
                close(hub).await;
            }
            return None;
        }
    };
    let mut offered = BTreeMap::new();
    let mut withheld = BTreeMap::new();
    let all = hub.tools();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    let allowed_by_skill = match skill {
        Some(s) => jingu_skills::effective_tools(&names, s),
        None => names.iter().map(|n| n.to_string()).collect(),
    };
    for tool in all.iter() {
        let server_cfg = hub.config(&tool.server);
        if !allowed_by_skill.contains(&tool.name) {
            withheld.insert(
                tool.name.clone(),
                "the run's skill does not allow this tool".to_string(),
            );
        } else if server_cfg.and_then(|c| c.decision(&tool.tool)) == Some(ToolDecision::Deny) {
            withheld.insert(
                tool.name.clone(),
                "denied by its server's `decisions`".to_string(),
            );
        } else if pins.status(tool) == PinStatus::Changed {
            let why = format!(
                "its description or schema changed since it was approved (possible rug pull); \
                 refused until the user re-approves it with `jingu mcp approve {}`",
                tool.server
            );
            warn(format!("MCP tool `{}` withheld: {why}", tool.name));
            withheld.insert(tool.name.clone(), why);
        } else {
            offered.insert(tool.name.clone(), tool.clone());
        }
    }
    if !offered.is_empty() {
        fe.progress(&format!(
            "MCP tools: {}",
            offered.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Some(RunMcp {
        hub,
        pooled,
        offered,
        withheld,
    })
}

impl RunMcp {
    /// The tools for the model's tool list.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.offered
            .values()
            .map(|t| ToolSpec {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.input_schema.clone(),
            })
            .collect()
    }

    /// The fingerprint of an offered tool (for the call's audit record).
    pub fn fingerprint(&self, name: &str) -> Option<&str> {
        self.offered.get(name).map(|t| t.fingerprint.as_str())
    }

    /// Stop the run's servers, unless they belong to a session's [`McpPool`].
    pub async fn shutdown(self) {
        if !self.pooled {
            close(self.hub).await;
        }
    }

    /// Execute one call; the `tool_call` record was already appended by the host.
    pub(crate) async fn call<F: Frontend>(
        &self,
        host: &SessionHost<'_, F>,
        name: &str,
        arguments: &Value,
    ) -> ToolOutcome {
        let session = host.session;
        let tool = self.offered.get(name);
        let refused = match tool {
            Some(_) if !arguments.is_object() => {
                Some(format!("`{name}`: arguments must be a JSON object"))
            }
            Some(_) => None,
            None => Some(match self.withheld.get(name) {
                Some(why) => format!("MCP tool `{name}` is not available: {why}"),
                None => format!(
                    "unknown MCP tool `{name}`; offered MCP tools: {}",
                    if self.offered.is_empty() {
                        "none".to_string()
                    } else {
                        self.offered.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            }),
        };
        let server_decision = split_tool_name(name)
            .and_then(|(server, t)| self.hub.config(server).and_then(|c| c.decision(t)));
        let guard = Guard {
            workspace: &session.workspace,
            policy: &session.policy,
            audit: &host.run.audit,
        };
        let verdict = match guard.check_mcp(name, server_decision, refused) {
            Ok(v) => v,
            Err(refusal) => return ToolOutcome::error(refusal.to_string()),
        };
        let Some(tool) = tool else {
            return ToolOutcome::error(format!("mcp refused: unknown MCP tool `{name}`"));
        };
        if matches!(verdict, Verdict::Ask { .. }) {
            let args = serde_json::to_string_pretty(arguments).unwrap_or_default();
            let approval = Approval {
                tool: "mcp",
                summary: format!("call MCP tool {name}"),
                detail: format!("{}\narguments: {args}", tool.description),
                path: None,
            };
            // A server's own `ask-human` reaches only a person (the policy's own `ask-human` was
            // already answered by one in the host's flow gate).
            let human = server_decision == Some(jingu_policy::ToolDecision::AskHuman);
            let yes = if human {
                host.fe.approve_human(&approval).await
            } else {
                host.fe.approve(&approval).await
            };
            if !yes {
                return ToolOutcome::error(format!(
                    "the user rejected calling `{name}`{}",
                    if human {
                        " (its server marks it ask-human: --yes and auto mode cannot approve it)"
                    } else {
                        ""
                    }
                ));
            }
        }
        // First approval pins the description; the pins are re-read so a concurrent re-approval
        // or another run's pin is kept, and a change since this run started is still refused.
        let mut pins = match Pins::load(session) {
            Ok(p) => p,
            Err(e) => return ToolOutcome::error(format!("mcp refused: {e}")),
        };
        match pins.status(tool) {
            PinStatus::Pinned => {}
            PinStatus::Changed => {
                return ToolOutcome::error(format!(
                    "mcp refused: `{name}` changed since it was approved; the user must re-approve it"
                ));
            }
            PinStatus::New => {
                pins.0.insert(
                    name.to_string(),
                    Pin {
                        fingerprint: tool.fingerprint.clone(),
                        description: tool.description.clone(),
                    },
                );
                if let Err(e) = pins.save(session) {
                    return ToolOutcome::error(format!(
                        "mcp refused: cannot pin the tool's description: {e}"
                    ));
                }
            }
        }
        host.fe.progress(&format!("calling {name}"));
        match self.hub.call(name, arguments.clone()).await {
            Ok(out) => {
                let framed = host.redact(&out.for_model());
                if out.is_error {
                    ToolOutcome::error(framed)
                } else {
                    ToolOutcome::ok(framed)
                }
            }
            Err(e) => ToolOutcome::error(host.redact(&e.to_string())),
        }
    }
}

/// One configured server as `jingu mcp list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub server: String,
    /// Why the server could not be reached or parsed.
    pub error: Option<String>,
    pub tools: Vec<ToolReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolReport {
    pub name: String,
    pub description: String,
    pub decision: ToolDecision,
    pub pin: PinStatus,
    pub fingerprint: String,
}

/// Connect to the configured servers (all, or `only`) and report their allowlisted tools, the
/// decision each gets and its pin status. Starts the servers; calls no tool.
pub async fn inspect(
    session: &Session,
    only: Option<&str>,
) -> Result<Vec<ServerReport>, AgentError> {
    let (servers, bad) = configured(session);
    let pins = Pins::load(session).map_err(AgentError::Mcp)?;
    let mut reports: Vec<ServerReport> = bad
        .into_iter()
        .filter(|(n, _)| only.is_none_or(|o| o == n))
        .map(|(server, e)| ServerReport {
            server,
            error: Some(e.to_string()),
            tools: Vec::new(),
        })
        .collect();
    let servers: BTreeMap<_, _> = servers
        .into_iter()
        .filter(|(n, _)| only.is_none_or(|o| o == n))
        .collect();
    if let Some(o) = only
        && servers.is_empty()
        && reports.is_empty()
    {
        return Err(AgentError::Mcp(format!(
            "no MCP server `{o}` is configured in the enterprise or user config"
        )));
    }
    let policy = session.policy.tool_decision(Tool::Mcp).value;
    let hub = McpHub::connect(&servers, McpOptions::default()).await;
    for (server, e) in &hub.failures {
        reports.push(ServerReport {
            server: server.clone(),
            error: Some(e.to_string()),
            tools: Vec::new(),
        });
    }
    for server in servers.keys() {
        let Some(cfg) = hub.config(server) else {
            continue;
        };
        let tools = hub
            .tools()
            .into_iter()
            .filter(|t| &t.server == server)
            .map(|t| ToolReport {
                decision: cfg.decision(&t.tool).map_or(policy, |d| d.max(policy)),
                pin: pins.status(&t),
                name: t.name,
                description: t.description,
                fingerprint: t.fingerprint,
            })
            .collect();
        reports.push(ServerReport {
            server: server.clone(),
            error: None,
            tools,
        });
    }
    hub.shutdown().await;
    reports.sort_by(|a, b| a.server.cmp(&b.server));
    Ok(reports)
}

/// The user re-approves server `server`'s tools (or one of them) as they are now: their current
/// fingerprints replace the pins, each change audited before the pin is written. Returns the
/// tools whose pin was written.
pub async fn approve(
    session: &Session,
    server: &str,
    tool: Option<&str>,
) -> Result<Vec<String>, AgentError> {
    let reports = inspect(session, Some(server)).await?;
    let report = reports
        .into_iter()
        .find(|r| r.server == server)
        .ok_or_else(|| AgentError::Mcp(format!("no MCP server `{server}` is configured")))?;
    if let Some(e) = report.error {
        return Err(AgentError::Mcp(e));
    }
    let chosen: Vec<ToolReport> = report
        .tools
        .into_iter()
        .filter(|t| {
            tool.is_none_or(|want| split_tool_name(&t.name).is_some_and(|(_, n)| n == want))
        })
        .filter(|t| t.pin != PinStatus::Pinned)
        .collect();
    if let Some(want) = tool
        && chosen.is_empty()
        && !Pins::load(session)
            .map_err(AgentError::Mcp)?
            .0
            .contains_key(&jingu_skills::mcp::tool_name(server, want))
    {
        return Err(AgentError::Mcp(format!(
            "server `{server}` offers no allowlisted tool `{want}`"
        )));
    }
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let run = session.begin_run(None, &format!("jingu mcp approve {server}"))?;
    let mut pins = Pins::load(session).map_err(AgentError::Mcp)?;
    let mut done = Vec::new();
    for t in chosen {
        let was = pins.0.get(&t.name).map(|p| p.fingerprint.clone());
        run.audit
            .append(RecordKind::PolicyDecision {
                tool: t.name.clone(),
                path: None,
                decision: "approve".into(),
                reason: Some(format!(
                    "description pinned by the user: sha256 {}{}",
                    t.fingerprint,
                    was.map(|w| format!(" (was {w})")).unwrap_or_default()
                )),
            })
            .map_err(|e| AgentError::Mcp(format!("cannot audit the approval: {e}")))?;
        pins.0.insert(
            t.name.clone(),
            Pin {
                fingerprint: t.fingerprint,
                description: t.description,
            },
        );
        done.push(t.name);
    }
    let saved = pins.save(session).map_err(AgentError::Mcp);
    session.end_run(&run, if saved.is_ok() { "finished" } else { "failed" });
    saved?;
    Ok(done)
}
