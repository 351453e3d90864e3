//! End-to-end: the real `jingu` binary's command line (DESIGN §2).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::process::Command;

use serde_json::Value;

fn jingu(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(args)
        .output()
        .expect("run jingu")
}

#[test]
fn symbols_json_matches_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shapes.py");
    std::fs::write(
        &file,
        "import math\n\n@dataclass\nclass Circle:\n    r: float\n\n    def area(self):\n        return math.pi * self.r ** 2\n",
    )
    .expect("write");
    let out = jingu(&["symbols", file.to_str().expect("utf-8"), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    // Each record also says exactly where the symbol is, and its version.
    let text = std::fs::read_to_string(&file).expect("read");
    for r in v.as_array_mut().expect("array") {
        let obj = r.as_object_mut().expect("object");
        let (start, end) = (
            obj.remove("start_byte")
                .and_then(|b| b.as_u64())
                .expect("start_byte") as usize,
            obj.remove("end_byte")
                .and_then(|b| b.as_u64())
                .expect("end_byte") as usize,
        );
        let version = obj.remove("version").expect("version");
        assert_eq!(
            version,
            jingu_realdoc::version(&text.as_bytes()[start..end])
        );
        let col = |b: usize| b - text[..b].rfind('\n').map_or(0, |i| i + 1) + 1;
        assert_eq!(obj.remove("start_col"), Some(Value::from(col(start))));
        assert_eq!(obj.remove("end_col"), Some(Value::from(col(end))));
    }
    assert_eq!(
        v,
        serde_json::json!([
            {"name_path": "Circle", "name": "Circle", "kind": "class", "start_line": 3, "end_line": 8, "language": "python"},
            {"name_path": "Circle/r", "name": "r", "kind": "field", "start_line": 5, "end_line": 5, "language": "python"},
            {"name_path": "Circle/area", "name": "area", "kind": "method", "start_line": 7, "end_line": 8, "language": "python"}
        ])
    );
}

#[test]
fn symbols_refuses_unsupported_binary_and_missing_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("blob.rs");
    std::fs::write(&bin, b"fn a() {}\0\x01").expect("write");
    let bad_utf8 = dir.path().join("latin1.rs");
    std::fs::write(&bad_utf8, b"// caf\xe9\nfn a() {}\n").expect("write");
    for (path, needle) in [
        (bin.to_str().expect("utf-8"), "binary"),
        (bad_utf8.to_str().expect("utf-8"), "UTF-8"),
        ("/nonexistent/x.rs", "No such file"),
        ("notes.txt", "unsupported language"),
    ] {
        let out = jingu(&["symbols", path]);
        assert_eq!(out.status.code(), Some(1), "{path}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{path}: {err}");
    }
    let usage = jingu(&["symbols"]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn a_closed_stdout_pipe_ends_output_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("many.py");
    let text: String = (0..5000)
        .map(|i| format!("def function_number_{i}():\n    pass\n"))
        .collect();
    std::fs::write(&file, text).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jingu"))
        .args(["symbols", file.to_str().expect("utf-8")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // like `| head` exiting early
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}
