//! `aca.target-port`: the ingress sends requests to the port the app listens on.
//!
//! https://learn.microsoft.com/azure/container-apps/ingress-how-to ("Ingress settings"):
//! `targetPort` is "The port your container listens to for incoming requests. Set this
//! value to the port number that your container uses." and is Required. The port the app
//! listens on comes from its profile (`src/apps/`: Chainlit 8000, Open WebUI 8080, or the
//! `--port` flag / port variable the container gets).

use super::AcaFacts;
use crate::catalogue::{Rule, Severity};
use crate::checks::config::{app_evidence, no_apps};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "aca.target-port",
    severity: Severity::Error,
    title: "Container Apps ingress targetPort is the app's port",
    summary: "The ingress `targetPort` of a container app serving Socket.IO equals the port \
              the app listens on inside its container (Chainlit 8000, Open WebUI 8080, or what \
              `--port` / the port variable sets).",
    why: "Azure sends every ingress request to `targetPort`: \"The port your container listens \
          to for incoming requests\" (https://learn.microsoft.com/azure/container-apps/ingress-how-to). \
          When nothing listens there, the ingress has no upstream to talk to: every page and \
          every /socket.io request fails at the ingress (5xx), and the revision's health \
          probes, which default to the ingress port, fail too.",
    fix: "Set `properties.configuration.ingress.targetPort` to the app's port \
          (`az containerapp ingress update -n APP -g RG --target-port 8000`), or make the app \
          listen on targetPort.",
};

pub fn check(facts: &AcaFacts) -> Vec<CheckResult> {
    if facts.config.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .config
        .apps
        .iter()
        .filter_map(|app| {
            let name = &app.service.name;
            let ca = facts.ingress_app(name)?;
            let r = match (&ca.ingress, &app.container_port) {
                (None, _) => RULE.skip(format!("{name}: no ingress")),
                (Some(ingress), port) => match (&ingress.target_port, port) {
                    (None, _) => RULE
                        .fire(format!(
                            "{name}: ingress has no targetPort (Azure requires it: the port the container listens on)"
                        ))
                        .at(ingress.span.as_ref().map(|s| s.location()))
                        .hint(match port {
                            Some(p) => format!("set targetPort: {}", p.value),
                            None => "set targetPort to the app's port".to_string(),
                        }),
                    (Some(target), None) => RULE
                        .skip(format!(
                            "{name}: targetPort {}; the port {} listens on is not in the file",
                            target.value, app.profile.name
                        ))
                        .at(target.location()),
                    (Some(target), Some(listen)) if u32::from(listen.value) == target.value => {
                        RULE.pass(format!(
                            "{name}: targetPort {} is where {} listens ({})",
                            target.value,
                            app.profile.name,
                            if listen.defaulted {
                                format!("its default, {}", listen.source)
                            } else {
                                listen.source.clone()
                            }
                        ))
                        .at(target.location())
                    }
                    (Some(target), Some(listen)) => RULE
                        .fire(format!(
                            "{name}: ingress sends requests to targetPort {} but {} listens on {} ({}): nothing answers there, so pages and /socket.io fail at the ingress",
                            target.value,
                            app.profile.name,
                            listen.value,
                            if listen.defaulted {
                                format!("its default; {} would change it", listen.source)
                            } else {
                                format!("from {}", listen.source)
                            }
                        ))
                        .at(target.location())
                        .hint(format!("set targetPort: {}", listen.value))
                        .evidence("target_port", target.value)
                        .evidence("app_port", listen.value),
                },
            };
            Some(app_evidence(r.subject(name.clone()), app))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::aca::test_support::*;

    fn run(text: &str) -> Vec<CheckResult> {
        let d = read(text);
        check(&AcaFacts {
            config: crate::checks::config::Facts::new(&d, None),
            aca: d.aca.as_ref().unwrap(),
        })
    }

    #[test]
    fn chainlit_listens_on_8000() {
        assert_eq!(
            statuses(&run(&chainlit("      targetPort: 8000\n", ""))),
            ["pass"]
        );
        let r = run(&chainlit("      targetPort: 8080\n", ""));
        assert_eq!(statuses(&r), ["fail"]);
        assert_eq!(r[0].location.as_ref().unwrap().line, Some(6));
        assert_eq!(
            statuses(&run(&chainlit("      external: true\n", ""))),
            ["fail"]
        );
    }
}
