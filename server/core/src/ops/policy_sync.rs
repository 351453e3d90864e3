//! `jingu policy sync`: fetch the enterprise policy and skill bundles from the git repository the
//! enterprise policy names (`[enterprise]`), check them, and install them where the enterprise
//! layer is read from (`/etc/jingu`), atomically.
//!
//! A release is refused, leaving the installed one in force, when: the commit carries no signed
//! manifest (`jingu-policy.sig`); a file differs from it; it is signed by another key or the
//! signature does not verify; its serial is not greater than the installed one (a replayed older
//! release); the new commit does not descend from the installed one (a forced, non-fast-forward
//! ref); a skill bundle is not signed by the enterprise key; or the new policy would not load.
//!
//! Layout under the system directory: each release is a directory `enterprise.d/<serial>-<commit>`
//! holding the tree, its manifest, `policy.pub` (the key it was checked against) and `sync.json`
//! (what was installed). `enterprise` is a symlink to the release in force; `policy.toml`,
//! `policy.toml.sig` and `policy.pub` are symlinks through it, so installing a release is one
//! `rename(2)` of the `enterprise` link and a reader sees the old release or the new one, whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jingu_audit::{AuditContext, AuditLog, RecordKind};
use jingu_policy::manifest::{self, MANIFEST_FILE, POLICY_FILE};
use jingu_policy::{Layer, Policy};
use serde::{Deserialize, Serialize};

use super::audit_admin::audit_options;
use super::error::OpsError;
use super::trail::AuditTrail;
use crate::identity::Identity;

/// The link to the release in force, and the directory of releases, under the system directory.
const CURRENT_LINK: &str = "enterprise";
const RELEASES_DIR: &str = "enterprise.d";
const STATE_FILE: &str = "sync.json";
const SKILLS_DIR: &str = "skills";
/// The files of the enterprise layer, each a symlink through [`CURRENT_LINK`] once synced.
const LINKED: [&str; 3] = ["policy.pub", "policy.toml", "policy.toml.sig"];
const MAX_FILES: usize = manifest::MAX_FILES;
/// Held (`flock`, exclusive) for a whole sync, so two syncs never interleave their checks and
/// installs; beside the releases it guards.
const LOCK_FILE: &str = ".sync.lock";
/// How long a sync waits for another to finish before it refuses (`JINGU_POLICY_SYNC_WAIT_MS`).
const LOCK_WAIT_DEFAULT: std::time::Duration = std::time::Duration::from_secs(60);

/// What `sync.json` remembers about the release in force.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Installed {
    pub repo: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub commit: String,
    pub serial: u64,
    pub skills: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SyncReport {
    /// `installed` or `up-to-date`.
    pub status: &'static str,
    pub installed: Installed,
    pub previous: Option<Installed>,
    /// The release directory now in force.
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "no policy repository configured: the enterprise policy {0} has no [enterprise] policy_repo"
    )]
    NotConfigured(PathBuf),
    /// The fetched release was not installed; the previous policy stays in force.
    #[error("policy sync refused: {reason}; the previous policy stays in force")]
    Refused { reason: String },
    #[error("policy sync failed: {0}; the previous policy stays in force")]
    Failed(String),
    #[error(transparent)]
    Ops(#[from] OpsError),
}

fn failed(what: &str, e: impl std::fmt::Display) -> SyncError {
    SyncError::Failed(format!("{what}: {e}"))
}

/// The release in force under `system_dir`, if `policy sync` installed one.
fn installed(system_dir: &Path) -> Result<Option<Installed>, SyncError> {
    let path = system_dir.join(CURRENT_LINK).join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| failed(&format!("{} is unreadable", path.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed(&format!("cannot read {}", path.display()), e)),
    }
}

impl AuditTrail {
    /// Sync the enterprise policy into the standard system directory, audited in this workspace's
    /// trail.
    pub fn policy_sync(&self) -> Result<SyncReport, SyncError> {
        sync_into(self, Path::new(jingu_policy::SYSTEM_DIR))
    }
}

fn sync_into(trail: &AuditTrail, system_dir: &Path) -> Result<SyncReport, SyncError> {
    let root = &trail.workspace().root;
    let policy = Policy::load(root).map_err(OpsError::from)?;
    let Some(cfg) = policy.enterprise.clone() else {
        return Err(SyncError::NotConfigured(system_dir.join(POLICY_FILE)));
    };
    let id = Identity::resolve(&policy.identity).map_err(OpsError::from)?;
    let log = AuditLog::open_with(
        &trail.workspace().state_dir,
        AuditContext {
            run_id: super::new_run_id(),
            subject: id.subject.clone(),
            verified: id.verified,
            policy_hash: policy.hash(),
        },
        &audit_options(&policy, root),
    )
    .map_err(OpsError::from)?;
    let record =
        |commit: Option<&str>, serial: Option<u64>, outcome: &str, reason: Option<&str>| {
            log.append(RecordKind::PolicySync {
                repo: cfg.policy_repo.clone(),
                reference: cfg.reference.clone(),
                commit: commit.map(str::to_string),
                serial,
                outcome: outcome.into(),
                reason: reason.map(str::to_string),
            })
            .map(|_| ())
            .map_err(|e| SyncError::Ops(OpsError::from(e)))
        };

    // Everything from reading the release in force to installing the next happens under the lock.
    let _lock = lock(system_dir)?;
    let previous = installed(system_dir)?;
    let work = TempDir::new(system_dir)?;
    let staged = match fetch_and_check(&cfg, previous.as_ref(), system_dir, &work) {
        Ok(Staged::UpToDate) => {
            let installed = previous
                .clone()
                .ok_or_else(|| failed("internal", "no state"))?;
            // Nothing changes, but the check itself is evidence (the policy in force was current).
            record(
                Some(&installed.commit),
                Some(installed.serial),
                "up_to_date",
                None,
            )?;
            return Ok(SyncReport {
                status: "up-to-date",
                path: system_dir.join(CURRENT_LINK),
                installed,
                previous,
            });
        }
        Ok(Staged::Release(s)) => s,
        Err(SyncError::Refused { reason }) => {
            let (commit, serial) = work.seen();
            record(commit.as_deref(), serial, "refused", Some(&reason))?;
            return Err(SyncError::Refused { reason });
        }
        Err(e) => return Err(e),
    };
    // Audited before the release takes effect: an unaudited install never happens.
    record(
        Some(&staged.installed.commit),
        Some(staged.installed.serial),
        "install",
        None,
    )?;
    activate(system_dir, &staged)?;
    Ok(SyncReport {
        status: "installed",
        path: staged.dir.clone(),
        installed: staged.installed,
        previous,
    })
}

/// Take the sync lock under `system_dir`, waiting a bounded time for a sync already running.
fn lock(system_dir: &Path) -> Result<std::fs::File, SyncError> {
    let path = system_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| failed(&format!("cannot open the sync lock {}", path.display()), e))?;
    let wait = std::env::var("JINGU_POLICY_SYNC_WAIT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(LOCK_WAIT_DEFAULT, std::time::Duration::from_millis);
    let deadline = std::time::Instant::now() + wait;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(failed(&format!("cannot lock {}", path.display()), e));
            }
        }
        if std::time::Instant::now() >= deadline {
            return Err(refused(format!(
                "another `jingu policy sync` has held {} for over {} ms; try again once it has finished",
                path.display(),
                wait.as_millis()
            )));
        }
        if !told {
            tracing::warn!(
                "another `jingu policy sync` is running (lock {}); waiting up to {} s",
                path.display(),
                wait.as_secs()
            );
            told = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

enum Staged {
    UpToDate,
    Release(Release),
}

struct Release {
    dir: PathBuf,
    installed: Installed,
}

/// A scratch directory inside the system directory (same filesystem, so renames are atomic),
/// removed on drop; also remembers which commit and serial were seen, for the audit record.
struct TempDir {
    path: PathBuf,
    seen: std::cell::RefCell<(Option<String>, Option<u64>)>,
}

impl TempDir {
    fn new(system_dir: &Path) -> Result<Self, SyncError> {
        let path = system_dir.join(format!(".sync-{}", super::new_run_id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| failed(&format!("cannot create {}", path.display()), e))?;
        Ok(Self {
            path,
            seen: Default::default(),
        })
    }

    fn seen(&self) -> (Option<String>, Option<u64>) {
        self.seen.borrow().clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn refused(reason: impl Into<String>) -> SyncError {
    SyncError::Refused {
        reason: reason.into(),
    }
}

fn full_ref(reference: &str) -> String {
    if reference.starts_with("refs/") {
        reference.to_string()
    } else {
        format!("refs/heads/{reference}")
    }
}

fn fetch_and_check(
    cfg: &jingu_policy::EnterpriseSync,
    previous: Option<&Installed>,
    system_dir: &Path,
    work: &TempDir,
) -> Result<Staged, SyncError> {
    let trusted = manifest::parse_public_key(&cfg.trusted_key)
        .map_err(|e| failed("[enterprise] trusted_key", e))?;
    let repo = git2::Repository::init_bare(work.path.join("fetch.git"))
        .map_err(|e| failed("cannot create the fetch repository", e))?;
    let wanted = full_ref(&cfg.reference);
    let mut remote = repo
        .remote_anonymous(&cfg.policy_repo)
        .map_err(|e| failed(&format!("bad policy_repo `{}`", cfg.policy_repo), e))?;
    remote
        .fetch(&[format!("+{wanted}:refs/jingu-sync/fetched")], None, None)
        .map_err(|e| {
            failed(
                &format!("cannot fetch {wanted} from {}", cfg.policy_repo),
                e.message(),
            )
        })?;
    let commit = repo
        .find_reference("refs/jingu-sync/fetched")
        .and_then(|r| r.peel_to_commit())
        .map_err(|e| failed(&format!("{wanted} names no commit"), e.message()))?;
    let commit_hex = commit.id().to_string();
    work.seen.borrow_mut().0 = Some(commit_hex.clone());
    if let Some(prev) = previous {
        if prev.commit == commit_hex {
            return Ok(Staged::UpToDate);
        }
        let descends = git2::Oid::from_str(&prev.commit)
            .ok()
            .and_then(|old| repo.graph_descendant_of(commit.id(), old).ok())
            .unwrap_or(false);
        if !descends {
            return Err(refused(format!(
                "{wanted} was force-pushed: commit {} does not descend from the installed commit {}",
                short(&commit_hex),
                short(&prev.commit)
            )));
        }
    }
    let files = read_tree(&repo, &commit.tree().map_err(|e| failed("tree", e))?)?;
    let mut files = files;
    let Some(manifest_bytes) = files.remove(MANIFEST_FILE) else {
        return Err(refused(format!(
            "commit {} is unsigned: it has no {MANIFEST_FILE}",
            short(&commit_hex)
        )));
    };
    let hashes: manifest::FileHashes = files
        .iter()
        .map(|(p, b)| (p.clone(), manifest::sha256_hex(b)))
        .collect();
    let m = manifest::verify(&manifest_bytes, &hashes, &trusted)
        .map_err(|e| refused(format!("commit {}: {e}", short(&commit_hex))))?;
    work.seen.borrow_mut().1 = Some(m.serial);
    if let Some(prev) = previous
        && m.serial <= prev.serial
    {
        return Err(refused(format!(
            "commit {} carries serial {}, not newer than the installed serial {} (a replayed or stale release)",
            short(&commit_hex),
            m.serial,
            prev.serial
        )));
    }
    let Some(policy_bytes) = files.get(POLICY_FILE) else {
        return Err(refused(format!(
            "commit {} has no {POLICY_FILE}",
            short(&commit_hex)
        )));
    };
    let text = std::str::from_utf8(policy_bytes)
        .map_err(|_| refused(format!("{POLICY_FILE} is not UTF-8")))?;
    let parsed = Policy::from_layer_texts(&[(Layer::Enterprise, Some(text))])
        .map_err(|e| refused(format!("the new {POLICY_FILE} does not load: {e}")))?;
    if parsed.enterprise.is_none() {
        return Err(refused(format!(
            "the new {POLICY_FILE} has no [enterprise] section; installing it would end policy sync"
        )));
    }
    // An administrator's own policy.pub (a regular file) must be the key sync checks against,
    // or the installed policy would not load.
    let pub_path = system_dir.join("policy.pub");
    if let Ok(meta) = std::fs::symlink_metadata(&pub_path)
        && meta.is_file()
    {
        let text = std::fs::read_to_string(&pub_path)
            .map_err(|e| failed(&format!("cannot read {}", pub_path.display()), e))?;
        let norm = text
            .trim()
            .trim_start_matches("ed25519:")
            .to_ascii_lowercase();
        if norm != hex::encode(trusted.to_bytes()) {
            return Err(refused(format!(
                "{} holds another key than [enterprise] trusted_key {}",
                pub_path.display(),
                cfg.trusted_key
            )));
        }
    }

    // Stage the release.
    let name = format!("{}-{}", m.serial, short(&commit_hex));
    let stage = work.path.join(&name);
    for (rel, bytes) in files
        .iter()
        .chain([(&MANIFEST_FILE.to_string(), &manifest_bytes)])
    {
        write_new(&stage.join(rel), bytes)?;
    }
    let skills = check_skills(&stage, &cfg.trusted_key)?;
    write_new(
        &stage.join("policy.pub"),
        format!("{}\n", manifest::public_key_text(&trusted)).as_bytes(),
    )?;
    let installed = Installed {
        repo: cfg.policy_repo.clone(),
        reference: cfg.reference.clone(),
        commit: commit_hex,
        serial: m.serial,
        skills,
    };
    let state = serde_json::to_vec_pretty(&installed).map_err(|e| failed("encode", e))?;
    write_new(&stage.join(STATE_FILE), &state)?;
    let releases = system_dir.join(RELEASES_DIR);
    std::fs::create_dir_all(&releases)
        .map_err(|e| failed(&format!("cannot create {}", releases.display()), e))?;
    let dir = releases.join(&name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| failed(&format!("cannot replace {}", dir.display()), e))?;
    }
    std::fs::rename(&stage, &dir)
        .map_err(|e| failed(&format!("cannot move the release to {}", dir.display()), e))?;
    sync_dir(&releases).map_err(|e| failed(&format!("cannot sync {}", releases.display()), e))?;
    Ok(Staged::Release(Release { dir, installed }))
}

/// Every `skills/<name>/` must be a bundle signed (its own `jingu.sig`) by the enterprise key.
fn check_skills(stage: &Path, trusted_key: &str) -> Result<Vec<String>, SyncError> {
    let dir = stage.join(SKILLS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let key = jingu_skills::PublicKey::parse(trusted_key).map_err(|e| failed("trusted_key", e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| failed("skills", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() {
            return Err(refused(format!(
                "{SKILLS_DIR}/{name} is not a skill bundle directory"
            )));
        }
        jingu_skills::verify_bundle(&entry.path(), &[key])
            .map_err(|e| refused(format!("skill `{name}`: {e}")))?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Make the staged release the one in force: swap the `enterprise` link (the commit point), then
/// make sure the layer's files are links through it (a no-op after the first sync).
fn activate(system_dir: &Path, release: &Release) -> Result<(), SyncError> {
    let rel_target = Path::new(RELEASES_DIR).join(
        release
            .dir
            .file_name()
            .ok_or_else(|| failed("release", "no name"))?,
    );
    replace_with_link(system_dir, CURRENT_LINK, &rel_target)?;
    for name in LINKED {
        let target = Path::new(CURRENT_LINK).join(name);
        let path = system_dir.join(name);
        let already = std::fs::read_link(&path).is_ok_and(|t| t == target);
        if !already {
            replace_with_link(system_dir, name, &target)?;
        }
    }
    sync_dir(system_dir).map_err(|e| failed(&format!("cannot sync {}", system_dir.display()), e))
}

fn replace_with_link(dir: &Path, name: &str, target: &Path) -> Result<(), SyncError> {
    let tmp = dir.join(format!(".{name}.{}", super::new_run_id()));
    std::os::unix::fs::symlink(target, &tmp)
        .map_err(|e| failed(&format!("cannot create {}", tmp.display()), e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(&format!("cannot install {}", dir.join(name).display()), e)
    })
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(&format!("cannot create {}", parent.display()), e))?;
    }
    let mut f = std::fs::File::create_new(path)
        .map_err(|e| failed(&format!("cannot create {}", path.display()), e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| failed(&format!("cannot write {}", path.display()), e))
}

/// Every blob of `tree` by `/`-separated path. Symlinks and submodules are refused: a release is
/// plain files, so it cannot point outside itself.
fn read_tree(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
) -> Result<BTreeMap<String, Vec<u8>>, SyncError> {
    let mut out = BTreeMap::new();
    let mut bad: Option<String> = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or("");
        let path = format!("{dir}{name}");
        match entry.kind() {
            Some(git2::ObjectType::Tree) => git2::TreeWalkResult::Ok,
            Some(git2::ObjectType::Blob) if entry.filemode() != 0o120000 => {
                if name.is_empty() || path.contains(['\t', '\n', '\r']) || out.len() >= MAX_FILES {
                    bad = Some(format!("`{path}`: bad name or too many files"));
                    return git2::TreeWalkResult::Abort;
                }
                match repo.find_blob(entry.id()) {
                    Ok(b) if b.size() as u64 <= manifest::MAX_FILE_BYTES => {
                        out.insert(path, b.content().to_vec());
                        git2::TreeWalkResult::Ok
                    }
                    Ok(_) => {
                        bad = Some(format!("`{path}` is over the size limit"));
                        git2::TreeWalkResult::Abort
                    }
                    Err(e) => {
                        bad = Some(format!("`{path}`: {}", e.message()));
                        git2::TreeWalkResult::Abort
                    }
                }
            }
            _ => {
                bad = Some(format!(
                    "`{path}` is a symlink or submodule; a policy release holds only files"
                ));
                git2::TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| match &bad {
        Some(_) => refused(bad.clone().unwrap_or_default()),
        None => failed("cannot read the fetched tree", e.message()),
    })?;
    if let Some(b) = bad {
        return Err(refused(b));
    }
    Ok(out)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
