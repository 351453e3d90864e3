//! End-to-end through the real `jingu` binary: version-checked edits (`--expect`), batches
//! (`--batch`), concurrent editors of one file, read-only files, rollbacks that keep later work,
//! and SIGKILLs during edits and rollbacks (a file is always its old or its new content, and the
//! snapshot history always catches up with the disk).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

#[path = "support/scripted.rs"]
mod scripted;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jingu_realdoc::version;
use scripted::{Fixture, stderr, stdout};

const RS: &str =
    "fn a() -> i32 {\n    1\n}\n\nfn b() -> i32 {\n    2\n}\n\nfn c() -> i32 {\n    3\n}\n";

fn edit(fx: &Fixture, args: &[&str], text: &str) -> std::process::Output {
    let text_file = fx.base.join(format!("text-{:x}.txt", fastrand_u64()));
    std::fs::write(&text_file, text).expect("write text");
    let mut all: Vec<&str> = vec!["edit"];
    all.extend_from_slice(args);
    let tf = text_file.to_str().expect("utf-8").to_string();
    all.push("--text-file");
    all.push(&tf);
    fx.jingu(&all)
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn jingu_cmd(fx: &Fixture, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jingu"));
    cmd.args(args)
        .current_dir(&fx.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in fx.env() {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn stale_edits_are_refused_with_the_current_text() {
    let fx = Fixture::new(&[("f.rs", RS)]);
    let v = version(RS.as_bytes());
    // Someone changes `a` after we read the file.
    let theirs = RS.replace("    1\n", "    100\n");
    std::fs::write(fx.root.join("f.rs"), &theirs).expect("write");
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "a", "--replace", "--expect", &v],
        "fn a() -> i32 {\n    11\n}\n",
    );
    assert!(
        !out.status.success(),
        "stale edit applied: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("changed since you read it"), "{err}");
    assert!(err.contains("2|     100"), "quotes the current text: {err}");
    assert_eq!(fx.read("f.rs"), theirs, "their change is kept");
    // `b` did not change: its version (from `jingu symbols --json`, taken before their change)
    // still lets an edit of it through.
    let b_version = {
        let start = RS.find("fn b").expect("b");
        let end = start + RS[start..].find("}\n").expect("end") + 1;
        version(&RS.as_bytes()[start..end])
    };
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "b", "--replace", "--expect", &b_version],
        "fn b() -> i32 {\n    22\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let now = fx.read("f.rs");
    assert!(
        now.contains("    100\n") && now.contains("    22\n"),
        "{now}"
    );
    let out = fx.jingu(&["symbols", "f.rs", "--json"]);
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let b = &records.as_array().expect("array")[1];
    assert_eq!(b["name_path"], "b");
    assert_eq!(b["version"], version(b"fn b() -> i32 {\n    22\n}"));
    // Lines inserted above a line target make it stale.
    let v = version(now.as_bytes());
    std::fs::write(fx.root.join("f.rs"), format!("// header\n{now}")).expect("write");
    let out = edit(
        &fx,
        &["f.rs", "--lines", "6-6", "--replace", "--expect", &v],
        "    23\n",
    );
    assert!(!out.status.success(), "shifted line edit applied");
    assert!(stderr(&out).contains("line 6 changed since you read it"));
    assert_eq!(fx.read("f.rs"), format!("// header\n{now}"));
    // The JSON outcome carries the new version.
    let cur = fx.read("f.rs");
    let v = version(cur.as_bytes());
    let out = edit(
        &fx,
        &[
            "f.rs",
            "--lines",
            "7-7",
            "--replace",
            "--expect",
            &v,
            "--json",
        ],
        "    23\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["version"], version(fx.read("f.rs").as_bytes()));
}

#[test]
fn batches_apply_together_or_not_at_all() {
    let c = "int f(void) {\n    return 1;\n}\n\nint g(void) {\n    return 2;\n}\n";
    let fx = Fixture::new(&[("m.c", c)]);
    let batch = fx.base.join("batch.json");
    std::fs::write(
        &batch,
        serde_json::json!([
            {"lines": "5", "op": "insert-before", "text": "#ifdef HAVE_G\n"},
            {"lines": "7", "op": "insert-after", "text": "#endif\n"},
            {"symbol": "f", "op": "replace", "text": "int f(void) {\n    return 10;\n}\n"}
        ])
        .to_string(),
    )
    .expect("write");
    let out = fx.jingu(&["edit", "m.c", "--batch", batch.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fx.read("m.c"),
        "int f(void) {\n    return 10;\n}\n\n#ifdef HAVE_G\nint g(void) {\n    return 2;\n}\n#endif\n"
    );
    // One bad edit: nothing is written, and the error names it.
    let before = fx.read("m.c");
    std::fs::write(
        &batch,
        serde_json::json!([
            {"symbol": "g", "op": "delete"},
            {"symbol": "h", "op": "delete"}
        ])
        .to_string(),
    )
    .expect("write");
    let out = fx.jingu(&["edit", "m.c", "--batch", batch.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("edit 2 of the batch"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fx.read("m.c"), before);
    // A batch that breaks the syntax as a whole is refused as a whole.
    std::fs::write(
        &batch,
        serde_json::json!([{"lines": "3", "op": "delete"}, {"lines": "1", "op": "replace", "text": "int f(void) {"}])
            .to_string(),
    )
    .expect("write");
    let out = fx.jingu(&["edit", "m.c", "--batch", batch.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "a missing brace was accepted");
    assert_eq!(fx.read("m.c"), before);
}

#[test]
fn concurrent_editors_of_one_file_lose_nothing() {
    let names = ["a", "b", "c", "d", "e", "f"];
    let src: String = names
        .iter()
        .map(|n| format!("fn {n}() -> i32 {{\n    0\n}}\n\n"))
        .collect();
    let fx = Fixture::new(&[("many.rs", &src)]);
    for round in 1..=3 {
        let children: Vec<_> = names
            .iter()
            .map(|n| {
                let text = fx.base.join(format!("{n}.txt"));
                std::fs::write(&text, format!("fn {n}() -> i32 {{\n    {round}\n}}\n"))
                    .expect("write");
                jingu_cmd(
                    &fx,
                    &[
                        "edit",
                        "many.rs",
                        "--symbol",
                        n,
                        "--replace",
                        "--text-file",
                        text.to_str().expect("utf-8"),
                    ],
                )
                .spawn()
                .expect("spawn")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let now = fx.read("many.rs");
        for n in names {
            assert!(
                now.contains(&format!("fn {n}() -> i32 {{\n    {round}\n}}")),
                "round {round}: the edit of {n} was lost:\n{now}"
            );
        }
    }
}

#[test]
fn read_only_files_are_refused_and_rollback_keeps_modes() {
    let fx = Fixture::new(&[("ro.rs", RS), ("x.sh", "echo 1\n")]);
    let ro = fx.root.join("ro.rs");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = edit(&fx, &["ro.rs", "--symbol", "a", "--delete"], "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("read-only (mode 0444)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fx.read("ro.rs"), RS);
    let mode = std::fs::metadata(&ro).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o444);
    // A private file stays private through an edit and its rollback.
    let private = fx.root.join("ro.rs");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = edit(&fx, &["ro.rs", "--symbol", "a", "--delete"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let out = fx.jingu(&["rollback", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.read("ro.rs"), RS);
    let mode = std::fs::metadata(&private)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o600);
}

#[test]
fn rollback_of_an_earlier_edit_keeps_a_later_one() {
    let fx = Fixture::new(&[("f.rs", RS)]);
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "a", "--replace"],
        "fn a() -> i32 {\n    10\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&out).trim().to_string();
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "c", "--replace"],
        "fn c() -> i32 {\n    30\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.jingu(&["rollback", &first]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.read("f.rs"), RS.replace("    3\n", "    30\n"));
    // Rolling back again changes no byte: the file is not rewritten.
    let path = fx.root.join("f.rs");
    let mtime = std::fs::metadata(&path)
        .expect("stat")
        .modified()
        .expect("mtime");
    std::thread::sleep(Duration::from_millis(20));
    let out = fx.jingu(&["rollback", &first]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::metadata(&path)
        .expect("stat")
        .modified()
        .expect("mtime");
    assert_eq!(mtime, after, "an unchanged file was rewritten");
    // A real conflict (the later edit changed the same lines) is refused and explained.
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "b", "--replace"],
        "fn b() -> i32 {\n    20\n}\n",
    );
    let b1 = stdout(&out).trim().to_string();
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "b", "--replace"],
        "fn b() -> i32 {\n    21\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let before = fx.read("f.rs");
    let out = fx.jingu(&["rollback", &b1]);
    assert!(
        !out.status.success(),
        "an overlapping rollback went through"
    );
    assert!(
        stderr(&out).contains("changed again since"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fx.read("f.rs"), before);
}

/// Kill `jingu edit` and `jingu rollback` at random moments: the file is always one of the texts
/// it legitimately had, no temp file survives the next run, and after the next successful edit the
/// snapshot history's latest content of the file is exactly what is on disk.
#[test]
fn sigkill_during_edits_and_rollbacks_loses_nothing() {
    let fx = Fixture::new(&[("k.rs", RS)]);
    let mut legit: Vec<String> = vec![RS.to_string()];
    let mut kills = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let text_file = fx.base.join("kill.txt");
    let edit_a = |fx: &Fixture| {
        jingu_cmd(
            fx,
            &[
                "edit",
                "k.rs",
                "--symbol",
                "a",
                "--replace",
                "--text-file",
                text_file.to_str().expect("utf-8"),
            ],
        )
    };
    // The kills land uniformly over the time a whole edit takes on this machine (the median of
    // five warm edits: the first one also creates the shadow repository, and one slow outlier must
    // not stretch the window so far that most edits finish first), so they hit every stage of it
    // however fast or loaded the build is. Attempts go on until 100 edits were killed mid-way, so a
    // burst of load on a shared CI machine costs attempts, not the test.
    let mut times = Vec::new();
    for i in 0..6 {
        std::fs::write(
            &text_file,
            format!("fn a() -> i32 {{\n    {}\n}}\n", 900 + i),
        )
        .expect("write");
        let t = Instant::now();
        let out = edit_a(&fx).output().expect("edit");
        if i > 0 {
            times.push(t.elapsed());
        }
        assert!(out.status.success(), "{}", stderr(&out));
        legit.push(fx.read("k.rs"));
    }
    times.sort();
    let window_us = (times[times.len() / 2].as_micros() as u64).max(1);
    let mut attempts = 0;
    while kills < 100 && attempts < 600 {
        let i = attempts;
        attempts += 1;
        let current = fx.read("k.rs");
        assert!(
            legit.contains(&current),
            "kill {i}: torn or unknown content:\n{current}"
        );
        let new_a = format!("fn a() -> i32 {{\n    {}\n}}\n", 1000 + i);
        std::fs::write(&text_file, &new_a).expect("write");
        let sym_start = current.find("fn a()").expect("a");
        let sym_end = sym_start + current[sym_start..].find("}\n").expect("end") + 2;
        legit.push(format!(
            "{}{new_a}{}",
            &current[..sym_start],
            &current[sym_end..]
        ));
        let mut child = edit_a(&fx).spawn().expect("spawn");
        std::thread::sleep(Duration::from_micros(next() % window_us));
        if child.try_wait().expect("poll").is_none() {
            kills += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    // Rollbacks killed mid-way: each starts from a fresh edit whose undo is known. Their kill
    // window is the median of five whole rollbacks, and attempts go on until 25 were killed, as
    // for the edits.
    let mut times = Vec::new();
    for i in 0..5 {
        let new_b = format!("fn b() -> i32 {{\n    {}\n}}\n", 4000 + i);
        std::fs::write(&text_file, &new_b).expect("write");
        let out = jingu_cmd(
            &fx,
            &[
                "edit",
                "k.rs",
                "--symbol",
                "b",
                "--replace",
                "--text-file",
                text_file.to_str().expect("utf-8"),
            ],
        )
        .output()
        .expect("edit");
        assert!(out.status.success(), "{}", stderr(&out));
        legit.push(fx.read("k.rs"));
        let id = stdout(&out).trim().to_string();
        let t = Instant::now();
        let out = jingu_cmd(&fx, &["rollback", &id])
            .output()
            .expect("rollback");
        times.push(t.elapsed());
        assert!(out.status.success(), "{}", stderr(&out));
        legit.push(fx.read("k.rs"));
    }
    times.sort();
    let rollback_us = (times[times.len() / 2].as_micros() as u64).max(1);
    let mut rollback_kills = 0;
    let mut attempts = 0;
    while rollback_kills < 25 && attempts < 180 {
        let i = attempts;
        attempts += 1;
        let current = fx.read("k.rs");
        assert!(
            legit.contains(&current),
            "rollback kill {i}: unknown content"
        );
        let new_b = format!("fn b() -> i32 {{\n    {}\n}}\n", 5000 + i);
        std::fs::write(&text_file, &new_b).expect("write");
        let out = jingu_cmd(
            &fx,
            &[
                "edit",
                "k.rs",
                "--symbol",
                "b",
                "--replace",
                "--text-file",
                text_file.to_str().expect("utf-8"),
            ],
        )
        .output()
        .expect("edit");
        assert!(out.status.success(), "{}", stderr(&out));
        let edited = fx.read("k.rs");
        legit.push(edited.clone());
        let id = stdout(&out).trim().to_string();
        let mut child = jingu_cmd(&fx, &["rollback", &id]).spawn().expect("spawn");
        std::thread::sleep(Duration::from_micros(next() % rollback_us));
        if child.try_wait().expect("poll").is_none() {
            rollback_kills += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let after = fx.read("k.rs");
        assert!(
            after == edited || after == current || legit.contains(&after),
            "rollback kill {i}: unknown content:\n{after}"
        );
        legit.push(after);
    }
    assert!(
        kills >= 100,
        "only {kills} edits of 600 attempts were killed mid-way"
    );
    assert!(
        rollback_kills >= 25,
        "only {rollback_kills} rollbacks of 180 attempts were killed mid-way"
    );
    // The next run cleans up after the killed ones and brings history level with the disk.
    std::fs::write(&text_file, "fn c() -> i32 {\n    333\n}\n").expect("write");
    let out = edit(
        &fx,
        &["k.rs", "--symbol", "c", "--replace"],
        "fn c() -> i32 {\n    333\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let leftovers: Vec<String> = std::fs::read_dir(&fx.root)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".jingu-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let out = fx.jingu(&["snapshot", "scan", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let scan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let touched = |k: &str| {
        scan[k]
            .as_array()
            .map(|a| a.iter().filter(|p| p.as_str() == Some("k.rs")).count())
            .unwrap_or(0)
    };
    assert_eq!(
        touched("modified") + touched("created"),
        0,
        "history and disk disagree after the kills: {scan}"
    );
    // Writers killed mid-append leave at most a torn tail, which later runs seal with its bytes
    // kept: the chain verifies.
    let out = fx.jingu(&["audit", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

/// The agent checks every edit against what the model last saw of the file: a line edit whose
/// lines its own earlier edit moved is refused (with the current text), while a symbol it did not
/// touch can still be edited, and a multi-edit call lands as one change.
#[test]
fn the_agent_refuses_edits_planned_on_text_that_moved() {
    use serde_json::json;
    let tool = |name: &str, args: serde_json::Value| json!({"name": name, "arguments": args});
    let mut fx = Fixture::new(&[("f.rs", RS)]);
    fx.serve(
        &json!([
            {"tool_calls": [tool("read_lines", json!({"path": "f.rs", "start": 1, "end": 11}))]},
            {"tool_calls": [tool("edit", json!({"path": "f.rs", "lines": "1", "op": "insert-before", "text": "// header\n\n"}))]},
            {"tool_calls": [tool("edit", json!({"path": "f.rs", "lines": "6", "op": "replace", "text": "    22\n"}))]},
            {"tool_calls": [tool("edit", json!({"path": "f.rs", "symbol": "c", "op": "replace", "text": "fn c() -> i32 {\n    33\n}\n"}))]},
            {"tool_calls": [tool("edit", json!({"path": "f.rs", "edits": [
                {"symbol": "a", "op": "replace", "text": "fn a() -> i32 {\n    11\n}\n"},
                {"symbol": "b", "op": "insert-after", "text": "fn b2() -> i32 {\n    2\n}\n"}]}))]},
            {"content": "done"}
        ]),
        "",
    );
    let out = fx.jingu(&["ask", "change the numbers", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reqs = fx.requests();
    let results: Vec<String> = reqs[5]["body"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        results[0].contains(&format!("version {}", version(RS.as_bytes()))),
        "{results:?}"
    );
    assert!(results[1].starts_with("applied:"), "{results:?}");
    assert!(
        results[2].contains("line 6 changed since you read it")
            && results[2].contains("now at line 8:)\n8|     2"),
        "{results:?}"
    );
    assert!(results[3].starts_with("applied:"), "{results:?}");
    assert!(results[4].starts_with("applied:"), "{results:?}");
    assert_eq!(
        fx.read("f.rs"),
        "// header\n\nfn a() -> i32 {\n    11\n}\n\nfn b() -> i32 {\n    2\n}\n\nfn b2() -> i32 {\n    2\n}\n\nfn c() -> i32 {\n    33\n}\n"
    );
}

#[test]
fn files_are_created_renamed_and_deleted_as_snapshotted_edits() {
    // A repository: the workspace is its root wherever the named file is.
    let fx = Fixture::new(&[("f.rs", RS), (".git/HEAD", "ref: refs/heads/main\n")]);
    let text = fx.base.join("new.txt");
    std::fs::write(&text, "pub fn n() {}\n").expect("write");
    let t = text.to_str().expect("utf-8");
    let out = fx.jingu(&["edit", "src/new.rs", "--create", "--text-file", t]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created = stdout(&out).trim().to_string();
    assert_eq!(fx.read("src/new.rs"), "pub fn n() {}\n");
    // Never over an existing file.
    let out = fx.jingu(&["edit", "f.rs", "--create", "--text-file", t]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(fx.read("f.rs"), RS);
    // Rename keeps content and mode; delete removes; each rolls back.
    std::fs::set_permissions(fx.root.join("f.rs"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let out = fx.jingu(&["edit", "f.rs", "--rename-to", "g.rs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let renamed = stdout(&out).trim().to_string();
    assert!(!fx.root.join("f.rs").exists());
    assert_eq!(fx.read("g.rs"), RS);
    let mode = std::fs::metadata(fx.root.join("g.rs"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let out = fx.jingu(&["edit", "src/new.rs", "--delete-file"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let deleted = stdout(&out).trim().to_string();
    assert!(!fx.root.join("src/new.rs").exists());
    for id in [&deleted, &renamed] {
        let out = fx.jingu(&["rollback", id]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(fx.read("f.rs"), RS);
    assert!(!fx.root.join("g.rs").exists());
    assert_eq!(fx.read("src/new.rs"), "pub fn n() {}\n");
    let out = fx.jingu(&["rollback", &created]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!fx.root.join("src/new.rs").exists());
}

/// Replay every `NNNN.before`/`.after` pair in `dir` (as `scripts/replay-extract.py` writes them):
/// the tally, and a line per change not reproduced byte-identically.
fn replay_pairs(dir: &Path, label: &str) -> (jingu_realdoc::replay::Tally, Vec<String>) {
    let mut tally = jingu_realdoc::replay::Tally::default();
    let mut wrong = Vec::new();
    let mut pairs: Vec<_> = std::fs::read_dir(dir)
        .expect("pairs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "before"))
        .collect();
    pairs.sort();
    for p in pairs {
        let before = std::fs::read_to_string(&p).expect("before");
        let after = std::fs::read_to_string(p.with_extension("after")).expect("after");
        let meta = std::fs::read_to_string(p.with_extension("path")).expect("path");
        let path = meta
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let lang = jingu_syntax::Language::detect(Path::new(&path), &before);
        if let Some(r) = jingu_realdoc::replay::replay(lang, &before, &after) {
            if r.outcome != jingu_realdoc::replay::Replayed::Identical {
                wrong.push(format!("{label} {}: {:?}", meta.trim(), r.outcome));
            }
            tally.add(&r);
        }
    }
    (tally, wrong)
}

/// The replay benchmark's other CI subset: 80 real file changes from five public repositories in
/// five languages, written by nobody here (tests/fixtures/replay/ATTRIBUTION.md), each replayed as
/// the RealDoc batch derived from its before/after symbol tables.
#[test]
fn public_repositories_replay_byte_identically() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/replay");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/fixtures/replay")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "fixtures for {} languages", dirs.len());
    let mut total = jingu_realdoc::replay::Tally::default();
    let mut wrong = Vec::new();
    for dir in dirs {
        let label = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let pairs = std::fs::read_dir(&dir).expect("pairs").flatten().count() / 3;
        let (tally, w) = replay_pairs(&dir, &label);
        eprintln!("{}", tally.line(&label));
        assert_eq!(tally.changes, pairs, "{label}: a pair was not replayable");
        assert!(
            tally.changes >= 10,
            "{label}: only {} changes",
            tally.changes
        );
        wrong.extend(w);
        total.merge(&tally);
    }
    eprintln!("{}", total.line("total"));
    assert!(
        total.identical * 100 >= total.changes * 99,
        "{}\n{}",
        total.line("total"),
        wrong.join("\n")
    );
    // Symbol, line and keyword edits inside a symbol keep the request below a unified diff of the
    // same changes (these files are small — ≤ 16 KB, for the repository's sake — so the ratio to
    // the whole file is higher than the full corpus's 0.06; `cargo bench --bench replay` has that).
    assert!(
        total.request_bytes <= total.diff_bytes,
        "request bytes above a unified diff's: {}",
        total.line("total")
    );
}

/// The replay benchmark's CI subset: this repository's own recent history (code written here, so
/// it may live in CI), each changed file replayed as a RealDoc batch against its parent version.
#[test]
fn own_history_replays_byte_identically() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let git_dir = Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .current_dir(&repo)
        .output()
        .expect("git");
    assert!(
        git_dir.status.success(),
        "the CI subset needs the repository's history"
    );
    let git_dir = String::from_utf8_lossy(&git_dir.stdout).trim().to_string();
    let out = tempfile::tempdir().expect("tempdir");
    let extract = Command::new("python3")
        .arg(repo.join("scripts/replay-extract.py"))
        .args([
            &git_dir,
            out.path().to_str().expect("utf-8"),
            "self",
            "--commits",
            "40",
        ])
        .output()
        .expect("python3 scripts/replay-extract.py");
    assert!(extract.status.success(), "{}", stderr(&extract));
    let (tally, wrong) = replay_pairs(&out.path().join("self"), "self");
    eprintln!("{}", tally.line("self"));
    assert!(
        tally.changes >= 20,
        "too few changes to measure ({}); is the history shallow?",
        tally.changes
    );
    assert!(
        tally.identical * 100 >= tally.changes * 97,
        "{}\n{}",
        tally.line("self"),
        wrong.join("\n")
    );
    // What the model sends is no larger than a unified diff of the same changes (this
    // repository's commits rewrite much of each file, so the ratio to the file is not the point).
    assert!(
        tally.request_bytes <= tally.diff_bytes,
        "{}",
        tally.line("self")
    );
}

/// `jingu edit --insert-after` of a symbol: blank lines the text carries are kept as given, and
/// without any the new symbol takes its neighbours' spacing.
#[test]
fn inserted_symbols_keep_the_blank_lines_their_text_gives() {
    let fx = Fixture::new(&[("f.rs", RS)]);
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "a", "--insert-after"],
        "\n\nfn m() -> i32 {\n    0\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fx.read("f.rs"),
        RS.replace(
            "    1\n}\n\n",
            "    1\n}\n\n\nfn m() -> i32 {\n    0\n}\n\n"
        )
    );
    let out = edit(
        &fx,
        &["f.rs", "--symbol", "c", "--insert-before"],
        "fn n() -> i32 {\n    9\n}",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fx.read("f.rs")
            .contains("    2\n}\n\nfn n() -> i32 {\n    9\n}\n\nfn c()"),
        "{}",
        fx.read("f.rs")
    );
}

/// `jingu` with RLIMIT_FSIZE at `limit` bytes and SIGXFSZ ignored, so a write past the limit fails
/// with EFBIG exactly as a full disk fails with ENOSPC (no root or small file system needed;
/// `trap ''` makes the ignore survive `exec`, `prlimit` is util-linux, present on every Debian).
fn jingu_with_file_limit(fx: &Fixture, limit: u64, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"")
        .arg(limit.to_string())
        .arg(env!("CARGO_BIN_EXE_jingu"))
        .args(args)
        .current_dir(&fx.root)
        .stdin(Stdio::null());
    for (k, v) in fx.env() {
        cmd.env(k, v);
    }
    cmd.output().expect("run jingu under prlimit")
}

/// Writes fail for lack of space at many points of `jingu edit` and `jingu rollback` (the
/// workspace file, snapshot blobs, the audit log): each run either succeeds, or fails naming what
/// could not be written, and the file is exactly its old or its new content; afterwards the audit
/// chain verifies, the history agrees with the disk and the next edit and rollback work.
#[test]
fn disk_full_during_edits_and_rollbacks_loses_nothing() {
    // A workspace file far bigger than anything the state directory writes per edit, so small
    // limits hit the state directory first and large ones only the workspace file.
    let filler: String = (0..1500)
        .map(|i| format!("fn f{i}() -> u32 {{\n    {i}\n}}\n\n"))
        .collect();
    let src = format!("{RS}\n{filler}");
    let fx = Fixture::new(&[("big.rs", &src)]);
    let size = src.len() as u64;
    let limits = [
        0,
        1,
        512,
        4096,
        16_384,
        size / 2,
        size - 1,
        size + 4096,
        4 * size,
    ];
    let text_file = fx.base.join("full.txt");
    let (mut refused, mut done) = (0, 0);
    for (round, &limit) in limits.iter().enumerate() {
        let before = fx.read("big.rs");
        let new_a = format!("fn a() -> i32 {{\n    {}\n}}\n", 7000 + round);
        std::fs::write(&text_file, &new_a).expect("write");
        let start = before.find("fn a()").expect("a");
        let end = start + before[start..].find("}\n").expect("end") + 2;
        let after = format!("{}{new_a}{}", &before[..start], &before[end..]);
        let tf = text_file.to_str().expect("utf-8");
        let out = jingu_with_file_limit(
            &fx,
            limit,
            &[
                "edit",
                "big.rs",
                "--symbol",
                "a",
                "--replace",
                "--text-file",
                tf,
            ],
        );
        let now = fx.read("big.rs");
        if out.status.success() {
            done += 1;
            assert_eq!(now, after, "limit {limit}: edit reported success");
        } else {
            refused += 1;
            let err = stderr(&out);
            eprintln!("limit {limit}: edit: {}", err.trim());
            assert!(
                err.contains("File too large") || err.contains("No space"),
                "limit {limit}: the error does not say what failed: {err}"
            );
            assert!(
                now == before || now == after,
                "limit {limit}: torn file after a failed edit"
            );
        }
        let verify = fx.jingu(&["audit", "verify"]);
        assert!(
            verify.status.success(),
            "limit {limit}: {}{}",
            stdout(&verify),
            stderr(&verify)
        );
        // A rollback of a fresh (unlimited) edit, under the same limit.
        let new_b = format!("fn b() -> i32 {{\n    {}\n}}\n", 8000 + round);
        let base = fx.read("big.rs");
        let out = edit(&fx, &["big.rs", "--symbol", "b", "--replace"], &new_b);
        assert!(out.status.success(), "limit {limit}: {}", stderr(&out));
        let edited = fx.read("big.rs");
        let id = stdout(&out).trim().to_string();
        let out = jingu_with_file_limit(&fx, limit, &["rollback", &id]);
        let now = fx.read("big.rs");
        if out.status.success() {
            done += 1;
            assert_eq!(now, base, "limit {limit}: rollback reported success");
        } else {
            refused += 1;
            let err = stderr(&out);
            eprintln!("limit {limit}: rollback: {}", err.trim());
            assert!(
                err.contains("File too large") || err.contains("No space"),
                "limit {limit}: the rollback error does not say what failed: {err}"
            );
            assert!(
                now == edited || now == base,
                "limit {limit}: torn file after a failed rollback"
            );
        }
        let verify = fx.jingu(&["audit", "verify"]);
        assert!(
            verify.status.success(),
            "limit {limit} (rollback): {}{}",
            stdout(&verify),
            stderr(&verify)
        );
        let scan = fx.jingu(&["snapshot", "scan", "--json"]);
        assert!(scan.status.success(), "{}", stderr(&scan));
        let scan: serde_json::Value = serde_json::from_slice(&scan.stdout).expect("json");
        let mentions = |k: &str| {
            scan[k]
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p.as_str() == Some("big.rs")))
        };
        assert!(
            !mentions("modified") && !mentions("created"),
            "limit {limit}: history and disk disagree: {scan}"
        );
    }
    assert!(refused >= 4, "only {refused} runs hit the limit");
    assert!(done >= 2, "only {done} runs fit under the limits");
    // Space is back: the next edit and its rollback work.
    let before = fx.read("big.rs");
    let out = edit(
        &fx,
        &["big.rs", "--symbol", "c", "--replace"],
        "fn c() -> i32 {\n    33\n}\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let out = fx.jingu(&["rollback", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.read("big.rs"), before);
}
