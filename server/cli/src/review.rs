//! `jingu review [--base REV] [--format text|json|sarif|rdjson]`: review the working-tree diff
//! against REV. The report goes to stdout (for CI to upload); progress to stderr. Exit status 1
//! when a finding of severity `error` remains, so a pipeline can gate on it.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use super::CmdResult;
use jingu_core::ops::{AutoApprove, Session};
use jingu_core::review::format::{Format, render};
use jingu_core::review::{ReviewOptions, Severity, review};
use jingu_providers::CancelToken;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base revision to diff the working tree against.
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Review only this file.
    #[arg(long)]
    pub path: Option<String>,
    /// Use this provider (it must be allowed by policy).
    #[arg(long)]
    pub provider: Option<String>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let session = Session::open(&cwd)?;
    let only = match &args.path {
        Some(p) => {
            let abs = cwd.join(p);
            let rel = abs
                .strip_prefix(&session.workspace.root)
                .with_context(|| format!("{p} is not inside the workspace"))?;
            Some(rel.to_string_lossy().into_owned())
        }
        None => None,
    };
    let opts = ReviewOptions {
        base: args.base.clone(),
        only,
        provider: args.provider.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let cancel = CancelToken::new();
    // Review never edits, so nothing is ever asked: AutoApprove only satisfies the Frontend bound.
    let outcome = runtime.block_on(review(&session, &AutoApprove, &opts, &cancel))?;
    let color = args.format == Format::Text && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    out.write_all(render(&outcome, args.format, color).as_bytes())
        .context("writing the report")?;
    out.flush().context("writing the report")?;
    if outcome
        .findings
        .iter()
        .any(|f| f.finding.severity == Severity::Error)
    {
        anyhow::bail!(
            "review found {} error(s)",
            outcome
                .findings
                .iter()
                .filter(|f| f.finding.severity == Severity::Error)
                .count()
        );
    }
    Ok(())
}
