//! `[completion]`: inline completion (ghost text). Not security keys — which provider may see the
//! text is still decided by `allowed_providers`, `deny_paths` and `tools.complete` — so later
//! layers override earlier ones, like `[routing]`.

use serde::{Deserialize, Serialize};

use super::layer::{Layer, RawLayer};

/// `[completion]` as written in one layer; unknown keys are errors naming the closest valid key.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompletion {
    pub enabled: Option<bool>,
    pub provider: Option<String>,
    pub max_tokens: Option<u32>,
    pub debounce_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub first_item_ms: Option<u64>,
    pub context_tokens: Option<u32>,
    pub enabled_languages: Option<Vec<String>>,
}

/// The effective completion settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompletionSettings {
    pub enabled: bool,
    /// `"local"` (the embedded model) or the name of a configured provider.
    pub provider: String,
    /// Most tokens one completion may generate.
    pub max_tokens: u32,
    /// How long a request waits for a newer one to supersede it before it asks the model.
    pub debounce_ms: u64,
    /// After this long the answer is empty, whatever the model is doing.
    pub deadline_ms: u64,
    /// After this long the local model answers with the complete lines it has and generates the
    /// rest of the item ahead; 0 waits for the whole item.
    pub first_item_ms: u64,
    /// Prompt budget (prefix, suffix and index context together), in tokens; `None` chooses by
    /// provider ([`CompletionSettings::context_tokens`]).
    pub context_tokens: Option<u32>,
    /// Language names (`rust`, `python`, …); empty means every language Jingu parses.
    pub enabled_languages: Vec<String>,
    /// The layer that chose the provider.
    pub provider_layer: Layer,
}

impl Default for CompletionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            provider: super::LOCAL_PROVIDER.to_string(),
            max_tokens: 64,
            debounce_ms: 75,
            deadline_ms: 2000,
            first_item_ms: 150,
            context_tokens: None,
            enabled_languages: Vec::new(),
            provider_layer: Layer::Default,
        }
    }
}

/// Default prompt budget for the embedded model: on 2 cores it decodes a prompt at about 3.5 ms
/// a token, so a first request at a new place (nothing cached) stays near 1 s.
pub(crate) const LOCAL_CONTEXT_TOKENS: u32 = 384;
/// Default prompt budget for a hosted provider, where prompt tokens are cheap.
pub(crate) const HOSTED_CONTEXT_TOKENS: u32 = 1024;

impl CompletionSettings {
    /// The prompt budget in tokens: as configured, else by provider (`local` = the embedded
    /// model).
    pub fn context_tokens(&self, local: bool) -> u32 {
        self.context_tokens.unwrap_or(if local {
            LOCAL_CONTEXT_TOKENS
        } else {
            HOSTED_CONTEXT_TOKENS
        })
    }

    /// Whether completion is on for `language` (a `jingu_syntax::Language::name`).
    pub fn language_enabled(&self, language: &str) -> bool {
        self.enabled
            && (self.enabled_languages.is_empty()
                || self
                    .enabled_languages
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case(language)))
    }
}

pub(crate) fn merge(layers: &[(Layer, &RawLayer)]) -> CompletionSettings {
    let mut s = CompletionSettings::default();
    for (layer, raw) in layers {
        let c = &raw.completion;
        if let Some(v) = c.enabled {
            s.enabled = v;
        }
        if let Some(v) = &c.provider {
            s.provider = v.clone();
            s.provider_layer = *layer;
        }
        if let Some(v) = c.max_tokens {
            s.max_tokens = v.clamp(1, 1024);
        }
        if let Some(v) = c.debounce_ms {
            s.debounce_ms = v.min(2000);
        }
        if let Some(v) = c.deadline_ms {
            s.deadline_ms = v.clamp(50, 30_000);
        }
        if let Some(v) = c.first_item_ms {
            s.first_item_ms = v.min(30_000);
        }
        if let Some(v) = c.context_tokens {
            s.context_tokens = Some(v.clamp(64, 16_384));
        }
        if let Some(v) = &c.enabled_languages {
            s.enabled_languages = v.clone();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::{Decision, Policy, Tool};

    #[test]
    fn completion_settings_merge_with_later_layers_winning_and_defaults_to_local() {
        let p = Policy::from_texts(None, None, None).expect("policy");
        assert_eq!(p.completion.provider, "local");
        assert_eq!(p.decide(Tool::Complete, Some("src/a.rs")), Decision::Allow);
        assert!(matches!(
            p.decide(Tool::Complete, Some(".env")),
            Decision::Deny(_)
        ));
        let user =
            "[completion]\nprovider = \"qwen\"\nmax_tokens = 32\nenabled_languages = [\"rust\"]\n";
        let ws = "[completion]\ndebounce_ms = 10\n";
        let p = Policy::from_texts(None, Some(user), Some(ws)).expect("policy");
        assert_eq!(p.completion.provider, "qwen");
        assert_eq!(p.completion.max_tokens, 32);
        assert_eq!(p.completion.debounce_ms, 10);
        assert!(p.completion.language_enabled("rust"));
        assert!(!p.completion.language_enabled("python"));
    }

    #[test]
    fn the_prompt_budget_follows_the_provider_unless_set_and_first_item_ms_can_turn_off() {
        let p = Policy::from_texts(None, None, None).expect("policy");
        assert_eq!(
            p.completion.context_tokens(true),
            super::LOCAL_CONTEXT_TOKENS
        );
        assert_eq!(
            p.completion.context_tokens(false),
            super::HOSTED_CONTEXT_TOKENS
        );
        assert_eq!(p.completion.first_item_ms, 150);
        let user = "[completion]\ncontext_tokens = 2048\nfirst_item_ms = 0\n";
        let p = Policy::from_texts(None, Some(user), None).expect("policy");
        assert_eq!(p.completion.context_tokens(true), 2048);
        assert_eq!(p.completion.context_tokens(false), 2048);
        assert_eq!(p.completion.first_item_ms, 0);
        let p = Policy::from_texts(None, Some("[completion]\ncontext_tokens = 1\n"), None)
            .expect("policy");
        assert_eq!(p.completion.context_tokens(true), 64, "clamped");
    }

    #[test]
    fn a_typo_in_completion_is_an_error_naming_the_closest_key() {
        let err = Policy::from_texts(None, Some("[completion]\nmax_token = 3\n"), None)
            .expect_err("typo");
        let msg = err.to_string();
        assert!(
            msg.contains("max_token") && msg.contains("max_tokens"),
            "{msg}"
        );
    }

    #[test]
    fn tools_complete_is_allow_or_deny() {
        let err = Policy::from_texts(
            None,
            Some("[policy]\ntools = { complete = \"ask\" }\n"),
            None,
        )
        .expect_err("ask");
        assert!(err.to_string().contains("tools.complete"), "{err}");
        let p = Policy::from_texts(
            Some("[policy]\ntools = { complete = \"deny\" }\n"),
            Some("[policy]\ntools = { complete = \"allow\" }\n"),
            None,
        )
        .expect("policy");
        assert!(
            matches!(p.decide(Tool::Complete, Some("a.rs")), Decision::Deny(_)),
            "the enterprise deny stands"
        );
    }
}
