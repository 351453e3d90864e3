//! `[snapshots]`: how the snapshot store finds changes. Not security keys — a watcher only decides
//! how a scan finds what changed, never what is recorded — so later layers override earlier ones,
//! like `[completion]`.

use serde::{Deserialize, Serialize};

use super::layer::{Layer, RawLayer};

/// `[snapshots]` as written in one layer; unknown keys are errors naming the valid ones.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshots {
    pub watch: Option<bool>,
}

/// The effective snapshot settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotSettings {
    /// Long-running front ends (`jingu lsp`, `jingu acp`) keep an inotify watcher on the
    /// workspace, so an unchanged scan re-checks only what changed instead of walking the tree.
    pub watch: bool,
    /// The layer that set `watch` (`default` when none did).
    pub watch_layer: Layer,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self {
            watch: false,
            watch_layer: Layer::Default,
        }
    }
}

pub(crate) fn merge(layers: &[(Layer, &RawLayer)]) -> SnapshotSettings {
    let mut s = SnapshotSettings::default();
    for (layer, raw) in layers {
        if let Some(v) = raw.snapshots.watch {
            s.watch = v;
            s.watch_layer = *layer;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::{Layer, Policy};

    #[test]
    fn watch_is_off_by_default_and_later_layers_win() {
        let p = Policy::from_texts(None, None, None).expect("policy");
        assert!(!p.snapshots.watch);
        let p =
            Policy::from_texts(None, Some("[snapshots]\nwatch = true\n"), None).expect("policy");
        assert!(p.snapshots.watch);
        assert_eq!(p.snapshots.watch_layer, Layer::User);
        let p = Policy::from_texts(
            None,
            Some("[snapshots]\nwatch = true\n"),
            Some("[snapshots]\nwatch = false\n"),
        )
        .expect("policy");
        assert!(!p.snapshots.watch);
        assert_eq!(p.snapshots.watch_layer, Layer::Workspace);
    }

    #[test]
    fn a_typo_in_snapshots_is_an_error_naming_the_valid_key() {
        let err = Policy::from_texts(None, Some("[snapshots]\nwatched = true\n"), None)
            .expect_err("typo");
        let msg = err.to_string();
        assert!(msg.contains("watched") && msg.contains("watch"), "{msg}");
        let err = Policy::from_texts(None, Some("[snapshot]\nwatch = true\n"), None)
            .expect_err("section typo");
        assert!(err.to_string().contains("snapshots"), "{err}");
    }
}
