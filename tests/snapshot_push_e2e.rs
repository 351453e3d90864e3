//! `jingu snapshot push REMOTE` with the real binary into a real local bare repository: the
//! shadow refs arrive under `refs/jingu/<user>/<workspace>/…` pointing at the same commits, the
//! push is audited, and a remote ref that would not fast-forward is reported, not overwritten.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn jingu(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(args)
        .current_dir(root.join("proj"))
        .env("JINGU_STATE_DIR", root.join("state"))
        .env("JINGU_CONFIG", root.join("user.toml"))
        .env_remove("JINGU_POLICY")
        .output()
        .expect("run jingu")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn edit(root: &Path, text: &str) {
    let f = root.join("new.txt");
    std::fs::write(&f, format!("    return {text}\n")).expect("write");
    ok(jingu(
        root,
        &[
            "edit",
            "app.py",
            "--lines",
            "2-2",
            "--replace",
            "--text-file",
            f.to_str().expect("utf-8"),
        ],
    ));
}

#[test]
fn snapshot_push_copies_the_shadow_refs_under_the_users_namespace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("proj")).expect("mkdir");
    std::fs::write(root.join("proj/app.py"), "def f():\n    return 1\n").expect("write");
    std::fs::write(
        root.join("user.toml"),
        "[policy]\ntools = { edit = \"allow\" }\n",
    )
    .expect("config");
    edit(root, "2");
    let bare = root.join("org.git");
    git(
        root,
        &["init", "-q", "--bare", bare.to_str().expect("utf-8")],
    );
    let remote = bare.to_str().expect("utf-8");

    let v: Value = serde_json::from_str(&ok(jingu(root, &["snapshot", "push", remote, "--json"])))
        .expect("json");
    let pushed = v.as_array().expect("array");
    let head = pushed
        .iter()
        .find(|p| p["local"] == "refs/jingu/head")
        .expect("head pushed");
    let remote_head = head["remote"].as_str().expect("remote ref");
    assert!(
        remote_head.starts_with("refs/jingu/") && remote_head.ends_with("/proj/head"),
        "{remote_head}"
    );
    assert!(head["rejected"].is_null(), "{v}");
    // The remote ref names the newest snapshot.
    let list: Value =
        serde_json::from_str(&ok(jingu(root, &["snapshot", "list", "--json"]))).expect("list");
    let newest = list[0]["id"].as_str().expect("id");
    let at = git(&bare, &["rev-parse", remote_head]);
    assert!(at.starts_with(newest), "{at} vs {newest}");

    // A later edit fast-forwards the remote ref.
    edit(root, "3");
    ok(jingu(root, &["snapshot", "push", remote]));
    let list: Value =
        serde_json::from_str(&ok(jingu(root, &["snapshot", "list", "--json"]))).expect("list");
    let newest = list[0]["id"].as_str().expect("id").to_string();
    assert!(git(&bare, &["rev-parse", remote_head]).starts_with(&newest));

    // Someone moved the remote ref to unrelated history: the push is rejected, nothing forced.
    let other = root.join("other");
    git(root, &["init", "-q", other.to_str().expect("utf-8")]);
    std::fs::write(other.join("x"), "x\n").expect("write");
    git(&other, &["add", "x"]);
    git(
        &other,
        &[
            "-c",
            "user.name=O",
            "-c",
            "user.email=o@example.com",
            "commit",
            "-qm",
            "other",
        ],
    );
    git(
        &other,
        &[
            "push",
            "-q",
            "--force",
            remote,
            &format!("HEAD:{remote_head}"),
        ],
    );
    let foreign = git(&bare, &["rev-parse", remote_head]);
    edit(root, "4");
    let out = jingu(root, &["snapshot", "push", remote]);
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("rejected"), "{text}");
    assert_eq!(git(&bare, &["rev-parse", remote_head]), foreign);

    // Every push is in the audit chain, before and after.
    let log: Value =
        serde_json::from_str(&ok(jingu(root, &["audit", "log", "--json"]))).expect("log");
    let pushes = log
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["kind"] == "snapshot" && r["op"] == "push")
        .count();
    assert_eq!(pushes, 6, "{log:#}");
    ok(jingu(root, &["audit", "verify"]));
}
