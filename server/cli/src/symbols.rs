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

/// One `--json` record: the contract's fields plus where the symbol sits exactly (symbols that
/// share a line are told apart by columns and byte offsets) and its version (what `jingu edit
/// --expect` takes to refuse an edit of it after it changed).
#[derive(serde::Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    base: syntax::SymbolRecord<'a>,
    /// 1-based byte column of the first byte, and of the byte just past the last.
    start_col: usize,
    end_col: usize,
    /// 0-based byte offsets, end exclusive.
    start_byte: usize,
    end_byte: usize,
    version: String,
}

fn column(text: &str, byte: usize) -> usize {
    byte - text[..byte].rfind('\n').map_or(0, |i| i + 1) + 1
}

pub(crate) fn run(args: Args) -> CmdResult {
    let by_name = Language::from_path(&args.path).with_context(|| {
        format!(
            "{}: unsupported language (supported: {})",
            args.path.display(),
            syntax::ALL_LANGUAGES.map(Language::name).join(", ")
        )
    })?;
    let text = jingu_index::read_source(&args.path)?;
    // A `.h` holding C++ is parsed as C++.
    let language = Language::detect(&args.path, &text).unwrap_or(by_name);
    let file = syntax::file_symbols(language, &text);
    if args.json {
        let records: Vec<_> = file
            .symbols
            .iter()
            .map(|s| Record {
                base: s.record(language),
                start_col: column(&text, s.range.start),
                end_col: column(&text, s.range.end),
                start_byte: s.range.start,
                end_byte: s.range.end,
                version: jingu_realdoc::version(
                    text.get(s.range.clone()).unwrap_or_default().as_bytes(),
                ),
            })
            .collect();
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
