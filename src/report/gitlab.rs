//! `--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`).
//!
//! GitLab reads a subset of the Code Climate issue format, and documents it ("Implement a
//! custom tool", doc/ci/testing/code_quality.md, read from gitlabhq/gitlabhq at 01eae359):
//! a JSON array of objects with `description`, `check_name`, `fingerprint`, `severity` (`info`,
//! `minor`, `major`, `critical` or `blocker`), `location.path` (relative to the repository)
//! and `location.lines.begin`; other properties are ignored, and a byte order mark is refused.
//!
//! * Only findings: a `fail` is `major`, a `warn` is `minor` (`info` for a rule of severity
//!   info). Passing and skipped checks are not issues. A suppressed finding is left out: it
//!   was accepted, and GitLab has no way to show it as such.
//! * `fingerprint` is [`crate::report::CheckResult::stable_key`], made unique within the
//!   report (GitLab shows one issue per fingerprint), so an issue keeps its identity when
//!   lines move and the merge request widget does not call it fixed and new.
//! * A finding with no file (a live Redis or WebSocket probe) is anchored at line 1 of the
//!   first file the report names; when the report names none (`wsdoctor redis URL`), at `.`.

use serde_json::{Value, json};

use crate::catalogue::Severity;
use crate::report::{CheckResult, Report, Status, unique_keys};

pub fn render(report: &Report) -> String {
    let anchor = report
        .checks
        .iter()
        .find_map(|c| c.location.as_ref())
        .map_or_else(|| ".".to_string(), |l| l.file.clone());
    let findings = report
        .checks
        .iter()
        .filter(|c| c.counts() && matches!(c.status, Status::Warn | Status::Fail));
    let issues: Vec<Value> = unique_keys(findings)
        .into_iter()
        .map(|(c, fingerprint)| issue(c, fingerprint, &anchor))
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

fn issue(c: &CheckResult, fingerprint: String, anchor: &str) -> Value {
    let (path, line) = match &c.location {
        Some(loc) => (loc.file.as_str(), loc.line.unwrap_or(1).max(1)),
        None => (anchor, 1),
    };
    json!({
        "description": description(c),
        "check_name": c.id,
        "fingerprint": fingerprint,
        "severity": severity(c),
        "location": {"path": path, "lines": {"begin": line}},
    })
}

fn severity(c: &CheckResult) -> &'static str {
    match (c.status, c.severity) {
        (Status::Fail, _) => "major",
        (_, Severity::Info) => "info",
        _ => "minor",
    }
}

/// One line: the widget shows the description as a line of text.
fn description(c: &CheckResult) -> String {
    let mut s = String::new();
    if let Some(subject) = &c.subject {
        s.push_str(&format!("[{subject}] "));
    }
    s.push_str(&c.message);
    if let Some(hint) = &c.hint {
        s.push_str(" Fix: ");
        s.push_str(hint);
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
