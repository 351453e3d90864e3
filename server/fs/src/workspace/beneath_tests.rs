//! Red-team tests for handle-based confinement: symlinks planted before or *during* the operation
//! (a racing swapper thread) must never let a read or write reach outside the root.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

struct Fx {
    _t: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn fx() -> Fx {
    let t = tempfile::tempdir().expect("tmp");
    let base = t.path().canonicalize().expect("canon");
    let root = base.join("ws");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("victim"), "keep").expect("w");
    Fx {
        _t: t,
        root,
        outside,
    }
}

fn tmp_name(stem: &str, r: u64) -> String {
    format!(".{stem}.t{r:x}")
}

fn both_modes(f: impl Fn()) {
    for walk in [false, true] {
        force_walk_for_tests(walk);
        f();
    }
    force_walk_for_tests(false);
}

#[test]
fn replace_read_and_remove_inside() {
    both_modes(|| {
        let f = fx();
        let rel = Path::new("new/deep/file.txt");
        replace(&f.root, rel, b"hello", None, true, tmp_name).expect("replace");
        assert_eq!(read(&f.root, rel, 100).expect("read"), b"hello");
        replace(&f.root, rel, b"again", Some(0o600), false, tmp_name).expect("replace");
        assert_eq!(read(&f.root, rel, 100).expect("read"), b"again");
        assert!(read(&f.root, rel, 3).is_err(), "size cap");
        remove(&f.root, rel).expect("remove");
        assert!(read(&f.root, rel, 100).is_err());
    });
}

#[test]
fn a_symlinked_directory_on_the_way_is_refused() {
    both_modes(|| {
        let f = fx();
        symlink(&f.outside, f.root.join("link")).expect("symlink");
        let rel = Path::new("link/victim");
        assert!(read(&f.root, rel, 100).is_err());
        assert!(replace(&f.root, rel, b"pwned", None, true, tmp_name).is_err());
        assert!(remove(&f.root, rel).is_err());
        // A relative link that stays inside is refused too: no symlink is followed at all.
        symlink("sub", f.root.join("inner")).expect("symlink");
        assert!(replace(&f.root, Path::new("inner/x"), b"x", None, false, tmp_name).is_err());
        assert_eq!(
            std::fs::read_to_string(f.outside.join("victim")).expect("r"),
            "keep"
        );
    });
}

#[test]
fn a_final_symlink_is_never_written_through() {
    both_modes(|| {
        let f = fx();
        symlink(f.outside.join("victim"), f.root.join("sub/a")).expect("symlink");
        assert!(read(&f.root, Path::new("sub/a"), 100).is_err());
        // Replacing swaps the *name*: the link goes, the victim stays.
        replace(&f.root, Path::new("sub/a"), b"new", None, false, tmp_name).expect("replace");
        assert_eq!(
            std::fs::read_to_string(f.outside.join("victim")).expect("r"),
            "keep"
        );
        assert!(
            !std::fs::symlink_metadata(f.root.join("sub/a"))
                .expect("m")
                .file_type()
                .is_symlink()
        );
        // Removing a link removes the link only.
        symlink(f.outside.join("victim"), f.root.join("sub/b")).expect("symlink");
        remove(&f.root, Path::new("sub/b")).expect("remove");
        assert!(f.outside.join("victim").exists());
    });
}

#[test]
fn dot_dot_absolute_and_empty_names_are_refused() {
    let f = fx();
    for bad in [
        "../outside/victim",
        "sub/../../outside/victim",
        "/etc/passwd",
        "",
        "sub/..",
    ] {
        assert!(read(&f.root, Path::new(bad), 100).is_err(), "{bad}");
        assert!(
            replace(&f.root, Path::new(bad), b"x", None, true, tmp_name).is_err(),
            "{bad}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(f.outside.join("victim")).expect("r"),
        "keep"
    );
}

#[test]
fn fifos_and_devices_are_not_read() {
    let f = fx();
    let made = std::process::Command::new("mkfifo")
        .arg(f.root.join("sub/fifo"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    assert!(
        read(&f.root, Path::new("sub/fifo"), 100).is_err(),
        "FIFO read (or hang)"
    );
}

/// Flips `root/sub` between a real directory and a symlink to `outside` as fast as it can.
fn swapper(root: &Path, outside: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let (root, outside) = (root.to_path_buf(), outside.to_path_buf());
    std::thread::spawn(move || {
        let (sub, real, link) = (
            root.join("sub"),
            root.join("sub.real"),
            root.join("sub.link"),
        );
        let mut swaps = 0u64;
        let _ = symlink(&outside, &link);
        while !stop.load(Ordering::Relaxed) {
            // sub → symlink, then back to the real directory; rename is atomic.
            if std::fs::rename(&sub, &real).is_ok() {
                let _ = std::fs::rename(&link, &sub);
                let _ = std::fs::rename(&sub, &link);
                let _ = std::fs::rename(&real, &sub);
                swaps += 1;
            }
        }
        swaps
    })
}

#[test]
fn a_racing_symlink_swap_never_escapes() {
    both_modes(|| {
        let f = fx();
        let stop = Arc::new(AtomicBool::new(false));
        let t = swapper(&f.root, &f.outside, stop.clone());
        let (mut ok, mut refused) = (0, 0);
        for i in 0..400 {
            let rel = format!("sub/f{}", i % 7);
            match replace(&f.root, Path::new(&rel), b"pwned", None, false, tmp_name) {
                Ok(()) => ok += 1,
                Err(_) => refused += 1,
            }
            let _ = read(&f.root, Path::new("sub/victim"), 100);
            // The same race through the realdoc writer, by absolute path.
            let abs = f.root.join(format!("sub/g{i}"));
            let _ = crate::atomic::write_atomic(&abs, b"pwned", None);
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = t.join().expect("join");
        assert!(swaps > 0, "the swapper never ran");
        assert!(ok + refused == 400);
        let leaked: Vec<_> = std::fs::read_dir(&f.outside)
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != "victim")
            .collect();
        assert!(leaked.is_empty(), "wrote outside: {leaked:?}");
        assert_eq!(
            std::fs::read_to_string(f.outside.join("victim")).expect("r"),
            "keep"
        );
    });
}
