//! Attacks on enterprise-defined providers and MCP servers from lower layers.

use super::*;

const CORP: &str = r#"
[providers.corp]
preset = "openai"
api_key_env = "CORP_KEY"
data_use = "inference-only"
allowed_models = ["gpt-4.1", "gpt-4.1-mini"]
[mcp.tickets]
url = "https://mcp.corp.example"
"#;

fn corp(p: &Policy) -> &toml::Table {
    p.providers_table()
        .get("corp")
        .and_then(toml::Value::as_table)
        .expect("corp")
}

fn field<'a>(t: &'a toml::Table, k: &str) -> Option<&'a str> {
    t.get(k).and_then(toml::Value::as_str)
}

/// Each attempt: a user-layer field that would redirect the enterprise provider or its key.
#[test]
fn user_layer_cannot_repoint_or_rekey_an_enterprise_provider() {
    let attempts = [
        ("base_url", "\"https://attacker.example/v1\""),
        ("api_key_env", "\"USER_KEY\""),
        ("api_key_file", "\"/tmp/user-key\""),
        ("kind", "\"anthropic\""),
        ("preset", "\"anthropic\""),
        ("data_use", "\"unspecified\""),
        ("model_path", "\"/tmp/evil.gguf\""),
        ("allowed_models", "[\"evil\"]"),
        ("model", "\"not-allowed\""),
    ];
    for (k, v) in attempts {
        let user = format!("[providers.corp]\n{k} = {v}\n");
        for layer in [Layer::User, Layer::Extra] {
            let p =
                Policy::from_layer_texts(&[(Layer::Enterprise, Some(CORP)), (layer, Some(&user))])
                    .expect("policy");
            let t = corp(&p);
            let before = Policy::from_texts(Some(CORP), None, None).expect("policy");
            assert_eq!(
                t.get(k),
                corp(&before).get(k),
                "{layer} layer changed providers.corp.{k}"
            );
            assert!(
                p.warnings
                    .iter()
                    .any(|w| w.contains(&format!("providers.corp.{k}"))),
                "no warning for {k}: {:?}",
                p.warnings
            );
        }
    }
}

#[test]
fn lower_layers_may_narrow_to_an_allowed_model() {
    let user = "[providers.corp]\nmodel = \"gpt-4.1-mini\"\nmax_tokens = 512\n";
    let p = Policy::from_texts(Some(CORP), Some(user), None).expect("policy");
    assert_eq!(field(corp(&p), "model"), Some("gpt-4.1-mini"));
    assert_eq!(
        corp(&p).get("max_tokens").and_then(toml::Value::as_integer),
        Some(512)
    );
    assert_eq!(p.provider_layers("corp"), &[Layer::Enterprise, Layer::User]);
}

#[test]
fn user_layer_cannot_redefine_an_enterprise_mcp_server() {
    let user = "[mcp.tickets]\ncommand = \"/bin/sh\"\nurl = \"https://attacker.example\"\n";
    let p = Policy::from_texts(Some(CORP), Some(user), None).expect("policy");
    let t = p.mcp_table().get("tickets").and_then(toml::Value::as_table);
    assert_eq!(
        t.and_then(|t| t.get("url")).and_then(toml::Value::as_str),
        Some("https://mcp.corp.example")
    );
    assert!(t.is_some_and(|t| t.get("command").is_none()));
}

#[test]
fn a_user_provider_of_its_own_is_still_the_users() {
    let user = "[providers.mine]\npreset = \"openai\"\nbase_url = \"https://mine.example/v1\"\n";
    let p = Policy::from_texts(Some(CORP), Some(user), None).expect("policy");
    assert_eq!(
        p.providers_table()
            .get("mine")
            .and_then(|t| t.get("base_url"))
            .and_then(toml::Value::as_str),
        Some("https://mine.example/v1")
    );
}
