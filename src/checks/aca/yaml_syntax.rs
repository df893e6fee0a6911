//! `aca.yaml-syntax`: the Container Apps YAML parses and has the shape Azure gives it.

use super::AcaFacts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "aca.yaml-syntax",
    severity: Severity::Error,
    title: "Container Apps YAML is well-formed",
    summary: "Each file given with -f that is Azure Container Apps YAML parses, holds container \
              apps (`properties.template.containers`), and each value wsdoctor reads \
              (ingress.targetPort, transport, scale, env, secrets) has the documented shape.",
    why: "`az containerapp create --yaml` refuses a file that does not parse or has a wrongly \
          shaped value, so nothing is deployed; and a value wsdoctor cannot read is a value it \
          cannot check.",
    fix: "Correct the value named, following the Container Apps YAML specification \
          (https://learn.microsoft.com/azure/container-apps/azure-resource-manager-api-spec).",
};

pub fn check(facts: &AcaFacts) -> Vec<CheckResult> {
    let aca = facts.aca;
    let mut out: Vec<CheckResult> = aca
        .problems
        .iter()
        .map(|p| {
            RULE.fire(p.message.clone())
                .at(p.span.as_ref().map(|s| s.location()))
        })
        .collect();
    if out.is_empty() {
        let names: Vec<&str> = aca.apps.iter().map(|a| a.name.as_str()).collect();
        out.push(RULE.pass(format!(
            "{} read: container app{} {}",
            aca.files.join(", "),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::aca::test_support::*;

    #[test]
    fn parse_error_fails_at_its_line_and_good_file_passes() {
        let d =
            read("type: Microsoft.App/containerApps\nproperties:\n  template: {containers: [\n");
        let r = crate::checks::aca::run(&d, None, None);
        let syntax: Vec<_> = r.iter().filter(|r| r.id == RULE.id).collect();
        assert_eq!(syntax.len(), 1);
        assert_eq!(syntax[0].status.as_str(), "fail");
        assert!(syntax[0].location.as_ref().unwrap().line.is_some());
        let d = read(&chainlit("      targetPort: 8000\n", ""));
        let r = crate::checks::aca::run(&d, None, None);
        let syntax: Vec<_> = r.iter().filter(|r| r.id == RULE.id).cloned().collect();
        assert_eq!(statuses(&syntax), ["pass"]);
    }
}
