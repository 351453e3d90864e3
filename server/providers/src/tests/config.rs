//! Config parsing, preset merge and the rules about where keys and URLs may come from.

use std::path::Path;

use crate::{
    DataUse, KeySource, Kind, Provider, ProviderError, ProvidersConfig, presets::MaxTokensField,
};

fn parse(text: &str) -> ProvidersConfig {
    ProvidersConfig::parse(text, Path::new("config.toml")).expect("parse")
}

#[test]
fn a_table_named_after_a_preset_inherits_it_and_overrides_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k");
    std::fs::write(&key, "sk-file-key\n").expect("write");
    let cfg = parse(&format!(
        r#"
[providers.qwen]
model = "qwen3-coder-flash"
api_key_file = "{}"
data_use = "inference-only"
read_timeout_ms = 5000

[routing]
default = "qwen"
fallback = ["kimi", "local", "qwen"]

[policy]
require_inference_only = true
deny_paths = [".env"]
"#,
        key.display()
    ));
    let r = cfg.resolve("qwen").expect("resolve");
    assert_eq!(r.kind, Kind::OpenAiCompatible);
    assert_eq!(
        r.base_url,
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    );
    assert_eq!(r.model, "qwen3-coder-flash");
    assert_eq!(
        r.key.as_ref().map(|k| k.redact("sk-file-key")),
        Some("[redacted]".into())
    );
    assert_eq!(r.key_source, KeySource::File(key));
    assert_eq!(r.data_use, DataUse::InferenceOnly);
    assert!(r.inference_only);
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("sk-file-key"),
        "Debug must not show the key: {debug}"
    );
    assert_eq!(r.read_timeout.as_millis(), 5000);
    assert_eq!(cfg.chain(), ["qwen", "kimi", "local"]);
    Provider::new(r).expect("usable: key present, declared inference-only");
}

#[test]
fn an_inline_api_key_is_rejected_not_sent() {
    let err = ProvidersConfig::parse(
        "[providers.openai]\napi_key = \"sk-inline\"\n",
        Path::new("config.toml"),
    )
    .expect_err("inline key");
    let text = err.to_string();
    assert!(text.contains("api_key"), "{text}");
}

#[test]
fn plain_http_is_allowed_only_to_loopback() {
    let cfg = parse(
        "[providers.x]\nkind = \"openai-compatible\"\nbase_url = \"http://evil.example/v1\"\nmodel = \"m\"\n\
         [providers.y]\nkind = \"openai-compatible\"\nbase_url = \"http://localhost.evil.example/v1\"\nmodel = \"m\"\n\
         [providers.z]\nkind = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n",
    );
    assert!(matches!(
        cfg.resolve("x"),
        Err(ProviderError::Config { .. })
    ));
    assert!(matches!(
        cfg.resolve("y"),
        Err(ProviderError::Config { .. })
    ));
    assert!(cfg.resolve("z").is_ok());
}

#[test]
fn inference_only_policy_refuses_undeclared_vendors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k");
    std::fs::write(&key, "sk-1").expect("write");
    let cfg = parse(&format!(
        "[providers.kimi]\napi_key_file = \"{}\"\n[policy]\nrequire_inference_only = true\n",
        key.display()
    ));
    let err = Provider::new(cfg.resolve("kimi").expect("resolve")).expect_err("refused");
    assert!(err.to_string().contains("inference-only"), "{err}");
}

#[test]
fn missing_keys_and_unknown_names_are_config_errors() {
    let cfg = parse("[providers.claude]\napi_key_env = \"JINGU_TEST_SURELY_UNSET_VAR\"\n");
    let r = cfg.resolve("claude").expect("resolve without key");
    assert!(r.key.is_none());
    let err = Provider::new(r).expect_err("no key");
    assert!(
        err.to_string().contains("$JINGU_TEST_SURELY_UNSET_VAR"),
        "{err}"
    );
    assert!(matches!(
        cfg.resolve("nope"),
        Err(ProviderError::Config { .. })
    ));
    let custom = parse("[providers.mine]\nbase_url = \"https://x.example/v1\"\n");
    assert!(
        custom.resolve("mine").is_err(),
        "kind and model are required without a preset"
    );
}

#[test]
fn presets_cover_the_documented_vendors_with_their_quirks() {
    let cfg = ProvidersConfig::default();
    for name in [
        "qwen", "minimax", "glm", "kimi", "openai", "claude", "gemini", "ollama", "llamacpp",
        "vllm", "local",
    ] {
        cfg.resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(
        cfg.resolve("glm").expect("glm").base_url,
        "https://open.bigmodel.cn/api/paas/v4"
    );
    assert_eq!(
        cfg.resolve("kimi").expect("kimi").base_url,
        "https://api.moonshot.ai/v1"
    );
    let llama = cfg.resolve("llamacpp").expect("llamacpp");
    assert_eq!(llama.quirks.max_tokens_field, MaxTokensField::MaxTokens);
    assert!(!llama.needs_key());
    Provider::new(llama).expect("keyless local server needs no key");
    assert_eq!(
        cfg.resolve("openai")
            .expect("openai")
            .quirks
            .max_tokens_field,
        MaxTokensField::MaxCompletionTokens
    );
    assert_eq!(
        cfg.chain(),
        ["local"],
        "local is the default with nothing configured"
    );
}
