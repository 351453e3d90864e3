//! The PostgreSQL sink over tokio-postgres (TLS through rustls). The connection lives on its own
//! thread with its own single-threaded runtime: callers block on a reply channel (inside
//! `block_in_place` when they are on the async runtime), so no database I/O runs on the
//! runtime's workers and a slow database cannot starve the editor's tasks.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

use super::SinkError;
use crate::config::SinkConfig;

/// How long an unreachable database may hold up an action before it counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub(super) const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One row of `jingu_audit`.
#[derive(Debug, Clone)]
pub struct SinkRow {
    pub chain_id: String,
    pub seq: i64,
    pub time: String,
    pub organisation: String,
    pub subject: String,
    pub verified: bool,
    pub workspace: String,
    pub host: String,
    pub run_id: String,
    pub kind: String,
    pub prev: String,
    pub hash: String,
    pub line: String,
}

type Reply<T> = SyncSender<Result<T, SinkError>>;

enum Job {
    Head(String, Reply<Option<(u64, String)>>),
    Insert(Vec<SinkRow>, Reply<()>),
    Fetch(String, Reply<Vec<(u64, String)>>),
    Execute(String, Reply<()>),
}

/// Handle to the connection thread.
pub struct SinkClient {
    tx: std::sync::Mutex<Sender<Job>>,
    url: String,
}

const INSERT: &str = "INSERT INTO jingu_audit (chain_id, seq, time, organisation, subject, verified, workspace, host, run_id, kind, prev, hash, line) \
SELECT c, s, t::timestamptz, o, sub, v, w, h, r, k, p, hs, l FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) \
AS x(c, s, t, o, sub, v, w, h, r, k, p, hs, l)";

impl SinkClient {
    pub fn start(config: SinkConfig) -> Result<Self, SinkError> {
        let url = config.display_url();
        let (tx, rx) = mpsc::channel();
        let cfg = config.clone();
        std::thread::Builder::new()
            .name("jingu-audit-sink".into())
            .spawn(move || worker(cfg, rx))
            .map_err(|e| SinkError::Config {
                url: url.clone(),
                reason: format!("cannot start the sink thread: {e}"),
            })?;
        Ok(Self {
            tx: std::sync::Mutex::new(tx),
            url,
        })
    }

    fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Job) -> Result<T, SinkError> {
        let (reply, wait) = mpsc::sync_channel(1);
        let gone = || SinkError::Unreachable {
            url: self.url.clone(),
            reason: "the sink thread stopped".into(),
        };
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(make(reply))
            .map_err(|_| gone())?;
        // Callers are already off the async runtime (`off_runtime`) or outside one.
        wait.recv().map_err(|_| gone())?
    }

    pub fn head(&self, chain_id: &str) -> Result<Option<(u64, String)>, SinkError> {
        self.call(|r| Job::Head(chain_id.to_string(), r))
    }

    pub fn insert(&self, rows: Vec<SinkRow>) -> Result<(), SinkError> {
        self.call(|r| Job::Insert(rows, r))
    }

    /// Queue an insert without waiting for it: the connection thread runs jobs in order, so
    /// everything sent later still lands after it. The answer arrives on the returned channel.
    pub fn insert_pipelined(
        &self,
        rows: Vec<SinkRow>,
    ) -> Result<Receiver<Result<(), SinkError>>, SinkError> {
        let (reply, wait) = mpsc::sync_channel(1);
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Job::Insert(rows, reply))
            .map_err(|_| SinkError::Unreachable {
                url: self.url.clone(),
                reason: "the sink thread stopped".into(),
            })?;
        Ok(wait)
    }

    pub fn fetch(&self, chain_id: &str) -> Result<Vec<(u64, String)>, SinkError> {
        self.call(|r| Job::Fetch(chain_id.to_string(), r))
    }

    pub fn execute(&self, sql: &str) -> Result<(), SinkError> {
        self.call(|r| Job::Execute(sql.to_string(), r))
    }
}

fn worker(config: SinkConfig, rx: Receiver<Job>) {
    let url = config.display_url();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let reason = format!("cannot start the sink runtime: {e}");
            for job in rx {
                fail(
                    job,
                    SinkError::Config {
                        url: url.clone(),
                        reason: reason.clone(),
                    },
                );
            }
            return;
        }
    };
    let mut client: Option<Client> = None;
    // Prepared once per connection: an unprepared statement costs a second round trip.
    let mut insert: Option<tokio_postgres::Statement> = None;
    for job in rx {
        rt.block_on(async {
            if client.as_ref().is_none_or(Client::is_closed) {
                client = None;
                insert = None;
                match connect(&config).await {
                    Ok(c) => client = Some(c),
                    Err(e) => return fail(job, e),
                }
            }
            let Some(c) = client.as_ref() else { return };
            if insert.is_none() && matches!(job, Job::Insert(..)) {
                match tokio::time::timeout(QUERY_TIMEOUT, c.prepare(INSERT)).await {
                    Ok(Ok(st)) => insert = Some(st),
                    Ok(Err(e)) => return fail(job, classify(&url, e)),
                    Err(_) => {
                        client = None;
                        return fail(
                            job,
                            SinkError::Unreachable {
                                url: url.clone(),
                                reason: "preparing the insert timed out".into(),
                            },
                        );
                    }
                }
            }
            let broken = run(c, insert.as_ref(), job, &url).await;
            if broken {
                client = None;
                insert = None;
            }
        });
    }
}

fn fail(job: Job, e: SinkError) {
    match job {
        Job::Head(_, r) => drop(r.send(Err(e))),
        Job::Insert(_, r) | Job::Execute(_, r) => drop(r.send(Err(e))),
        Job::Fetch(_, r) => drop(r.send(Err(e))),
    }
}

fn classify(url: &str, e: tokio_postgres::Error) -> SinkError {
    let reason = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    match e.code() {
        Some(c) if *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION => SinkError::Conflict {
            url: url.to_string(),
            reason,
        },
        Some(_) => SinkError::Refused {
            url: url.to_string(),
            reason,
        },
        None => SinkError::Unreachable {
            url: url.to_string(),
            reason,
        },
    }
}

/// Run one job; true when the connection should be dropped (it failed or timed out).
async fn run(c: &Client, insert: Option<&tokio_postgres::Statement>, job: Job, url: &str) -> bool {
    let timeout = |reason: &str| SinkError::Unreachable {
        url: url.to_string(),
        reason: format!("{reason} timed out after {}s", QUERY_TIMEOUT.as_secs()),
    };
    macro_rules! answer {
        ($reply:expr, $fut:expr, $what:expr) => {{
            let out = match tokio::time::timeout(QUERY_TIMEOUT, $fut).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(classify(url, e)),
                Err(_) => Err(timeout($what)),
            };
            let broken = matches!(out, Err(SinkError::Unreachable { .. }));
            let _ = $reply.send(out);
            broken
        }};
    }
    match job {
        Job::Head(chain, reply) => answer!(
            reply,
            async {
                let rows = c
                    .query("SELECT seq, hash FROM jingu_audit_head($1)", &[&chain])
                    .await?;
                Ok::<_, tokio_postgres::Error>(
                    rows.first()
                        .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1))),
                )
            },
            "reading the chain head"
        ),
        Job::Fetch(chain, reply) => answer!(
            reply,
            async {
                let rows = c
                    .query("SELECT seq, line FROM jingu_audit_chain($1)", &[&chain])
                    .await?;
                Ok::<_, tokio_postgres::Error>(
                    rows.iter()
                        .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)))
                        .collect(),
                )
            },
            "reading the chain"
        ),
        Job::Execute(sql, reply) => answer!(reply, c.batch_execute(&sql), "the migration"),
        Job::Insert(rows, reply) => {
            let Some(insert) = insert else {
                let _ = reply.send(Err(SinkError::Refused {
                    url: url.to_string(),
                    reason: "the insert statement is not prepared".into(),
                }));
                return false;
            };
            let col = |f: fn(&SinkRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
            let chain = col(|r| r.chain_id.clone());
            let seq: Vec<i64> = rows.iter().map(|r| r.seq).collect();
            let time = col(|r| r.time.clone());
            let org = col(|r| r.organisation.clone());
            let subject = col(|r| r.subject.clone());
            let verified: Vec<bool> = rows.iter().map(|r| r.verified).collect();
            let ws = col(|r| r.workspace.clone());
            let host = col(|r| r.host.clone());
            let run_id = col(|r| r.run_id.clone());
            let kind = col(|r| r.kind.clone());
            let prev = col(|r| r.prev.clone());
            let hash = col(|r| r.hash.clone());
            let line = col(|r| r.line.clone());
            answer!(
                reply,
                async {
                    c.execute(
                        insert,
                        &[
                            &chain, &seq, &time, &org, &subject, &verified, &ws, &host, &run_id,
                            &kind, &prev, &hash, &line,
                        ],
                    )
                    .await
                    .map(|_| ())
                },
                "inserting records"
            )
        }
    }
}

fn password(config: &SinkConfig) -> Result<Option<String>, String> {
    if let Some(var) = &config.password_env {
        return std::env::var(var)
            .map(Some)
            .map_err(|_| format!("password_env names ${var}, which is not set"));
    }
    if let Some(file) = &config.password_file {
        return std::fs::read_to_string(file)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
            .map_err(|e| format!("password_file {}: {e}", file.display()));
    }
    Ok(None)
}

fn tls(config: &SinkConfig) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match &config.ca_file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?
            {
                let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(cfg))
}

async fn connect(config: &SinkConfig) -> Result<Client, SinkError> {
    let url = config.display_url();
    let bad = |reason: String| SinkError::Config {
        url: url.clone(),
        reason,
    };
    let mut pg: Config = config
        .url
        .parse()
        .map_err(|e| bad(format!("not a PostgreSQL URL: {e}")))?;
    if let Some(p) = password(config).map_err(bad)? {
        pg.password(p);
    }
    pg.connect_timeout(CONNECT_TIMEOUT);
    pg.application_name("jingu");
    let down = |reason: String| SinkError::Unreachable {
        url: url.clone(),
        reason,
    };
    let plain = pg.get_ssl_mode() == tokio_postgres::config::SslMode::Disable;
    let connector = if plain {
        None
    } else {
        Some(tls(config).map_err(bad)?)
    };
    let attempt = async {
        let client = match connector {
            None => {
                let (client, conn) = pg.connect(NoTls).await?;
                tokio::spawn(conn);
                client
            }
            Some(tls) => {
                let (client, conn) = pg.connect(tls).await?;
                tokio::spawn(conn);
                client
            }
        };
        Ok::<_, tokio_postgres::Error>(client)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT * 2, attempt).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(match e.as_db_error() {
            Some(db) => SinkError::Refused {
                url: url.clone(),
                reason: db.message().to_string(),
            },
            None => down(e.to_string()),
        }),
        Err(_) => Err(down(format!(
            "no answer within {}s",
            (CONNECT_TIMEOUT * 2).as_secs()
        ))),
    }
}
