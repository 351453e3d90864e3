//! `jingu edit PATH TARGET OP [--text-file F] [--expect VERSION]` — one RealDoc edit, snapshotted
//! (DESIGN §2); `jingu edit PATH --batch FILE.json` — several edits of one file, all or nothing.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::ops::{AutoApprove, Session};
use jingu_realdoc::{EditRequest, Op, Target};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").args(["symbol", "lines", "keyword"])))]
#[command(group(clap::ArgGroup::new("op").args(["replace", "insert_before", "insert_after", "delete"])))]
pub struct Args {
    pub path: PathBuf,
    /// Target a symbol by name path (`impl Parser/parse_expr`).
    #[arg(long)]
    pub symbol: Option<String>,
    /// Target a 1-based inclusive line range `A-B`.
    #[arg(long)]
    pub lines: Option<String>,
    /// Target the line containing TEXT.
    #[arg(long)]
    pub keyword: Option<String>,
    /// Which matching line, when the keyword occurs on several (1-based).
    #[arg(long, requires = "keyword")]
    pub occurrence: Option<usize>,
    #[arg(long)]
    pub replace: bool,
    #[arg(long)]
    pub insert_before: bool,
    #[arg(long)]
    pub insert_after: bool,
    #[arg(long)]
    pub delete: bool,
    /// New text (default: standard input; not read for --delete).
    #[arg(long)]
    pub text_file: Option<PathBuf>,
    /// Refuse unless the target is as in this version (a file or symbol version from a read, or
    /// `sha256sum` of the file): an edit is never applied over text changed since.
    #[arg(long, value_name = "VERSION")]
    pub expect: Option<String>,
    /// A JSON list of edits of PATH, applied together and validated once:
    /// `[{"symbol": "f", "op": "replace", "text": "..."}, {"lines": "3-5", "op": "delete"}]`.
    /// Targets and line numbers refer to the file before the batch.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["target", "op", "text_file"])]
    pub batch: Option<PathBuf>,
    /// Create PATH with the new text (refused if it exists).
    #[arg(long, conflicts_with_all = ["target", "op", "batch"])]
    pub create: bool,
    /// Delete the file PATH.
    #[arg(long, conflicts_with_all = ["target", "op", "batch", "create", "text_file"])]
    pub delete_file: bool,
    /// Rename PATH to NEW (refused if NEW exists).
    #[arg(long, value_name = "NEW", conflicts_with_all = ["target", "op", "batch", "create", "delete_file", "text_file"])]
    pub rename_to: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// One item of a `--batch` file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    symbol: Option<String>,
    lines: Option<String>,
    keyword: Option<String>,
    occurrence: Option<usize>,
    op: Op,
    #[serde(default)]
    text: Option<String>,
    expect: Option<String>,
}

fn batch_requests(
    path: &std::path::Path,
    expect: Option<&str>,
) -> anyhow::Result<Vec<EditRequest>> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let items: Vec<BatchItem> = serde_json::from_str(&raw)
        .with_context(|| format!("{} is not a JSON list of edits", path.display()))?;
    if items.is_empty() {
        anyhow::bail!("{} holds no edits", path.display());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i + 1;
            let target = match (item.symbol, item.lines, item.keyword) {
                (Some(s), None, None) => Target::Symbol(s),
                (None, Some(l), None) => Target::lines_from_str(&l)?,
                (None, None, Some(k)) => Target::Keyword {
                    text: k,
                    occurrence: item.occurrence,
                },
                _ => anyhow::bail!("edit {n}: give exactly one of symbol, lines or keyword"),
            };
            if item.occurrence.is_some() && !matches!(target, Target::Keyword { .. }) {
                anyhow::bail!("edit {n}: occurrence only applies to a keyword target");
            }
            let text = match (item.op, item.text) {
                (Op::Delete, _) => String::new(),
                (_, Some(t)) => t,
                (op, None) => anyhow::bail!("edit {n}: {op} needs text"),
            };
            Ok(EditRequest::new(target, item.op, text)
                .expecting(item.expect.or_else(|| expect.map(str::to_string))))
        })
        .collect()
}

pub(crate) fn run(args: Args) -> CmdResult {
    if args.create || args.delete_file || args.rename_to.is_some() {
        return run_file_op(args);
    }
    let reqs = match &args.batch {
        Some(file) => batch_requests(file, args.expect.as_deref())?,
        None => vec![single_request(&args)?],
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let abs = cwd.join(&args.path);
    let start = abs
        .parent()
        .filter(|p| p.is_dir())
        .unwrap_or(&cwd)
        .to_path_buf();
    let session = Session::open(&start)?;
    let raw = abs.to_str().context("the path is not valid UTF-8")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The user typed this edit: that is the approval an `ask` policy wants; `deny` still refuses.
    let what = match reqs.as_slice() {
        [one] => format!("{} {}", one.op, one.target),
        many => format!("--batch ({} edits)", many.len()),
    };
    let run = session.begin_run(None, &format!("jingu edit {raw} {what}"))?;
    let result = runtime.block_on(session.edit_batch(&AutoApprove, &run, raw, &reqs, None));
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result?;
    if args.json {
        return print_json(&outcome);
    }
    eprintln!("{}", outcome.summary);
    println!("{}", outcome.snapshot_id);
    Ok(())
}

fn single_request(args: &Args) -> anyhow::Result<EditRequest> {
    let target = match (&args.symbol, &args.lines, &args.keyword) {
        (Some(s), _, _) => Target::Symbol(s.clone()),
        (_, Some(l), _) => Target::lines_from_str(l)?,
        (_, _, Some(k)) => Target::Keyword {
            text: k.clone(),
            occurrence: args.occurrence,
        },
        _ => anyhow::bail!("give one of --symbol, --lines or --keyword (or --batch FILE.json)"),
    };
    let op = if args.replace {
        Op::Replace
    } else if args.insert_before {
        Op::InsertBefore
    } else if args.insert_after {
        Op::InsertAfter
    } else if args.delete {
        Op::Delete
    } else {
        anyhow::bail!("give one of --replace, --insert-before, --insert-after or --delete");
    };
    let text = match (&args.text_file, op) {
        (_, Op::Delete) => String::new(),
        (Some(f), _) => {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        }
        (None, _) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the new text from standard input")?;
            s
        }
    };
    Ok(EditRequest::new(target, op, text).expecting(args.expect.clone()))
}

/// `--create`, `--delete-file`, `--rename-to`: whole-file operations, snapshotted like edits.
fn run_file_op(args: Args) -> CmdResult {
    use jingu_core::ops::FileOp;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let abs = cwd.join(&args.path);
    let start = abs
        .ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .unwrap_or(&cwd)
        .to_path_buf();
    let session = Session::open(&start)?;
    let path = abs
        .to_str()
        .context("the path is not valid UTF-8")?
        .to_string();
    let op = if args.create {
        let text = match &args.text_file {
            Some(f) => {
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
            }
            None => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the new file's text from standard input")?;
                s
            }
        };
        FileOp::Create { path, text }
    } else if let Some(to) = &args.rename_to {
        let to = cwd.join(to);
        FileOp::Rename {
            path,
            to: to
                .to_str()
                .context("the new path is not valid UTF-8")?
                .to_string(),
        }
    } else {
        FileOp::DeleteFile { path }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let run = session.begin_run(None, &format!("jingu edit {op}"))?;
    let result = runtime.block_on(session.file_op(&AutoApprove, &run, &op));
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result?;
    if args.json {
        return print_json(&outcome);
    }
    eprintln!("{}", outcome.summary);
    println!("{}", outcome.snapshot_id);
    Ok(())
}
