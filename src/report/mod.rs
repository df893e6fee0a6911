//! One Report, many formats. Checks produce [`CheckResult`]s; [`Report::finish`] applies
//! suppressions and computes the summary; a renderer (one file per format) only formats.
//! No renderer decides a status.

pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalogue::{Rule, Severity};
use crate::redact::Secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Where a finding is, in the user's files. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// Why a result does not count: an inline `# wsdoctor: ignore=ID -- reason` or `--ignore ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `inline` (a comment in the user's file) or `cli` (`--ignore`).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the inline comment is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The outcome of one check on one subject (a service, a URL, a server).
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub status: Status,
    pub severity: Severity,
    pub title: &'static str,
    pub message: String,
    /// What the result is about when a check runs once per thing (service name, URL, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub evidence: Map<String, Value>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<String>,
}

impl CheckResult {
    pub fn new(rule: &'static Rule, status: Status, message: String) -> Self {
        CheckResult {
            id: rule.id,
            status,
            severity: rule.severity,
            title: rule.title,
            message,
            subject: None,
            location: None,
            hint: None,
            evidence: Map::new(),
            duration_ms: 0,
            suppressed: None,
            caused_by: None,
        }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    pub fn took(mut self, elapsed: Duration) -> Self {
        self.duration_ms = elapsed.as_millis().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// Counts toward the verdict: not suppressed.
    pub fn counts(&self) -> bool {
        self.suppressed.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    /// Results that fired but were suppressed; not counted in pass/warn/fail/skip.
    pub suppressed: usize,
    pub verdict: Verdict,
    /// `--strict` was given: warnings make the verdict `fail`.
    pub strict: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: ToolInfo,
    pub command: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    /// Secret values seen while gathering facts; used to redact, never rendered.
    #[serde(skip)]
    pub secrets: Secrets,
}

/// The rules for suppressing results of one run.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// `--ignore ID` from the command line.
    pub cli: Vec<String>,
    /// Inline `# wsdoctor: ignore=ID[,ID] -- reason` comments found in the user's files.
    pub inline: Vec<InlineIgnore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineIgnore {
    pub file: String,
    pub line: u32,
    pub ids: Vec<String>,
    pub reason: Option<String>,
}

impl Suppressions {
    /// The suppression that applies to `result`, if any. An inline comment covers findings on
    /// its own line and on the line right below it (a comment line above a key).
    fn find(&self, result: &CheckResult) -> Option<Suppression> {
        if let Some(loc) = &result.location
            && let Some(line) = loc.line
        {
            for ig in &self.inline {
                // checked_add: a comment on line u32::MAX must not overflow (no panic on any input).
                if ig.file == loc.file
                    && (ig.line == line || ig.line.checked_add(1) == Some(line))
                    && ig.ids.iter().any(|id| id == result.id || id == "all")
                {
                    return Some(Suppression {
                        kind: "inline",
                        reason: ig.reason.clone(),
                        location: Some(Location {
                            file: ig.file.clone(),
                            line: Some(ig.line),
                            column: None,
                        }),
                    });
                }
            }
        }
        if self.cli.iter().any(|id| id == result.id) {
            return Some(Suppression {
                kind: "cli",
                reason: Some("--ignore on the command line".to_string()),
                location: None,
            });
        }
        None
    }
}

impl Report {
    /// Applies suppressions (only to results that fired: a passing check stays a proof) and
    /// computes the summary and verdict.
    pub fn finish(
        command: &str,
        mut checks: Vec<CheckResult>,
        suppressions: &Suppressions,
        strict: bool,
        elapsed: Duration,
        secrets: Secrets,
    ) -> Report {
        for c in &mut checks {
            if matches!(c.status, Status::Warn | Status::Fail) {
                c.suppressed = suppressions.find(c);
            }
        }
        let count = |s: Status| {
            checks
                .iter()
                .filter(|c| c.counts() && c.status == s)
                .count()
        };
        let (pass, warn, fail, skip) = (
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Fail),
            count(Status::Skip),
        );
        let suppressed = checks.iter().filter(|c| !c.counts()).count();
        let verdict = if fail > 0 || (strict && warn > 0) {
            Verdict::Fail
        } else if warn > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        Report {
            tool: ToolInfo {
                name: "wsdoctor",
                version: env!("CARGO_PKG_VERSION"),
            },
            command: command.to_string(),
            duration_ms: elapsed.as_millis().min(u128::from(u64::MAX)) as u64,
            summary: Summary {
                pass,
                warn,
                fail,
                skip,
                suppressed,
                verdict,
                strict,
            },
            checks,
            secrets,
        }
    }

    /// Exit code by the contract: 1 when the verdict is `fail`, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.verdict == Verdict::Fail {
            1
        } else {
            0
        }
    }

    /// Replaces every secret in every string of the report. Applied once, before any
    /// renderer runs, so no format can leak what another hides.
    pub fn redact(&mut self) {
        let secrets = &self.secrets;
        for c in &mut self.checks {
            c.message = secrets.redact(&c.message);
            if let Some(h) = &mut c.hint {
                *h = secrets.redact(h);
            }
            if let Some(s) = &mut c.subject {
                *s = secrets.redact(s);
            }
            // The evidence map is an object like any other: a secret-named key at its top
            // level (`"REDIS_PASSWORD": …`) is masked by name, as in nested objects.
            redact_map(&mut c.evidence, secrets);
            if let Some(sup) = &mut c.suppressed
                && let Some(r) = &mut sup.reason
            {
                *r = secrets.redact(r);
            }
        }
    }

    /// The shortest list of things to fix, in order: each failing result, then each warning,
    /// as `(id, subject, what to do)`; one line per distinct fix. Derived from statuses the
    /// checks decided, so every renderer shows the same list.
    pub fn fix_list(&self) -> Vec<(&'static str, Option<&str>, String)> {
        let mut out: Vec<(&'static str, Option<&str>, String)> = Vec::new();
        for status in [Status::Fail, Status::Warn] {
            for c in self
                .checks
                .iter()
                .filter(|c| c.counts() && c.status == status)
            {
                let what = c
                    .hint
                    .clone()
                    .unwrap_or_else(|| c.message.lines().next().unwrap_or("").to_string());
                // The same fix reached by two checks (a file and a live probe agreeing) is
                // listed once, under the first.
                if !out.iter().any(|(_, _, w)| *w == what) {
                    out.push((c.id, c.subject.as_deref(), what));
                }
            }
        }
        out
    }

    /// Results in the order a reader wants them: failures, warnings, skips, passes; stable
    /// within each group.
    pub fn by_importance(&self) -> Vec<&CheckResult> {
        let mut v: Vec<&CheckResult> = self.checks.iter().collect();
        // sort_by_key is stable: within a group, the order the checks ran in.
        v.sort_by_key(|c| match (c.counts(), c.status) {
            (true, Status::Fail) => 0,
            (true, Status::Warn) => 1,
            (false, _) => 2,
            (true, Status::Skip) => 3,
            (true, Status::Pass) => 4,
        });
        v
    }
}

fn redact_value(v: &mut Value, secrets: &Secrets) {
    match v {
        Value::String(s) => *s = secrets.redact(s),
        Value::Array(items) => items.iter_mut().for_each(|i| redact_value(i, secrets)),
        Value::Object(map) => redact_map(map, secrets),
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Value>, secrets: &Secrets) {
    for (k, val) in map.iter_mut() {
        if crate::redact::is_secret_key(k) {
            mask_all(val);
        } else {
            redact_value(val, secrets);
        }
    }
}

/// Masks every value under a secret-named key: a password written as a number
/// (`REDIS_PASSWORD: 123456` in YAML arrives as one) or nested in a list is still a secret.
/// Booleans, nulls and empty strings say nothing about the secret and stay.
fn mask_all(v: &mut Value) {
    match v {
        Value::String(s) if !s.is_empty() => *s = crate::redact::MASK.to_string(),
        Value::Number(_) => *v = Value::String(crate::redact::MASK.to_string()),
        Value::Array(items) => items.iter_mut().for_each(mask_all),
        Value::Object(map) => map.values_mut().for_each(mask_all),
        _ => {}
    }
}
