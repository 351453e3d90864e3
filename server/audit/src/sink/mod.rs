//! Central audit sinks. A sink receives every record, in chain order, before the action it
//! describes runs (DESIGN §5 invariant 10); the local log is the spool for records a sink has not
//! acknowledged yet, so a sink that comes back is caught up in order from the log itself.

mod postgres;
mod schema;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use postgres::{SinkClient, SinkRow};
pub use schema::SCHEMA_SQL;

use super::config::SinkConfig;
use super::record::Record;

#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    #[error("audit sink {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("audit sink {url} refused the records: {reason}")]
    Refused { url: String, reason: String },
    #[error("audit sink {url} disagrees with the local log: {reason}")]
    Diverged { url: String, reason: String },
    #[error("audit sink {url} is misconfigured: {reason}")]
    Config { url: String, reason: String },
    /// Another writer advanced the chain first (unique or chain-order violation): re-read, retry.
    #[error("audit sink {url}: concurrent append ({reason})")]
    Conflict { url: String, reason: String },
}

impl SinkError {
    /// A uniqueness conflict: another process advanced the chain first; re-read and retry.
    fn is_conflict(&self) -> bool {
        matches!(self, SinkError::Conflict { .. })
    }
}

/// Which chain rows belong to, and the columns every row of it shares.
#[derive(Debug, Clone)]
pub struct ChainInfo {
    pub chain_id: String,
    pub workspace: String,
    pub host: String,
}

/// One configured sink with its connection and what it is known to hold, per chain.
pub struct Sink {
    pub config: SinkConfig,
    client: SinkClient,
    /// Last sequence number known to be in the sink, per chain (`None`: ask it).
    cursor: Mutex<HashMap<String, u64>>,
    /// Pipelined inserts (a run's end) not acknowledged yet: chain and answer.
    pending: Mutex<Vec<Pending>>,
}

type Pending = (String, std::sync::mpsc::Receiver<Result<(), SinkError>>);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sink({})", self.config.display_url())
    }
}

/// One sink (and its connection thread) per configuration, per process.
pub fn get(config: &SinkConfig) -> Result<Arc<Sink>, SinkError> {
    static SINKS: OnceLock<Mutex<HashMap<SinkConfig, Arc<Sink>>>> = OnceLock::new();
    let mut map = SINKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(s) = map.get(config) {
        return Ok(s.clone());
    }
    if config.kind != "postgres" {
        return Err(SinkError::Config {
            url: config.display_url(),
            reason: format!("unknown sink kind `{}` (known: postgres)", config.kind),
        });
    }
    let sink = Arc::new(Sink {
        config: config.clone(),
        client: SinkClient::start(config.clone())?,
        cursor: Mutex::new(HashMap::new()),
        pending: Mutex::new(Vec::new()),
    });
    map.insert(config.clone(), sink.clone());
    Ok(sink)
}

fn row(chain: &ChainInfo, organisation: &str, line: &str) -> Result<SinkRow, String> {
    let r: Record = serde_json::from_str(line).map_err(|e| format!("unreadable record: {e}"))?;
    Ok(SinkRow {
        chain_id: chain.chain_id.clone(),
        seq: r.seq as i64,
        time: r.time,
        organisation: organisation.to_string(),
        subject: r.subject,
        verified: r.verified,
        workspace: chain.workspace.clone(),
        host: chain.host.clone(),
        run_id: r.run_id,
        kind: r.kind.name().to_string(),
        prev: r.prev,
        hash: r.hash,
        line: line.to_string(),
    })
}

/// Reads lines `from..=to` (1-based) of the local log; called with the log's lock held.
pub type LocalLines<'a> = &'a mut dyn FnMut(u64, u64) -> Result<Vec<String>, String>;

impl Sink {
    fn url(&self) -> String {
        self.config.display_url()
    }

    /// Bring the sink up to local record `last`: `fresh` are the lines just appended (the tail
    /// ending at `last`); anything older the sink lacks is read back from the local log.
    /// `wait = false` (records that describe no action to come, like a run's end): the insert is
    /// queued on the connection and not waited for — later jobs on it run after it — and its
    /// answer is collected by the next delivery or [`Sink::settle`]. A failed pipelined insert
    /// only loses the cursor: the next delivery re-reads the sink's head and catches it up from
    /// the local log, as for any spooled record.
    pub fn deliver(
        &self,
        chain: &ChainInfo,
        last: u64,
        fresh: &[String],
        local: LocalLines<'_>,
        wait: bool,
    ) -> Result<u64, SinkError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.collect(false);
            match self.try_deliver(chain, last, fresh, &mut *local, wait) {
                Err(e) if e.is_conflict() && attempt < 3 => self.forget(chain),
                Err(e) => {
                    self.forget(chain);
                    return Err(e);
                }
                Ok(n) => return Ok(n),
            }
        }
    }

    fn forget(&self, chain: &ChainInfo) {
        self.forget_chain(&chain.chain_id);
    }

    fn forget_chain(&self, chain_id: &str) {
        self.cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(chain_id);
    }

    /// Collect the answers of pipelined inserts (`block`: wait for each, bounded by the query
    /// timeout). Returns the failures; each one's chain cursor is forgotten so the next delivery
    /// re-checks the sink. A conflict means another writer delivered the same records first.
    fn collect(&self, block: bool) -> Vec<SinkError> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut failed = Vec::new();
        let mut still = Vec::new();
        for (chain, rx) in pending.drain(..) {
            let answer = if block {
                rx.recv_timeout(postgres::QUERY_TIMEOUT * 2)
                    .map_err(|_| std::sync::mpsc::TryRecvError::Disconnected)
            } else {
                rx.try_recv()
            };
            match answer {
                Ok(Ok(())) => {}
                Err(std::sync::mpsc::TryRecvError::Empty) => still.push((chain, rx)),
                Ok(Err(e)) => {
                    self.forget_chain(&chain);
                    if !e.is_conflict() {
                        failed.push(e);
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.forget_chain(&chain);
                    failed.push(SinkError::Unreachable {
                        url: self.url(),
                        reason: "no answer to a queued insert".into(),
                    });
                }
            }
        }
        *pending = still;
        failed
    }

    /// Wait for every pipelined insert (at a log's last handle, before the process goes on to
    /// exit); the failures, for a warning — their records stay spooled in the local log.
    pub fn settle(&self) -> Vec<SinkError> {
        self.collect(true)
    }

    /// How many records the sink holds of this chain, checked against the local log.
    fn known(
        &self,
        chain: &ChainInfo,
        local_last: u64,
        local: LocalLines<'_>,
    ) -> Result<u64, SinkError> {
        if let Some(n) = self
            .cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&chain.chain_id)
        {
            return Ok(*n);
        }
        let diverged = |reason: String| SinkError::Diverged {
            url: self.url(),
            reason,
        };
        let Some((seq, hash)) = self.client.head(&chain.chain_id)? else {
            return Ok(0);
        };
        if seq > local_last {
            return Err(diverged(format!(
                "the sink holds {seq} records of this log but the local log has only {local_last} (local tail cut?); run `jingu audit verify --sink`"
            )));
        }
        let line = local(seq, seq).map_err(diverged)?;
        let ours = line
            .first()
            .and_then(|l| serde_json::from_str::<Record>(l).ok())
            .map(|r| r.hash);
        if ours.as_deref() != Some(hash.as_str()) {
            return Err(diverged(format!(
                "record {seq} differs between the sink and the local log; run `jingu audit verify --sink`"
            )));
        }
        Ok(seq)
    }

    fn try_deliver(
        &self,
        chain: &ChainInfo,
        last: u64,
        fresh: &[String],
        local: LocalLines<'_>,
        wait: bool,
    ) -> Result<u64, SinkError> {
        let have = self.known(chain, last.saturating_sub(fresh.len() as u64), &mut *local)?;
        if have >= last {
            if fresh.is_empty() {
                return Ok(0);
            }
            return Err(SinkError::Diverged {
                url: self.url(),
                reason: format!(
                    "the sink already holds record {last} of this log, which was only now written locally"
                ),
            });
        }
        let fresh_from = last + 1 - fresh.len() as u64;
        let mut lines: Vec<String> = Vec::new();
        if have + 1 < fresh_from {
            lines = local(have + 1, fresh_from - 1).map_err(|reason| SinkError::Refused {
                url: self.url(),
                reason: format!("cannot read spooled records from the local log: {reason}"),
            })?;
        }
        let skip = (have + 1).saturating_sub(fresh_from) as usize;
        lines.extend(fresh.iter().skip(skip).cloned());
        let rows = lines
            .iter()
            .map(|l| row(chain, &self.config.organisation, l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| SinkError::Refused {
                url: self.url(),
                reason,
            })?;
        let n = rows.len() as u64;
        if wait {
            self.client.insert(rows)?;
        } else {
            let rx = self.client.insert_pipelined(rows)?;
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((chain.chain_id.clone(), rx));
        }
        self.cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chain.chain_id.clone(), last);
        Ok(n)
    }

    /// The sink's copy of a chain, in sequence order.
    pub fn fetch(&self, chain_id: &str) -> Result<Vec<(u64, String)>, SinkError> {
        self.client.fetch(chain_id)
    }

    /// Apply the schema (needs a role that may create tables).
    pub fn init_schema(&self) -> Result<(), SinkError> {
        self.client.execute(SCHEMA_SQL)
    }
}
