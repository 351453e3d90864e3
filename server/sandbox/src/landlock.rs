//! Landlock ruleset: read only allow-listed roots, write only the workspace and the private temp
//! dir, no TCP, no abstract Unix sockets or signals outside the sandbox.
//!
//! Landlock rights are inherited by everything beneath a rule and can't be subtracted, so a
//! read-only or hidden path inside a granted tree is carved out by granting the tree's other
//! entries one by one and only the intersection of rights on the ancestors themselves. The price:
//! under such an ancestor (e.g. the workspace root when `.git` is read-only) new entries cannot be
//! created, and a hidden path's names stay listable (its contents do not).

use super::SandboxError;
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The newest ABI whose semantics this module was written and tested against.
const ABI_TARGET: ABI = ABI::V6;

/// System trees every command may read and execute. Not `/proc` (only a private one, see
/// [`Plan::own_proc`]) and not `/sys`.
pub(crate) const SYSTEM_READ_ROOTS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
];

/// Credentials under `/etc` that stay unreadable although `/etc` is a read root.
pub(crate) const ETC_SECRETS: &[&str] = &[
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/ssl/private",
    "/etc/security/opasswd",
    "/etc/krb5.keytab",
    "/etc/NetworkManager/system-connections",
    "/etc/wpa_supplicant",
    "/etc/ppp/chap-secrets",
    "/etc/ppp/pap-secrets",
    "/etc/libvirt/secrets",
    "/etc/docker/key.json",
    "/etc/cups/ssl",
    "/etc/pki/private",
];
/// Device nodes a command may read and write.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// A path to grant and the rights to grant on it.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub path: PathBuf,
    pub access: BitFlags<AccessFs>,
}

/// What the ruleset is built from.
pub(crate) struct Plan<'a> {
    pub workspace: &'a Path,
    pub tmp: &'a Path,
    pub extra_read: &'a [PathBuf],
    pub readonly: &'a [PathBuf],
    pub hidden: &'a [PathBuf],
    /// The command has its own pid namespace and `/proc` mount, so `/proc` may be read.
    pub own_proc: bool,
}

pub(crate) fn read_rights() -> BitFlags<AccessFs> {
    AccessFs::from_read(ABI_TARGET)
}

fn all_rights() -> BitFlags<AccessFs> {
    AccessFs::from_all(ABI_TARGET)
}

/// Expands the plan into concrete per-path grants (pure apart from directory listings).
pub(crate) fn grants(plan: &Plan<'_>) -> Vec<Grant> {
    let mut exclusions: Vec<(PathBuf, BitFlags<AccessFs>)> = Vec::new();
    for p in plan.readonly {
        exclusions.push((p.clone(), read_rights()));
    }
    for p in plan
        .hidden
        .iter()
        .chain(&ETC_SECRETS.iter().map(PathBuf::from).collect::<Vec<_>>())
    {
        // Hidden: names may be listed (ancestors need ReadDir), contents never read.
        exclusions.push((p.clone(), BitFlags::from(AccessFs::ReadDir)));
    }
    let exclusions: Vec<_> = exclusions
        .into_iter()
        .filter_map(|(p, a)| std::fs::canonicalize(&p).ok().map(|c| (c, a)))
        .collect();

    let mut roots: Vec<(PathBuf, BitFlags<AccessFs>)> = SYSTEM_READ_ROOTS
        .iter()
        .map(PathBuf::from)
        .chain(plan.own_proc.then(|| PathBuf::from("/proc")))
        .chain(plan.extra_read.iter().cloned())
        .map(|p| (p, read_rights()))
        .collect();
    roots.push((plan.workspace.to_path_buf(), all_rights()));
    roots.push((plan.tmp.to_path_buf(), all_rights()));

    let mut out = Vec::new();
    for (root, access) in roots {
        let Ok(root) = std::fs::canonicalize(&root) else {
            continue; // e.g. /lib32 on a 64-bit-only system
        };
        expand(&root, access, &exclusions, &mut out);
    }
    for dev in DEVICES {
        if Path::new(dev).exists() {
            out.push(Grant {
                path: PathBuf::from(dev),
                access: AccessFs::from_file(ABI_TARGET) & !BitFlags::from(AccessFs::Execute),
            });
        }
    }
    out
}

fn expand(
    path: &Path,
    access: BitFlags<AccessFs>,
    exclusions: &[(PathBuf, BitFlags<AccessFs>)],
    out: &mut Vec<Grant>,
) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let mut here = access;
    for (ex, ex_access) in exclusions {
        if ex == path {
            here &= *ex_access;
        }
    }
    let beneath: Vec<_> = exclusions
        .iter()
        .filter(|(ex, _)| ex != path && ex.starts_with(path))
        .cloned()
        .collect();
    if beneath.is_empty() || !meta.is_dir() {
        push(path, here, meta.is_dir(), out);
        return;
    }
    let on_dir = beneath.iter().fold(here, |acc, (_, a)| acc & *a);
    push(path, on_dir, true, out);
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let child = entry.path();
        // Never grant through a symlink: its target may be anywhere (e.g. a link to ~/.ssh).
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        expand(&child, here, &beneath, out);
    }
}

fn push(path: &Path, access: BitFlags<AccessFs>, is_dir: bool, out: &mut Vec<Grant>) {
    let access = if is_dir {
        access
    } else {
        access & AccessFs::from_file(ABI_TARGET)
    };
    if !access.is_empty() {
        out.push(Grant {
            path: path.to_path_buf(),
            access,
        });
    }
}

/// Creates the ruleset in the parent; the child only calls `landlock_restrict_self` on the fd.
pub(crate) fn build_ruleset(grants: &[Grant]) -> Result<OwnedFd, SandboxError> {
    let err = |path: &Path, e: &dyn std::fmt::Display| SandboxError::Landlock {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let root = Path::new("/");
    let mut created: RulesetCreated = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI_TARGET))
        .and_then(|r| r.handle_access(AccessNet::from_all(ABI::V4)))
        .and_then(|r| {
            r.set_compatibility(CompatLevel::BestEffort)
                .scope(Scope::from_all(ABI_TARGET))
        })
        .and_then(|r| r.create())
        .map_err(|e| err(root, &e))?;
    for g in grants {
        let fd = PathFd::new(&g.path).map_err(|e| err(&g.path, &e))?;
        created = created
            .add_rule(PathBeneath::new(fd, g.access))
            .map_err(|e| err(&g.path, &e))?;
    }
    Option::<OwnedFd>::from(created).ok_or_else(|| SandboxError::Landlock {
        path: root.to_path_buf(),
        message: "kernel returned no ruleset".into(),
    })
}

/// True if `dir` is inside a root the sandbox can read (used to filter PATH).
pub(crate) fn readable(dir: &Path, grants: &[Grant]) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    grants
        .iter()
        .any(|g| g.access.contains(AccessFs::Execute) && dir.starts_with(&g.path))
}

/// True if new entries can be created directly in `dir` (false when a carve-out sits in it).
pub(crate) fn can_create_in(dir: &Path, grants: &[Grant]) -> bool {
    grants
        .iter()
        .any(|g| g.access.contains(AccessFs::MakeReg) && dir.starts_with(&g.path))
}
