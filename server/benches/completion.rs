//! Inline completion on the embedded model (needs `--features local-llm` and the default model,
//! or `$JINGU_LOCAL_MODEL`), through `Session::complete` — the code path `textDocument/
//! inlineCompletion` takes — on real files of five languages (`tests/fixtures/replay`: cobra,
//! requests, ripgrep, ky, gson at pinned commits).
//!
//! At each site a line inside a body is blanked, as if its author were about to write it: one
//! request at its indentation (cold: the KV cache holds another site's prompt), then one per
//! keystroke typing the real line's first characters (warm). Reported:
//! - time to the item, p50/p95, cold and warm (target warm p50 ≤ 250 ms, p95 ≤ 600 ms);
//! - prompt tokens re-decoded per keystroke;
//! - the fraction of items that leave the file with no new syntax errors (target ≥ 95% of
//!   multi-line items), and how often the item's first line is what the author wrote;
//! - interleaved with each request, llama.cpp's own completion of the same prompt tokens with the
//!   same number of generated tokens: with its prompt cache (as `llama-server`'s `cache_prompt`
//!   keeps it) for every request, and from a fresh context for the cold ones.
//!
//! `JINGU_BENCH_QUICK=1` runs 3 sites per language (60 positions), else 12 (240).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jingu_core::complete::{CompletionOutcome, CompletionRequest};
use jingu_core::ops::Session;
use jingu_providers::CancelToken;
use jingu_syntax::Language;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

/// Keystrokes typed after the cold request at each site.
const KEYSTROKES: usize = 3;
/// A user pausing after each answer: later keystrokes are not a debounced burst.
const PAUSE: Duration = Duration::from_millis(120);

struct Site {
    rel: String,
    language: Language,
    /// The file with the site's line blanked after its indentation.
    blank: String,
    /// Byte offset of the cursor (the indentation's end) in `blank`.
    at: usize,
    /// What the author wrote there (the rest of the line).
    line: String,
}

fn replay_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/replay")
}

fn errors(language: Language, text: &str) -> usize {
    jingu_syntax::parse(language, text, None).map_or(usize::MAX, |t| jingu_syntax::error_count(&t))
}

/// Lines inside a body that a person writes as one statement: indented, some code, not a
/// comment or a lone bracket, and blanking them adds no syntax error.
fn sites_in(
    rel: &str,
    language: Language,
    text: &str,
    want: usize,
    rng: &mut fastrand::Rng,
) -> Vec<Site> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let base = errors(language, text);
    let mut candidates: Vec<usize> = (1..lines.len().saturating_sub(1))
        .filter(|&i| {
            let l = lines[i].trim_end();
            let body = l.trim_start();
            l.len() - body.len() >= 2
                && body.len() >= 8
                && !["//", "#", "*", "/*", "\"\"\"", "'''", "@"]
                    .iter()
                    .any(|c| body.starts_with(c))
                && body.chars().any(char::is_alphabetic)
        })
        .collect();
    rng.shuffle(&mut candidates);
    let mut out = Vec::new();
    for i in candidates {
        if out.len() == want {
            break;
        }
        let l = lines[i].trim_end_matches(['\n', '\r']);
        let indent = l.len() - l.trim_start().len();
        let before: String = lines[..i].concat();
        let blank = format!("{before}{}\n{}", &l[..indent], lines[i + 1..].concat());
        if errors(language, &blank) > base {
            continue;
        }
        out.push(Site {
            rel: rel.to_string(),
            language,
            at: before.len() + indent,
            line: l[indent..].to_string(),
            blank,
        });
    }
    out
}

/// llama.cpp's own completion: a context that keeps the prompt prefix it shares with the last
/// request (as `llama-server` does with `cache_prompt`), greedy sampling of `n` tokens.
struct LlamaLoop<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    cached: Vec<LlamaToken>,
}

impl<'m> LlamaLoop<'m> {
    fn new(model: &'m LlamaModel, n_ctx: u32, threads: i32) -> Self {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(512)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model
            .new_context(jingu_providers::llama_backend().expect("backend"), params)
            .expect("context");
        Self {
            model,
            ctx,
            cached: Vec::new(),
        }
    }

    /// Complete `tokens` with `n` generated tokens; the generated text.
    fn complete(&mut self, tokens: &[LlamaToken], n: usize) -> String {
        let keep = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len() - 1);
        if keep < self.cached.len() {
            self.ctx
                .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
                .expect("trim cache");
        }
        self.cached.truncate(keep);
        let mut batch = LlamaBatch::new(512, 1);
        for (c, chunk) in tokens[keep..].chunks(512).enumerate() {
            batch.clear();
            for (j, t) in chunk.iter().enumerate() {
                let pos = keep + c * 512 + j;
                batch
                    .add(*t, pos as i32, &[0], pos + 1 == tokens.len())
                    .expect("batch");
            }
            self.ctx.decode(&mut batch).expect("prompt");
            self.cached.extend_from_slice(chunk);
        }
        let mut sampler = LlamaSampler::greedy();
        let mut out = Vec::new();
        let mut at = batch.n_tokens() - 1;
        for _ in 0..n {
            let token = sampler.sample(&self.ctx, at);
            sampler.accept(token);
            if self.model.vocab().is_eog(token) {
                break;
            }
            out.extend(self.model.vocab().token_to_piece(token, false, None));
            batch.clear();
            batch
                .add(token, self.cached.len() as i32, &[0], true)
                .expect("batch");
            self.ctx.decode(&mut batch).expect("decode");
            self.cached.push(token);
            at = 0;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (p50, p95, max) of `v`, in the unit given.
fn spread(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |p: f64| s[((s.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95), s[s.len() - 1])
}

#[derive(Default)]
struct Tally {
    jingu: Vec<f64>,
    /// Of `jingu`, the requests that called the model (the others were served from the shown
    /// item): what llama.cpp's loop is compared with.
    model_calls: Vec<f64>,
    /// Of `jingu`, the requests answered with an item.
    with_item: Vec<f64>,
    cached_loop: Vec<f64>,
    fresh_loop: Vec<f64>,
    redecoded: Vec<f64>,
}

fn main() {
    // The session reads its state directory and configuration from the environment: run the
    // bench in a child process that has them, so no user's state or config is touched.
    if std::env::var_os("JINGU_BENCH_COMPLETION_CHILD").is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "").expect("config");
        let status = std::process::Command::new(std::env::current_exe().expect("exe"))
            .env("JINGU_BENCH_COMPLETION_CHILD", "1")
            .env("JINGU_STATE_DIR", dir.path().join("state"))
            .env("JINGU_CONFIG", &config)
            .env("JINGU_LOG", "off")
            .status()
            .expect("bench child");
        std::process::exit(status.code().unwrap_or(1));
    }
    let quick = jingu_benches::quick();
    let verbose = std::env::var_os("JINGU_BENCH_VERBOSE").is_some();
    let per_language = if quick { 3 } else { 12 };
    let path = jingu_providers::default_local_model_path();
    assert!(
        path.is_file(),
        "bench completion: model {} not found (scripts/install-local-model.sh, or set JINGU_LOCAL_MODEL)",
        path.display()
    );

    // The workspace: the replay corpus's `after` files under their own names.
    let ws = tempfile::tempdir().expect("workspace");
    let root = ws.path().canonicalize().expect("canon");
    std::fs::create_dir(root.join(".jingu")).expect("marker");
    let mut rng = fastrand::Rng::with_seed(22);
    let mut sites = Vec::new();
    for lang in ["go", "python", "rust", "ts", "java"] {
        let dir = replay_dir().join(lang);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("replay corpus")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "after"))
            .collect();
        entries.sort();
        let mut files = Vec::new();
        for after in entries {
            let named = std::fs::read_to_string(after.with_extension("path")).expect("path");
            let name = named
                .split_whitespace()
                .last()
                .expect("path name")
                .to_string();
            let Some(language) = Language::from_path(Path::new(&name)) else {
                continue;
            };
            let text = std::fs::read_to_string(&after).expect("after");
            let stem = after
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            let rel = format!("{lang}/{stem}-{}", name.rsplit('/').next().unwrap_or(&name));
            std::fs::create_dir_all(root.join(lang)).expect("dir");
            std::fs::write(root.join(&rel), &text).expect("write");
            files.push((rel, language, text));
        }
        rng.shuffle(&mut files);
        let mut got = Vec::new();
        for (rel, language, text) in &files {
            if got.len() >= per_language {
                break;
            }
            got.extend(sites_in(rel, *language, text, 1, &mut rng));
        }
        sites.extend(got);
    }
    let index = Arc::new(jingu_index::Index::build(&root));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let session = Session::open(&root).expect("session");
    let model = LlamaModel::load_from_file(
        jingu_providers::llama_backend().expect("backend"),
        &path,
        &LlamaModelParams::default(),
    )
    .expect("model");
    let threads = jingu_providers::local_decode_threads();
    let mut cached_loop = LlamaLoop::new(&model, 4096, threads);

    let ask = |text: &str, offset: usize, site: &Site| {
        let req = CompletionRequest {
            path: site.rel.clone(),
            text: text.to_string(),
            offset,
            language: Some(site.language),
            index: Some(index.clone()),
        };
        let started = Instant::now();
        let outcome = runtime
            .block_on(session.complete(req, &CancelToken::new()))
            .expect("complete");
        (started.elapsed(), outcome)
    };
    // Load and warm the model outside the measurement.
    let warm_site = &sites[0];
    let _ = ask(&warm_site.blank, warm_site.at, warm_site);
    let _ = session.take_last_completion_call();

    let (mut cold, mut warm) = (Tally::default(), Tally::default());
    let (mut items, mut parses, mut multi, mut multi_parses, mut first_line_right) =
        (0, 0, 0, 0, 0);
    let (mut loop_parses, mut loop_items, mut empty, mut served_without_model) = (0, 0, 0, 0);
    let mut positions = 0;
    let (mut after_accept, mut accept_served, mut accept_items, mut accept_parses) =
        (Vec::new(), 0, 0, 0);
    let started = Instant::now();
    for site in &sites {
        let mut last = (false, None, String::new(), 0);
        for k in 0..=KEYSTROKES {
            let typed: String = site.line.chars().take(k).collect();
            if k > 0 && typed.chars().count() < k {
                break;
            }
            let text = format!(
                "{}{typed}{}",
                &site.blank[..site.at],
                &site.blank[site.at..]
            );
            let offset = site.at + typed.len();
            positions += 1;
            let (took, outcome) = ask(&text, offset, site);
            let tally = if k == 0 { &mut cold } else { &mut warm };
            tally.jingu.push(ms(took));
            let (prefix, suffix) = text.split_at(offset);
            match &outcome {
                CompletionOutcome::Items(list) => {
                    tally.with_item.push(ms(took));
                    for item in list {
                        items += 1;
                        let ok = errors(site.language, &format!("{prefix}{}{suffix}", item.text))
                            <= errors(site.language, &text);
                        parses += usize::from(ok);
                        if item.text.contains('\n') {
                            multi += 1;
                            multi_parses += usize::from(ok);
                        }
                        let wanted = &site.line[typed.len()..];
                        let first = item.text.split('\n').next().unwrap_or("").trim_end();
                        first_line_right += usize::from(!wanted.is_empty() && first == wanted);
                    }
                }
                CompletionOutcome::Empty(_) => empty += 1,
            }
            let shown = match &outcome {
                CompletionOutcome::Items(list) => list.first().map(|i| i.text.clone()),
                CompletionOutcome::Empty(_) => None,
            };
            let mut early = false;
            // The same prompt through llama.cpp's own loop, right after (interleaved).
            match session.take_last_completion_call() {
                Some(call) => {
                    // The model may still be generating ahead: llama.cpp's turn waits for it.
                    if let Some(ahead) = &call.ahead {
                        let since = Instant::now();
                        while !ahead.snapshot().1 {
                            assert!(
                                since.elapsed() < Duration::from_secs(60),
                                "generating ahead never ended"
                            );
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                    let (fill, stats) = (call.request, call.stats.expect("local stats"));
                    early = stats.early;
                    tally.model_calls.push(ms(took));
                    if verbose {
                        eprintln!(
                            "{} k={k} {:.0} ms until={:?} prompt={} reused={} generated={} early={} item={:?}",
                            site.rel,
                            ms(took),
                            fill.until,
                            stats.prompt_tokens,
                            stats.reused,
                            stats.generated,
                            stats.early,
                            shown.as_deref().unwrap_or("")
                        );
                    }
                    if k > 0 {
                        tally.redecoded.push(
                            (stats.prompt_tokens - stats.reused.min(stats.prompt_tokens)) as f64,
                        );
                    }
                    let tokens =
                        jingu_providers::local_fill_tokens(&model, &fill.prompt(), &fill.suffix);
                    let t = Instant::now();
                    let raw = cached_loop.complete(&tokens, stats.generated.max(1));
                    tally.cached_loop.push(ms(t.elapsed()));
                    if k == 0 {
                        let mut fresh = LlamaLoop::new(&model, tokens.len() as u32 + 80, threads);
                        let t = Instant::now();
                        fresh.complete(&tokens, stats.generated.max(1));
                        tally.fresh_loop.push(ms(t.elapsed()));
                    }
                    let cut = fill.until.cut(&raw).map_or(raw.as_str(), |c| &raw[..c]);
                    if !cut.trim().is_empty() {
                        loop_items += 1;
                        loop_parses += usize::from(
                            errors(site.language, &format!("{prefix}{cut}{suffix}"))
                                <= errors(site.language, &text),
                        );
                    }
                }
                None => served_without_model += 1,
            }
            std::thread::sleep(PAUSE);
            last = (early, shown, text.clone(), offset);
        }
        // At the end of the site the user accepts the last item if it was an early one (its
        // first lines): the lines generated ahead meanwhile are the next item, without a model
        // call. (Last, so the keystrokes above are measured on the real text.)
        if let (true, Some(item), text, offset) = &last {
            let (prefix, suffix) = text.split_at(*offset);
            let accepted = format!("{prefix}{item}{suffix}");
            let (took, outcome) = ask(&accepted, offset + item.len(), site);
            let called = session.take_last_completion_call().is_some();
            let got = matches!(&outcome, CompletionOutcome::Items(l) if !l.is_empty());
            after_accept.push(ms(took));
            accept_served += usize::from(got && !called);
            if let (false, CompletionOutcome::Items(list)) = (called, &outcome) {
                for next in list {
                    accept_items += 1;
                    accept_parses += usize::from(
                        errors(
                            site.language,
                            &format!("{prefix}{item}{}{suffix}", next.text),
                        ) <= errors(site.language, &accepted),
                    );
                }
            }
            std::thread::sleep(PAUSE);
        }
    }
    let elapsed = started.elapsed();
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "completion: {} sites (one per file, 5 languages), {positions} positions ({} cold, {} warm) in {:.0} s; {} answered without a model call, {empty} empty",
        sites.len(),
        cold.jingu.len(),
        warm.jingu.len(),
        elapsed.as_secs_f64(),
        served_without_model,
    );
    for (name, t) in [("cold", &cold), ("warm", &warm)] {
        let (p50, p95, max) = spread(&t.jingu);
        println!(
            "completion {name}: time to the answer p50 {p50:.0} ms, p95 {p95:.0} ms, max {max:.0} ms"
        );
        if !t.with_item.is_empty() {
            let (i50, i95, _) = spread(&t.with_item);
            println!(
                "completion {name}: time to the item, the {} answers with one: p50 {i50:.0} ms, p95 {i95:.0} ms",
                t.with_item.len()
            );
        }
        if !t.cached_loop.is_empty() {
            let (m50, m95, _) = spread(&t.model_calls);
            let (l50, l95, _) = spread(&t.cached_loop);
            println!(
                "completion {name}: the {} model calls p50 {m50:.0} ms, p95 {m95:.0} ms; llama.cpp's loop with its prompt cache on the same prompts and token counts p50 {l50:.0} ms, p95 {l95:.0} ms (jingu/llama.cpp p50 {:.2}x)",
                t.model_calls.len(),
                m50 / l50
            );
        }
        if !t.fresh_loop.is_empty() {
            let (m50, _, _) = spread(&t.model_calls);
            let (f50, f95, _) = spread(&t.fresh_loop);
            println!(
                "completion {name}: llama.cpp's loop from a fresh context p50 {f50:.0} ms, p95 {f95:.0} ms (jingu/llama.cpp p50 {:.2}x)",
                m50 / f50
            );
        }
    }
    if !warm.redecoded.is_empty() {
        let (r50, r95, rmax) = spread(&warm.redecoded);
        println!(
            "completion warm: prompt tokens re-decoded per keystroke p50 {r50:.0}, p95 {r95:.0}, max {rmax:.0}"
        );
    }
    if !after_accept.is_empty() {
        let (a50, a95, _) = spread(&after_accept);
        println!(
            "completion: {} early items (the first lines at first_item_ms, the rest generated ahead) accepted: the next item in p50 {a50:.0} ms, p95 {a95:.0} ms, {accept_served} of them without a model call ({accept_parses} of {accept_items} parse)",
            after_accept.len()
        );
    }
    let (w50, w95, _) = spread(&warm.jingu);
    println!(
        "completion: {items} items, {:.1}% leave the file with no new syntax error ({:.1}% of {multi} multi-line, target >= 95%); llama.cpp's raw text cut at the same end: {:.1}% of {loop_items}; first line as the author wrote it: {:.1}%",
        pct(parses, items),
        pct(multi_parses, multi),
        pct(loop_parses, loop_items),
        pct(first_line_right, items),
    );
    println!(
        "completion: warm time to the answer p50 {w50:.0} ms (target <= 250), p95 {w95:.0} ms (target <= 600)"
    );
}
