//! The snapshot journal: what makes an edit's snapshot survive a power loss with ONE sync.
//!
//! git objects and refs are written by libgit2 to temp files renamed into place, atomic against a
//! killed process but not fsynced (one fsync per object would cost more than the whole edit). A
//! process that dies loses nothing — the page cache keeps its writes — so only a machine that goes
//! down can lose them. Before an edit's file is replaced, [`Store::make_durable`] appends the raw
//! objects of its snapshots (commits, the trees on the changed paths, the blobs) and the refs to
//! `snapshots.journal` in one write and one `fdatasync`. The journal starts with the kernel's boot
//! id: a store opened under another boot id (the machine went down, cleanly or not, since those
//! appends) re-writes every journaled object that is missing or unreadable, moves the refs forward
//! to the journaled commits, `syncfs`es the state directory and starts a fresh journal. A journal
//! grown past [`MAX_JOURNAL`] is retired the same way (one `syncfs`, amortised over its edits).
//!
//! Format: `JGJ1` + 36-byte boot id, then frames: u32 body length, body, 32-byte SHA-256 of the
//! body. Body: u32 object count, per object u8 kind (1 blob, 2 tree, 3 commit), 20-byte oid, u32
//! length, bytes; then u32 ref count, per ref u16 name length, name, 20-byte oid. A torn last
//! frame (its checksum fails) is the edit whose file was never replaced: it is ignored.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};

use super::model::SnapshotId;
use super::store::{HEAD_REF, run_ref_name};
use super::{SnapshotError, Store};

const MAGIC: &[u8; 4] = b"JGJ1";
const HEADER: usize = 4 + 36;
/// Past this size the journal is retired by one `syncfs` of the state directory.
pub(crate) const MAX_JOURNAL: u64 = 8 * 1024 * 1024;

fn boot_id() -> [u8; 36] {
    let mut id = [b'0'; 36];
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
        let s = s.trim().as_bytes();
        let n = s.len().min(36);
        id[..n].copy_from_slice(&s[..n]);
    }
    id
}

/// Whether the journal was written under another boot (read without the store lock; the locked
/// recovery reads it again).
pub(crate) fn needs_recovery(state_dir: &Path) -> bool {
    let mut header = [0u8; HEADER];
    match File::open(path(state_dir)).and_then(|mut f| f.read_exact(&mut header)) {
        Ok(()) => !(&header[..4] == MAGIC && header[4..] == boot_id()),
        Err(_) => false,
    }
}

pub(crate) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("snapshots.journal")
}

fn io(context: &'static str, p: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError {
    SnapshotError::io(context, p.display())
}

fn kind_byte(k: ObjectType) -> Option<u8> {
    match k {
        ObjectType::Blob => Some(1),
        ObjectType::Tree => Some(2),
        ObjectType::Commit => Some(3),
        _ => None,
    }
}

fn byte_kind(b: u8) -> Option<ObjectType> {
    match b {
        1 => Some(ObjectType::Blob),
        2 => Some(ObjectType::Tree),
        3 => Some(ObjectType::Commit),
        _ => None,
    }
}

impl Store {
    /// Make `snapshots` (just recorded, touching `paths`, in run `run`) survive a power loss: one
    /// append and one `fdatasync` of the journal. Call before the change they describe reaches
    /// the disk.
    pub fn make_durable(
        &self,
        snapshots: &[SnapshotId],
        paths: &[&str],
        run: Option<&str>,
    ) -> Result<(), SnapshotError> {
        let _guard = self.lock()?;
        let odb = self
            .repo
            .odb()
            .map_err(SnapshotError::git("opening object database"))?;
        let mut oids: Vec<Oid> = Vec::new();
        for id in snapshots {
            let commit = self
                .repo
                .find_commit(id.0)
                .map_err(SnapshotError::git("reading snapshot commit"))?;
            oids.push(commit.id());
            let root = commit
                .tree()
                .map_err(SnapshotError::git("reading snapshot tree"))?;
            oids.push(root.id());
            for p in paths {
                let mut tree = root.clone();
                let parts: Vec<&str> = p.split('/').collect();
                for (i, part) in parts.iter().enumerate() {
                    let Some((id, is_tree)) = tree
                        .get_name(part)
                        .map(|e| (e.id(), e.kind() == Some(ObjectType::Tree)))
                    else {
                        break;
                    };
                    oids.push(id);
                    if i + 1 == parts.len() || !is_tree {
                        break;
                    }
                    match self.repo.find_tree(id) {
                        Ok(t) => tree = t,
                        Err(_) => break,
                    }
                }
            }
        }
        oids.sort();
        oids.dedup();
        let mut body = Vec::new();
        body.extend_from_slice(&(oids.len() as u32).to_le_bytes());
        for oid in &oids {
            let obj = odb
                .read(*oid)
                .map_err(SnapshotError::git("reading object to journal"))?;
            let Some(k) = kind_byte(obj.kind()) else {
                continue;
            };
            body.push(k);
            body.extend_from_slice(oid.as_bytes());
            body.extend_from_slice(&(obj.data().len() as u32).to_le_bytes());
            body.extend_from_slice(obj.data());
        }
        let mut refs: Vec<(String, Oid)> = Vec::new();
        if let Some(head) = self.head_commit()? {
            refs.push((HEAD_REF.to_string(), head.id()));
        }
        if let Some(run) = run
            && let Ok(name) = run_ref_name(run)
            && let Ok(r) = self.repo.find_reference(&name)
            && let Some(target) = r.target()
        {
            refs.push((name, target));
        }
        body.extend_from_slice(&(refs.len() as u32).to_le_bytes());
        for (name, oid) in &refs {
            body.extend_from_slice(&(name.len() as u16).to_le_bytes());
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(oid.as_bytes());
        }

        let jpath = path(&self.ws.state_dir);
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&jpath)
            .map_err(io("cannot open snapshot journal", &jpath))?;
        let len = f
            .metadata()
            .map_err(io("cannot stat snapshot journal", &jpath))?
            .len();
        let mut frame = Vec::with_capacity(HEADER + 4 + body.len() + 32);
        if len == 0 {
            frame.extend_from_slice(MAGIC);
            frame.extend_from_slice(&boot_id());
        }
        frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
        frame.extend_from_slice(&body);
        frame.extend_from_slice(&jingu_fs::atomic::sha256(&body));
        let written = f.write_all(&frame).and_then(|()| f.sync_data());
        if let Err(e) = written {
            // Cut a partial frame back off; a torn frame is ignored by recovery anyway.
            let _ = f.set_len(len);
            return Err(io("cannot append to snapshot journal", &jpath)(e));
        }
        if len == 0 {
            // A new journal's directory entry must survive too (once per journal, not per edit).
            File::open(&self.ws.state_dir)
                .and_then(|d| d.sync_all())
                .map_err(io("cannot sync state directory", &self.ws.state_dir))?;
        }
        if len + frame.len() as u64 > MAX_JOURNAL {
            self.retire_journal(&f, &jpath)?;
        }
        Ok(())
    }

    /// Everything the journal holds is on disk by other means now: start a fresh one.
    fn retire_journal(&self, f: &File, jpath: &Path) -> Result<(), SnapshotError> {
        let dir = File::open(&self.ws.state_dir)
            .map_err(io("cannot open state directory", &self.ws.state_dir))?;
        nix::unistd::syncfs(&dir).map_err(|e| SnapshotError::Io {
            context: "cannot sync the snapshot store",
            path: self.ws.state_dir.display().to_string(),
            source: std::io::Error::from(e),
        })?;
        f.set_len(0)
            .and_then(|()| f.sync_all())
            .map_err(io("cannot reset snapshot journal", jpath))
    }

    /// At open: after a reboot, restore what the journal holds and the page cache may have lost.
    /// Caller holds the store lock.
    pub(crate) fn recover_journal(&self) -> Result<usize, SnapshotError> {
        let jpath = path(&self.ws.state_dir);
        let mut f = match OpenOptions::new().read(true).write(true).open(&jpath) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io("cannot open snapshot journal", &jpath)(e)),
        };
        let mut header = [0u8; HEADER];
        match f.read_exact(&mut header) {
            Ok(()) => {}
            // Empty (retired) or cut inside its header: nothing was journaled.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(io("cannot read snapshot journal", &jpath)(e)),
        }
        if &header[..4] == MAGIC && header[4..] == boot_id() {
            return Ok(0); // same boot: the page cache still holds every write
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(io("cannot read snapshot journal", &jpath))?;
        let restored = if &header[..4] == MAGIC {
            self.replay(&bytes)?
        } else {
            tracing::warn!(path = %jpath.display(), "snapshot journal has a bad header; discarded");
            0
        };
        self.retire_journal(&f, &jpath)?;
        Ok(restored)
    }

    fn replay(&self, mut bytes: &[u8]) -> Result<usize, SnapshotError> {
        let odb = self
            .repo
            .odb()
            .map_err(SnapshotError::git("opening object database"))?;
        let mut restored = 0;
        let mut heads: Vec<(String, Oid)> = Vec::new();
        while bytes.len() >= 4 {
            let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            if bytes.len() < 4 + len + 32 {
                break; // torn: that edit never replaced its file
            }
            let body = &bytes[4..4 + len];
            if jingu_fs::atomic::sha256(body)[..] != bytes[4 + len..4 + len + 32] {
                break;
            }
            bytes = &bytes[4 + len + 32..];
            let Some((objects, refs)) = parse_body(body) else {
                break;
            };
            for (kind, oid, data) in objects {
                // Present and readable: the disk kept it. Missing or damaged: write it again.
                if odb.read(oid).is_ok() {
                    continue;
                }
                let dir = self.dir.join("objects").join(&oid.to_string()[..2]);
                let loose = dir.join(&oid.to_string()[2..]);
                let _ = std::fs::remove_file(&loose);
                let written = odb
                    .write(kind, data)
                    .map_err(SnapshotError::git("restoring journaled object"))?;
                if written != oid {
                    return Err(SnapshotError::CorruptCache {
                        path: path(&self.ws.state_dir).display().to_string(),
                        reason: format!("journaled object {oid} hashes to {written}"),
                    });
                }
                restored += 1;
            }
            heads.extend(refs);
        }
        // Refs move forward only: to a journaled commit the current ref is an ancestor of (or
        // when the ref is missing or names a commit that is gone).
        for (name, oid) in heads {
            let current = self
                .repo
                .find_reference(&name)
                .ok()
                .and_then(|r| r.target())
                .filter(|c| self.repo.find_commit(*c).is_ok());
            let forward = match current {
                None => true,
                Some(c) => c != oid && self.repo.graph_descendant_of(oid, c).unwrap_or(false),
            };
            if forward {
                self.repo
                    .reference(&name, oid, true, "jingu journal recovery")
                    .map_err(SnapshotError::git(format!("restoring {name}")))?;
                restored += 1;
            }
        }
        if restored > 0 {
            tracing::warn!(
                restored,
                "restored snapshot objects and refs lost in a reboot"
            );
        }
        Ok(restored)
    }
}

type Parsed<'a> = (Vec<(ObjectType, Oid, &'a [u8])>, Vec<(String, Oid)>);

fn parse_body(body: &[u8]) -> Option<Parsed<'_>> {
    let mut r = jingu_fs::binfmt::Reader::new(body);
    let n = r.u32().ok()?;
    let mut objects = Vec::new();
    for _ in 0..n {
        let kind = byte_kind(r.u8().ok()?)?;
        let oid = Oid::from_bytes(r.take(20).ok()?).ok()?;
        let len = r.u32().ok()? as usize;
        objects.push((kind, oid, r.take(len).ok()?));
    }
    let n = r.u32().ok()?;
    let mut refs = Vec::new();
    for _ in 0..n {
        let name = r.str16().ok()?.to_string();
        let oid = Oid::from_bytes(r.take(20).ok()?).ok()?;
        refs.push((name, oid));
    }
    Some((objects, refs))
}

#[cfg(test)]
pub(crate) fn pretend_reboot(state_dir: &Path) {
    use std::io::{Seek, SeekFrom};
    let mut f = OpenOptions::new()
        .write(true)
        .open(path(state_dir))
        .expect("journal");
    f.seek(SeekFrom::Start(4)).expect("seek");
    f.write_all(&[b'f'; 36]).expect("other boot id");
}
