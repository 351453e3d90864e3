//! `jingu policy sync` against a real local bare git repository, driving the real binary with
//! `/etc/jingu` bound (in a private mount namespace) to a directory of the test, so releases
//! persist across runs: a good release installs; an unsigned one, a badly signed one, a tampered
//! one, a replayed older one and a force-pushed ref are each refused with the reason, exit 1, and
//! the previous policy stays in force; every attempt is in the audit chain.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        for d in ["etc-jingu", "ws", "state", "home"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        Env { _tmp: tmp, root }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `jingu ARGS` in the workspace, with `/etc/jingu` = `etc-jingu/` of this test.
    fn jingu(&self, args: &[&str]) -> Output {
        self.jingu_env(args, &[])
    }

    fn jingu_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let script = r#"set -e
D="$1"; shift
mkdir -p "$D/hostetc"
mount --bind /etc "$D/hostetc"
mount -t tmpfs tmpfs /etc
for e in "$D"/hostetc/* "$D"/hostetc/.[!.]*; do
  n=$(basename "$e"); [ "$n" = jingu ] && continue
  if [ -e "$e" ] || [ -L "$e" ]; then ln -s "$e" "/etc/$n"; fi
done
mkdir /etc/jingu
mount --bind "$D/etc-jingu" /etc/jingu
exec "$@"
"#;
        let mut cmd = Command::new("unshare");
        if !nix::unistd::geteuid().is_root() {
            cmd.args(["--user", "--map-root-user"]);
        }
        let out = cmd
            .args(["--mount", "sh", "-c", script, "sh"])
            .arg(&self.root)
            .arg(env!("CARGO_BIN_EXE_jingu"))
            .args(args)
            .current_dir(self.p("ws"))
            .env("JINGU_STATE_DIR", self.p("state"))
            .env("JINGU_CONFIG", self.p("home/user.toml"))
            .env("HOME", self.p("home"))
            .env_remove("JINGU_POLICY")
            .env_remove("JINGU_POLICY_PUBKEY")
            .envs(vars.iter().copied())
            .output()
            .expect("run unshare");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("unshare failed") && !err.contains("mount:"),
            "cannot build the /etc/jingu namespace here (this test needs it): {err}"
        );
        out
    }

    fn jingu_ok(&self, args: &[&str]) -> String {
        let out = self.jingu(args);
        assert!(
            out.status.success(),
            "jingu {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sync must be refused: exit 1 and a message containing `why`.
    fn sync_refused(&self, why: &str) {
        let out = self.jingu(&["policy", "sync"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "sync should fail: {err}");
        assert!(
            err.contains("policy sync refused") && err.contains(why),
            "expected `{why}` in: {err}"
        );
        assert!(err.contains("the previous policy stays in force"), "{err}");
    }

    fn edit_decision(&self) -> String {
        let v: Value =
            serde_json::from_str(&self.jingu_ok(&["policy", "show", "--json"])).expect("json");
        let e = v["values"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["key"] == "policy.tools.edit"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(e["layer"], "enterprise", "{v}");
        e["value"].as_str().unwrap_or_default().to_string()
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Admin",
            "-c",
            "user.email=admin@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn policy_text(repo: &Path, key: &str, edit: &str) -> String {
    format!(
        "[policy]\nsandbox = \"best-effort\"\ntools = {{ edit = \"{edit}\", read = \"allow\" }}\n\n\
         [enterprise]\npolicy_repo = \"{}\"\nref = \"main\"\ntrusted_key = \"{key}\"\n",
        repo.display()
    )
}

/// Write the release into the checkout, sign skills and manifest with `key_file`, commit, push.
fn release(env: &Env, key_file: &Path, trusted: &str, edit: &str, serial: u64) -> String {
    let work = env.p("work");
    std::fs::write(
        work.join("policy.toml"),
        policy_text(&env.p("policy.git"), trusted, edit),
    )
    .expect("write policy");
    let skill = work.join("skills/house-style");
    std::fs::create_dir_all(&skill).expect("mkdir skill");
    std::fs::write(
        skill.join("SKILL.md"),
        format!(
            "---\nname: house-style\ndescription: The house style, release {serial}.\nversion: 1.0.0\n---\nUse tabs.\n"
        ),
    )
    .expect("write skill");
    let sign = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
            .args(args)
            .output()
            .expect("run jingu");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let key = key_file.to_str().expect("utf-8 path");
    let skill_s = skill.to_str().expect("utf-8 path");
    sign(&["skills", "sign", skill_s, "--key", key]);
    let serial_s = serial.to_string();
    let work_s = work.to_str().expect("utf-8 path");
    sign(&[
        "policy", "sign", work_s, "--key", key, "--serial", &serial_s,
    ]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", &format!("release {serial}")]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    git(&work, &["rev-parse", "HEAD"])
}

fn keygen(env: &Env, name: &str) -> (PathBuf, String) {
    let path = env.p(&format!("home/{name}.key"));
    let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["skills", "keygen", "--out"])
        .arg(&path)
        .output()
        .expect("keygen");
    assert!(out.status.success());
    let public = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ed25519:"))
        .expect("public key printed")
        .to_string();
    (path, public)
}

fn sync_records(env: &Env) -> Vec<Value> {
    let v: Value =
        serde_json::from_str(&env.jingu_ok(&["audit", "log", "--json"])).expect("audit json");
    v.as_array()
        .expect("array")
        .iter()
        .filter(|r| r["kind"] == "policy_sync")
        .cloned()
        .collect()
}

#[test]
fn policy_sync_installs_good_releases_and_refuses_every_bad_one() {
    let env = Env::new();
    std::fs::write(env.p("home/user.toml"), "").expect("user config");
    let (corp_key, corp_pub) = keygen(&env, "corp");
    let (mallory_key, _) = keygen(&env, "mallory");
    let bare = env.p("policy.git");
    git(
        &env.root,
        &["init", "-q", "--bare", bare.to_str().expect("path")],
    );
    git(
        &env.root,
        &["clone", "-q", bare.to_str().expect("path"), "work"],
    );
    // The administrator's bootstrap policy names the repository and the key.
    std::fs::write(
        env.p("etc-jingu/policy.toml"),
        policy_text(&bare, &corp_pub, "allow"),
    )
    .expect("bootstrap");
    assert_eq!(env.edit_decision(), "allow");

    // 1. A good release installs, with its skill, and is audited before it takes effect.
    let c1 = release(&env, &corp_key, &corp_pub, "ask", 1);
    let out = env.jingu_ok(&["policy", "sync"]);
    assert!(out.contains("installed policy serial 1"), "{out}");
    assert!(out.contains(&c1), "{out}");
    assert_eq!(env.edit_decision(), "ask");
    let installed = std::fs::read_link(env.p("etc-jingu/policy.toml")).expect("policy is a link");
    assert_eq!(installed, Path::new("enterprise/policy.toml"));
    assert!(
        env.p("etc-jingu/enterprise/skills/house-style/SKILL.md")
            .is_file()
    );
    // The synced skill is discovered as an enterprise skill, verified under the enterprise key.
    let v: Value =
        serde_json::from_str(&env.jingu_ok(&["skills", "list", "--json"])).expect("skills json");
    let skill = v["skills"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "house-style"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(skill["source"], "enterprise", "{v}");
    assert!(skill["trust"].to_string().contains(&corp_pub), "{v}");
    let out = env.jingu_ok(&["policy", "sync"]);
    assert!(out.contains("policy up to date: serial 1"), "{out}");

    // 2. Unsigned: the manifest removed.
    let work = env.p("work");
    git(&work, &["rm", "-q", "jingu-policy.sig"]);
    git(&work, &["commit", "-qm", "unsigned"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    env.sync_refused("is unsigned: it has no jingu-policy.sig");
    assert_eq!(env.edit_decision(), "ask");

    // 3. Signed by another key (a higher serial does not help).
    release(&env, &mallory_key, &corp_pub, "allow", 7);
    env.sync_refused("not by the trusted enterprise key");
    assert_eq!(env.edit_decision(), "ask");

    // 4. Tampered after signing: a file differs from the signed manifest.
    release(&env, &corp_key, &corp_pub, "ask", 8);
    let loose = policy_text(&bare, &corp_pub, "allow");
    std::fs::write(work.join("policy.toml"), loose).expect("tamper");
    git(&work, &["commit", "-qam", "loosen"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    env.sync_refused("files differ from the signed manifest (changed: policy.toml)");
    assert_eq!(env.edit_decision(), "ask");

    // 5. Replayed: release 1's validly signed files, pushed again on top (fast-forward).
    git(&work, &["checkout", "-q", &c1, "--", "."]);
    git(&work, &["commit", "-qam", "replay release 1"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    env.sync_refused("carries serial 1, not newer than the installed serial 1");

    // 6. A newer good release installs on top of all that history.
    let c2 = release(&env, &corp_key, &corp_pub, "deny", 9);
    let out = env.jingu_ok(&["policy", "sync"]);
    assert!(
        out.contains("installed policy serial 9") && out.contains("was serial 1"),
        "{out}"
    );
    assert_eq!(env.edit_decision(), "deny");

    // 7. Force-pushed: history rewritten from release 1, even with a higher valid serial.
    git(&work, &["reset", "-q", "--hard", &c1]);
    release_forced(&env, &corp_key, &corp_pub);
    env.sync_refused(&format!(
        "does not descend from the installed commit {}",
        &c2[..12]
    ));
    assert_eq!(env.edit_decision(), "deny");

    // 8. The installed release is signature-checked at every load: editing it in place fails closed.
    let file = env.p("etc-jingu/enterprise/policy.toml");
    let original = std::fs::read_to_string(&file).expect("installed policy");
    let real = std::fs::canonicalize(&file).expect("real path");
    std::fs::write(
        &real,
        original.replace("edit = \"deny\"", "edit = \"allow\""),
    )
    .expect("tamper installed");
    let out = env.jingu(&["policy", "show"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("differs from the one"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every attempt is in the chain: 2 installs, 5 refusals with their reasons.
    std::fs::write(&real, original).expect("restore");
    let records = sync_records(&env);
    let outcomes: Vec<&str> = records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        outcomes,
        [
            "install",
            "up_to_date",
            "refused",
            "refused",
            "refused",
            "refused",
            "install",
            "refused"
        ],
        "{records:#?}"
    );
    assert_eq!(records[0]["commit"], c1.as_str());
    assert_eq!(records[0]["serial"], 1);
    // The up-to-date check names the release it found in force.
    assert_eq!(records[1]["commit"], c1.as_str());
    assert_eq!(records[1]["serial"], 1);
    assert!(
        records[5]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("replayed")
    );
    env.jingu_ok(&["audit", "verify"]);
}

fn release_forced(env: &Env, key: &Path, trusted: &str) {
    let work = env.p("work");
    std::fs::write(work.join("NOTE"), "rewritten history\n").expect("note");
    let _ = release_no_push(env, key, trusted);
    git(&work, &["push", "-q", "--force", "origin", "HEAD:main"]);
}

fn release_no_push(env: &Env, key: &Path, trusted: &str) -> String {
    let work = env.p("work");
    std::fs::write(
        work.join("policy.toml"),
        policy_text(&env.p("policy.git"), trusted, "allow"),
    )
    .expect("policy");
    let out = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["policy", "sign"])
        .arg(&work)
        .arg("--key")
        .arg(key)
        .args(["--serial", "50"])
        .output()
        .expect("sign");
    assert!(out.status.success());
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "forced"]);
    git(&work, &["rev-parse", "HEAD"])
}

/// A repository with release 1 pushed and the bootstrap policy naming it.
fn one_release(env: &Env) -> String {
    std::fs::write(env.p("home/user.toml"), "").expect("user config");
    let (corp_key, corp_pub) = keygen(env, "corp");
    let bare = env.p("policy.git");
    git(
        &env.root,
        &["init", "-q", "--bare", bare.to_str().expect("path")],
    );
    git(
        &env.root,
        &["clone", "-q", bare.to_str().expect("path"), "work"],
    );
    std::fs::write(
        env.p("etc-jingu/policy.toml"),
        policy_text(&bare, &corp_pub, "allow"),
    )
    .expect("bootstrap");
    release(env, &corp_key, &corp_pub, "ask", 1)
}

#[test]
fn concurrent_syncs_take_turns_and_a_held_lock_is_waited_for_then_refused() {
    let env = Env::new();
    let c1 = one_release(&env);

    // Two syncs at once: one installs, the other waits for it and finds the release current.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| env.jingu(&["policy", "sync"]));
        let b = s.spawn(|| env.jingu(&["policy", "sync"]));
        (a.join().expect("sync a"), b.join().expect("sync b"))
    });
    let outs: Vec<String> = [&a, &b]
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).into_owned()
        })
        .collect();
    let installs = outs
        .iter()
        .filter(|o| o.contains("installed policy serial 1"))
        .count();
    let current = outs
        .iter()
        .filter(|o| o.contains("policy up to date: serial 1"))
        .count();
    assert_eq!((installs, current), (1, 1), "{outs:?}");
    let releases = std::fs::read_dir(env.p("etc-jingu/enterprise.d"))
        .expect("releases")
        .count();
    assert_eq!(releases, 1, "one release installed, once");
    let mut outcomes: Vec<String> = sync_records(&env)
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, ["install", "up_to_date"]);
    assert_eq!(env.edit_decision(), "ask");

    // A sync that finds the lock held (a sync still running) waits, boundedly, then refuses.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(env.p("etc-jingu/.sync.lock"))
        .expect("the lock file lives beside the install");
    lock.lock().expect("hold the lock");
    let out = env.jingu_env(&["policy", "sync"], &[("JINGU_POLICY_SYNC_WAIT_MS", "300")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another `jingu policy sync` is running") && err.contains("waiting"),
        "{err}"
    );
    assert!(
        err.contains("policy sync refused") && err.contains("for over 300 ms"),
        "{err}"
    );
    assert!(err.contains("the previous policy stays in force"), "{err}");

    // Released while a sync waits: that sync goes on and completes.
    let out = std::thread::scope(|s| {
        let waiter = s.spawn(|| env.jingu(&["policy", "sync"]));
        std::thread::sleep(std::time::Duration::from_millis(2000));
        lock.unlock().expect("release the lock");
        waiter.join().expect("waiter")
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("waiting"), "it did wait: {err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("policy up to date: serial 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let records = sync_records(&env);
    assert_eq!(records.last().expect("a record")["outcome"], "up_to_date");
    assert_eq!(records.last().expect("a record")["commit"], c1.as_str());
    env.jingu_ok(&["audit", "verify"]);
}
