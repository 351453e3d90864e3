//! `jingu edit PATH TARGET OP [--text-file F]` — one RealDoc edit, snapshotted (DESIGN §2).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

use super::{CmdResult, print_json};
use jingu_core::ops::{AutoApprove, Session};
use jingu_realdoc::{EditRequest, Op, Target};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["symbol", "lines", "keyword"])))]
#[command(group(clap::ArgGroup::new("op").required(true).args(["replace", "insert_before", "insert_after", "delete"])))]
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
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let target = match (&args.symbol, &args.lines, &args.keyword) {
        (Some(s), _, _) => Target::Symbol(s.clone()),
        (_, Some(l), _) => Target::lines_from_str(l)?,
        (_, _, Some(k)) => Target::Keyword {
            text: k.clone(),
            occurrence: args.occurrence,
        },
        _ => anyhow::bail!("give one of --symbol, --lines or --keyword"),
    };
    let op = if args.replace {
        Op::Replace
    } else if args.insert_before {
        Op::InsertBefore
    } else if args.insert_after {
        Op::InsertAfter
    } else {
        Op::Delete
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
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let abs = cwd.join(&args.path);
    let start = abs
        .parent()
        .filter(|p| p.is_dir())
        .unwrap_or(&cwd)
        .to_path_buf();
    let session = Session::open(&start)?;
    let raw = abs.to_str().context("the path is not valid UTF-8")?;
    let req = EditRequest::new(target, op, text);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The user typed this edit: that is the approval an `ask` policy wants; `deny` still refuses.
    let run = session.begin_run(None, &format!("jingu edit {raw} {} {}", req.op, req.target))?;
    let result = runtime.block_on(session.edit(&AutoApprove, &run, raw, &req));
    session.end_run(&run, if result.is_ok() { "ok" } else { "refused" });
    let outcome = result?;
    if args.json {
        return print_json(&outcome);
    }
    eprintln!("{}", outcome.summary);
    println!("{}", outcome.snapshot_id);
    Ok(())
}
