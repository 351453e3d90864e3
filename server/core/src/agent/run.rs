//! The tool loop: ask the model, validate its tool calls, let the host execute them under policy,
//! return the results to the model as data, until it answers without tools or a limit is reached.
//!
//! The loop knows nothing about editors or terminals: a [`RunHost`] executes tools (with policy,
//! confirmation, snapshots and audit) and shows progress, so the CLI, LSP and ACP share this code.

use std::future::Future;

use futures_util::StreamExt;
use serde::Serialize;

use super::bounded;
use super::tools::{self, ToolRequest};
use crate::ops::{PlanItem, PlanStatus};
use jingu_providers::{
    CancelToken, ChatRequest, Event, FinishReason, Message, Router, ToolCall, ToolChoice, Usage,
};

/// The same failing call (same tool and arguments) this many times in a row ends the run.
pub const MAX_REPEATED_FAILURES: usize = 3;
/// Replies in a row cut off by the token limit (neither a call nor an answer) that end a run.
pub const MAX_CUT_OFF_REPLIES: usize = 2;

#[derive(Debug, Clone)]
pub struct RunInfo {
    pub run_id: String,
    pub step: usize,
}

/// What executing one tool call produced, as the model will read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    pub content: String,
    pub is_error: bool,
    /// Set when the call applied an edit.
    pub edit: Option<AppliedEdit>,
    /// Set when the call was an edit that did not land: refused by policy or the user, or
    /// rejected by validation.
    pub failed_edit: Option<FailedEdit>,
}

impl ToolOutcome {
    pub fn ok(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: false,
            edit: None,
            failed_edit: None,
        }
    }

    pub fn error(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: true,
            edit: None,
            failed_edit: None,
        }
    }
}

/// An edit the model asked for that changed nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedEdit {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedEdit {
    pub path: String,
    pub snapshot_id: String,
}

/// The side of a run that touches the world.
pub trait RunHost: Sync {
    /// Last step before a request leaves the machine (redaction, audit). An error stops the run.
    fn prepare_request(
        &self,
        req: &mut ChatRequest,
        run: &RunInfo,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Execute a validated call: confine paths, decide by policy, confirm, act, snapshot, audit.
    fn execute(
        &self,
        call: &ToolRequest,
        run: &RunInfo,
    ) -> impl Future<Output = ToolOutcome> + Send;
    /// Tokens a request cost (after the fact), for the audit log.
    fn record_usage(&self, _usage: Usage, _run: &RunInfo) {}
    fn progress(&self, _message: &str) {}
    fn reasoning(&self, _delta: &str) {}
    /// The run's steps so far (see [`crate::ops::PlanItem`]).
    fn plan(&self, _items: &[crate::ops::PlanItem]) {}
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub max_steps: usize,
    pub token_budget: u64,
    pub max_tokens_per_turn: Option<u32>,
    pub tools: Vec<&'static str>,
    /// Valid targets, offered to the model as schema `enum`s.
    pub hints: tools::Hints,
    /// Tools of MCP servers offered in this run (`mcp__<server>__<tool>`), set by [`super::ask`].
    pub mcp_tools: Vec<jingu_providers::ToolSpec>,
    /// Earlier turns of a resumed conversation (already compacted), sent before the instruction.
    pub history: Vec<Message>,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            max_steps: 24,
            token_budget: 400_000,
            max_tokens_per_turn: Some(4096),
            tools: tools::ALL.to_vec(),
            hints: tools::Hints::default(),
            mcp_tools: Vec::new(),
            history: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum StopReason {
    Finished,
    StepLimit,
    TokenBudget,
    Cancelled,
    ModelError(String),
    Refused(String),
    /// The model sent the same failing call [`MAX_REPEATED_FAILURES`] times in a row.
    RepeatedFailure(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub summary: String,
    pub edits: Vec<AppliedEdit>,
    /// Edits that were refused or rejected (nothing changed for them).
    pub failed_edits: Vec<FailedEdit>,
    /// Tool calls that did not validate against their schema.
    pub invalid_calls: usize,
    pub steps: usize,
    pub usage: Usage,
    pub stop: StopReason,
    /// This run's messages, from its first user message on (for a saved conversation).
    #[serde(skip)]
    pub messages: Vec<Message>,
    /// What the user must be told with the run: bulk changes, refused data flows.
    pub flags: Vec<String>,
}

/// Run the loop for one instruction. `context` is the initial, symbol-addressed context.
pub async fn run<H: RunHost>(
    host: &H,
    model: &Router,
    run_id: String,
    system: String,
    first_message: String,
    cfg: &RunConfig,
    cancel: CancelToken,
) -> RunOutcome {
    let mut messages = cfg.history.clone();
    let first = messages.len();
    messages.push(Message::user(first_message));
    let mut outcome = RunOutcome {
        run_id: run_id.clone(),
        summary: String::new(),
        edits: Vec::new(),
        failed_edits: Vec::new(),
        invalid_calls: 0,
        steps: 0,
        usage: Usage::default(),
        stop: StopReason::Finished,
        messages: Vec::new(),
        flags: Vec::new(),
    };
    let mut specs = tools::specs_with(&cfg.tools, &cfg.hints);
    specs.extend(cfg.mcp_tools.iter().cloned());
    // The last failing call (tool and arguments) and how many times in a row it was sent.
    let mut last_failure: Option<(String, String, usize)> = None;
    // The last call that succeeded, and how often it has been sent again since.
    let mut last_success: Option<(String, String)> = None;
    let mut repeats = 0usize;
    // Replies cut off by the token limit, in a row.
    let mut cut_offs = 0usize;
    let mut plan: Vec<PlanItem> = Vec::new();
    'steps: loop {
        if cancel.is_cancelled() {
            outcome.stop = StopReason::Cancelled;
            break;
        }
        if outcome.steps >= cfg.max_steps {
            outcome.stop = StopReason::StepLimit;
            break;
        }
        if outcome.usage.input_tokens + outcome.usage.output_tokens >= cfg.token_budget {
            outcome.stop = StopReason::TokenBudget;
            break;
        }
        outcome.steps += 1;
        let info = RunInfo {
            run_id: run_id.clone(),
            step: outcome.steps,
        };
        let mut req = ChatRequest {
            system: Some(system.clone()),
            messages: messages.clone(),
            tools: specs.clone(),
            max_tokens: cfg.max_tokens_per_turn,
            temperature: Some(0.0),
            // The first turn acts: the model has only the outline, so it must look or edit.
            tool_choice: if outcome.steps == 1 {
                ToolChoice::Required
            } else {
                ToolChoice::Auto
            },
            symbol_heads: cfg.hints.heads.clone(),
        };
        if let Err(why) = host.prepare_request(&mut req, &info).await {
            outcome.stop = StopReason::Refused(why);
            break;
        }
        host.progress(&format!("step {}: thinking", info.step));
        let turn = match model_turn(host, model, req, &cancel).await {
            Ok(t) => t,
            Err(TurnError::Cancelled) => {
                outcome.stop = StopReason::Cancelled;
                break;
            }
            Err(TurnError::Model(e)) => {
                outcome.stop = StopReason::ModelError(e);
                break;
            }
        };
        outcome.usage.input_tokens += turn.usage.input_tokens;
        outcome.usage.output_tokens += turn.usage.output_tokens;
        host.record_usage(turn.usage, &info);
        messages.push(Message::Assistant {
            content: turn.text.clone(),
            tool_calls: turn.tool_calls.clone(),
        });
        if turn.tool_calls.is_empty() && turn.finish == FinishReason::Length {
            // Cut off at the token limit before it was a whole call or answer: not an answer,
            // so it is neither the run's summary nor a success. The model is told and gets
            // another step; a second cut-off in a row ends the run.
            outcome.invalid_calls += 1;
            cut_offs += 1;
            if cut_offs >= MAX_CUT_OFF_REPLIES {
                outcome.stop = StopReason::ModelError(format!(
                    "the model's reply was cut off at the token limit {cut_offs} times in a row \
                     ({} tokens the last time) before it was a complete tool call or answer",
                    turn.usage.output_tokens
                ));
                break;
            }
            messages.push(Message::user(format!(
                "error: your reply was cut off after {} tokens before it was a complete tool \
                 call or answer. Reply with one short tool call, or an answer.",
                turn.usage.output_tokens
            )));
            continue;
        }
        cut_offs = 0;
        if turn.tool_calls.is_empty() {
            outcome.summary = turn.text;
            break;
        }
        // The calls of this turn join the plan as pending steps.
        let first_item = plan.len();
        plan.extend(turn.tool_calls.iter().map(|c| PlanItem {
            title: plan_title(c),
            status: PlanStatus::Pending,
            step: info.step,
            tool: c.name.clone(),
            args: args_summary(&c.arguments),
            result: None,
        }));
        host.plan(&plan);
        for (n, call) in turn.tool_calls.iter().enumerate() {
            let item = first_item + n;
            if cancel.is_cancelled() {
                // Every call needs an answer for the transcript to stay valid, even when cancelled.
                messages.push(Message::tool_result(call, "error: the run was cancelled"));
                continue;
            }
            let (fixed, notes) = tools::normalise(call);
            let key = (fixed.name.clone(), fixed.arguments.to_json_text());
            if last_success.as_ref() == Some(&key) {
                // Small models, done, call again what just worked: it is not run twice, and a
                // third identical call ends the run (the first one's effect stands).
                repeats += 1;
                plan[item].status = PlanStatus::Done;
                host.plan(&plan);
                messages.push(Message::tool_result(
                    call,
                    format!(
                        "error: this exact `{}` call already succeeded; it was not run again. If \
                         the task is done, answer with a short summary of what you did.",
                        fixed.name
                    ),
                ));
                if repeats + 1 >= MAX_REPEATED_FAILURES {
                    outcome.summary = format!(
                        "stopped: the model sent its last successful `{}` call {} times; it ran once",
                        fixed.name,
                        repeats + 1
                    );
                    break 'steps;
                }
                continue;
            }
            let mut result = match tools::parse(&fixed) {
                Ok(request) => {
                    host.progress(&format!(
                        "{} {}",
                        request.name(),
                        request.path().unwrap_or("")
                    ));
                    plan[item].status = PlanStatus::InProgress;
                    host.plan(&plan);
                    host.execute(&request, &info).await
                }
                Err(e) => {
                    // An invalid call costs its turn's step (no more), so a confused model
                    // still runs out of steps.
                    outcome.invalid_calls += 1;
                    tracing::debug!(tool = %call.name, "invalid tool call: {e}");
                    ToolOutcome::error(e.to_string())
                }
            };
            if !notes.is_empty() {
                result.content = format!("(note: {})\n{}", notes.join("; "), result.content);
            }
            if let Some(edit) = &result.edit {
                outcome.edits.push(edit.clone());
            }
            if let Some(failed) = &result.failed_edit {
                outcome.failed_edits.push(failed.clone());
            }
            plan[item].status = if result.is_error {
                PlanStatus::Failed
            } else {
                PlanStatus::Done
            };
            let rendered = render_result(&result);
            plan[item].result = Some(bounded(&rendered, PLAN_RESULT_MAX).to_string());
            host.plan(&plan);
            messages.push(Message::tool_result(call, rendered.clone()));
            if result.is_error {
                last_success = None;
                let count = match &last_failure {
                    Some((n, a, c)) if *n == key.0 && *a == key.1 => c + 1,
                    _ => 1,
                };
                last_failure = Some((key.0, key.1, count));
                if count >= MAX_REPEATED_FAILURES {
                    outcome.stop = StopReason::RepeatedFailure(format!(
                        "the model sent the same failing `{}` call {count} times: {}",
                        fixed.name, result.content
                    ));
                    break 'steps;
                }
            } else {
                last_failure = None;
                last_success = Some(key);
                repeats = 0;
            }
        }
    }
    outcome.messages = messages.split_off(first);
    if outcome.summary.is_empty() {
        outcome.summary = match &outcome.stop {
            StopReason::Finished => "(the model gave no summary)".into(),
            StopReason::StepLimit => {
                format!("stopped after {} steps (the step limit)", cfg.max_steps)
            }
            StopReason::TokenBudget => {
                format!("stopped at the token budget ({})", cfg.token_budget)
            }
            StopReason::Cancelled => "cancelled".into(),
            StopReason::ModelError(e) => format!("the model failed: {e}"),
            StopReason::Refused(e) => format!("refused: {e}"),
            StopReason::RepeatedFailure(e) => format!("stopped: {e}"),
        };
    }
    outcome
}

/// Tool output reaches the model as data inside a clear frame, never as instructions.
fn render_result(r: &ToolOutcome) -> String {
    if r.is_error {
        format!("error: {}", r.content)
    } else {
        r.content.clone()
    }
}

struct Turn {
    text: String,
    tool_calls: Vec<ToolCall>,
    usage: Usage,
    finish: FinishReason,
}

enum TurnError {
    Cancelled,
    Model(String),
}

async fn model_turn<H: RunHost>(
    host: &H,
    model: &Router,
    req: ChatRequest,
    cancel: &CancelToken,
) -> Result<Turn, TurnError> {
    // Biased: when both are ready, the stream's error is the cancellation itself (the provider
    // saw the same token), so the run ends as cancelled, not as a model error.
    let routed = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(TurnError::Cancelled),
        s = model.stream(&req, cancel) => match s {
            Ok(s) => s,
            Err(_) if cancel.is_cancelled() => return Err(TurnError::Cancelled),
            Err(e) => return Err(TurnError::Model(e.to_string())),
        },
    };
    host.progress(&format!("streaming from {}", routed.provider));
    let mut stream = routed.value;
    let mut turn = Turn {
        text: String::new(),
        tool_calls: Vec::new(),
        usage: Usage::default(),
        finish: FinishReason::Stop,
    };
    loop {
        // Cancellation wins between any two chunks: the stream (and its HTTP body) is dropped.
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(TurnError::Cancelled),
            n = stream.next() => n,
        };
        match next {
            None => break,
            Some(Err(_)) if cancel.is_cancelled() => return Err(TurnError::Cancelled),
            Some(Err(e)) => return Err(TurnError::Model(e.to_string())),
            Some(Ok(Event::TextDelta(t))) => {
                host.reasoning(&t);
                turn.text.push_str(&t);
            }
            Some(Ok(Event::ToolCall(c))) => turn.tool_calls.push(c),
            Some(Ok(Event::Usage(u))) => turn.usage = u,
            Some(Ok(Event::Done { finish_reason })) => {
                turn.finish = finish_reason;
                break;
            }
        }
    }
    Ok(turn)
}

/// Longest tool result kept in a plan item (front ends show it on a card).
const PLAN_RESULT_MAX: usize = 4000;
/// Longest argument summary in a plan item, and longest string argument shown whole in it.
const PLAN_ARGS_MAX: usize = 300;
const PLAN_ARG_STRING_MAX: usize = 80;

/// `{"path":"src/a.rs","symbol":"f","text":"… (212 chars)"}`: the arguments on one line, each long
/// string (an edit's new text) replaced by its length.
fn args_summary(args: &jingu_providers::ToolArguments) -> String {
    fn shorten(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) if s.len() > PLAN_ARG_STRING_MAX => {
                serde_json::Value::String(format!("… ({} chars)", s.chars().count()))
            }
            serde_json::Value::Array(a) => a.iter().map(shorten).collect(),
            serde_json::Value::Object(o) => {
                o.iter().map(|(k, v)| (k.clone(), shorten(v))).collect()
            }
            other => other.clone(),
        }
    }
    let text = shorten(&args.to_value()).to_string();
    bounded(&text, PLAN_ARGS_MAX).to_string()
}

/// A plan line for a call: the tool and the file it names (`edit src/lib.rs`).
fn plan_title(call: &ToolCall) -> String {
    match tools::parse(&tools::normalise(call).0) {
        Ok(request) => match request.path() {
            Some(p) => format!("{} {p}", request.name()),
            None => request.name().to_string(),
        },
        Err(_) => call.name.clone(),
    }
}
