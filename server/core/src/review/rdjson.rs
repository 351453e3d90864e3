//! reviewdog's rdjson (`DiagnosticResult`): 1-based lines, 1-based UTF-8 byte columns, end
//! exclusive; a fix becomes a `suggestion`, which reviewdog posts as a GitHub suggested change.

use serde_json::{Value, json};

use super::ReviewOutcome;
use super::finding::Severity;

pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info | Severity::Hint => "INFO",
    }
}

pub fn result(outcome: &ReviewOutcome) -> Value {
    let diagnostics: Vec<Value> = outcome
        .findings
        .iter()
        .map(|v| {
            let f = &v.finding;
            let mut d = json!({
                "message": f.message,
                "location": {"path": f.file, "range": v.span.rdjson_range()},
                "severity": severity(f.severity),
                "source": {"name": "jingu"},
                "code": {"value": f.category.as_str()},
            });
            if let Some(fix) = &v.fix {
                d["suggestions"] = json!([{"range": fix.span.rdjson_range(), "text": fix.text}]);
            }
            d
        })
        .collect();
    json!({"source": {"name": "jingu"}, "diagnostics": diagnostics})
}
