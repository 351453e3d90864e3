//! The audit trail's witness and upkeep: the checkpoint key and sinks the policy names, the
//! cross-check against each sink, `repair`, `flush` and the sink's schema. Everything here goes
//! through the same [`AuditLog`] the session writes with.

use std::path::Path;

use jingu_audit::{
    AuditContext, AuditLog, AuditOptions, CheckpointKey, Divergence, OtlpConfig, RepairReport,
    SinkConfig, VerifyReport,
};
use jingu_policy::Policy;

use super::error::OpsError;
use super::trail::{AuditTrail, TrailError};
use crate::identity::Identity;

pub use jingu_audit::sink::{SCHEMA_SQL, SinkError};

/// What an audit log of the workspace at `root` needs from the effective policy.
pub(crate) fn audit_options(policy: &Policy, root: &Path) -> AuditOptions {
    let a = &policy.audit;
    AuditOptions {
        sinks: a
            .sinks
            .iter()
            .map(|s| SinkConfig {
                kind: s.value.kind.clone(),
                url: s.value.url.clone(),
                password_env: s.value.password_env.clone(),
                password_file: s.value.password_file.clone(),
                required: s.value.required,
                organisation: s.value.organisation.clone(),
                ca_file: s.value.ca_file.clone(),
            })
            .collect(),
        otlp: a
            .otlp
            .iter()
            .map(|o| OtlpConfig {
                endpoint: o.value.endpoint.clone(),
                headers: o.value.headers.clone(),
                timeout_ms: o.value.timeout_ms,
            })
            .collect(),
        checkpoint_key_file: a.checkpoint_key_file.as_ref().map(|k| k.value.clone()),
        checkpoint_every: a.checkpoint_every.as_ref().map(|n| n.value).unwrap_or(0),
        workspace: root.display().to_string(),
    }
}

/// One sink's answer to the cross-check.
#[derive(Debug)]
pub struct SinkCheck {
    /// The sink's URL without credentials.
    pub url: String,
    /// `Ok(None)`: the sink holds exactly the local chain.
    pub result: Result<Option<Divergence>, SinkError>,
}

impl AuditTrail {
    fn policy(&self) -> Result<Policy, OpsError> {
        Ok(Policy::load(&self.workspace().root)?)
    }

    fn options(&self) -> Result<AuditOptions, OpsError> {
        Ok(audit_options(&self.policy()?, &self.workspace().root))
    }

    /// Verify the chain and, with a checkpoint key configured, every checkpoint's signature.
    pub fn verify_signed(&self) -> Result<VerifyReport, TrailError> {
        let opts = self.options()?;
        let key = match &opts.checkpoint_key_file {
            Some(path) => Some(
                CheckpointKey::read(path)
                    .map_err(jingu_audit::AuditError::from)
                    .map_err(OpsError::from)?
                    .verifying_key(),
            ),
            None => None,
        };
        Ok(jingu_audit::verify_with(self.log_path(), key.as_ref())?)
    }

    /// Whether any sink is configured.
    pub fn has_sinks(&self) -> Result<bool, OpsError> {
        Ok(!self.options()?.sinks.is_empty())
    }

    /// Compare the local chain with every configured sink's copy.
    pub fn compare_with_sinks(&self) -> Result<Vec<SinkCheck>, OpsError> {
        let opts = self.options()?;
        let lines: Vec<String> = match std::fs::read(self.log_path()) {
            Ok(b) => String::from_utf8_lossy(&b)
                .lines()
                .map(str::to_string)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(jingu_audit::AuditError::Io {
                    path: self.log_path().to_path_buf(),
                    source,
                }
                .into());
            }
        };
        let chain = jingu_audit::chain_id(&self.workspace().state_dir);
        Ok(opts
            .sinks
            .iter()
            .map(|cfg| SinkCheck {
                url: cfg.display_url(),
                result: jingu_audit::sink::get(cfg)
                    .and_then(|s| jingu_audit::compare_with_sink(&lines, &s, &chain)),
            })
            .collect())
    }

    /// A handle for upkeep, stamped with the caller's identity.
    fn maintenance_log(&self) -> Result<AuditLog, OpsError> {
        let policy = self.policy()?;
        let id = Identity::resolve(&policy.identity)?;
        Ok(AuditLog::open_with(
            &self.workspace().state_dir,
            AuditContext {
                run_id: super::new_run_id(),
                subject: id.subject.clone(),
                verified: id.verified,
                policy_hash: policy.hash(),
            },
            &audit_options(&policy, &self.workspace().root),
        )?)
    }

    /// Seal a torn tail or rebuild an unreadable head (see `jingu_audit`'s repair).
    pub fn repair(&self) -> Result<RepairReport, OpsError> {
        Ok(self.maintenance_log()?.repair()?)
    }

    /// Send spooled records to every sink, in order: per sink, how many it received.
    pub fn flush(&self) -> Result<Vec<jingu_audit::FlushResult>, OpsError> {
        Ok(self.maintenance_log()?.flush_sinks()?)
    }

    /// Apply the sink schema through the first configured sink, or through `owner_url` (its
    /// password from `$PGPASSWORD`). Returns the URL it was applied at.
    pub fn init_sink_schema(&self, owner_url: Option<String>) -> Result<String, TrailError> {
        let opts = self.options()?;
        let cfg = match (owner_url, opts.sinks.first()) {
            (Some(url), first) => SinkConfig {
                kind: "postgres".into(),
                url,
                password_env: std::env::var_os("PGPASSWORD").map(|_| "PGPASSWORD".to_string()),
                password_file: None,
                required: true,
                organisation: String::new(),
                ca_file: first.and_then(|s| s.ca_file.clone()),
            },
            (None, Some(s)) => s.clone(),
            (None, None) => {
                return Err(TrailError::Ops(OpsError::Denied(
                    "no [audit.sink] is configured; pass --url or use --print-sql".into(),
                )));
            }
        };
        jingu_audit::sink::get(&cfg)
            .and_then(|s| s.init_schema())
            .map_err(|e| OpsError::Audit(jingu_audit::AuditError::Sink(e)))?;
        Ok(cfg.display_url())
    }
}
