//! End-to-end: front ends act only through `ops`. The maintenance commands that used to open the
//! snapshot store themselves (`snapshot scan`, `snapshot gc`) and rollback (which skipped the
//! guard) are audited before they act and decided by policy like any edit; and Cargo's dependency
//! graph keeps the store, the audit log and the guard out of the front-end crates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/scripted.rs"]
mod scripted;

use scripted::{Fixture, stderr, stdout};
use serde_json::{Value, json};

fn audit_records(fx: &Fixture) -> Vec<Value> {
    let out = fx.jingu(&["audit", "log", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

fn kinds(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["kind"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Append `section` to the fixture's user config (a policy set after the edit it will judge).
fn add_config(fx: &Fixture, section: &str) {
    let config = std::fs::read_to_string(&fx.config).expect("config");
    std::fs::write(&fx.config, format!("{config}\n{section}\n")).expect("write config");
}

/// A workspace with one edit applied through the CLI, so there is history to scan, gc and roll back.
fn edited_workspace(extra_config: &str) -> (Fixture, String) {
    let mut fx = Fixture::new(&[("a.py", "def f():\n    return 1\n"), (".env", "TOKEN=x\n")]);
    // No model is asked in these tests; the server only gives the config a provider to name.
    fx.serve(&json!([{"content": "unused"}]), extra_config);
    std::fs::write(fx.base.join("new.txt"), "def f():\n    return 2\n").expect("write");
    let out = fx.jingu(&[
        "edit",
        "a.py",
        "--symbol",
        "f",
        "--replace",
        "--text-file",
        fx.base.join("new.txt").to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    assert!(!id.is_empty(), "edit prints its snapshot id");
    (fx, id)
}

#[test]
fn snapshot_scan_is_audited_before_it_commits() {
    let (fx, _) = edited_workspace("");
    // The first scan records the baseline; the second finds the one new file.
    let first = fx.jingu(&["snapshot", "scan"]);
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(fx.root.join("b.py"), "x = 1\n").expect("write");
    let before = audit_records(&fx).len();
    let out = fx.jingu(&["snapshot", "scan", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["snapshot_id"].is_string(), "{report}");
    let records = audit_records(&fx);
    let new = &records[before..];
    assert_eq!(
        kinds(new),
        ["run_start", "snapshot", "snapshot", "run_end"],
        "{new:?}"
    );
    assert_eq!(new[1]["op"], "scan");
    assert!(
        new[1]["detail"].as_str().unwrap().contains("pending"),
        "{new:?}"
    );
    assert!(
        new[2]["detail"]
            .as_str()
            .unwrap()
            .contains("1 file(s) changed"),
        "{new:?}"
    );
    let verify = fx.jingu(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn snapshot_gc_is_audited_before_it_deletes_history() {
    let (fx, _) = edited_workspace("");
    let before = audit_records(&fx).len();
    let out = fx.jingu(&[
        "snapshot",
        "gc",
        "--keep-days",
        "0",
        "--keep-count",
        "0",
        "--floor",
        "0",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records = audit_records(&fx);
    let new = &records[before..];
    assert_eq!(
        kinds(new),
        ["run_start", "snapshot", "snapshot", "run_end"],
        "{new:?}"
    );
    assert_eq!(new[1]["op"], "gc");
    assert!(
        new[2]["detail"].as_str().unwrap().starts_with("kept "),
        "{new:?}"
    );
}

#[test]
fn rollback_is_an_edit_in_policy_terms() {
    // tools.edit = "deny" after the edit: rolling it back writes the file, so it is refused too,
    // the refusal is audited, and the file keeps the edited text.
    let (fx, id) = edited_workspace("");
    add_config(&fx, "[policy]\ntools = { edit = \"deny\" }");
    let out = fx.jingu(&["rollback", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("denied"), "{}", stderr(&out));
    assert_eq!(fx.read("a.py"), "def f():\n    return 2\n");
    let records = audit_records(&fx);
    let denial = records
        .iter()
        .rev()
        .find(|r| r["kind"] == "policy_decision")
        .expect("the decision is audited");
    assert_eq!(denial["decision"], "deny", "{denial}");
    assert_eq!(denial["path"], "a.py", "{denial}");
    assert!(
        !records.iter().any(|r| r["kind"] == "rollback"),
        "nothing was rolled back: {records:?}"
    );
}

#[test]
fn rollback_is_decided_per_path_where_policy_says_ask() {
    let (fx, id) = edited_workspace("");
    add_config(&fx, "[policy]\ntools = { edit = \"ask\" }");
    let out = fx.jingu(&["rollback", &id]);
    // `jingu rollback ID` is the user's own explicit request (like `jingu edit`), which is the
    // approval; the decision for the path is still made and recorded as "ask".
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.read("a.py"), "def f():\n    return 1\n");
    let records = audit_records(&fx);
    assert!(
        records.iter().any(|r| r["kind"] == "policy_decision"
            && r["decision"] == "ask"
            && r["path"] == "a.py"),
        "{records:?}"
    );
}

#[test]
fn rollback_cannot_reach_denied_paths() {
    // A snapshot that touched a file now listed in deny_paths: the rollback is refused.
    let (fx, id) = edited_workspace("");
    add_config(&fx, "[policy]\ndeny_paths = [\"a.py\"]");
    let out = fx.jingu(&["rollback", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fx.read("a.py"), "def f():\n    return 2\n");
}

/// The dependency rules ARCHITECTURE.md states, checked on Cargo's own graph.
#[test]
fn front_ends_reach_the_store_and_the_log_only_through_core() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("json");
    let packages = meta["packages"].as_array().expect("packages");
    let deps_of = |name: &str| -> Vec<String> {
        let p = packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("package {name} is in the workspace"));
        p["dependencies"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| d["kind"].is_null()) // normal dependencies, not dev/build
            .filter_map(|d| d["name"].as_str())
            .filter(|n| n.starts_with("jingu"))
            .map(String::from)
            .collect()
    };
    for front in ["jingu", "jingu-lsp", "jingu-acp"] {
        let deps = deps_of(front);
        for forbidden in [
            "jingu-snapshots",
            "jingu-audit",
            "jingu-fs",
            "jingu-sandbox",
        ] {
            assert!(
                !deps.contains(&forbidden.to_string()),
                "{front} depends on {forbidden}: {deps:?}"
            );
        }
    }
    assert!(deps_of("jingu-syntax").is_empty(), "syntax is pure");
    assert_eq!(
        deps_of("jingu-realdoc"),
        ["jingu-syntax"],
        "realdoc depends only on syntax"
    );
    assert!(deps_of("jingu-policy").is_empty(), "policy is a leaf");
    assert!(deps_of("jingu-audit").is_empty(), "audit is a leaf");
    // Every crate takes the workspace lints (unsafe forbidden) except the sandbox, which may use
    // unsafe and declares the rest of them itself.
    for p in packages {
        let name = p["name"].as_str().unwrap_or("?");
        let manifest =
            std::fs::read_to_string(p["manifest_path"].as_str().expect("path")).expect("manifest");
        if name == "jingu-sandbox" {
            assert!(manifest.contains("unsafe_code = \"allow\""), "{name}");
        } else {
            assert!(
                manifest.contains("[lints]\nworkspace = true"),
                "{name} takes the workspace lints"
            );
        }
    }
}
