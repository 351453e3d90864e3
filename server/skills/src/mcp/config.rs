//! `[mcp.NAME]` server entries (DESIGN §4). Only the user and enterprise layers may define them; the
//! policy module merges those layers and hands the result here, so this module never reads config.

use std::collections::BTreeMap;

use jingu_policy::ToolDecision;
use serde::Deserialize;

use super::McpError;

/// How to reach one MCP server and which of its tools the model may see and call.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct McpServerConfig {
    /// A stdio server: the program to start (exactly one of `command` and `url`).
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment for a stdio server; nothing else from Jingu's environment leaks except
    /// the few variables in [`INHERITED_ENV`].
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A streamable HTTP server endpoint.
    pub url: Option<String>,
    /// Allowlist of the server's tool names; `"*"` allows all. Empty allows none.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Per-tool `allow | ask | deny` (`"*"`: the server's default). Combined with
    /// `policy.tools.mcp` by taking the most restrictive, so it can only tighten.
    #[serde(default)]
    pub decisions: BTreeMap<String, ToolDecision>,
}

/// The environment a stdio MCP server inherits: enough to run, never provider keys or tokens.
pub const INHERITED_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"];

/// Where a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Stdio {
        command: &'a str,
        args: &'a [String],
    },
    Http {
        url: &'a str,
    },
}

impl McpServerConfig {
    pub fn endpoint(&self, server: &str) -> Result<Endpoint<'_>, McpError> {
        let bad = |reason: &str| McpError::InvalidConfig {
            server: server.to_string(),
            reason: reason.to_string(),
        };
        match (&self.command, &self.url) {
            (Some(command), None) => Ok(Endpoint::Stdio {
                command,
                args: &self.args,
            }),
            (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Endpoint::Http { url })
            }
            (None, Some(_)) => Err(bad("url must be http:// or https://")),
            (Some(_), Some(_)) => Err(bad("set either command or url, not both")),
            (None, None) => Err(bad("set command (stdio) or url (streamable HTTP)")),
        }
    }

    pub fn allows(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == "*" || t == tool)
    }

    /// This server's own decision for `tool`, if it sets one (`decisions.TOOL`, else `decisions."*"`).
    pub fn decision(&self, tool: &str) -> Option<ToolDecision> {
        self.decisions
            .get(tool)
            .or_else(|| self.decisions.get("*"))
            .copied()
    }
}

/// The `[mcp.*]` servers of the trusted layers, parsed. A server whose section does not parse is
/// returned as an error for that server alone (the others still work).
pub fn servers_from_table(
    table: &toml::Table,
) -> (BTreeMap<String, McpServerConfig>, Vec<(String, McpError)>) {
    let mut ok = BTreeMap::new();
    let mut bad = Vec::new();
    for (name, value) in table {
        match value.clone().try_into::<McpServerConfig>() {
            Ok(cfg) => {
                ok.insert(name.clone(), cfg);
            }
            Err(e) => bad.push((
                name.clone(),
                McpError::InvalidConfig {
                    server: name.clone(),
                    reason: e.to_string().trim().to_string(),
                },
            )),
        }
    }
    (ok, bad)
}

/// Server names become part of tool names (`mcp__<server>__<tool>`), so they are restricted to
/// lowercase letters, digits and hyphens: no `_`, which keeps the `__` separator unambiguous.
pub fn validate_server_name(name: &str) -> Result<(), McpError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(McpError::InvalidConfig {
            server: name.to_string(),
            reason: "server names are 1-32 lowercase letters, digits or hyphens".into(),
        })
    }
}

/// Tool names a server reports are checked before they reach the model's tool list.
pub fn valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
