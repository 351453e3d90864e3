//! Inline completion under the session's policy: `tools.complete` and `deny_paths` decide whether
//! a file may be completed and which files may lend context, the text is redacted before a hosted
//! provider sees it, and an accepted item is one audit record (requests that were superseded,
//! cancelled or timed out are counted and the counts go into the next record). Front ends call
//! [`Session::complete`] and [`Session::accept_completion`], never a provider.
//!
//! Latency: the provider is built once per session and kept warm (the local model keeps its KV
//! cache across requests, so typing forward re-decodes only the new tokens); a newer request for
//! the same file cancels the older one (the local model stops within one token); typing into a
//! shown completion is answered from it without a model call; recent answers are cached; past
//! `deadline_ms` the answer is empty.

pub mod shape;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jingu_audit::RecordKind;
use jingu_index::Index;
use jingu_policy::redact::Redactor;
use jingu_policy::{Decision, Tool};
use jingu_providers::{
    Ahead, CancelToken, FillRequest, FillStats, FillVia, Kind, Provider, ProviderError,
};
use jingu_syntax::Language;
use serde_json::json;

use crate::ops::{Run, Session};

/// Recent answers kept for the same prompt.
const LRU_CAPACITY: usize = 128;
/// Items remembered for `accept_completion`.
const ISSUED_CAPACITY: usize = 256;
/// Referenced symbols looked up in the index per request.
const MAX_REFERENCED: usize = 12;
/// Other files read for their signatures per request.
const MAX_CONTEXT_FILES: usize = 8;
/// Lines a multi-line item may have: generation stops there (the editor shows a few lines).
const MAX_ITEM_LINES: u32 = 12;

/// One request: the document as the editor has it and the cursor's byte offset in it.
#[derive(Clone)]
pub struct CompletionRequest {
    /// Workspace-relative (or absolute inside the workspace) path of the document.
    pub path: String,
    pub text: String,
    pub offset: usize,
    pub language: Option<Language>,
    /// The workspace index, for the signatures of referenced symbols.
    pub index: Option<Arc<Index>>,
}

/// An item to show: `text` is inserted at the request's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    /// Pass to [`Session::accept_completion`] when the user accepts it.
    pub id: String,
    pub text: String,
}

/// Why the answer is empty, when it is (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    Superseded,
    Cancelled,
    TimedOut,
    /// The model's text did not fit (nothing left after shaping).
    NothingFits,
    /// Completion is switched off for this language.
    LanguageOff,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionOutcome {
    Items(Vec<CompletionItem>),
    Empty(Empty),
}

#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error("completion refused: {0}")]
    Denied(String),
    /// The configured provider cannot be used (not allowed, not built in, no key…).
    #[error("completion provider unavailable: {0}")]
    Unavailable(String),
    #[error("completion failed: {0}")]
    Provider(#[from] ProviderError),
    #[error("no completion item `{0}` was issued by this session (or it is too old)")]
    UnknownItem(String),
    #[error(transparent)]
    Ops(#[from] crate::ops::OpsError),
    #[error("cannot audit the accepted completion: {0}")]
    Audit(#[from] jingu_audit::AuditError),
}

/// A model call, as [`Session::take_last_completion_call`] reports it.
#[derive(Debug, Clone)]
pub struct LastCall {
    pub request: FillRequest,
    pub stats: Option<FillStats>,
    /// After an early answer: the lines the model is generating ahead.
    pub ahead: Option<Ahead>,
}

/// Counts since the last audit record.
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    superseded: AtomicU64,
    cancelled: AtomicU64,
    timed_out: AtomicU64,
    cache_hits: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    fn take(&self) -> serde_json::Value {
        let t = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        json!({
            "requests": t(&self.requests),
            "superseded": t(&self.superseded),
            "cancelled": t(&self.cancelled),
            "timed_out": t(&self.timed_out),
            "cache_hits": t(&self.cache_hits),
            "failed": t(&self.failed),
        })
    }
}

struct Issued {
    id: String,
    path: String,
    provider: String,
    model: String,
    via: FillVia,
    text: String,
    redactions: usize,
}

/// The last answer per file, to serve typing forward into it.
struct Shown {
    prefix_len: usize,
    prefix_hash: u64,
    suffix_hash: u64,
    text: String,
    /// The model's text that `text` was shaped from, and, after an early answer, the lines it is
    /// generating ahead (from byte `.1` of the ahead text on): together the item's continuation,
    /// served when the user has typed or accepted all of `text`.
    raw: String,
    ahead: Option<(Ahead, usize)>,
    provider: String,
    model: String,
    via: FillVia,
}

impl Shown {
    fn new(
        prefix: &str,
        suffix_hash: u64,
        text: &str,
        raw: String,
        ahead: Option<(Ahead, usize)>,
    ) -> Self {
        Self {
            prefix_len: prefix.len(),
            prefix_hash: shape::hash_of(&[prefix]),
            suffix_hash,
            text: text.to_string(),
            raw,
            ahead,
            provider: String::new(),
            model: String::new(),
            via: FillVia::LocalPrefix,
        }
    }

    /// Where the item came from.
    fn by(self, provider: &str, model: &str, via: FillVia) -> Self {
        Self {
            provider: provider.to_string(),
            model: model.to_string(),
            via,
            ..self
        }
    }

    /// What follows `typed` (text the user added at the shown prefix) in the model's whole text,
    /// with the lines generated ahead since: `None` unless `typed` is where that text began.
    fn continuation(&self, typed: &str) -> Option<(String, Option<(Ahead, usize)>)> {
        let (ahead, skip) = self.ahead.as_ref()?;
        let (more, done) = ahead.snapshot();
        // Only complete lines while the model is still writing.
        let upto = if done {
            more.len()
        } else {
            more.rfind('\n').unwrap_or(0)
        };
        let more = more.get(*skip..upto.max(*skip)).unwrap_or("");
        // Shaping drops the indentation a model repeats at an indented cursor.
        let raw = if self.text.starts_with([' ', '\t']) {
            &self.raw
        } else {
            self.raw.trim_start_matches([' ', '\t'])
        };
        let whole = format!("{raw}{more}");
        let rest = whole.strip_prefix(typed)?;
        Some((rest.to_string(), Some((ahead.clone(), skip + more.len()))))
    }
}

/// The index context last sent for a file and what it was computed for: it is kept while the
/// cursor stays in the same definition and the prompt window starts at the same place, so the
/// prompt's beginning — and the model's KV cache of it — stays valid while typing.
struct Context {
    key: u64,
    block: String,
}

/// Per-session completion state (inside [`Session`]).
#[derive(Default)]
pub(crate) struct State {
    /// When the last request per path arrived: only a request that follows another within
    /// `debounce_ms` (a burst of keystrokes) waits.
    arrived: Mutex<HashMap<String, Instant>>,
    contexts: Mutex<HashMap<String, Context>>,
    /// The last model call's request and what it cost (local model), for the benchmark.
    last_call: Mutex<Option<LastCall>>,
    provider: OnceLock<Result<Provider, String>>,
    redactor: Mutex<Option<Redactor>>,
    counters: Counters,
    next_id: AtomicU64,
    /// Latest request per path: its generation and cancel token (a newer one cancels it).
    latest: Mutex<HashMap<String, (u64, CancelToken)>>,
    shown: Mutex<HashMap<String, Shown>>,
    lru: Mutex<VecDeque<(u64, String)>>,
    issued: Mutex<VecDeque<Issued>>,
    run: Mutex<Option<Run>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Cancels the request's token when the request goes away (`$/cancelRequest` drops the future).
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Session {
    /// The warm provider for completion, built on first use.
    fn completion_provider(&self) -> Result<&Provider, CompleteError> {
        let built = self.completion.provider.get_or_init(|| {
            let name = &self.policy.completion.provider;
            self.policy.check_provider(name)?;
            let config = crate::agent::providers_config(&self.policy).map_err(|e| e.to_string())?;
            config
                .resolve(name)
                .and_then(Provider::new)
                .map_err(|e| e.to_string())
        });
        built
            .as_ref()
            .map_err(|e| CompleteError::Unavailable(e.clone()))
    }

    /// Whether completion is allowed in `raw` (confined, not in `deny_paths`, `tools.complete`).
    fn completion_path(&self, raw: &str) -> Result<String, CompleteError> {
        let rel = self
            .workspace
            .confine_for_tool(raw, &self.policy, jingu_fs::workspace::Access::Read)
            .map_err(|e| CompleteError::Denied(e.to_string()))?;
        match self.policy.decide(Tool::Complete, Some(&rel)) {
            Decision::Allow => Ok(rel),
            Decision::Ask => Err(CompleteError::Denied(
                "tools.complete must be allow or deny".into(),
            )),
            Decision::Deny(reason) => Err(CompleteError::Denied(reason)),
        }
    }

    /// The request the last model call was sent, where the local model's time went on it and
    /// what it is generating ahead; taken, so `None` means no completion called the model since
    /// the last take (cache hits).
    pub fn take_last_completion_call(&self) -> Option<LastCall> {
        lock(&self.completion.last_call).take()
    }

    /// Complete at the request's cursor. A newer request for the same file supersedes this one
    /// (a request following another within `debounce_ms` waits that long first, so a burst of
    /// keystrokes asks the model once; a lone request goes at once).
    pub async fn complete(
        &self,
        req: CompletionRequest,
        cancel: &CancelToken,
    ) -> Result<CompletionOutcome, CompleteError> {
        let st = &self.completion;
        let settings = self.policy.completion.clone();
        st.counters.requests.fetch_add(1, Ordering::Relaxed);
        let rel = self.completion_path(&req.path)?;
        if let Some(lang) = req.language
            && !settings.language_enabled(lang.name())
        {
            return Ok(CompletionOutcome::Empty(Empty::LanguageOff));
        }
        if !settings.enabled {
            return Ok(CompletionOutcome::Empty(Empty::LanguageOff));
        }
        let provider = self.completion_provider()?;
        // Supersede the previous request for this file, cancelling its decode.
        let mine = CancelToken::new();
        let _guard = CancelOnDrop(mine.clone());
        let generation = st.next_id.fetch_add(1, Ordering::Relaxed);
        if let Some((_, older)) = lock(&st.latest).insert(rel.clone(), (generation, mine.clone())) {
            older.cancel();
        }
        let superseded = || {
            lock(&st.latest)
                .get(&rel)
                .is_some_and(|(g, _)| *g != generation)
        };
        let arrived = Instant::now();
        let burst = lock(&st.arrived)
            .insert(rel.clone(), arrived)
            .is_some_and(|prev| {
                arrived.duration_since(prev) < Duration::from_millis(settings.debounce_ms)
            });
        let offset = req.offset.min(req.text.len());
        let local = provider.settings().kind == Kind::Local;
        let budget = settings.context_tokens(local) as usize * shape::CHARS_PER_TOKEN;
        // The window's start moves in steps from the cursor's line start, so typing keeps it.
        let win = shape::window(&req.text, offset, budget / 2, budget / 5);
        let suffix_hash = shape::hash_of(&[win.suffix]);

        // Typing forward into the shown completion, or past it into the lines the model went on
        // generating: no model call.
        let prefix = &req.text[..offset];
        let suffix = &req.text[offset..];
        let forward = lock(&st.shown).get(&rel).and_then(|s| {
            if s.suffix_hash != suffix_hash {
                return None;
            }
            let meta = (s.provider.clone(), s.model.clone(), s.via);
            if let Some(rest) = shape::forward(s.prefix_len, s.prefix_hash, &s.text, prefix) {
                return Some((rest.to_string(), None, meta));
            }
            let typed = shape::typed_since(s.prefix_len, s.prefix_hash, prefix)?;
            let (rest, ahead) = s.continuation(typed)?;
            Some((rest, Some(ahead), meta))
        });
        if let Some((rest, ahead, (provider_name, model, via))) = forward {
            // A continuation is raw model text: shaped like any answer.
            let text = match &ahead {
                None => Some(rest.clone()),
                Some(_) => shape::shape(req.language, prefix, &rest, suffix),
            };
            if let Some(text) = text {
                st.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                if let Some(ahead) = ahead {
                    let shown = Shown::new(prefix, suffix_hash, &text, rest, ahead);
                    lock(&st.shown).insert(rel.clone(), shown.by(&provider_name, &model, via));
                }
                let item = self.issue(&rel, &provider_name, &model, via, &text, 0);
                return Ok(CompletionOutcome::Items(vec![item]));
            }
        }

        if settings.debounce_ms > 0 && burst {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(settings.debounce_ms)) => {}
                () = cancel.cancelled() => {
                    st.counters.cancelled.fetch_add(1, Ordering::Relaxed);
                    return Ok(CompletionOutcome::Empty(Empty::Cancelled));
                }
            }
            if superseded() {
                st.counters.superseded.fetch_add(1, Ordering::Relaxed);
                return Ok(CompletionOutcome::Empty(Empty::Superseded));
            }
        }

        let window_start = offset - win.prefix.len();
        let context = self
            .completion_context(&rel, &req, offset, window_start, budget / 5)
            .await;
        let hosted = !local;
        let mut fill = FillRequest {
            context,
            prefix: win.prefix.to_string(),
            suffix: win.suffix.to_string(),
            max_tokens: settings.max_tokens,
            stop: Vec::new(),
            until: shape::until(req.language, win.prefix, win.suffix, MAX_ITEM_LINES),
            first_item_ms: (settings.first_item_ms > 0)
                .then(|| u32::try_from(settings.first_item_ms).unwrap_or(u32::MAX)),
        };
        let mut redactions = 0;
        if hosted {
            // Nothing leaves the machine unredacted.
            let mut guard = lock(&st.redactor);
            let redactor = guard.get_or_insert_with(|| {
                Redactor::with_known(&self.policy.known_secrets(
                    &self.workspace.root,
                    std::env::vars(),
                    jingu_sandbox::is_secret_name,
                ))
            });
            for text in [&mut fill.context, &mut fill.prefix, &mut fill.suffix] {
                let r = self.policy.outbound(redactor, text);
                redactions += r.count;
                *text = r.text;
            }
        }
        let key = shape::hash_of(&[provider.name(), &fill.context, &fill.prefix, &fill.suffix]);
        let cached = lock(&st.lru)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t.clone());
        let (raw, via, ahead) = match cached {
            Some(text) => {
                st.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                (text, FillVia::Completions, None)
            }
            None => {
                let started = Instant::now();
                let deadline = Duration::from_millis(settings.deadline_ms);
                let call = provider.fill(&fill, &mine);
                let result = tokio::select! {
                    r = tokio::time::timeout(deadline, call) => r,
                    () = cancel.cancelled() => {
                        mine.cancel();
                        st.counters.cancelled.fetch_add(1, Ordering::Relaxed);
                        return Ok(CompletionOutcome::Empty(Empty::Cancelled));
                    }
                };
                let response = match result {
                    Err(_) => {
                        mine.cancel();
                        st.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                        return Ok(CompletionOutcome::Empty(Empty::TimedOut));
                    }
                    Ok(Err(ProviderError::Cancelled { .. })) => {
                        let counter = if superseded() {
                            &st.counters.superseded
                        } else {
                            &st.counters.cancelled
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        return Ok(CompletionOutcome::Empty(if superseded() {
                            Empty::Superseded
                        } else {
                            Empty::Cancelled
                        }));
                    }
                    Ok(Err(e)) => {
                        st.counters.failed.fetch_add(1, Ordering::Relaxed);
                        return Err(e.into());
                    }
                    Ok(Ok(r)) => r,
                };
                let s = response.stats.unwrap_or_default();
                tracing::debug!(
                    via = ?response.via,
                    until = ?fill.until,
                    debounced = burst,
                    prompt_tokens = s.prompt_tokens,
                    reused = s.reused,
                    decoded = s.prompt_tokens - s.reused.min(s.prompt_tokens),
                    generated = s.generated,
                    queued_ms = s.queued.as_secs_f64() * 1e3,
                    prompt_ms = s.prompt.as_secs_f64() * 1e3,
                    generate_ms = s.generate.as_secs_f64() * 1e3,
                    sampling_ms = s.sampling.as_secs_f64() * 1e3,
                    stopped_at_end = s.stopped_at_end,
                    "completion in {:?}",
                    started.elapsed()
                );
                *lock(&st.last_call) = Some(LastCall {
                    request: fill.clone(),
                    stats: response.stats,
                    ahead: response.ahead.clone(),
                });
                let mut lru = lock(&st.lru);
                if lru.len() >= LRU_CAPACITY {
                    lru.pop_front();
                }
                lru.push_back((key, response.text.clone()));
                (response.text, response.via, response.ahead)
            }
        };
        if superseded() {
            st.counters.superseded.fetch_add(1, Ordering::Relaxed);
            return Ok(CompletionOutcome::Empty(Empty::Superseded));
        }
        let Some(text) = shape::shape(req.language, prefix, &raw, suffix) else {
            return Ok(CompletionOutcome::Empty(Empty::NothingFits));
        };
        let model = provider.settings().model.clone();
        let shown = Shown::new(prefix, suffix_hash, &text, raw, ahead.map(|a| (a, 0)));
        lock(&st.shown).insert(rel.clone(), shown.by(provider.name(), &model, via));
        let item = self.issue(&rel, provider.name(), &model, via, &text, redactions);
        Ok(CompletionOutcome::Items(vec![item]))
    }

    fn issue(
        &self,
        rel: &str,
        provider: &str,
        model: &str,
        via: FillVia,
        text: &str,
        redactions: usize,
    ) -> CompletionItem {
        let id = format!(
            "c{}",
            self.completion.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let mut issued = lock(&self.completion.issued);
        if issued.len() >= ISSUED_CAPACITY {
            issued.pop_front();
        }
        issued.push_back(Issued {
            id: id.clone(),
            path: rel.to_string(),
            provider: provider.to_string(),
            model: model.to_string(),
            via,
            text: text.to_string(),
            redactions,
        });
        CompletionItem {
            id,
            text: text.to_string(),
        }
    }

    /// Signatures of the enclosing symbol and of symbols the code before the cursor names, from
    /// files `deny_paths` allows, as comment lines within `budget_chars`. The block is computed
    /// once per enclosing definition and window start and then kept (see [`Context`]): names
    /// typed since then do not change it, which would make the model decode the prompt again.
    async fn completion_context(
        &self,
        rel: &str,
        req: &CompletionRequest,
        offset: usize,
        window_start: usize,
        budget_chars: usize,
    ) -> String {
        let Some(language) = req.language else {
            return String::new();
        };
        // The file without what the cursor's line has so far: half-typed code (`cmd.E`) can
        // break the parse and lose or change the enclosing definition, which would change the
        // block — and the model's KV cache of the prompt — at every keystroke.
        let line_start = req.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let stable = format!("{}{}", &req.text[..line_start], &req.text[offset..]);
        let mine = jingu_syntax::file_symbols(language, &stable);
        let enclosing = shape::enclosing(&mine, line_start);
        let key = shape::hash_of(&[
            enclosing.map_or("", |s| s.name.as_str()),
            &enclosing.map_or(0, |s| s.range.start).to_string(),
            &window_start.to_string(),
            &budget_chars.to_string(),
        ]);
        if let Some(c) = lock(&self.completion.contexts).get(rel)
            && c.key == key
        {
            return c.block.clone();
        }
        let block = self
            .fresh_context(
                rel,
                req,
                &stable,
                &mine,
                enclosing,
                offset,
                budget_chars,
                language,
            )
            .await;
        lock(&self.completion.contexts).insert(
            rel.to_string(),
            Context {
                key,
                block: block.clone(),
            },
        );
        block
    }

    #[allow(clippy::too_many_arguments)] // the pieces of one request, computed once by the caller
    async fn fresh_context(
        &self,
        rel: &str,
        req: &CompletionRequest,
        stable: &str,
        mine: &jingu_syntax::FileSymbols,
        enclosing: Option<&jingu_syntax::Symbol>,
        offset: usize,
        budget_chars: usize,
        language: Language,
    ) -> String {
        let mut signatures = Vec::new();
        // The enclosing definition and the lines just above it (imports, the previous function).
        let mut scope_start = offset.saturating_sub(1500);
        if let Some(s) = enclosing {
            scope_start = scope_start.min(s.range.start);
        }
        while !req.text.is_char_boundary(scope_start) {
            scope_start -= 1;
        }
        if let Some(sym) = enclosing {
            signatures.push(shape::signature(stable, sym));
        }
        let names = shape::referenced_names(
            req.text.get(scope_start..offset).unwrap_or(""),
            MAX_REFERENCED,
        );
        let mut wanted: Vec<(String, jingu_syntax::Symbol)> = Vec::new();
        for name in &names {
            if let Some(sym) = mine.symbols.iter().find(|s| &s.name == name) {
                if enclosing.is_none_or(|e| e.range != sym.range) {
                    signatures.push(shape::signature(stable, sym));
                }
                continue;
            }
            if let Some(index) = &req.index
                && let Some(hit) = index
                    .lookup(name)
                    .into_iter()
                    .find(|(path, s)| path != rel && &s.name == name)
            {
                wanted.push(hit);
            }
        }
        // Other files' text off the async runtime; each path confined and checked against
        // deny_paths like every read, so a denied file never lends context.
        let mut files: Vec<String> = wanted.iter().map(|(p, _)| p.clone()).collect();
        files.dedup();
        files.truncate(MAX_CONTEXT_FILES);
        let workspace = self.workspace.clone();
        let policy = self.policy.clone();
        let texts = tokio::task::spawn_blocking(move || {
            files
                .into_iter()
                .filter_map(|p| {
                    let rel = workspace
                        .confine_for_tool(&p, &policy, jingu_fs::workspace::Access::Read)
                        .ok()?;
                    if !matches!(policy.decide(Tool::Complete, Some(&rel)), Decision::Allow) {
                        return None;
                    }
                    let text = jingu_index::read_source(&workspace.abs(&rel)).ok()?;
                    Some((p, text))
                })
                .collect::<HashMap<String, String>>()
        })
        .await
        .unwrap_or_default();
        for (path, sym) in &wanted {
            if let Some(text) = texts.get(path) {
                signatures.push(shape::signature(text, sym));
            }
        }
        signatures.retain(|s| !s.is_empty());
        shape::context_block(language, &signatures, budget_chars)
    }

    /// The user accepted item `id`: one audit record, carrying the counts of requests since the
    /// previous record (superseded, cancelled and timed-out ones are not logged one by one).
    pub fn accept_completion(&self, id: &str) -> Result<(), CompleteError> {
        self.identity
            .check_current()
            .map_err(crate::ops::OpsError::from)?;
        let item = {
            let mut issued = lock(&self.completion.issued);
            let at = issued
                .iter()
                .position(|i| i.id == id)
                .ok_or_else(|| CompleteError::UnknownItem(id.to_string()))?;
            issued.remove(at)
        }
        .ok_or_else(|| CompleteError::UnknownItem(id.to_string()))?;
        let mut run = lock(&self.completion.run);
        if run.is_none() {
            *run = Some(self.begin_run(None, "inline completion")?);
        }
        let Some(run) = run.as_ref() else {
            return Err(CompleteError::UnknownItem(id.to_string()));
        };
        run.audit.append(RecordKind::ToolCall {
            tool: Tool::Complete.as_str().to_string(),
            args: json!({
                "path": item.path,
                "provider": item.provider,
                "model": item.model,
                "via": item.via,
                "chars": item.text.chars().count(),
                "lines": item.text.lines().count().max(1),
                "text_version": jingu_realdoc::version::version(item.text.as_bytes()),
                "redactions": item.redactions,
                "since_last_record": self.completion.counters.take(),
            }),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, raw: &str, ahead: &Ahead) -> Shown {
        Shown {
            prefix_len: 0,
            prefix_hash: 0,
            suffix_hash: 0,
            text: text.into(),
            raw: raw.into(),
            ahead: Some((ahead.clone(), 0)),
            provider: "local".into(),
            model: "m".into(),
            via: FillVia::LocalPrefix,
        }
    }

    #[test]
    fn after_an_early_item_is_accepted_the_lines_generated_ahead_follow_it() {
        let ahead = Ahead::default();
        // The model repeated the cursor line's indentation; shaping dropped it.
        let s = shown("x = 1", "  x = 1", &ahead);
        ahead.set("\n    y = 2\n    z = ", false);
        // While the model is still writing, only its complete lines count.
        let (rest, next) = s.continuation("x = 1").expect("continues");
        assert_eq!(rest, "\n    y = 2");
        assert_eq!(
            next.as_ref().map(|(_, skip)| *skip),
            Some("\n    y = 2".len())
        );
        // Typed part of the way in, or off it.
        assert_eq!(
            s.continuation("x = 1\n    y").map(|c| c.0).as_deref(),
            Some(" = 2")
        );
        assert!(s.continuation("x = 2").is_none());
        ahead.set("\n    y = 2\n    z = 3", true);
        assert_eq!(
            s.continuation("x = 1").map(|c| c.0).as_deref(),
            Some("\n    y = 2\n    z = 3")
        );
        // The continuation's own continuation starts where it left off in the ahead text.
        let (rest, next) = s.continuation("x = 1").expect("continues");
        let mut then = shown(&rest, &rest, &ahead);
        then.ahead = next;
        assert_eq!(then.continuation(&rest).map(|c| c.0).as_deref(), Some(""));
        // Nothing generated ahead: nothing to continue with.
        let plain = Shown {
            ahead: None,
            ..shown("x = 1", "x = 1", &ahead)
        };
        assert!(plain.continuation("x = 1").is_none());
    }
}
