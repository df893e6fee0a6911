//! `config.compose-syntax`: values of the right shape in the compose files.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.compose-syntax",
    severity: Severity::Error,
    title: "Compose files are well-formed",
    summary: "The compose files parse as YAML (a file that does not, is too large, is not UTF-8 \
              or is not a mapping fails here at its line) and each value wsdoctor reads has the \
              shape the compose specification gives it.",
    why: "docker compose refuses a file with a wrongly shaped value (ports as a map, \
          environment as a number, replicas as text), so nothing starts; and a value wsdoctor \
          cannot read is a value it cannot check.",
    fix: "Correct the value named, following the compose specification \
          (https://github.com/compose-spec/compose-spec/blob/main/spec.md).",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "no compose file (kube.manifest-syntax judges the manifests)",
    ) {
        return skip;
    }
    let d = facts.deployment;
    let mut out: Vec<CheckResult> = d
        .structure
        .iter()
        .map(|p| {
            RULE.fire(p.message.clone())
                .at(p.span.as_ref().map(|s| s.location()))
        })
        .collect();
    if out.is_empty() {
        out.push(RULE.pass(format!(
            "{} read: {} service{}",
            d.compose_files.join(", "),
            d.services.len(),
            if d.services.len() == 1 { "" } else { "s" }
        )));
    }
    out
}
