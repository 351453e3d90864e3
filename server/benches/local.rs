//! The in-process local model against llama.cpp's own decode loop, on the same GGUF, same
//! libraries, interleaved in the same run (needs `--features local-llm` and the default model, or
//! `$JINGU_LOCAL_MODEL`).
//!
//! - decode: tokens per second after the first token, through Jingu's provider (grammar, streaming,
//!   session context) versus llama-cpp-2's plain greedy loop (a fresh context, no grammar) on the
//!   same prompt and token count. Target ≥ 0.9×.
//! - prefix reuse: a two-step agent-like conversation through the provider; the share of step 2's
//!   prompt that had to be decoded again (target ≤ 10%).
//!
//! `JINGU_BENCH_QUICK=1` runs fewer rounds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jingu_providers::{
    CancelToken, ChatRequest, Event, Message, Provider, ProvidersConfig, ToolArguments, ToolCall,
};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;

const TOKENS: u32 = 48;

fn prompt_request() -> ChatRequest {
    ChatRequest {
        system: Some("You are a helpful assistant. Answer in full sentences.".into()),
        messages: vec![Message::user(
            "Explain in a long paragraph what an inventory module in a shop does, how items are \
             restocked from orders, and why totals matter.",
        )],
        max_tokens: Some(TOKENS),
        temperature: Some(0.0),
        ..ChatRequest::default()
    }
}

/// Jingu: decode rate after the first streamed token, and how many tokens were generated.
async fn jingu_decode(provider: &Provider, req: &ChatRequest) -> (f64, u64) {
    let mut stream = provider
        .stream(req, &CancelToken::new())
        .await
        .expect("local stream");
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    let mut tokens = 0;
    while let Some(ev) = stream.next().await {
        match ev.expect("event") {
            Event::TextDelta(_) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
            }
            Event::Usage(u) => tokens = u.output_tokens,
            _ => {}
        }
    }
    let first = first.expect("streamed text");
    // Deltas can carry several tokens; the span from first to last covers tokens - 1 steps.
    let secs = last.duration_since(first).as_secs_f64().max(1e-9);
    ((tokens.saturating_sub(1)) as f64 / secs, tokens)
}

/// llama.cpp's simple loop: a fresh context, decode the prompt, greedy-sample `n` tokens.
fn llama_decode(model: &LlamaModel, prompt: &str, n: u32, threads: i32) -> f64 {
    let backend = jingu_providers::llama_backend().expect("backend");
    let tokens = model.vocab().tokenize(prompt.as_bytes(), true, false);
    let ctx_len = tokens.len() as u32 + n + 8;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(ctx_len))
        .with_n_batch(ctx_len)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model.new_context(backend, params).expect("context");
    let mut batch = LlamaBatch::new(ctx_len as usize, 1);
    for (i, t) in tokens.iter().enumerate() {
        batch
            .add(*t, i as i32, &[0], i + 1 == tokens.len())
            .expect("batch");
    }
    ctx.decode(&mut batch).expect("prompt");
    let mut sampler = LlamaSampler::greedy();
    let mut pos = tokens.len() as i32;
    let mut first = None;
    let mut generated = 0u32;
    while generated < n {
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        sampler.accept(token);
        first.get_or_insert_with(Instant::now);
        generated += 1;
        batch.clear();
        batch.add(token, pos, &[0], true).expect("batch");
        pos += 1;
        ctx.decode(&mut batch).expect("decode");
    }
    let secs = first
        .map_or(Duration::ZERO, |f| f.elapsed())
        .as_secs_f64()
        .max(1e-9);
    // `generated` decodes after the first sample; count the same steps as the Jingu side.
    f64::from(generated - 1) / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let quick = jingu_benches::quick();
    let rounds = if quick { 3 } else { 9 };
    let path = jingu_providers::default_local_model_path();
    assert!(
        path.is_file(),
        "bench local: model {} not found (scripts/install-local-model.sh, or set JINGU_LOCAL_MODEL)",
        path.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = ProvidersConfig::default().resolve("local").expect("local");
    let provider = Provider::new(cfg).expect("provider");
    let model = LlamaModel::load_from_file(
        jingu_providers::llama_backend().expect("backend"),
        &path,
        &LlamaModelParams::default(),
    )
    .expect("model");
    let threads = jingu_providers::local_decode_threads();
    let req = prompt_request();
    let prompt = jingu_providers::local_prompt::render_prompt(&req);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    runtime.block_on(jingu_decode(&provider, &req)); // load and warm up
    for _ in 0..rounds {
        // Jingu generates what the grammar allows (an answer may end early): compare equal counts.
        let (rate, n) = runtime.block_on(jingu_decode(&provider, &req));
        ours.push(rate);
        theirs.push(llama_decode(&model, &prompt, n.max(2) as u32, threads));
    }
    let (o, t) = (median(ours), median(theirs));
    println!(
        "local decode ({}, {threads} threads): jingu {o:.1} tok/s, llama.cpp loop {t:.1} tok/s, ratio {:.2}x (target >= 0.9x)",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        o / t
    );

    // Prefix reuse over an agent-like conversation: step 2 re-sends step 1, the model's own reply
    // to it (as the agent loop does) and a tool result. Only the template around the reply and
    // the tool result are new; a reply the model never wrote would make the bench measure a
    // divergence the agent never has.
    let mut step = ChatRequest {
        system: Some(jingu_core::agent::prompt::SYSTEM.into()),
        messages: vec![Message::user("Instruction: Add a docstring to restock")],
        tools: jingu_core::agent::tools::specs(jingu_core::agent::tools::ALL),
        max_tokens: Some(96),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let first = runtime
        .block_on(async {
            jingu_providers::collect(
                provider
                    .stream(&step, &CancelToken::new())
                    .await
                    .expect("step 1"),
            )
            .await
        })
        .expect("step 1 reply");
    let call = first
        .tool_calls
        .first()
        .cloned()
        .unwrap_or_else(|| ToolCall {
            id: "call_0".into(),
            name: "read_symbol".into(),
            arguments: ToolArguments::Json(
                serde_json::json!({"path": "inventory.py", "name_path": "restock"}),
            ),
        });
    let own = if first.tool_calls.is_empty() {
        "a fixed call (the model answered)"
    } else {
        "the model's own call"
    };
    step.messages.push(Message::Assistant {
        content: String::new(),
        tool_calls: vec![call.clone()],
    });
    step.messages.push(Message::tool_result(
        &call,
        "inventory.py:22-25 function restock\n22 def restock(inventory, orders):\n23     for sku, count in orders:\n24         inventory.add(sku, count)\n25     return inventory.total()",
    ));
    runtime.block_on(async {
        let _ = jingu_providers::collect(
            provider
                .stream(&step, &CancelToken::new())
                .await
                .expect("step 2"),
        )
        .await;
    });
    let (prompt_tokens, reused) = provider.local_prompt_stats().expect("stats");
    println!(
        "local prefix reuse: step 2 (after {own} `{}`) re-decoded {} of {prompt_tokens} prompt tokens ({:.1}%, target <= 10%)",
        call.name,
        prompt_tokens - reused,
        100.0 * (prompt_tokens - reused) as f64 / prompt_tokens as f64
    );
}
