//! Red-team tests for path confinement: every attempt must be refused.

use std::os::unix::fs::symlink;

use super::*;
use jingu_policy::Policy;

struct Fixture {
    _dir: tempfile::TempDir,
    _outside: tempfile::TempDir,
    ws: Workspace,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside_dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::create_dir_all(root.join(".git/hooks")).expect("mkdir");
    std::fs::write(root.join("src/a.rs"), "fn a() {}\n").expect("write");
    let root = root.canonicalize().expect("canon");
    let outside = outside_dir.path().canonicalize().expect("canon");
    std::fs::write(outside.join("secret.txt"), "s3cret").expect("write");
    // State kept beside the workspace, as in production (not inside it).
    let state_dir = dir.path().canonicalize().expect("canon").join("state");
    std::fs::create_dir_all(&state_dir).expect("mkdir");
    Fixture {
        _dir: dir,
        _outside: outside_dir,
        ws: Workspace { root, state_dir },
        outside,
    }
}

fn policy() -> Policy {
    Policy::from_texts(
        None,
        Some("[policy]\ndeny_paths = [\"secrets/**\", \"*.key\"]\n"),
        None,
    )
    .expect("policy")
}

#[test]
fn ordinary_paths_are_accepted() {
    let f = fixture();
    let w = &f.ws;
    assert_eq!(w.confine("src/a.rs").expect("ok"), "src/a.rs");
    assert_eq!(w.confine("./src/../src/new.rs").expect("ok"), "src/new.rs");
    assert_eq!(w.confine("src/数据.rs").expect("ok"), "src/数据.rs");
    assert_eq!(w.confine("src/café.py").expect("ok"), "src/café.py");
    assert_eq!(
        w.confine("new/dir/file.txt").expect("ok"),
        "new/dir/file.txt"
    );
    assert_eq!(w.confine(".gitignore").expect("ok"), ".gitignore");
    assert_eq!(
        w.confine(".github/workflows/ci.yml").expect("ok"),
        ".github/workflows/ci.yml"
    );
    let abs = w.root.join("src/a.rs");
    assert_eq!(
        w.confine(abs.to_str().expect("utf8")).expect("ok"),
        "src/a.rs"
    );
    std::fs::create_dir_all(w.root.join("lib")).expect("mkdir");
    symlink(w.root.join("src"), w.root.join("lib/src_link")).expect("symlink");
    assert_eq!(
        w.confine("lib/src_link/a.rs").expect("inside link"),
        "src/a.rs"
    );
    let p = policy();
    assert_eq!(
        w.confine_for_tool("src/a.rs", &p, Access::Write)
            .expect("ok"),
        "src/a.rs"
    );
}

/// 46 lexical escape attempts: traversal, absolute, NUL, Windows, unicode and protected names.
const LEXICAL_ATTEMPTS: &[&str] = &[
    "",
    "../x",
    "..",
    "src/../../x",
    "src/../../../etc/passwd",
    "./../ws/../../x",
    "a/b/c/../../../../x",
    "/etc/passwd",
    "/",
    "/root/.ssh/id_rsa",
    "/tmp",
    "a\0b",
    "src/a.rs\0.txt",
    "src\\a.rs",
    "..\\..\\windows",
    "C:\\Windows\\System32",
    "C:/Windows",
    "c:foo",
    "\\\\?\\C:\\x",
    "\\\\server\\share\\x",
    "//server/share/x",
    "~/.ssh/id_rsa",
    "~root/x",
    "file:///etc/passwd",
    "src\u{2215}a.rs",
    "src\u{2044}a.rs",
    "src\u{FF0F}a.rs",
    "\u{FF0E}\u{FF0E}/x",
    "\u{2024}\u{2024}/x",
    "\u{2025}/x",
    "src\u{29F8}..",
    "src\u{FF3C}a.rs",
    "\u{FF41}.rs",
    "ﬁle.rs",
    "src/a\u{200B}.rs",
    "src/\u{202E}sr.a",
    "src/a.rs\n",
    "src/\u{1b}[31m.rs",
    ".git/config",
    ".git",
    ".GIT/hooks/pre-commit",
    ".Git/config",
    "src/.git/config",
    ".git./config",
    ".git /config",
    "...",
    ".jingu/config.toml",
    ".JINGU/config.toml",
    ".g\u{0131}t/config",
    ".g\u{0456}t/config",
    ".\u{0261}it/config",
    "src/a.rs:stream",
    "src/a.rs::$DATA",
];

#[test]
fn lexical_escape_attempts_are_refused() {
    let f = fixture();
    assert!(LEXICAL_ATTEMPTS.len() >= 50);
    for bad in LEXICAL_ATTEMPTS {
        let r = f.ws.confine(bad);
        assert!(r.is_err(), "{bad:?} should be refused, got {r:?}");
    }
}

#[test]
fn absolute_path_outside_via_sibling_prefix_is_refused() {
    let f = fixture();
    // `/…/ws-evil` shares a string prefix with `/…/ws` but is outside it.
    let sibling = format!("{}-evil/x", f.ws.root.display());
    assert!(matches!(f.ws.confine(&sibling), Err(PathError::Outside(_))));
    let into_outside = format!("{}/../{}", f.ws.root.display(), "state/audit.jsonl");
    assert!(f.ws.confine(&into_outside).is_err());
}

#[test]
fn symlinked_directory_out_of_the_workspace_is_refused() {
    let f = fixture();
    symlink(&f.outside, f.ws.root.join("link")).expect("symlink");
    assert!(matches!(
        f.ws.confine("link/secret.txt"),
        Err(PathError::Outside(_))
    ));
    assert!(matches!(
        f.ws.confine("link/new.txt"),
        Err(PathError::Outside(_))
    ));
    assert!(matches!(f.ws.confine("link"), Err(PathError::Outside(_))));
}

#[test]
fn symlinked_file_out_of_the_workspace_is_refused() {
    let f = fixture();
    symlink(
        f.outside.join("secret.txt"),
        f.ws.root.join("src/innocent.rs"),
    )
    .expect("symlink");
    assert!(matches!(
        f.ws.confine("src/innocent.rs"),
        Err(PathError::Outside(_))
    ));
}

#[test]
fn symlink_chain_out_of_the_workspace_is_refused() {
    let f = fixture();
    symlink(&f.outside, f.ws.root.join("hop2")).expect("symlink");
    symlink(f.ws.root.join("hop2"), f.ws.root.join("src/hop1")).expect("symlink");
    assert!(f.ws.confine("src/hop1/secret.txt").is_err());
}

#[test]
fn relative_symlink_climbing_out_is_refused() {
    let f = fixture();
    symlink("../../..", f.ws.root.join("src/up")).expect("symlink");
    assert!(matches!(
        f.ws.confine("src/up/etc/passwd"),
        Err(PathError::Outside(_))
    ));
}

#[test]
fn dangling_symlink_pointing_outside_is_refused() {
    let f = fixture();
    symlink(
        f.outside.join("does-not-exist"),
        f.ws.root.join("src/trap.rs"),
    )
    .expect("symlink");
    let r = f.ws.confine("src/trap.rs");
    assert!(
        matches!(r, Err(PathError::Suspicious(_, "dangling symlink"))),
        "{r:?}"
    );
}

#[test]
fn dangling_symlink_as_directory_component_is_refused() {
    let f = fixture();
    symlink(f.outside.join("nowhere"), f.ws.root.join("gen")).expect("symlink");
    assert!(f.ws.confine("gen/out.rs").is_err());
}

#[test]
fn symlink_to_dot_git_is_refused() {
    let f = fixture();
    symlink(f.ws.root.join(".git"), f.ws.root.join("hooks_here")).expect("symlink");
    assert!(matches!(
        f.ws.confine("hooks_here/hooks/pre-commit"),
        Err(PathError::Protected(..))
    ));
}

#[test]
fn symlink_to_dot_jingu_is_refused() {
    let f = fixture();
    std::fs::create_dir_all(f.ws.root.join(".jingu")).expect("mkdir");
    symlink(
        f.ws.root.join(".jingu/config.toml"),
        f.ws.root.join("cfg.toml"),
    )
    .expect("symlink");
    std::fs::write(f.ws.root.join(".jingu/config.toml"), "").expect("w");
    assert!(matches!(
        f.ws.confine("cfg.toml"),
        Err(PathError::Protected(..))
    ));
}

#[test]
fn state_dir_is_refused_by_absolute_path() {
    let f = fixture();
    let audit = f.ws.state_dir.join("audit.jsonl");
    assert!(f.ws.confine(audit.to_str().expect("utf8")).is_err());
}

#[test]
fn state_dir_inside_workspace_is_refused() {
    let f = fixture();
    let ws = Workspace {
        root: f.ws.root.clone(),
        state_dir: f.ws.root.join("jingu-state"),
    };
    std::fs::create_dir_all(&ws.state_dir).expect("mkdir");
    assert!(matches!(
        ws.confine("jingu-state/audit.jsonl"),
        Err(PathError::Protected(..))
    ));
    assert!(matches!(
        ws.confine("jingu-state/snapshots/HEAD"),
        Err(PathError::Protected(..))
    ));
}

#[test]
fn symlink_into_state_dir_is_refused() {
    let f = fixture();
    symlink(&f.ws.state_dir, f.ws.root.join("st")).expect("symlink");
    assert!(f.ws.confine("st/audit.jsonl").is_err());
}

#[test]
fn hard_link_write_is_refused() {
    let f = fixture();
    // Hard links cannot cross file systems; make the "outside" file beside the workspace.
    let outside_file = f.ws.root.parent().expect("parent").join("outside.txt");
    std::fs::write(&outside_file, "do not touch").expect("w");
    std::fs::hard_link(&outside_file, f.ws.root.join("src/alias.txt")).expect("hard link");
    let r =
        f.ws.confine_for_tool("src/alias.txt", &policy(), Access::Write);
    assert!(matches!(r, Err(PathError::HardLink(_, 2))), "{r:?}");
}

#[test]
fn deny_paths_are_refused_for_tools() {
    let f = fixture();
    let p = policy();
    for bad in [
        "secrets/prod.json",
        "deploy/server.key",
        ".env",
        "config/.env.production",
    ] {
        let r = f.ws.confine_for_tool(bad, &p, Access::Read);
        assert!(matches!(r, Err(PathError::Denied(..))), "{bad}: {r:?}");
    }
}

#[test]
fn fifo_is_refused() {
    let f = fixture();
    let path = f.ws.root.join("src/pipe");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let r = f.ws.confine_for_tool("src/pipe", &policy(), Access::Read);
    assert!(matches!(r, Err(PathError::Suspicious(..))), "{r:?}");
}

#[test]
fn writing_the_root_itself_is_refused() {
    let f = fixture();
    assert!(
        f.ws.confine_for_tool(".", &policy(), Access::Write)
            .is_err()
    );
}

#[test]
fn open_beneath_reads_and_writes_inside() {
    use std::io::{Read, Write};
    let f = fixture();
    let rel =
        f.ws.confine_for_tool("src/new.rs", &policy(), Access::Write)
            .expect("confine");
    f.ws.open_beneath(&rel, Access::Write)
        .expect("open")
        .write_all(b"fn n() {}\n")
        .expect("write");
    let mut s = String::new();
    f.ws.open_beneath(&rel, Access::Read)
        .expect("open")
        .read_to_string(&mut s)
        .expect("read");
    assert_eq!(s, "fn n() {}\n");
}

#[test]
fn open_beneath_refuses_a_symlink_swapped_in_after_the_check() {
    let f = fixture();
    std::fs::create_dir_all(f.ws.root.join("gen")).expect("mkdir");
    let rel =
        f.ws.confine("gen/out.txt")
            .expect("confine while gen/ is a directory");
    // The race: gen/ is replaced by a symlink to outside between check and use.
    std::fs::remove_dir(f.ws.root.join("gen")).expect("rmdir");
    symlink(&f.outside, f.ws.root.join("gen")).expect("symlink");
    assert!(f.ws.open_beneath(&rel, Access::Write).is_err());
    assert!(
        !f.outside.join("out.txt").exists(),
        "wrote outside the workspace"
    );
}

#[test]
fn open_beneath_refuses_a_final_symlink_swapped_in() {
    let f = fixture();
    let rel = f.ws.confine("src/a.rs").expect("confine");
    std::fs::remove_file(f.ws.root.join("src/a.rs")).expect("rm");
    symlink(f.outside.join("secret.txt"), f.ws.root.join("src/a.rs")).expect("symlink");
    for access in [Access::Read, Access::Write] {
        let r = f.ws.open_beneath(&rel, access);
        assert!(matches!(r, Err(PathError::Outside(_))), "{r:?}");
    }
    assert_eq!(
        std::fs::read_to_string(f.outside.join("secret.txt")).expect("r"),
        "s3cret"
    );
}

#[test]
fn open_beneath_refuses_a_hard_link_made_after_the_check() {
    let f = fixture();
    let rel =
        f.ws.confine_for_tool("src/a.rs", &policy(), Access::Write)
            .expect("confine");
    let outside_file = f.ws.root.parent().expect("parent").join("victim.txt");
    std::fs::write(&outside_file, "keep me").expect("w");
    std::fs::remove_file(f.ws.root.join("src/a.rs")).expect("rm");
    std::fs::hard_link(&outside_file, f.ws.root.join("src/a.rs")).expect("link");
    assert!(matches!(
        f.ws.open_beneath(&rel, Access::Write),
        Err(PathError::HardLink(..))
    ));
    assert_eq!(
        std::fs::read_to_string(&outside_file).expect("r"),
        "keep me",
        "victim truncated"
    );
}

#[test]
fn open_beneath_refuses_escaping_relative_paths() {
    let f = fixture();
    for bad in ["../state/x", "/etc/passwd", "src/../../x"] {
        let r = f.ws.open_beneath(bad, Access::Read);
        assert!(matches!(r, Err(PathError::Outside(_))), "{bad}: {r:?}");
    }
}
