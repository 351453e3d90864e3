//! What the effective policy tells the audit log: where else records go and how they are sealed.

use std::path::PathBuf;

use serde::Serialize;

/// `[audit.sink]`: a central store every record reaches before its action runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SinkConfig {
    /// Only `postgres` today.
    pub kind: String,
    /// `postgres://user@host:port/db[?sslmode=disable|prefer|require]`; never carries the password.
    pub url: String,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Refuse actions while the sink is unreachable (true), or spool and warn (false).
    pub required: bool,
    /// Stamped on every row, for the organisation index.
    pub organisation: String,
    /// PEM file of the CA that signed the server's certificate; the system roots otherwise.
    pub ca_file: Option<PathBuf>,
}

impl SinkConfig {
    /// The URL without any user-info password (for messages).
    pub fn display_url(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let userinfo = &self.url[s + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{}{user}{}", &self.url[..s + 3], &self.url[at..])
            }
            _ => self.url.clone(),
        }
    }
}

/// `[audit.otlp]`: an OpenTelemetry collector that receives every record as a log record and
/// every run as a trace. A copy for observability, not a witness: exporting never gates an action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OtlpConfig {
    /// The collector's OTLP/HTTP base URL (`http://host:4318`); `/v1/logs` and `/v1/traces`
    /// are appended.
    pub endpoint: String,
    /// Sent with every export (e.g. an `authorization` header the collector expects).
    pub headers: std::collections::BTreeMap<String, String>,
    /// Bound on one export and on the flush at a run's end.
    pub timeout_ms: u64,
}

/// Everything an [`super::AuditLog`] needs beyond its directory and context.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    pub sinks: Vec<SinkConfig>,
    /// OpenTelemetry collectors every record is exported to (after it is written).
    pub otlp: Vec<OtlpConfig>,
    /// `[audit] checkpoint_key_file` (enterprise layer).
    pub checkpoint_key_file: Option<PathBuf>,
    /// Records between checkpoints (0: only at run end).
    pub checkpoint_every: u64,
    /// The workspace root, for the sink's workspace column.
    pub workspace: String,
}
