//! MCP servers as tools, on the official `rmcp` client: stdio child processes and streamable HTTP.
//!
//! Every server tool is exposed as `mcp__<server>__<tool>` only if the server's allowlist names it;
//! calls are re-checked against the allowlist before anything is sent, bounded by a timeout, and
//! their results come back as [`UntrustedOutput`]. A crashed server or a timeout is a typed error,
//! never a hang or a panic. The client declares no capabilities, so a server cannot ask Jingu's model
//! for completions (sampling) or read the user's roots.

pub mod config;
mod untrusted;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResponse};
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde::Serialize;

pub use config::{Endpoint, INHERITED_ENV, McpServerConfig, servers_from_table};
pub use untrusted::{MAX_RESULT_BYTES, UntrustedOutput};

/// Tools whose argument schema is larger than this are not offered (it would crowd the prompt).
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024;

/// Prefix of every MCP tool name; see [`tool_name`].
pub const TOOL_PREFIX: &str = "mcp__";

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("MCP server `{server}`: invalid configuration: {reason}")]
    InvalidConfig { server: String, reason: String },
    #[error("MCP server `{server}`: cannot start `{command}`: {source}")]
    Spawn {
        server: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("MCP server `{server}`: handshake failed: {reason}")]
    Initialize { server: String, reason: String },
    #[error("MCP server `{server}`: `{operation}` timed out after {after:?}")]
    Timeout {
        server: String,
        operation: String,
        after: Duration,
    },
    #[error("MCP server `{server}` is gone (crashed or closed the connection): {reason}")]
    ServerGone { server: String, reason: String },
    #[error("MCP server `{server}`: protocol error: {reason}")]
    Protocol { server: String, reason: String },
    #[error("MCP tool `{name}` is not allowed: {reason}")]
    NotAllowed { name: String, reason: String },
    #[error("no MCP tool named `{0}`")]
    UnknownTool(String),
    #[error("MCP tool `{name}`: arguments must be a JSON object")]
    BadArguments { name: String },
}

/// One tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpTool {
    /// `mcp__<server>__<tool>`: the name the model calls.
    pub name: String,
    pub server: String,
    pub tool: String,
    pub description: String,
    /// The server's JSON schema for the arguments.
    pub input_schema: serde_json::Value,
    /// SHA-256 of the server's own description and schema (before Jingu labels them): what is
    /// pinned at first approval, so a later change ("rug pull") is seen.
    pub fingerprint: String,
}

pub fn tool_name(server: &str, tool: &str) -> String {
    format!("{TOOL_PREFIX}{server}__{tool}")
}

/// `mcp__<server>__<tool>` → (server, tool). Server names contain no `_`, so the split is exact.
pub fn split_tool_name(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix(TOOL_PREFIX)?.split_once("__")
}

/// Limits for connecting and calling.
#[derive(Debug, Clone, Copy)]
pub struct McpOptions {
    /// Handshake plus tool listing.
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            connect_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(60),
        }
    }
}

struct Connection {
    service: RunningService<RoleClient, ()>,
    config: McpServerConfig,
    tools: Vec<McpTool>,
}

/// The connected MCP servers of one session.
pub struct McpHub {
    connections: BTreeMap<String, Connection>,
    options: McpOptions,
    /// Servers that could not be connected, with the reason; the others still work.
    pub failures: Vec<(String, McpError)>,
}

impl McpHub {
    /// Connect to every configured server (the merged user/enterprise `[mcp.*]` entries).
    pub async fn connect(servers: &BTreeMap<String, McpServerConfig>, options: McpOptions) -> Self {
        let mut hub = McpHub {
            connections: BTreeMap::new(),
            options,
            failures: Vec::new(),
        };
        for (name, cfg) in servers {
            match connect_one(name, cfg, options).await {
                Ok(conn) => {
                    hub.connections.insert(name.clone(), conn);
                }
                Err(e) => hub.failures.push((name.clone(), e)),
            }
        }
        hub
    }

    /// Every allowed tool of every connected server, for the model's tool list.
    pub fn tools(&self) -> Vec<McpTool> {
        self.connections
            .values()
            .flat_map(|c| c.tools.iter().cloned())
            .collect()
    }

    /// The configuration of a connected server.
    pub fn config(&self, server: &str) -> Option<&McpServerConfig> {
        self.connections.get(server).map(|c| &c.config)
    }

    /// The offered tool named `name` (`mcp__<server>__<tool>`), if any.
    pub fn tool(&self, name: &str) -> Option<&McpTool> {
        let (server, _) = split_tool_name(name)?;
        self.connections
            .get(server)?
            .tools
            .iter()
            .find(|t| t.name == name)
    }

    /// Call `mcp__<server>__<tool>` with a JSON object of arguments.
    pub async fn call(
        &self,
        name: &str,
        arguments: serde_json::Value,
    ) -> Result<UntrustedOutput, McpError> {
        let (server, tool) =
            split_tool_name(name).ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        let conn = self
            .connections
            .get(server)
            .ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        // Checked again here, not only when listing: the model can name any tool it likes.
        if !conn.config.allows(tool) {
            return Err(McpError::NotAllowed {
                name: name.to_string(),
                reason: format!("`{tool}` is not in the allowlist of server `{server}`"),
            });
        }
        if !conn.tools.iter().any(|t| t.tool == tool) {
            return Err(McpError::UnknownTool(name.to_string()));
        }
        let serde_json::Value::Object(args) = arguments else {
            return Err(McpError::BadArguments {
                name: name.to_string(),
            });
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        let after = self.options.call_timeout;
        let response = tokio::time::timeout(after, conn.service.call_tool_once(params))
            .await
            .map_err(|_| McpError::Timeout {
                server: server.to_string(),
                operation: format!("tools/call {tool}"),
                after,
            })?
            .map_err(|e| service_error(server, e))?;
        match response {
            CallToolResponse::Complete(result) => {
                Ok(UntrustedOutput::from_result(server, tool, result))
            }
            // input_required, tasks and future kinds: Jingu provides no client-side input.
            _ => Err(McpError::Protocol {
                server: server.to_string(),
                reason: "the server asked for client input or a task, which Jingu does not provide"
                    .into(),
            }),
        }
    }

    /// List every connected server's tools again (a hub kept across runs sees a description
    /// changed since it connected). Servers that fail to answer are reported.
    pub async fn refresh_tools(&mut self) -> Vec<(String, McpError)> {
        let after = self.options.connect_timeout;
        let mut failed = Vec::new();
        for (name, conn) in self.connections.iter_mut() {
            match list_tools(name, &conn.config, &conn.service, after).await {
                Ok(tools) => conn.tools = tools,
                Err(e) => failed.push((name.clone(), e)),
            }
        }
        failed
    }

    /// Close every connection; stdio children are killed when their transport drops.
    pub async fn shutdown(self) {
        for (_, mut conn) in self.connections {
            let _ = conn
                .service
                .close_with_timeout(Duration::from_secs(2))
                .await;
        }
    }
}

async fn connect_one(
    name: &str,
    cfg: &McpServerConfig,
    options: McpOptions,
) -> Result<Connection, McpError> {
    config::validate_server_name(name)?;
    let endpoint = cfg.endpoint(name)?;
    let after = options.connect_timeout;
    let timed_out = || McpError::Timeout {
        server: name.to_string(),
        operation: "initialize".into(),
        after,
    };
    let init_err = |e: rmcp::service::ClientInitializeError| McpError::Initialize {
        server: name.to_string(),
        reason: e.to_string(),
    };
    let service = match endpoint {
        Endpoint::Stdio { command, args } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args).env_clear().kill_on_drop(true);
            for var in INHERITED_ENV {
                if let Some(v) = std::env::var_os(var) {
                    cmd.env(var, v);
                }
            }
            cmd.envs(&cfg.env);
            let (transport, _stderr) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::null())
                .spawn()
                .map_err(|source| McpError::Spawn {
                    server: name.to_string(),
                    command: command.to_string(),
                    source,
                })?;
            tokio::time::timeout(after, ().serve(transport))
                .await
                .map_err(|_| timed_out())?
                .map_err(init_err)?
        }
        Endpoint::Http { url } => {
            let transport = StreamableHttpClientTransport::from_uri(url.to_string());
            tokio::time::timeout(after, ().serve(transport))
                .await
                .map_err(|_| timed_out())?
                .map_err(init_err)?
        }
    };
    let tools = list_tools(name, cfg, &service, after).await?;
    Ok(Connection {
        service,
        config: cfg.clone(),
        tools,
    })
}

/// The server's tools that its config allows, with their fingerprints.
async fn list_tools(
    name: &str,
    cfg: &McpServerConfig,
    service: &RunningService<RoleClient, ()>,
    after: Duration,
) -> Result<Vec<McpTool>, McpError> {
    let listed = tokio::time::timeout(after, service.peer().list_all_tools())
        .await
        .map_err(|_| McpError::Timeout {
            server: name.to_string(),
            operation: "tools/list".into(),
            after,
        })?
        .map_err(|e| service_error(name, e))?;
    let tools: Vec<McpTool> = listed
        .into_iter()
        .filter(|t| config::valid_tool_name(&t.name) && cfg.allows(&t.name))
        .filter(|t| {
            serde_json::to_string(&*t.input_schema).is_ok_and(|s| s.len() <= MAX_SCHEMA_BYTES)
        })
        .map(|t| {
            let raw = t.description.as_deref().unwrap_or_default();
            let input_schema = serde_json::Value::Object((*t.input_schema).clone());
            McpTool {
                name: tool_name(name, &t.name),
                server: name.to_string(),
                tool: t.name.to_string(),
                description: untrusted::tool_description(raw),
                fingerprint: fingerprint(raw, &input_schema),
                input_schema,
            }
        })
        .collect();
    Ok(tools)
}

/// SHA-256 over a tool's description and its schema, as the server sent them.
pub fn fingerprint(description: &str, input_schema: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(description.as_bytes());
    h.update([0u8]);
    h.update(input_schema.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn service_error(server: &str, e: ServiceError) -> McpError {
    let server = server.to_string();
    match e {
        ServiceError::TransportClosed
        | ServiceError::TransportSend(_)
        | ServiceError::Cancelled { .. } => McpError::ServerGone {
            server,
            reason: e.to_string(),
        },
        ServiceError::Timeout { timeout } => McpError::Timeout {
            server,
            operation: "request".into(),
            after: timeout,
        },
        other => McpError::Protocol {
            server,
            reason: other.to_string(),
        },
    }
}
