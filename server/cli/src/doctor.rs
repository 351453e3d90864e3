//! `jingu doctor`: what works here and what does not, each with the reason.

use anyhow::Context;
use serde::Serialize;

use super::{CmdResult, print_json};
use jingu_core::ops::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut checks = Vec::new();
    let mut add = |name, result: Result<String, String>| {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        checks.push(Check { name, ok, detail });
    };
    let session = Session::open(&cwd);
    match &session {
        Ok(s) => {
            add("workspace", Ok(s.workspace.root.display().to_string()));
            add("state", Ok(s.workspace.state_dir.display().to_string()));
            add(
                "policy",
                Ok(format!(
                    "hash {}",
                    &s.policy.hash()[..12.min(s.policy.hash().len())]
                )),
            );
            add(
                "identity",
                Ok(format!(
                    "{} ({})",
                    s.identity.subject,
                    if s.identity.verified {
                        "verified"
                    } else {
                        "unverified"
                    }
                )),
            );
            add(
                "providers",
                jingu_core::agent::router(s, None)
                    .map(|(_, label)| format!("routing to {label}"))
                    .map_err(|e| e.to_string()),
            );
        }
        Err(e) => add("session", Err(format!("{e}: no tool can run"))),
    }
    let caps = jingu_core::ops::probe_sandbox();
    add(
        "sandbox",
        if caps.landlock_abi >= 4 || caps.bwrap.is_some() {
            Ok(format!(
                "landlock ABI {}, bubblewrap {}",
                caps.landlock_abi,
                caps.bwrap
                    .as_ref()
                    .map_or("absent".into(), |p| p.display().to_string())
            ))
        } else {
            Err("neither Landlock (ABI ≥ 4) nor bubblewrap: sandbox = \"required\" refuses commands".into())
        },
    );
    add(
        "queries",
        Ok(jingu_index::queries::installed_queries_dir()
            .map_or("built-in copies".into(), |d| d.display().to_string())),
    );
    let model = jingu_providers::config::default_local_model_path();
    add(
        "local model",
        if model.is_file() {
            Ok(model.display().to_string())
        } else {
            Err(format!(
                "{} missing (scripts/install-local-model.sh installs it)",
                model.display()
            ))
        },
    );
    let all_ok = checks.iter().all(|c| c.ok);
    if args.json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            println!(
                "{} {:<12} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
        }
    }
    anyhow::ensure!(all_ok, "some checks failed");
    Ok(())
}
