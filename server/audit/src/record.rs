//! Record kinds and the exact line encoding the hash chain is computed over.
//!
//! A line is `BODY` with `,"hash":"<hex>"}` spliced in before its closing brace, where `<hex>` is
//! the SHA-256 of `BODY`'s bytes. Verification strips that suffix back off, so no JSON
//! re-serialisation (key order, number formatting) is involved in checking a hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happened. Field names are part of the on-disk contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordKind {
    RunStart {
        /// The instruction or command line that started the run.
        instruction: String,
    },
    /// Written before the request is sent; `output_tokens` is unknown then.
    ModelRequest {
        provider: String,
        model: String,
        input_tokens: u64,
        output_tokens: Option<u64>,
        redactions: u64,
    },
    /// Token usage reported once a model response completed.
    ModelUsage {
        provider: String,
        model: String,
        input_tokens: u64,
        output_tokens: u64,
    },
    ToolCall {
        tool: String,
        args: serde_json::Value,
    },
    /// Where a tool call's arguments came from (issue #23): for each argument text, the trusted
    /// or untrusted context it occurs in, or `model` when it occurs in none.
    ArgProvenance {
        tool: String,
        args: serde_json::Value,
    },
    PolicyDecision {
        tool: String,
        path: Option<String>,
        decision: String,
        reason: Option<String>,
    },
    Edit {
        path: String,
        snapshot_before: String,
        snapshot_after: String,
        snapshot_id: String,
        /// SHA-256 of the file after the edit; `None` when the edit deleted it.
        after_sha256: Option<String>,
    },
    Command {
        argv: Vec<String>,
        cwd: String,
        sandbox: String,
    },
    Rollback {
        target: String,
        snapshot_id: String,
        paths: Vec<String>,
    },
    /// Maintenance of the snapshot history: a workspace scan (`op = "scan"`) or gc (`op = "gc"`).
    /// Written before the store is touched (`detail = "(pending)"`), then again with the outcome.
    Snapshot {
        op: String,
        detail: String,
    },
    Warning {
        message: String,
    },
    RunEnd {
        status: String,
    },
    /// Signed statement that the chain's first `count` records end with line hash `head_hash`.
    Checkpoint {
        count: u64,
        head_hash: String,
        /// `ed25519:<hex>` of the signing key.
        key_id: String,
        signature: String,
    },
    /// `jingu policy sync`: written before a fetched release is installed (`outcome = "install"`),
    /// when it was refused (`outcome = "refused"`, with the reason), or when the release in force
    /// was found current (`outcome = "up_to_date"`).
    PolicySync {
        repo: String,
        reference: String,
        commit: Option<String>,
        serial: Option<u64>,
        outcome: String,
        reason: Option<String>,
    },
    /// `jingu audit repair` cut a torn or unacknowledged tail; the cut bytes are kept here.
    Repair {
        reason: String,
        /// Byte offset in the log where the cut began, and how much was cut.
        offset: u64,
        cut_bytes: u64,
        cut_sha256: String,
        /// The cut bytes themselves (hex), so no evidence is lost.
        cut_hex: String,
    },
}

impl RecordKind {
    pub fn name(&self) -> &'static str {
        match self {
            RecordKind::RunStart { .. } => "run_start",
            RecordKind::ModelRequest { .. } => "model_request",
            RecordKind::ModelUsage { .. } => "model_usage",
            RecordKind::ToolCall { .. } => "tool_call",
            RecordKind::ArgProvenance { .. } => "arg_provenance",
            RecordKind::PolicyDecision { .. } => "policy_decision",
            RecordKind::Edit { .. } => "edit",
            RecordKind::Command { .. } => "command",
            RecordKind::Rollback { .. } => "rollback",
            RecordKind::Snapshot { .. } => "snapshot",
            RecordKind::Warning { .. } => "warning",
            RecordKind::RunEnd { .. } => "run_end",
            RecordKind::Checkpoint { .. } => "checkpoint",
            RecordKind::Repair { .. } => "repair",
            RecordKind::PolicySync { .. } => "policy_sync",
        }
    }
}

/// The hashed part of a record (everything but `hash`), in on-disk field order.
#[derive(Debug, Serialize)]
pub(super) struct Body<'a> {
    pub seq: u64,
    pub time: &'a str,
    pub run_id: &'a str,
    pub subject: &'a str,
    pub verified: bool,
    pub policy_hash: &'a str,
    #[serde(flatten)]
    pub kind: &'a RecordKind,
    pub prev: &'a str,
}

/// A record as read back from the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub run_id: String,
    pub subject: String,
    pub verified: bool,
    pub policy_hash: String,
    #[serde(flatten)]
    pub kind: RecordKind,
    pub prev: String,
    pub hash: String,
}

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Encode `body` as a line (without the trailing newline) and return it with its own hash.
pub(super) fn encode(body: &Body<'_>) -> Result<(String, String), serde_json::Error> {
    let json = serde_json::to_string(body)?;
    let hash = sha256_hex(json.as_bytes());
    let mut line = json;
    line.pop(); // the closing brace
    line.push_str(&format!(",\"hash\":\"{hash}\"}}"));
    Ok((line, hash))
}

/// Split a line into its body and its claimed hash; `None` if the suffix is not well formed.
pub(super) fn split_hash(line: &str) -> Option<(String, &str)> {
    const TAIL: usize = 2; // `"}`
    const KEY: &str = ",\"hash\":\"";
    let cut = line.len().checked_sub(64 + TAIL + KEY.len())?;
    let (head, suffix) = (line.get(..cut)?, line.get(cut..)?);
    let hash = suffix.strip_prefix(KEY)?.strip_suffix("\"}")?;
    if !hash
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    Some((format!("{head}}}"), hash))
}
