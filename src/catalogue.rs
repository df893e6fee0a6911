//! The check catalogue: every rule wsdoctor knows, defined once.
//!
//! A rule is a `static Rule` that lives in the same file as the function that judges it
//! (`grep -r 'config.redis-url-host' src` lands on that file). This module only gathers them:
//! `wsdoctor checks`, `wsdoctor explain`, the SARIF rule metadata and the docs all read the
//! same definitions, so a rule's text exists in exactly one place.

use serde::Serialize;

use crate::report::{CheckResult, Status};

/// How bad it is when a rule fires. A rule that fires with `Error` makes the check `fail`;
/// with `Warning`, `warn`. (A check may still choose `warn` for a milder finding of an error
/// rule, e.g. 85 % of `maxclients` used.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One entry of the catalogue. Field texts are plain prose (Markdown allowed in `why`/`fix`).
#[derive(Debug, Serialize)]
pub struct Rule {
    /// Stable public id, `family.name` (e.g. `config.redis-url-host`). Never renamed.
    pub id: &'static str,
    pub severity: Severity,
    /// Short title, shown in reports next to the id.
    pub title: &'static str,
    /// What the check looks at, one or two sentences.
    pub summary: &'static str,
    /// Why a finding matters: the failure it predicts, with the server behaviour behind it.
    pub why: &'static str,
    /// How to fix a finding, concretely.
    pub fix: &'static str,
}

impl Rule {
    /// The family of a rule: the part of the id before the first `.` (`config`, `redis`, …).
    pub fn family(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    fn result(&'static self, status: Status, message: impl Into<String>) -> CheckResult {
        CheckResult::new(self, status, message.into())
    }

    /// The rule was checked and holds.
    pub fn pass(&'static self, message: impl Into<String>) -> CheckResult {
        self.result(Status::Pass, message)
    }

    /// The rule fired with its own severity: `fail` for an error rule, `warn` otherwise.
    pub fn fire(&'static self, message: impl Into<String>) -> CheckResult {
        let status = match self.severity {
            Severity::Error => Status::Fail,
            Severity::Warning | Severity::Info => Status::Warn,
        };
        self.result(status, message)
    }

    /// The rule fired, as a warning whatever its severity.
    pub fn warn(&'static self, message: impl Into<String>) -> CheckResult {
        self.result(Status::Warn, message)
    }

    /// The rule fired, as a failure whatever its severity.
    pub fn fail(&'static self, message: impl Into<String>) -> CheckResult {
        self.result(Status::Fail, message)
    }

    /// Not applicable here, or a check it depends on failed: the message says which.
    pub fn skip(&'static self, reason: impl Into<String>) -> CheckResult {
        self.result(Status::Skip, reason)
    }

    /// Skipped because `other` did not pass; says so in the message and the evidence.
    pub fn skip_because(&'static self, other: &str) -> CheckResult {
        self.skip(format!("skipped because {other} did not pass"))
            .evidence("depends_on", other)
    }
}

/// Every rule of every family, in a stable order (family, then definition order).
pub fn all() -> Vec<&'static Rule> {
    let mut rules: Vec<&'static Rule> = Vec::new();
    rules.extend_from_slice(crate::checks::config::RULES);
    rules.extend_from_slice(crate::checks::redis::RULES);
    rules.extend_from_slice(crate::checks::ws::RULES);
    rules.extend_from_slice(crate::checks::docker::RULES);
    rules.extend_from_slice(crate::checks::kube::RULES);
    rules.extend_from_slice(crate::checks::aca::RULES);
    rules.extend_from_slice(crate::checks::proxy::RULES);
    rules
}

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    all().into_iter().find(|r| r.id == id)
}

/// Ids closest to `id`, for "did you mean" on a mistyped `explain`, `--ignore`, inline
/// comment or config file. A bare name without its family (`redis-url-host`) finds its id
/// (`config.redis-url-host`); otherwise the most similar id, when it is similar enough.
pub fn nearest(id: &str) -> Option<&'static str> {
    let rules = all();
    let wanted = id.trim().to_ascii_lowercase();
    if let Some(rule) = rules
        .iter()
        .find(|r| r.id == wanted || r.id.split_once('.').is_some_and(|(_, name)| name == wanted))
    {
        return Some(rule.id);
    }
    rules
        .into_iter()
        .map(|r| {
            // Compared whole and by name, so a typo in a bare name still finds its family.
            let name = r.id.split_once('.').map_or(r.id, |(_, name)| name);
            let score =
                strsim::jaro_winkler(&wanted, r.id).max(strsim::jaro_winkler(&wanted, name));
            (score, r.id)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

/// The rule's section of docs/checks.md, in the repository's copy for this version; without a
/// repository in Cargo.toml, the copy docs.rs serves from the published crate.
pub fn help_uri(id: &str) -> String {
    let anchor = anchor(id);
    let version = env!("CARGO_PKG_VERSION");
    let repository = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    if repository.is_empty() {
        format!("https://docs.rs/crate/wsdoctor/{version}/source/docs/checks.md#{anchor}")
    } else {
        format!("{repository}/blob/v{version}/docs/checks.md#{anchor}")
    }
}

/// The anchor of a rule's section in docs/checks.md (`## config.redis-url-host`), as GitHub
/// and GitLab make it from the heading: lowercase, `.` dropped, `-` kept.
pub fn anchor(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_a_bare_name_and_a_typo() {
        assert_eq!(nearest("redis-url-host"), Some("config.redis-url-host"));
        assert_eq!(
            nearest("config.redis-url-hots"),
            Some("config.redis-url-host")
        );
        assert_eq!(nearest("redis-url-hots"), Some("config.redis-url-host"));
        assert_eq!(nearest("zzzzzz"), None);
    }
}
