//! Temp files of in-flight atomic writes: `.NAME.jingu-PID-HEX.tmp` (RealDoc) and
//! `.NAME.jingu-tmp-PID-N` (snapshot restores). A write killed between creating its temp file and
//! renaming it leaves one behind; scans never record them, and the next run removes those whose
//! process is gone.

use std::path::Path;

/// The writer's PID when `name` is one of our temp files.
pub fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    if let Some(i) = rest.rfind(super::durable::TEMP_MARKER) {
        let tail = &rest[i + super::durable::TEMP_MARKER.len()..];
        let (pid, n) = tail.split_once('-')?;
        return n
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| pid.parse().ok())?;
    }
    let body = rest.strip_suffix(".tmp")?;
    let i = body.rfind(".jingu-")?;
    let (pid, hex) = body[i + ".jingu-".len()..].split_once('-')?;
    (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether process `pid` still exists (a live writer's temp file must not be removed).
fn alive(pid: u32) -> bool {
    pid != 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove the temp files in `dir` left by writers that no longer run. Returns how many.
pub fn clean_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid != std::process::id()
            && !alive(pid)
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn both_temp_name_forms_are_recognised() {
        assert_eq!(
            temp_owner(".a.rs.jingu-123-00112233aabbccdd.tmp"),
            Some(123)
        );
        assert_eq!(temp_owner(".a.rs.jingu-tmp-77-991"), Some(77));
        assert_eq!(temp_owner("a.rs"), None);
        assert_eq!(temp_owner(".a.rs.jingu-123-xyz.tmp"), None);
        assert_eq!(temp_owner(".jingu-notes.tmp"), None);
    }

    #[test]
    fn only_dead_writers_temps_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        // PID 0 is never a process; our own PID is alive.
        let dead = dir.path().join(".a.rs.jingu-0-00112233aabbccdd.tmp");
        let mine = dir.path().join(format!(
            ".a.rs.jingu-{}-00112233aabbccdd.tmp",
            std::process::id()
        ));
        std::fs::write(&dead, "x").expect("write");
        std::fs::write(&mine, "x").expect("write");
        std::fs::write(dir.path().join("keep.rs"), "x").expect("write");
        assert_eq!(clean_stale_temps(dir.path()), 1);
        assert!(!dead.exists() && mine.exists());
    }
}
