//! Run modes (ACP `session/set_mode`, `jingu ask --mode`) mapped onto policy. A mode only ever tightens what the merged
//! policy decided, except `auto`, which answers the *edit* confirmations policy asks for; a `deny`
//! from any layer is never reached by a confirmation, so no mode can override it.

use jingu_policy::{Layer, Policy, Sourced, Tool, ToolDecision};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Edits, commands and MCP tools (which may act) are denied for this session.
    ReadOnly,
    /// Policy as configured: `ask` asks through `session/request_permission`.
    Ask,
    /// Edits the policy asks about are applied without asking; commands still ask.
    Auto,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::ReadOnly, Mode::Ask, Mode::Auto];

    pub fn id(self) -> &'static str {
        match self {
            Mode::ReadOnly => "read-only",
            Mode::Ask => "ask",
            Mode::Auto => "auto",
        }
    }

    pub fn parse(id: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::ReadOnly => "Read-only",
            Mode::Ask => "Ask",
            Mode::Auto => "Auto-edit",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Mode::ReadOnly => "Reads only: edits, commands and MCP tools are denied",
            Mode::Ask => "Asks before every action the policy marks `ask`",
            Mode::Auto => {
                "Applies edits the policy marks `ask` without asking; never overrides a deny"
            }
        }
    }

    /// Tighten `policy` for this mode. Only `ReadOnly` changes it, and only towards `deny`.
    pub fn restrict(self, policy: &mut Policy) {
        if self != Mode::ReadOnly {
            return;
        }
        for tool in [Tool::Edit, Tool::RunCommand, Tool::Mcp] {
            let denied = Sourced::new(ToolDecision::Deny, Layer::User);
            match policy.tools.iter_mut().find(|(t, _)| *t == tool) {
                Some((_, d)) => *d = denied,
                None => policy.tools.push((tool, denied)),
            }
        }
    }

    /// Whether a confirmation for `tool` (which policy said to ask about) is answered yes without
    /// asking the user.
    pub fn pre_approves(self, tool: &str) -> bool {
        self == Mode::Auto && tool == "edit"
    }
}
