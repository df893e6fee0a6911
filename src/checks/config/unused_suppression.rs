//! `config.unused-suppression`: a suppression (`--ignore`, an inline `# wsdoctor: ignore=`
//! comment, an `[[ignore]]` of the config file) that matched no finding, as ruff's
//! unused-noqa (RUF100). A suppression outliving its finding would silently hide the next,
//! different problem of the same check; a warning (not a failure) because nothing is broken
//! yet. It is judged only for checks that ran in this command: `wsdoctor redis` does not call
//! a config-file ignore of a `config.*` check unused.

use crate::catalogue::{Rule, Severity};
use crate::report::{CheckResult, Location};

pub static RULE: Rule = Rule {
    id: "config.unused-suppression",
    severity: Severity::Warning,
    title: "A suppression matched no finding",
    summary: "An `--ignore ID`, an inline `# wsdoctor: ignore=ID` comment or an `[[ignore]]` \
              entry of the config file names a check that ran but did not fire where the \
              suppression applies.",
    why: "A suppression is kept for a finding that was accepted. Once that finding is fixed, a \
          forgotten suppression hides the next, different problem the same check would \
          report; ruff reports the same as unused `noqa` (RUF100).",
    fix: "Remove the suppression (the comment, the `--ignore`, or the `[[ignore]]` entry), or \
          move it to the line of the finding it was meant for.",
};

/// One unused suppression: `how` says which kind (`--ignore`, `inline comment`, `config`).
pub fn unused(id: &str, how: &str, at: Option<Location>) -> CheckResult {
    RULE.fire(format!(
        "{how} of {id} matched no finding: {id} ran and did not fire here"
    ))
    .hint(format!(
        "remove the {how} of {id}, or move it to the finding it was meant for"
    ))
    .subject(id.to_string())
    .at(at)
    .evidence("suppressed_id", id)
    .evidence("kind", how)
}

/// Every suppression of the run matched a finding (or there was none).
pub fn all_used() -> CheckResult {
    RULE.pass("every suppression of this run matched a finding (or there was none)")
}
