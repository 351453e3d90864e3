//! `jingu snapshot push REMOTE`: copy the shadow repository's refs (`refs/jingu/head`,
//! `refs/jingu/runs/…`) to a git remote under `refs/jingu/<user>/<workspace>/…`. Pushes never
//! force: a remote ref that does not fast-forward is reported as rejected, never overwritten.

use std::cell::RefCell;

use super::{SnapshotError, Store};

/// One ref's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PushedRef {
    pub local: String,
    pub remote: String,
    /// `None`: accepted; otherwise the remote's reason.
    pub rejected: Option<String>,
}

/// A path component safe in a ref name: `[A-Za-z0-9._-]`, anything else becomes `-`.
pub fn ref_component(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = out.trim_matches('.').replace("..", "-");
    if out.is_empty() { "-".into() } else { out }
}

impl Store {
    /// Push every `refs/jingu/*` ref to `url` as `refs/jingu/<user>/<workspace>/<rest>`.
    pub fn push(
        &self,
        url: &str,
        user: &str,
        workspace: &str,
    ) -> Result<Vec<PushedRef>, SnapshotError> {
        let prefix = format!(
            "refs/jingu/{}/{}/",
            ref_component(user),
            ref_component(workspace)
        );
        let mut pairs = Vec::new();
        let refs = self
            .repo
            .references_glob("refs/jingu/*")
            .map_err(SnapshotError::git("listing refs/jingu/*"))?;
        for r in refs {
            let r = r.map_err(SnapshotError::git("reading a ref"))?;
            let Ok(name) = r.name() else { continue };
            if name.ends_with(".lock") {
                continue;
            }
            let rest = name.trim_start_matches("refs/jingu/");
            pairs.push((name.to_string(), format!("{prefix}{rest}")));
        }
        if pairs.is_empty() {
            return Err(SnapshotError::Empty);
        }
        let mut remote = self
            .repo
            .remote_anonymous(url)
            .map_err(SnapshotError::git(format!("remote `{url}`")))?;
        let rejected: RefCell<Vec<(String, String)>> = RefCell::new(Vec::new());
        let mut cb = git2::RemoteCallbacks::new();
        cb.push_update_reference(|refname, status| {
            if let Some(s) = status {
                rejected
                    .borrow_mut()
                    .push((refname.to_string(), s.to_string()));
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(cb);
        let specs: Vec<String> = pairs.iter().map(|(l, r)| format!("{l}:{r}")).collect();
        remote.push(&specs, Some(&mut opts)).map_err(|e| {
            let context = if e.code() == git2::ErrorCode::NotFastForward {
                format!(
                    "pushing to `{url}` rejected: a ref under {prefix} there does not fast-forward \
                     to the local snapshots (someone else moved it); nothing was overwritten"
                )
            } else {
                format!("pushing to `{url}`")
            };
            SnapshotError::Git { context, source: e }
        })?;
        drop(opts);
        let rejected = rejected.into_inner();
        Ok(pairs
            .into_iter()
            .map(|(local, remote)| PushedRef {
                rejected: rejected
                    .iter()
                    .find(|(r, _)| *r == remote)
                    .map(|(_, s)| s.clone()),
                local,
                remote,
            })
            .collect())
    }
}
