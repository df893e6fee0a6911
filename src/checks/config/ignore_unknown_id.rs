//! `config.ignore-unknown-id`: an inline `# wsdoctor: ignore=ID` comment names no check. A
//! typo there suppresses nothing, and the finding it was meant for fails the run with no
//! visible reason; a failing finding with file:line and the nearest id (as ruff's RUF102
//! invalid-rule-code). `--ignore` and the config file refuse unknown ids outright (exit 2):
//! they are the user's command, not content of the deployment.

use crate::catalogue::{Rule, Severity};
use crate::report::{CheckResult, Location};

pub static RULE: Rule = Rule {
    id: "config.ignore-unknown-id",
    severity: Severity::Error,
    title: "An inline suppression names no check",
    summary: "An inline `# wsdoctor: ignore=ID` comment names an id that is not in the \
              catalogue (`wsdoctor checks`); `all` is accepted.",
    why: "A mistyped id suppresses nothing: the finding it was meant for still fails the run, \
          and the comment suggests it was dealt with.",
    fix: "Use the full id, family included (`config.redis-url-host`, not `redis-url-host`); \
          the message names the nearest one.",
};

pub fn unknown(id: &str, at: Location) -> CheckResult {
    RULE.fire(format!(
        "inline suppression: {}",
        crate::settings::unknown_id_message(id)
    ))
    .subject(id.to_string())
    .at(Some(at))
    .evidence("suppressed_id", id)
}

/// Every inline suppression names a check (or there was none).
pub fn all_known() -> CheckResult {
    RULE.pass("every inline suppression names a check (or there was none)")
}
