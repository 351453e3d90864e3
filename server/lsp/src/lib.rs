//! The LSP server (tower-lsp-server over stdio). Logs never go to stdout: it carries the protocol.

mod ask;
mod buffer_edits;
mod capabilities;
mod commands;
mod completion;
mod frontend;
mod prebuilt;
mod review;
mod run_events;
mod server;
mod symbols;
mod transport;

use std::path::Path;

use anyhow::Context;
use tower_lsp_server::{LspService, Server};

pub use server::Backend;

pub fn run_stdio(log_file: Option<&Path>) -> anyhow::Result<()> {
    init_logging(log_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let prebuilt = std::sync::Arc::new(prebuilt::Prebuilt::default());
        let for_backend = prebuilt.clone();
        let (service, socket) = LspService::build(move |client| Backend::new(client, for_backend))
            .custom_method(completion::METHOD, Backend::inline_completion)
            .finish();
        let (input, output) = transport::guard(tokio::io::stdin(), tokio::io::stdout(), prebuilt);
        Server::new(input, output, socket).serve(service).await;
    });
    // The stdin reader sits in a blocking read that never returns after `exit`; don't wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(())
}

fn init_logging(log_file: Option<&Path>) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JINGU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let result = match log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening log file {}", path.display()))?;
            builder.with_writer(std::sync::Mutex::new(file)).try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("initialising logging: {e}"))
}
