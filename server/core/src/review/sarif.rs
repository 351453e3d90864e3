//! SARIF 2.1.0: one run, one result per finding, each fix as `fixes[].artifactChanges[].replacements[]`
//! so code-scanning UIs offer it. Columns are UTF-16 code units (declared in `columnKind`).

use serde_json::{Value, json};

use super::ReviewOutcome;
use super::finding::{Category, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const CATEGORIES: [Category; 5] = [
    Category::Bug,
    Category::Security,
    Category::Performance,
    Category::Style,
    Category::Test,
];

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

pub fn log(outcome: &ReviewOutcome) -> Value {
    let rules: Vec<Value> = CATEGORIES
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": {"text": format!("{} finding from code review", c.as_str())},
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|v| {
            let f = &v.finding;
            let location = json!({"physicalLocation": {
                "artifactLocation": {"uri": f.file, "uriBaseId": "SRCROOT"},
                "region": v.span.sarif_region(),
            }});
            let mut result = json!({
                "ruleId": f.category.as_str(),
                "ruleIndex": CATEGORIES.iter().position(|c| *c == f.category).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [location],
                "properties": {"severity": f.severity.as_str()},
            });
            if let Some(fix) = &v.fix {
                result["fixes"] = json!([{
                    "description": {"text": "Apply suggestion"},
                    "artifactChanges": [{
                        "artifactLocation": {"uri": f.file, "uriBaseId": "SRCROOT"},
                        "replacements": [{
                            "deletedRegion": fix.span.sarif_region(),
                            "insertedContent": {"text": fix.text},
                        }],
                    }],
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "jingu",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/jingu",
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"SRCROOT": {"description": {"text": "the workspace root"}}},
            "results": results,
            "properties": {"base": outcome.base, "dropped": outcome.dropped.len()},
        }],
    })
}
