//! `--format json`: the Report as DESIGN.md specifies it (schema: docs/report.schema.json).

use crate::report::Report;

pub fn render(report: &Report) -> String {
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}
