//! Export to an OpenTelemetry collector (`[audit.otlp]`): every record, exactly as the log holds
//! it (already redacted), as an OTLP log record, and every run as a trace following the GenAI
//! semantic conventions — a root `invoke_agent` span, a `chat` span per model request and an
//! `execute_tool` span per tool call.
//!
//! The records reach the SDK's batch processors after they are durably written (and sent to the
//! sinks); the processors export on their own threads over OTLP/HTTP protobuf, so the action path
//! only queues. A run's end (and the last handle of a log) flushes with the configured timeout;
//! a collector that cannot be reached is a warning, never a refusal and never a hang.
//!
//! Spans are built from the records' own times: a `chat` span runs from the model request to
//! its usage record (or to the next step when the response never completed), an `execute_tool`
//! span from the tool call to the next step the run audits (a model request, another tool call,
//! the run's end).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, TraceFlags, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::config::OtlpConfig;
use super::record::{Record, RecordKind};
use super::sink::ChainInfo;

/// What the traces call the agent (`gen_ai.agent.name`).
const AGENT: &str = "jingu";

/// The open spans of one run.
struct RunSpans {
    root: Context,
    chat: Option<Context>,
    tool: Option<Context>,
}

/// One collector: its providers (each with a batch processor on its own thread) and the runs
/// whose traces are still open.
pub(crate) struct Exporter {
    config: OtlpConfig,
    tracer_provider: SdkTracerProvider,
    logger_provider: SdkLoggerProvider,
    tracer: SdkTracer,
    logger: SdkLogger,
    runs: Mutex<HashMap<String, RunSpans>>,
    /// Something was queued since the last flush.
    dirty: AtomicBool,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OtlpExporter({})", self.config.endpoint)
    }
}

/// One exporter per configuration, per process (its threads and open runs are shared by every
/// log handle of the process).
pub(crate) fn get(config: &OtlpConfig) -> Result<Arc<Exporter>, String> {
    static EXPORTERS: OnceLock<Mutex<HashMap<OtlpConfig, Arc<Exporter>>>> = OnceLock::new();
    let mut map = EXPORTERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(e) = map.get(config) {
        return Ok(e.clone());
    }
    let e = Arc::new(Exporter::start(config.clone())?);
    map.insert(config.clone(), e.clone());
    Ok(e)
}

fn base(endpoint: &str) -> &str {
    endpoint.trim_end_matches('/')
}

impl Exporter {
    fn start(config: OtlpConfig) -> Result<Self, String> {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let headers: HashMap<String, String> = config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let endpoint = base(&config.endpoint);
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{endpoint}/v1/traces"))
            .with_timeout(timeout)
            .with_headers(headers.clone())
            .build()
            .map_err(|e| format!("OpenTelemetry trace exporter for {endpoint}: {e}"))?;
        let logs = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{endpoint}/v1/logs"))
            .with_timeout(timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| format!("OpenTelemetry log exporter for {endpoint}: {e}"))?;
        // Not `Resource::builder()`: its detectors read OTEL_* variables, and what the
        // organisation's collector is told about comes from policy alone.
        let resource = Resource::builder_empty()
            .with_service_name("jingu")
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .with_resource(resource.clone())
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_batch_exporter(logs)
            .with_resource(resource)
            .build();
        let tracer = tracer_provider.tracer("jingu-audit");
        let logger = logger_provider.logger("jingu-audit");
        Ok(Self {
            config,
            tracer_provider,
            logger_provider,
            tracer,
            logger,
            runs: Mutex::new(HashMap::new()),
            dirty: AtomicBool::new(false),
        })
    }

    /// Queue the records just written (`lines`, in chain order). Never blocks on the network.
    pub(crate) fn export(&self, chain: &ChainInfo, lines: &[String]) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            let Ok(r) = serde_json::from_str::<Record>(line) else {
                continue;
            };
            let at = parse_time(&r.time).unwrap_or_else(SystemTime::now);
            let span = self.step(&mut runs, chain, &r, at);
            self.emit_log(chain, &r, line, at, span.as_ref());
        }
        self.dirty.store(true, Ordering::Release);
    }

    /// Advance the run's trace by one record; returns the span the record belongs to.
    fn step(
        &self,
        runs: &mut HashMap<String, RunSpans>,
        chain: &ChainInfo,
        r: &Record,
        at: SystemTime,
    ) -> Option<Context> {
        if let RecordKind::RunStart { .. } = &r.kind {
            let root = self
                .tracer
                .span_builder(format!("invoke_agent {AGENT}"))
                .with_kind(SpanKind::Internal)
                .with_start_time(at)
                .with_attributes(vec![
                    KeyValue::new("gen_ai.operation.name", "invoke_agent"),
                    KeyValue::new("gen_ai.agent.name", AGENT),
                    KeyValue::new("jingu.run.id", r.run_id.clone()),
                    KeyValue::new("jingu.workspace", chain.workspace.clone()),
                    KeyValue::new("jingu.identity.subject", r.subject.clone()),
                    KeyValue::new("jingu.identity.verified", r.verified),
                    KeyValue::new("jingu.record.hash", r.hash.clone()),
                ])
                .start_with_context(&self.tracer, &Context::new());
            let root = Context::new().with_span(root);
            runs.insert(
                r.run_id.clone(),
                RunSpans {
                    root: root.clone(),
                    chat: None,
                    tool: None,
                },
            );
            return Some(root);
        }
        let run = runs.get_mut(&r.run_id)?;
        let child = |name: String, attrs: Vec<KeyValue>| {
            let span = self
                .tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_start_time(at)
                .with_attributes(attrs)
                .start_with_context(&self.tracer, &run.root);
            run.root.with_span(span)
        };
        match &r.kind {
            RecordKind::ModelRequest {
                provider,
                model,
                input_tokens,
                redactions,
                ..
            } => {
                let chat = child(
                    format!("chat {model}"),
                    vec![
                        KeyValue::new("gen_ai.operation.name", "chat"),
                        KeyValue::new("gen_ai.provider.name", provider.clone()),
                        KeyValue::new("gen_ai.request.model", model.clone()),
                        KeyValue::new("gen_ai.agent.name", AGENT),
                        // Written before the request is sent: an estimate from its size.
                        KeyValue::new("jingu.request.estimated_input_tokens", *input_tokens as i64),
                        KeyValue::new("jingu.redactions", *redactions as i64),
                        KeyValue::new("jingu.run.id", r.run_id.clone()),
                        KeyValue::new("jingu.record.hash", r.hash.clone()),
                    ],
                );
                end(run.tool.take(), at);
                end(run.chat.replace(chat.clone()), at);
                Some(chat)
            }
            RecordKind::ModelUsage {
                input_tokens,
                output_tokens,
                ..
            } => match run.chat.take() {
                Some(chat) => {
                    let s = chat.span();
                    s.set_attribute(KeyValue::new(
                        "gen_ai.usage.input_tokens",
                        *input_tokens as i64,
                    ));
                    s.set_attribute(KeyValue::new(
                        "gen_ai.usage.output_tokens",
                        *output_tokens as i64,
                    ));
                    s.end_with_timestamp(at);
                    Some(chat)
                }
                None => Some(run.root.clone()),
            },
            RecordKind::ToolCall { tool, .. } => {
                let span = child(
                    format!("execute_tool {tool}"),
                    vec![
                        KeyValue::new("gen_ai.operation.name", "execute_tool"),
                        KeyValue::new("gen_ai.tool.name", tool.clone()),
                        KeyValue::new("gen_ai.tool.call.id", format!("{}-{}", r.run_id, r.seq)),
                        KeyValue::new("gen_ai.agent.name", AGENT),
                        KeyValue::new("jingu.run.id", r.run_id.clone()),
                        KeyValue::new("jingu.record.hash", r.hash.clone()),
                    ],
                );
                end(run.chat.take(), at);
                end(run.tool.replace(span.clone()), at);
                Some(span)
            }
            RecordKind::PolicyDecision {
                decision, reason, ..
            } if decision == "deny" => {
                let cx = run.tool.clone().unwrap_or_else(|| run.root.clone());
                cx.span().set_status(Status::error(
                    reason.clone().unwrap_or_else(|| "denied by policy".into()),
                ));
                Some(cx)
            }
            RecordKind::RunEnd { status } => {
                let run = runs.remove(&r.run_id)?;
                end(run.chat, at);
                end(run.tool, at);
                let s = run.root.span();
                s.set_attribute(KeyValue::new("jingu.run.status", status.clone()));
                if !matches!(status.as_str(), "ok" | "finished" | "done" | "completed") {
                    s.set_status(Status::error(status.clone()));
                }
                s.end_with_timestamp(at);
                Some(run.root)
            }
            _ => Some(
                run.tool
                    .clone()
                    .or_else(|| run.chat.clone())
                    .unwrap_or_else(|| run.root.clone()),
            ),
        }
    }

    fn emit_log(
        &self,
        chain: &ChainInfo,
        r: &Record,
        line: &str,
        at: SystemTime,
        span: Option<&Context>,
    ) {
        let mut rec = self.logger.create_log_record();
        rec.set_event_name("jingu.audit.record");
        rec.set_timestamp(at);
        rec.set_observed_timestamp(SystemTime::now());
        let (number, text) = match &r.kind {
            RecordKind::Warning { .. } | RecordKind::Repair { .. } => (Severity::Warn, "WARN"),
            RecordKind::PolicyDecision { decision, .. } if decision == "deny" => {
                (Severity::Warn, "WARN")
            }
            _ => (Severity::Info, "INFO"),
        };
        rec.set_severity_number(number);
        rec.set_severity_text(text);
        // The line exactly as the log holds it: its hash can be checked against the chain.
        rec.set_body(AnyValue::from(line.to_string()));
        rec.add_attributes([
            ("jingu.record.kind", AnyValue::from(r.kind.name())),
            ("jingu.record.seq", AnyValue::from(r.seq as i64)),
            ("jingu.record.hash", AnyValue::from(r.hash.clone())),
            ("jingu.record.prev", AnyValue::from(r.prev.clone())),
            ("jingu.run.id", AnyValue::from(r.run_id.clone())),
            ("jingu.workspace", AnyValue::from(chain.workspace.clone())),
            ("jingu.host", AnyValue::from(chain.host.clone())),
            ("jingu.chain.id", AnyValue::from(chain.chain_id.clone())),
            ("jingu.identity.subject", AnyValue::from(r.subject.clone())),
            ("jingu.identity.verified", AnyValue::from(r.verified)),
            ("jingu.policy.hash", AnyValue::from(r.policy_hash.clone())),
        ]);
        if let Some(cx) = span {
            let sc = cx.span().span_context().clone();
            rec.set_trace_context(sc.trace_id(), sc.span_id(), Some(TraceFlags::SAMPLED));
        }
        self.logger.emit(rec);
    }

    /// Send what is queued, waiting at most about the configured timeout (traces and logs are
    /// flushed side by side). Returns what went wrong, for a warning.
    pub(crate) fn flush(&self) -> Result<(), String> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let (traces, logs) = std::thread::scope(|s| {
            let t = s.spawn(|| self.tracer_provider.force_flush());
            let l = self.logger_provider.force_flush();
            (t.join(), l)
        });
        let mut problems = Vec::new();
        match traces {
            Ok(Ok(())) => {}
            Ok(Err(e)) => problems.push(format!("traces: {e}")),
            Err(_) => problems.push("traces: the flush thread panicked".to_string()),
        }
        if let Err(e) = logs {
            problems.push(format!("logs: {e}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "OpenTelemetry collector {} did not take the audit export ({}); the audit log and sinks are unaffected",
                self.config.endpoint,
                problems.join("; ")
            ))
        }
    }
}

fn end(span: Option<Context>, at: SystemTime) {
    if let Some(cx) = span {
        cx.span().end_with_timestamp(at);
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (the log's own format) as a time.
fn parse_time(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| s.get(from..to)?.parse::<i64>().ok();
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    // Howard Hinnant's days-from-civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let millis = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000 + ms).max(0);
    Some(UNIX_EPOCH + Duration::from_millis(millis as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_times_round_trip() {
        for ms in [0_i64, 1_709_210_096_789, 1_796_000_000_123] {
            let s = crate::format_unix_millis(ms);
            let t = super::parse_time(&s).expect("parses");
            let back = t
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after epoch")
                .as_millis() as i64;
            assert_eq!(back, ms, "{s}");
        }
        assert!(super::parse_time("2024-02-29 12:34:56").is_none());
    }
}
