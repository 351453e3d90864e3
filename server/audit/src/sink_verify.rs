//! `jingu audit verify --sink`: the local chain against the sink's copy, record by record. The
//! sink refuses changes and out-of-chain inserts, so any difference is a local rewrite (or records
//! the sink never received), and the first one is named.

use serde::Serialize;

use super::record::Record;
use super::sink::{Sink, SinkError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DivergenceKind {
    /// The sink has records the local log lacks at the end (local tail cut, or log replaced).
    TruncatedTail,
    /// A sink record is absent locally, with later ones present (removed).
    Missing,
    /// A local record the sink never received (forged, or spooled and not yet flushed).
    Extra,
    /// Same position, different content.
    Altered,
    /// The record exists on both sides at different positions.
    Reordered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    pub kind: DivergenceKind,
    /// First sequence number (position) where the two differ.
    pub seq: u64,
    pub detail: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}: {}", self.seq, self.detail)
    }
}

fn hash_of(line: &str) -> Option<String> {
    serde_json::from_str::<Record>(line).ok().map(|r| r.hash)
}

/// Compare the local lines (in file order) with the sink's copy of `chain_id`. `None`: identical.
pub fn compare_with_sink(
    local_lines: &[String],
    sink: &Sink,
    chain_id: &str,
) -> Result<Option<Divergence>, SinkError> {
    let remote = sink.fetch(chain_id)?;
    Ok(compare(local_lines, &remote))
}

pub(super) fn compare(local: &[String], remote: &[(u64, String)]) -> Option<Divergence> {
    let remote_hashes: Vec<Option<String>> = remote.iter().map(|(_, l)| hash_of(l)).collect();
    let local_hashes: Vec<Option<String>> = local.iter().map(|l| hash_of(l)).collect();
    let n = local.len().max(remote.len());
    for i in 0..n {
        let seq = i as u64 + 1;
        match (local.get(i), remote.get(i)) {
            (Some(l), Some((_, r))) if l == r => continue,
            (Some(_), Some((_, r))) => {
                let rh = &remote_hashes[i];
                let lh = &local_hashes[i];
                // Where does the sink's record i sit locally, and local record i in the sink?
                let sink_rec_local = local_hashes.iter().position(|h| h.is_some() && h == rh);
                let local_rec_sink = remote_hashes.iter().position(|h| h.is_some() && h == lh);
                let (kind, detail) = match (sink_rec_local, local_rec_sink) {
                    (Some(j), Some(_)) => (
                        DivergenceKind::Reordered,
                        format!(
                            "the sink's record {seq} is at local position {} (records moved)",
                            j + 1
                        ),
                    ),
                    (Some(j), None) => (
                        DivergenceKind::Extra,
                        format!(
                            "local record at position {seq} is not in the sink (inserted; the sink's record {seq} is at local position {})",
                            j + 1
                        ),
                    ),
                    (None, Some(_)) => (
                        DivergenceKind::Missing,
                        format!("the sink's record {seq} is missing locally (removed)"),
                    ),
                    (None, None) => {
                        let what = serde_json::from_str::<Record>(r)
                            .map(|r| r.kind.name().to_string())
                            .unwrap_or_else(|_| "record".into());
                        (
                            DivergenceKind::Altered,
                            format!(
                                "the local {what} record differs from the sink's copy (altered)"
                            ),
                        )
                    }
                };
                return Some(Divergence { kind, seq, detail });
            }
            (None, Some(_)) => {
                return Some(Divergence {
                    kind: DivergenceKind::TruncatedTail,
                    seq,
                    detail: format!(
                        "the local log ends at record {} but the sink holds {} (local tail cut or log replaced)",
                        local.len(),
                        remote.len()
                    ),
                });
            }
            (Some(_), None) => {
                return Some(Divergence {
                    kind: DivergenceKind::Extra,
                    seq,
                    detail: format!(
                        "local records {seq}..{} are not in the sink (forged, or spooled while it was unreachable: `jingu audit flush` sends genuine ones)",
                        local.len()
                    ),
                });
            }
            (None, None) => break,
        }
    }
    None
}
