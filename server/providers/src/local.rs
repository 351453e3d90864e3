//! The `local` provider: a GGUF model run in-process on the CPU through llama.cpp (feature
//! `local-llm`). One worker thread per model owns the weights and one llama context for the whole
//! session; each request re-decodes only the tokens after the prefix it shares with what the KV
//! cache already holds (system text, tools and earlier turns stay cached). Sampling is greedy or
//! tempered under the reply grammar, checking the model's own choice against the grammar first so
//! the grammar rarely has to scan the vocabulary. Answers stream as they are sampled; cancellation
//! is checked every token and when the stream is dropped.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use tokio::sync::{OnceCell, mpsc};

use super::cancel::CancelToken;
use super::config::ResolvedProvider;
use super::error::ProviderError;
use super::fill::{Ahead, FillRequest, FillResponse, FillStats, FillUntil, FillVia};
use super::local_prompt::{
    ANSWER_PREFIX, Reply, Turn, grammar, parse_reply, partial_answer, render_prompt,
    repeating_block, turns,
};
use super::stream::EventStream;
use super::types::{ChatRequest, Event, FinishReason, Usage};

/// llama.cpp's backend may be initialised once per process.
static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
static BACKEND_INIT: Mutex<()> = Mutex::new(());

/// Context window of the session (capped by what the model was trained on).
const SESSION_CTX: u32 = 8192;
/// Fewest tokens a reply may be left in the context before a request is refused.
const MIN_REPLY_TOKENS: usize = 256;
/// Prompt tokens decoded per llama.cpp batch.
const PROMPT_BATCH: usize = 512;
/// Tokens one line of a completion may take (see `generate`).
const MAX_LINE_TOKENS: usize = 40;
/// Prompt tokens per batch for a completion: a cancel is seen between batches, so a superseded
/// request stops after at most this many more tokens (a few ms on the default model).
const FILL_BATCH: usize = 64;

/// The process's llama.cpp backend (initialised on first use, its logs silenced).
pub fn backend() -> Result<&'static LlamaBackend, String> {
    let _guard = BACKEND_INIT
        .lock()
        .map_err(|_| "backend init lock poisoned")?;
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    let mut b = LlamaBackend::init().map_err(|e| format!("initialising llama.cpp: {e}"))?;
    // llama.cpp logs every tensor to stderr; our own tracing says what matters.
    b.void_logs();
    Ok(BACKEND.get_or_init(|| b))
}

/// Threads for decoding: `$JINGU_LOCAL_THREADS`, else the cores this process may actually use
/// (affinity and cgroup quota). On a machine busy with other work fewer threads decode faster:
/// llama.cpp's threads wait for each other at every operation.
pub fn decode_threads() -> i32 {
    std::env::var("JINGU_LOCAL_THREADS")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()) as i32)
}

/// A plain transcript, or turns for the model's chat template (applied on the worker thread).
enum Prompt {
    Plain(String),
    Turns(Vec<Turn>),
    /// Fill in the middle: the model's FIM tokens around `prefix` and `suffix` when its vocabulary
    /// has them (prefix first, so typing forward keeps the cached prefix), else the prefix alone.
    Fill {
        prefix: String,
        suffix: String,
    },
}

/// One generation request for the worker.
struct Job {
    prompt: Prompt,
    /// The reply grammar; `None` samples freely (completion text).
    gbnf: Option<String>,
    /// Generation ends before the first of these (completion only).
    stop: Vec<String>,
    /// Where a completion ends anyway, checked after every token.
    until: FillUntil,
    /// Answer with the complete lines so far once this long has passed since `queued`, then go
    /// on generating into `ahead` until the item ends or another job arrives (completion only).
    first_item: Option<Duration>,
    ahead: Option<Ahead>,
    /// When the job was queued (the wait for the model thread is part of the latency).
    queued: Instant,
    max_tokens: u32,
    temperature: f32,
    cancel: CancelToken,
    tx: mpsc::Sender<Result<Event, ProviderError>>,
    done: std::sync::mpsc::Sender<Result<Generated, String>>,
}

/// Prompt tokens of the last request and how many the KV cache already held.
#[derive(Debug, Default)]
struct Stats {
    prompt: AtomicUsize,
    reused: AtomicUsize,
    /// Jobs started, and the tokens the current (or last) one has generated so far.
    jobs: AtomicUsize,
    generated: AtomicUsize,
}

struct Loaded {
    load_time: Duration,
    stats: Arc<Stats>,
    chat_template: bool,
    /// Whether the vocabulary has fill-in-the-middle tokens.
    fim: bool,
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

pub(crate) struct LocalModel {
    path: PathBuf,
    loaded: OnceCell<Arc<Loaded>>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("path", &self.path)
            .finish()
    }
}

impl LocalModel {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            loaded: OnceCell::new(),
        }
    }

    /// Time the model took to load, once it has been loaded.
    pub(crate) fn load_time(&self) -> Option<Duration> {
        self.loaded.get().map(|l| l.load_time)
    }

    /// (requests started, tokens the current or last one has generated so far).
    pub(crate) fn generated_so_far(&self) -> Option<(usize, usize)> {
        self.loaded.get().map(|l| {
            (
                l.stats.jobs.load(Ordering::Relaxed),
                l.stats.generated.load(Ordering::Relaxed),
            )
        })
    }

    /// (prompt tokens, tokens reused from the KV cache) of the last request.
    pub(crate) fn prompt_stats(&self) -> Option<(usize, usize)> {
        self.loaded.get().map(|l| {
            (
                l.stats.prompt.load(Ordering::Relaxed),
                l.stats.reused.load(Ordering::Relaxed),
            )
        })
    }

    async fn load(&self, provider: &str) -> Result<Arc<Loaded>, ProviderError> {
        let err = |detail: String| ProviderError::LocalModel {
            provider: provider.to_owned(),
            detail,
        };
        self.loaded
            .get_or_try_init(|| async {
                if !self.path.is_file() {
                    return Err(err(format!(
                        "model file {} not found (set [providers.local] model_path, or run \
                         scripts/setup.sh, which installs the default model)",
                        self.path.display()
                    )));
                }
                let path = self.path.clone();
                let stats = Arc::new(Stats::default());
                let worker_stats = stats.clone();
                let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                let (jobs_tx, jobs_rx) = std::sync::mpsc::channel::<Job>();
                std::thread::Builder::new()
                    .name("jingu-local-model".into())
                    .spawn(move || worker(path, ready_tx, jobs_rx, worker_stats))
                    .map_err(|e| err(format!("starting the model thread: {e}")))?;
                let (load_time, chat_template, fim) = ready_rx
                    .await
                    .map_err(|_| err("the model thread stopped while loading".into()))?
                    .map_err(err)?;
                Ok(Arc::new(Loaded {
                    load_time,
                    stats,
                    chat_template,
                    fim,
                    jobs: Mutex::new(jobs_tx),
                }))
            })
            .await
            .cloned()
    }
}

/// Load time, whether the model has a chat template, whether it has FIM tokens.
type Ready = tokio::sync::oneshot::Sender<Result<(Duration, bool, bool), String>>;

/// The model thread: loads the weights, then serves jobs on one context until the provider goes.
fn worker(path: PathBuf, ready: Ready, jobs: std::sync::mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let start = Instant::now();
    let loaded = backend().and_then(|b| {
        LlamaModel::load_from_file(b, &path, &LlamaModelParams::default())
            .map_err(|e| format!("loading {}: {e}", path.display()))
            .map(|m| (b, m))
    });
    let (backend, model) = match loaded {
        Ok(x) => x,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let template = model.chat_template(None).ok();
    let n_ctx = SESSION_CTX.min(model.n_ctx_train().max(512));
    let threads = decode_threads();
    // swa_full keeps sliding-window layers' cache whole, so a shared prefix can be kept after
    // the tail is removed (Gemma 3 uses sliding-window attention).
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(PROMPT_BATCH as u32)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        .with_swa_full(true);
    let mut ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(format!("creating a context: {e}")));
            return;
        }
    };
    tracing::debug!(
        threads,
        n_ctx,
        chat_template = template.is_some(),
        "local model loaded in {:?}",
        start.elapsed()
    );
    if ready
        .send(Ok((
            start.elapsed(),
            template.is_some(),
            fim_tokens(&model).is_some(),
        )))
        .is_err()
    {
        return;
    }
    let mut session = Session {
        model: &model,
        cached: Vec::new(),
        stats,
    };
    // A job that arrived while the model was generating ahead for the previous one.
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        let result = session.generate(&mut ctx, &job, &jobs, &mut next);
        if result.is_err() {
            // A failed decode leaves the cache in an unknown state: start clean next time.
            ctx.clear_kv_cache();
            session.cached.clear();
        }
        // Whatever happened, nothing more will be generated ahead for this job.
        if let Some(ahead) = &job.ahead {
            let (text, done) = ahead.snapshot();
            if !done {
                ahead.set(&text, true);
            }
        }
        let _ = job.done.send(result);
    }
}

/// What the KV cache holds: the tokens decoded at positions 0.. of sequence 0.
struct Session<'m> {
    model: &'m LlamaModel,
    cached: Vec<LlamaToken>,
    stats: Arc<Stats>,
}

enum Generated {
    Done {
        output: String,
        usage: Usage,
        hit_limit: bool,
        streamed: usize,
        stats: FillStats,
    },
    Cancelled,
}

impl Session<'_> {
    /// Generate for `job`. After an early answer (`job.first_item`) generation goes on ahead
    /// until the item ends or a job arrives on `jobs` (kept in `next`); the job's own cancel no
    /// longer applies then, since its request has been answered.
    fn generate(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        job: &Job,
        jobs: &std::sync::mpsc::Receiver<Job>,
        next: &mut Option<Job>,
    ) -> Result<Generated, String> {
        let queued = job.queued.elapsed();
        let vocab = self.model.vocab();
        // Only template output is parsed for special tokens; plain transcripts never are.
        let tokens = match &job.prompt {
            Prompt::Plain(text) => vocab.tokenize(text.as_bytes(), true, false),
            Prompt::Turns(turns) => {
                let text = apply_template(self.model, turns)?;
                vocab.tokenize(text.as_bytes(), true, true)
            }
            Prompt::Fill { prefix, suffix } => fill_tokens(self.model, prefix, suffix),
        };
        if tokens.is_empty() {
            return Err("the prompt is empty".into());
        }
        let n_prompt = tokens.len();
        let n_ctx = ctx.n_ctx() as usize;
        // The reply may use what the context has left, down to a floor worth generating.
        let room = n_ctx.saturating_sub(n_prompt + 1);
        if room < MIN_REPLY_TOKENS.min(job.max_tokens as usize) {
            return Err(format!(
                "prompt of {n_prompt} tokens leaves {room} of the context's {n_ctx} for the reply"
            ));
        }
        let max_tokens = job.max_tokens.min(room as u32);
        // Keep the longest cached prefix; at least one prompt token is decoded for fresh logits.
        let mut keep = self
            .cached
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(n_prompt - 1);
        if keep < self.cached.len() {
            let removed = ctx
                .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
                .unwrap_or(false);
            if !removed {
                ctx.clear_kv_cache();
                keep = 0;
            }
        }
        self.cached.truncate(keep);
        self.stats.prompt.store(n_prompt, Ordering::Relaxed);
        self.stats.generated.store(0, Ordering::Relaxed);
        self.stats.jobs.fetch_add(1, Ordering::Relaxed);
        self.stats.reused.store(keep, Ordering::Relaxed);
        let started = Instant::now();
        let chunk_len = match job.prompt {
            Prompt::Fill { .. } => FILL_BATCH,
            _ => PROMPT_BATCH,
        };
        let mut batch = LlamaBatch::new(PROMPT_BATCH.max(1), 1);
        for (chunk_start, chunk) in tokens[keep..]
            .chunks(chunk_len)
            .enumerate()
            .map(|(i, c)| (keep + i * chunk_len, c))
        {
            if job.cancel.is_cancelled() || job.tx.is_closed() {
                return Ok(Generated::Cancelled);
            }
            batch.clear();
            for (j, t) in chunk.iter().enumerate() {
                let pos = chunk_start + j;
                batch
                    .add(*t, pos as i32, &[0], pos + 1 == n_prompt)
                    .map_err(|e| format!("prompt batch: {e}"))?;
            }
            ctx.decode(&mut batch)
                .map_err(|e| format!("decoding the prompt: {e}"))?;
            self.cached.extend_from_slice(chunk);
        }
        let prompt_time = started.elapsed();
        tracing::debug!(
            prompt_tokens = n_prompt,
            reused = keep,
            decoded = n_prompt - keep,
            queued_ms = queued.as_secs_f64() * 1e3,
            "local prompt decoded in {prompt_time:?}"
        );
        if let Some(gbnf) = &job.gbnf {
            tracing::trace!("local output grammar:\n{gbnf}");
        }
        // What a request is told: now (an early answer) or when generation ends.
        let stats = |generated: u32, sampling: Duration, stopped_at_end: bool| FillStats {
            prompt_tokens: n_prompt,
            reused: keep,
            generated: generated as usize,
            queued,
            prompt: prompt_time,
            generate: started.elapsed().saturating_sub(prompt_time),
            sampling,
            stopped_at_end,
            early: false,
        };
        let done =
            |output: String, stats: FillStats, hit_limit: bool, streamed: usize| Generated::Done {
                output,
                usage: Usage {
                    input_tokens: n_prompt as u64,
                    output_tokens: stats.generated as u64,
                },
                hit_limit,
                streamed,
                stats,
            };
        let mut grammar = match &job.gbnf {
            Some(gbnf) => Some(
                LlamaSampler::grammar(self.model, gbnf, "root")
                    .map_err(|e| format!("compiling the output grammar: {e}"))?,
            ),
            None => None,
        };
        let mut pick = (job.temperature > 0.0).then(|| {
            LlamaSampler::chain_simple([
                LlamaSampler::temp(job.temperature),
                LlamaSampler::dist(fastrand::u32(..)),
            ])
        });
        let mut output = Vec::new();
        let mut generated = 0u32;
        let mut streamed = 0usize;
        let mut logits_at = batch.n_tokens() - 1;
        let mut sampling = Duration::ZERO;
        let mut at_end = false;
        let mut line_tokens = 0usize;
        // Bytes of `output` sent as the early answer; what follows goes into `job.ahead`.
        let mut answered: Option<usize> = None;
        let hit_limit = loop {
            if answered.is_some() {
                if next.is_none() {
                    *next = jobs.try_recv().ok();
                }
                if next.is_some() {
                    break false; // a newer request needs the model
                }
            } else if job.cancel.is_cancelled() || job.tx.is_closed() {
                return Ok(Generated::Cancelled);
            }
            if generated >= max_tokens {
                break true;
            }
            let chose = Instant::now();
            let token = sample(ctx, logits_at, grammar.as_mut(), pick.as_mut());
            if let Some(g) = grammar.as_mut() {
                g.accept(token);
            }
            if vocab.is_eog(token)
                || fim_tokens(self.model).is_some_and(|f| f.0 == token || f.1 == token)
            {
                break false;
            }
            generated += 1;
            self.stats
                .generated
                .store(generated as usize, Ordering::Relaxed);
            let piece = vocab.token_to_piece(token, false, None);
            let new_line = piece.contains(&b'\n');
            output.extend(piece);
            line_tokens = if new_line { 0 } else { line_tokens + 1 };
            // A completion line this long is the model rambling (code lines are a dozen tokens
            // or so): it ends the item at its last complete line.
            if job.first_item.is_some() && line_tokens > MAX_LINE_TOKENS {
                tracing::debug!("local model stopped: a line of over {MAX_LINE_TOKENS} tokens");
                if let Some(cut) = output.iter().rposition(|&b| b == b'\n') {
                    output.truncate(cut);
                }
                at_end = true;
                break false;
            }
            if new_line
                && job.gbnf.is_some()
                && let Some(line) = repeating_block(&String::from_utf8_lossy(&output))
            {
                tracing::debug!("local model stopped: its code block repeats {line:?}");
                break true;
            }
            if job.gbnf.is_none()
                && let Some(cut) = fill_repeats(&String::from_utf8_lossy(&output))
            {
                tracing::debug!("local model stopped: its completion repeats itself");
                output.truncate(cut);
                at_end = true;
                break false;
            }
            if let Some(cut) = stop_at(&output, &job.stop) {
                output.truncate(cut);
                at_end = true;
                break false;
            }
            if job.until != FillUntil::Tokens
                && let Some(cut) = job.until.cut(&String::from_utf8_lossy(&output))
            {
                output.truncate(cut);
                at_end = true;
                break false;
            }
            if answered.is_none()
                && let Some(budget) = job.first_item
                && job.queued.elapsed() >= budget
                && let Some(cut) = last_line_end(&output)
            {
                answered = Some(cut);
                let early = String::from_utf8_lossy(&output[..cut]).into_owned();
                let stats = FillStats {
                    early: true,
                    ..stats(generated, sampling, false)
                };
                let _ = job.done.send(Ok(done(early, stats, false, 0)));
            }
            if let (Some(cut), Some(ahead)) = (answered, &job.ahead) {
                ahead.set(&String::from_utf8_lossy(&output[cut..]), false);
            }
            sampling += chose.elapsed();
            streamed = stream_answer(&output, streamed, &job.tx);
            batch.clear();
            let pos = self.cached.len();
            batch
                .add(token, pos as i32, &[0], true)
                .map_err(|e| format!("batch: {e}"))?;
            ctx.decode(&mut batch)
                .map_err(|e| format!("decoding token {generated}: {e}"))?;
            self.cached.push(token);
            logits_at = 0;
        };
        if let (Some(cut), Some(ahead)) = (answered, &job.ahead) {
            ahead.set(&String::from_utf8_lossy(&output[cut..]), true);
        }
        let output = String::from_utf8_lossy(&output).into_owned();
        let generate = started.elapsed().saturating_sub(prompt_time);
        let stats = stats(generated, sampling, at_end);
        tracing::debug!(
            tokens = generated,
            generate_ms = generate.as_secs_f64() * 1e3,
            per_token_ms = generate.as_secs_f64() * 1e3 / f64::from(generated.max(1)),
            sampling_ms = sampling.as_secs_f64() * 1e3,
            at_end,
            "local model output in {:?}: {output}",
            started.elapsed()
        );
        Ok(done(output, stats, hit_limit, streamed))
    }
}

/// The next token: the model's own choice when the grammar allows it (one candidate to check),
/// else the best token of the grammar-filtered vocabulary.
fn sample(
    ctx: &LlamaContext<'_>,
    idx: i32,
    mut grammar: Option<&mut LlamaSampler>,
    pick: Option<&mut LlamaSampler>,
) -> LlamaToken {
    let logits = ctx.get_logits_ith(idx);
    let choose = |arr: &mut LlamaTokenDataArray, pick: Option<&mut LlamaSampler>| match pick {
        Some(p) => {
            arr.apply_sampler(p);
            arr.selected_token()
        }
        None => arr
            .data
            .iter()
            .filter(|d| d.logit().is_finite())
            .max_by(|a, b| a.logit().total_cmp(&b.logit()))
            .map(LlamaTokenData::id),
    };
    let best = logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    if pick.is_none() {
        // Greedy: the model's own choice, when the grammar (if any) allows it.
        let allowed = match grammar.as_mut() {
            None => true,
            Some(g) => {
                let mut one = LlamaTokenDataArray::new(
                    vec![LlamaTokenData::new(
                        LlamaToken(best as i32),
                        logits[best],
                        0.0,
                    )],
                    false,
                );
                g.apply(&mut one);
                one.data.first().is_some_and(|d| d.logit().is_finite())
            }
        };
        if allowed {
            return LlamaToken(best as i32);
        }
    }
    let mut all = LlamaTokenDataArray::from_iter(
        logits
            .iter()
            .enumerate()
            .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i as i32), l, 0.0)),
        false,
    );
    if let Some(g) = grammar {
        g.apply(&mut all);
    }
    choose(&mut all, pick).unwrap_or(LlamaToken(0))
}

/// Send the newly decoded part of an answer; returns how many characters have been sent.
fn stream_answer(
    output: &[u8],
    streamed: usize,
    tx: &mpsc::Sender<Result<Event, ProviderError>>,
) -> usize {
    if !output.starts_with(ANSWER_PREFIX.as_bytes()) {
        return streamed;
    }
    let Some(text) = std::str::from_utf8(output).ok().and_then(partial_answer) else {
        return streamed;
    };
    let chars = text.chars().count();
    if chars > streamed {
        let delta: String = text.chars().skip(streamed).collect();
        if tx.blocking_send(Ok(Event::TextDelta(delta))).is_err() {
            return streamed;
        }
        return chars;
    }
    streamed
}

pub(crate) async fn stream(
    local: &LocalModel,
    cfg: &ResolvedProvider,
    req: &ChatRequest,
    cancel: &CancelToken,
) -> Result<EventStream, ProviderError> {
    let loaded = local.load(&cfg.name).await?;
    let (tx, rx) = mpsc::channel::<Result<Event, ProviderError>>(256);
    let prompt = if loaded.chat_template {
        Prompt::Turns(turns(req))
    } else {
        Prompt::Plain(render_prompt(req))
    };
    let gbnf = Some(grammar(req));
    let max_tokens = req.max_tokens.unwrap_or(cfg.max_tokens);
    let temperature = req.temperature.unwrap_or(0.0);
    let provider = cfg.name.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let job = Job {
        prompt,
        gbnf,
        stop: Vec::new(),
        until: FillUntil::Tokens,
        first_item: None,
        ahead: None,
        queued: Instant::now(),
        max_tokens,
        temperature,
        cancel: cancel.clone(),
        tx: tx.clone(),
        done: done_tx,
    };
    let sent = loaded
        .jobs
        .lock()
        .map_err(|_| "model queue lock poisoned".to_string())
        .and_then(|q| {
            q.send(job)
                .map_err(|_| "the model thread has stopped".to_string())
        });
    if let Err(detail) = sent {
        return Err(ProviderError::LocalModel {
            provider: provider.clone(),
            detail,
        });
    }
    tokio::task::spawn_blocking(move || {
        let result = done_rx
            .recv()
            .unwrap_or_else(|_| Err("the model thread stopped mid-request".into()));
        let err = |detail: String| ProviderError::LocalModel {
            provider: provider.clone(),
            detail,
        };
        let events = match result {
            Ok(Generated::Cancelled) => vec![Err(ProviderError::Cancelled {
                provider: provider.clone(),
            })],
            Ok(Generated::Done {
                output,
                usage,
                hit_limit,
                streamed,
                ..
            }) => {
                let (reply, reason) = parse_reply(&output, 0);
                let finish_reason = if hit_limit {
                    FinishReason::Length
                } else {
                    reason.unwrap_or(FinishReason::Stop)
                };
                let first = match reply {
                    // Cut off mid-answer: what was streamed is all the answer there is.
                    Reply::Answer(_) if streamed > 0 && finish_reason == FinishReason::Length => {
                        None
                    }
                    Reply::Answer(text) => {
                        let rest: String = text.chars().skip(streamed).collect();
                        (!rest.is_empty()).then_some(Event::TextDelta(rest))
                    }
                    Reply::Call(call) => Some(Event::ToolCall(call)),
                };
                first
                    .into_iter()
                    .map(Ok)
                    .chain([Ok(Event::Usage(usage)), Ok(Event::Done { finish_reason })])
                    .collect()
            }
            Err(detail) => vec![Err(err(detail))],
        };
        for e in events {
            if tx.blocking_send(e).is_err() {
                break;
            }
        }
    });
    Ok(Box::pin(futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
    )))
}

/// Apply the model's chat template to the turns; text that spells a special token inside a turn
/// is broken up first, so file contents cannot open or close turns.
/// The model's fill-in-the-middle tokens (prefix, suffix, middle), from its GGUF vocabulary;
/// `None` when it lacks any of them (then completion is prefix-only).
fn fim_tokens(model: &LlamaModel) -> Option<(LlamaToken, LlamaToken, LlamaToken)> {
    let vocab = model.vocab();
    let (pre, suf, mid) = (vocab.fim_pre(), vocab.fim_suf(), vocab.fim_mid());
    (pre.0 >= 0 && suf.0 >= 0 && mid.0 >= 0).then_some((pre, suf, mid))
}

/// A completion's prompt tokens: the FIM tokens around `prefix` and `suffix` when the vocabulary
/// has them (prefix first, so typing forward keeps the cached prefix), else `prefix` alone.
pub fn fill_tokens(model: &LlamaModel, prefix: &str, suffix: &str) -> Vec<LlamaToken> {
    let vocab = model.vocab();
    match fim_tokens(model) {
        Some((pre, suf, mid)) => {
            let mut t = vec![pre];
            t.extend(vocab.tokenize(prefix.as_bytes(), false, false));
            t.push(suf);
            t.extend(vocab.tokenize(suffix.as_bytes(), false, false));
            t.push(mid);
            t
        }
        None => vocab.tokenize(prefix.as_bytes(), true, false),
    }
}

/// Where `output` must end: the start of the first stop sequence in it, if any.
fn stop_at(output: &[u8], stop: &[String]) -> Option<usize> {
    stop.iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| output.windows(s.len()).position(|w| w == s.as_bytes()))
        .min()
}

/// Inline completion on the in-process model: FIM when the vocabulary has the tokens, else the
/// prefix alone; greedy, unconstrained, ended by `req.stop`, and cancelled within one token (the
/// worker checks `cancel` before every token). The KV cache keeps the shared prefix, so typing
/// forward decodes only what is new.
pub(crate) async fn fill(
    local: &LocalModel,
    cfg: &ResolvedProvider,
    req: &FillRequest,
    cancel: &CancelToken,
) -> Result<FillResponse, ProviderError> {
    let loaded = local.load(&cfg.name).await?;
    let provider = cfg.name.clone();
    let err = |detail: String| ProviderError::LocalModel {
        provider: provider.clone(),
        detail,
    };
    // The worker treats a closed event channel as a cancel, so the receiver lives until the end.
    let (tx, _rx) = mpsc::channel::<Result<Event, ProviderError>>(1);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let ahead = req.first_item_ms.map(|_| Ahead::default());
    let job = Job {
        prompt: Prompt::Fill {
            prefix: req.prompt(),
            suffix: req.suffix.clone(),
        },
        gbnf: None,
        stop: req.stop.clone(),
        until: req.until,
        first_item: req
            .first_item_ms
            .map(|ms| Duration::from_millis(u64::from(ms))),
        ahead: ahead.clone(),
        queued: Instant::now(),
        max_tokens: req.max_tokens.max(1),
        temperature: 0.0,
        cancel: cancel.clone(),
        tx,
        done: done_tx,
    };
    loaded
        .jobs
        .lock()
        .map_err(|_| "model queue lock poisoned".to_string())
        .and_then(|q| {
            q.send(job)
                .map_err(|_| "the model thread has stopped".to_string())
        })
        .map_err(err)?;
    let result = tokio::task::spawn_blocking(move || {
        done_rx
            .recv()
            .unwrap_or_else(|_| Err("the model thread stopped mid-request".into()))
    })
    .await
    .map_err(|e| err(format!("waiting for the model: {e}")))?;
    match result.map_err(err)? {
        Generated::Cancelled => Err(ProviderError::Cancelled { provider }),
        Generated::Done {
            output,
            usage,
            stats,
            ..
        } => Ok(FillResponse {
            text: output,
            usage,
            via: if loaded.fim {
                FillVia::LocalFim
            } else {
                FillVia::LocalPrefix
            },
            ahead: ahead.filter(|_| stats.early),
            stats: Some(stats),
        }),
    }
}

/// Where a completion that has started repeating itself should end (after the first of the
/// repeats): the same few characters four times at its end (`_listing_listing_listing_listing`),
/// or the same line three times, ignoring indentation. A small model loops like this instead of
/// ending; the loop is never what the user wants, and generating it costs time.
fn fill_repeats(output: &str) -> Option<usize> {
    let b = output.as_bytes();
    for unit in 3..=16 {
        if b.len() < unit * 4 {
            break;
        }
        let tail = &b[b.len() - unit * 4..];
        let first = &tail[..unit];
        // A rule of `=` or `-` in a comment is not a loop.
        if first.iter().any(u8::is_ascii_alphanumeric)
            && tail.chunks(unit).all(|c| c == first)
            && output.is_char_boundary(b.len() - unit * 3)
        {
            return Some(b.len() - unit * 3);
        }
    }
    // Whole lines: the last three complete ones, indentation aside.
    let complete = &output[..output.rfind('\n')?];
    let mut lines = complete.rsplit('\n');
    let (c, bb, a) = (lines.next()?, lines.next()?, lines.next()?);
    let t = str::trim;
    if t(a).len() >= 8 && t(a) == t(bb) && t(bb) == t(c) {
        // Cut after the first of them.
        return Some(complete.len() - c.len() - bb.len() - 2);
    }
    None
}

/// Where the complete lines of `output` end, for an early answer: its last line end after some
/// visible text, unless that line leaves something open (a block header, an unfinished
/// expression, an argument list that goes on), which an item cannot end on. A line ending in `,`
/// with its brackets balanced (an element of a list) can.
fn last_line_end(output: &[u8]) -> Option<usize> {
    let cut = output.iter().rposition(|&b| b == b'\n')?;
    let text = output[..cut].trim_ascii_end();
    let last = *text.last()?;
    let line = &text[text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
    let depth: i64 = line
        .iter()
        .map(|b| match b {
            b'(' | b'[' | b'{' => 1,
            b')' | b']' | b'}' => -1,
            _ => 0,
        })
        .sum();
    let open = b":{([\\=+-*/|&<>.".contains(&last) || (last == b',' && depth > 0);
    (!open).then_some(cut)
}

fn apply_template(model: &LlamaModel, turns: &[Turn]) -> Result<String, String> {
    let template = model
        .chat_template(None)
        .map_err(|e| format!("reading the chat template: {e}"))?;
    let messages = turns
        .iter()
        .map(|t| {
            let content = t
                .content
                .replace("<|", "< |")
                .replace("<start_of_turn>", "< start_of_turn>")
                .replace("<end_of_turn>", "< end_of_turn>")
                .replace('\0', "");
            LlamaChatMessage::new(t.role.to_string(), content)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("chat message: {e}"))?;
    model
        .apply_chat_template(&template, &messages, true)
        .map_err(|e| format!("applying the chat template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{fill_repeats, last_line_end};

    #[test]
    fn a_completion_that_loops_is_cut_after_its_first_repeat() {
        let text = "print_help_listing_listing_listing_listing";
        assert_eq!(fill_repeats(text), Some("print_help_listing".len()));
        assert_eq!(
            fill_repeats("x = data.data.data.data."),
            Some("x = data.".len())
        );
        // The same line three times, whatever its indentation.
        let lines = "a()\n\treturn () => {\n\t\treturn () => {\n\t\t\treturn () => {\n\t\t\t\t";
        assert_eq!(fill_repeats(lines), Some("a()\n\treturn () => {".len()));
        // Not a loop: a rule in a comment, short repeated lines, ordinary code.
        assert_eq!(fill_repeats("# ================"), None);
        assert_eq!(fill_repeats("}\n}\n}\n"), None);
        assert_eq!(fill_repeats("let a = b + c;\nlet d = a * 2;\n"), None);
        assert_eq!(fill_repeats("é"), None);
    }

    #[test]
    fn an_early_answer_ends_on_a_complete_line_that_closes_what_it_opened() {
        assert_eq!(last_line_end(b"return x\n    y"), Some(8));
        assert_eq!(last_line_end(b"a = 1\nb = 2\nc"), Some(11));
        // No line yet, only blank lines, or a last line that leaves something open.
        assert_eq!(last_line_end(b"return x"), None);
        assert_eq!(last_line_end(b"\n   \n"), None);
        assert_eq!(last_line_end(b"for x in y:\n"), None);
        assert_eq!(last_line_end(b"if (a &&\n"), None);
        assert_eq!(last_line_end(b"foo(a,\n"), None);
        // An element of a list is a line of its own.
        assert_eq!(last_line_end(b"(&[\"a\"], &[\"b\"]),\n"), Some(17));
        assert_eq!(last_line_end(b"x = 1\nfn f() {\n"), None);
    }
}
