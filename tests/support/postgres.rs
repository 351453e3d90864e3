//! A real PostgreSQL server for tests: `initdb` into a temp dir and `pg_ctl start` on a free
//! port on 127.0.0.1 (as user `postgres` when the tests run as root), stopped on drop — also when
//! the test panics. Missing binaries fail the test: `scripts/setup.sh` installs `postgresql`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) const OWNER_PASSWORD: &str = "owner-secret-1";

pub(crate) struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
    running: bool,
}

fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("JINGU_PG_BIN") {
        return PathBuf::from(d);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (or $JINGU_PG_BIN): \
             `apt-get install postgresql` (scripts/setup.sh installs it)"
        )
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn check(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Postgres {
    /// A fresh cluster with superuser `postgres` (password [`OWNER_PASSWORD`] over TCP, which
    /// requires scram-sha-256) and a database `audit`. `durable`: keep fsync on (benchmarks).
    pub(crate) fn start(durable: bool) -> Self {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("jingu-pg-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let pw = dir.path().join("pw");
        std::fs::write(&pw, OWNER_PASSWORD).expect("pwfile");
        if as_postgres {
            check(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path())
                    .output()
                    .expect("chown"),
            );
        }
        let mut pg = Self {
            dir,
            bin,
            port: free_port(),
            as_postgres,
            running: false,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().expect("utf-8"),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pw.display()),
                "--no-sync",
            ],
        );
        let mut conf = String::from("listen_addresses = '127.0.0.1'\n");
        if !durable {
            conf.push_str("fsync = off\nsynchronous_commit = off\n");
        }
        let conf_path = data.join("postgresql.auto.conf");
        let mut existing = std::fs::read_to_string(&conf_path).unwrap_or_default();
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).expect("conf");
        pg.start_server();
        pg.psql("postgres", "CREATE DATABASE audit");
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        check(
            tool,
            self.command(tool)
                .args(args)
                .output()
                .expect("run a PostgreSQL tool"),
        )
    }

    /// Start (again) on the same port and data directory.
    pub(crate) fn start_server(&mut self) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let opts = format!("-p {} -k {}", self.port, self.dir.path().display());
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().expect("utf-8"),
                "-l",
                log.to_str().expect("utf-8"),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
        self.running = true;
    }

    pub(crate) fn stop_server(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self
                .command("pg_ctl")
                .args([
                    "-D",
                    data.to_str().unwrap_or_default(),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ])
                .output();
            self.running = false;
        }
    }

    /// `postgres://USER@127.0.0.1:PORT/audit` without TLS (loopback) and without the password.
    pub(crate) fn url(&self, user: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:{}/audit?sslmode=disable",
            self.port
        )
    }

    /// Run SQL as the superuser over the Unix socket; panics on error.
    pub(crate) fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_as("postgres", None, db, sql);
        String::from_utf8_lossy(&check("psql", out).stdout).into_owned()
    }

    /// Run SQL as `user` over TCP with `password` (or the socket when `None`); the raw output.
    pub(crate) fn psql_as(
        &self,
        user: &str,
        password: Option<&str>,
        db: &str,
        sql: &str,
    ) -> Output {
        let mut c = Command::new(self.bin.join("psql"));
        match password {
            Some(p) => {
                c.args(["-h", "127.0.0.1"]).env("PGPASSWORD", p);
            }
            None => {
                c.arg("-h").arg(self.dir.path());
            }
        }
        c.args(["-p", &self.port.to_string(), "-U", user, "-d", db])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("run psql")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop_server();
    }
}
