//! `[enterprise]`: where `jingu policy sync` fetches the enterprise policy and skills from, and the
//! key they must be signed with. Only the enterprise policy itself may set it: a lower layer can
//! neither point sync at another repository or key nor turn it off (its section is ignored with a
//! warning).

use serde::{Deserialize, Serialize};

use super::layer::{Layer, RawLayer};

/// `[enterprise]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnterprise {
    pub policy_repo: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub trusted_key: Option<String>,
}

/// The effective sync source; always from [`Layer::Enterprise`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseSync {
    /// Any URL git understands, or a local path (a bare repository).
    pub policy_repo: String,
    /// A branch name, or a full ref (`refs/…`). Default `main`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// `ed25519:<64 hex digits>`: the only key a synced manifest may be signed with.
    pub trusted_key: String,
}

/// Checked when the enterprise layer is parsed, so a half-written section fails closed there.
pub(crate) fn validate(e: &RawEnterprise) -> Result<(), String> {
    if e.policy_repo.is_none() || e.trusted_key.is_none() {
        return Err("[enterprise] needs both `policy_repo` and `trusted_key`".into());
    }
    Ok(())
}

pub(super) fn merge(
    layers: &[(Layer, &RawLayer)],
    warnings: &mut Vec<String>,
) -> Option<EnterpriseSync> {
    let mut out = None;
    for (layer, raw) in layers {
        let Some(e) = &raw.enterprise else { continue };
        if *layer != Layer::Enterprise {
            warnings.push(format!(
                "{layer} config sets [enterprise]; ignored (the enterprise policy alone names its repository and key)"
            ));
            continue;
        }
        let (Some(repo), Some(key)) = (&e.policy_repo, &e.trusted_key) else {
            continue; // rejected by `validate` when the layer was parsed
        };
        out = Some(EnterpriseSync {
            policy_repo: repo.clone(),
            reference: e.reference.clone().unwrap_or_else(|| "main".into()),
            trusted_key: key.trim().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    const ENT: &str = "[enterprise]\npolicy_repo = \"/srv/policy.git\"\nref = \"prod\"\ntrusted_key = \"ed25519:00\"\n";

    #[test]
    fn only_the_enterprise_layer_names_the_repository() {
        let p = Policy::from_texts(
            Some(ENT),
            Some("[enterprise]\npolicy_repo = \"/tmp/mine.git\"\ntrusted_key = \"ed25519:11\"\n"),
            Some("[enterprise]\npolicy_repo = \"/tmp/evil.git\"\ntrusted_key = \"ed25519:22\"\n"),
        )
        .unwrap();
        let e = p.enterprise.clone().expect("enterprise sync kept");
        assert_eq!(e.policy_repo, "/srv/policy.git");
        assert_eq!(e.reference, "prod");
        assert_eq!(e.trusted_key, "ed25519:00");
        assert_eq!(
            p.warnings
                .iter()
                .filter(|w| w.contains("[enterprise]"))
                .count(),
            2
        );
    }

    #[test]
    fn a_lower_layer_cannot_create_or_disable_sync() {
        let p = Policy::from_texts(
            None,
            Some("[enterprise]\npolicy_repo = \"/tmp/mine.git\"\ntrusted_key = \"ed25519:11\"\n"),
            None,
        )
        .unwrap();
        assert!(p.enterprise.is_none());
        let err = Policy::from_texts(Some("[enterprise]\nref = \"x\"\n"), None, None).unwrap_err();
        assert!(err.to_string().contains("policy_repo"), "{err}");
        let err = Policy::from_texts(
            Some("[enterprise]\npolicy_repo = \"r\"\ntrusted_key = \"k\"\nrepo = \"x\"\n"),
            None,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
