//! `jingu symbols PATH [--json]`.

use std::path::PathBuf;

use anyhow::Context;

use super::{CmdResult, emit, print_json};
use jingu_syntax::{self as syntax, Language};

#[derive(Debug, clap::Args)]
pub struct Args {
    pub path: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let language = Language::from_path(&args.path).with_context(|| {
        format!(
            "{}: unsupported language (supported: {})",
            args.path.display(),
            syntax::ALL_LANGUAGES.map(Language::name).join(", ")
        )
    })?;
    let text = jingu_index::read_source(&args.path)?;
    let file = syntax::file_symbols(language, &text);
    if args.json {
        let records: Vec<_> = file.symbols.iter().map(|s| s.record(language)).collect();
        return print_json(&records);
    }
    for s in &file.symbols {
        emit(&format!(
            "{:>5}-{:<5} {:<11} {}",
            s.start_line,
            s.end_line,
            s.kind.as_str(),
            s.name_path
        ))?;
    }
    Ok(())
}
