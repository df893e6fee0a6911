//! `aca.sticky-sessions`: polling sessions across several replicas are pinned by the ingress.
//!
//! https://learn.microsoft.com/azure/container-apps/sticky-sessions: session affinity "allows
//! you to route all requests from a client to the same replica"; "Session stickiness is
//! enforced using HTTP cookies"; "session affinity is only supported when your app is in
//! single revision mode and the ingress type is HTTP"; set with
//! `ingress.stickySessions.affinity: sticky` (default `none`, ingress-how-to). Replicas:
//! `template.scale.maxReplicas`, 10 when unset
//! (https://learn.microsoft.com/azure/container-apps/scale-app). Why polling needs it:
//! https://socket.io/docs/v4/using-multiple-nodes/ ("you have to make sure that all requests
//! associated with a particular session ID reach the process that originated them").

use super::AcaFacts;
use crate::apps::Transports;
use crate::catalogue::{Rule, Severity};
use crate::checks::config::{app_evidence, no_apps};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "aca.sticky-sessions",
    severity: Severity::Error,
    title: "Container Apps replicas pin polling sessions",
    summary: "A container app whose Socket.IO sessions start on HTTP long-polling and that may \
              run several replicas (`maxReplicas` > 1; 10 when unset) sets \
              `ingress.stickySessions.affinity: sticky`, in single revision mode with HTTP \
              ingress, the only setup where Azure supports it.",
    why: "Without affinity the ingress \"distributes requests more evenly across replicas\" \
          (https://learn.microsoft.com/azure/container-apps/sticky-sessions): the polling \
          requests of one Engine.IO session land on replicas that never saw its sid and get \
          400 \"Session ID unknown\" / \"Invalid session\", and the client reconnects in a \
          loop (https://socket.io/docs/v4/using-multiple-nodes/). A Redis manager relays \
          broadcasts, not sessions. Azure supports affinity \"only ... in single revision mode \
          and the ingress type is HTTP\", so `sticky` with `activeRevisionsMode: multiple` or \
          `transport: tcp` does not pin anything.",
    fix: "Set `properties.configuration.ingress.stickySessions.affinity: sticky` (portal: \
          Ingress > Session affinity) with `activeRevisionsMode: single` and HTTP ingress; or \
          run one replica (`maxReplicas: 1`); or make server and clients websocket-only.",
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
            let replicas = ca.max_replicas_value();
            let replicas_text = match &ca.max_replicas {
                Some(m) => format!("maxReplicas {}", m.value),
                None => format!("maxReplicas unset (Azure's default {replicas})"),
            };
            let replicas_at = ca
                .max_replicas
                .as_ref()
                .and_then(|m| m.location())
                .or_else(|| ca.span.as_ref().map(|s| s.location()));
            let r = match &ca.ingress {
                None => RULE.skip(format!("{name}: no ingress: no client sessions to pin")),
                Some(_) if app.transports.value == Transports::WebsocketOnly => RULE.pass(format!(
                    "{name}: websocket transport only ({}): no polling sessions to pin",
                    app.transports.source
                )),
                Some(_) if replicas <= 1 => RULE.pass(format!(
                    "{name}: {replicas_text}: one replica holds every session"
                )),
                Some(ingress) if ingress.sticky() => {
                    let at = ingress.affinity.as_ref().and_then(|a| a.location());
                    if ca.multiple_revisions() {
                        let mode = ca.revisions_mode.as_ref().expect("multiple implies set");
                        RULE.fire(format!(
                            "{name}: affinity sticky with activeRevisionsMode {}: Azure supports session affinity only in single revision mode, so {replicas_text} replicas share polling sessions unpinned",
                            mode.value
                        ))
                        .at(mode.location().or(at))
                        .hint("set activeRevisionsMode: single")
                    } else if ingress.transport_value() == "tcp" {
                        RULE.fire(format!(
                            "{name}: affinity sticky with transport tcp: Azure supports session affinity only for HTTP ingress"
                        ))
                        .at(ingress.transport.as_ref().and_then(|t| t.location()).or(at))
                        .hint("use transport: auto")
                    } else {
                        RULE.pass(format!(
                            "{name}: {replicas_text} behind stickySessions.affinity sticky (cookie affinity, single revision mode, HTTP ingress)"
                        ))
                        .at(at)
                    }
                }
                Some(ingress) => {
                    let affinity = ingress
                        .affinity
                        .as_ref()
                        .map_or("unset (default none)".to_string(), |a| a.value.clone());
                    let base = match app.transports.value {
                        Transports::PollingOnly => RULE.fire(format!(
                            "{name}: polling only ({}=false) with {replicas_text} and stickySessions.affinity {affinity}: polling requests land on other replicas and get 400 \"Invalid session\"",
                            app.transports.source
                        )),
                        _ => RULE.warn(format!(
                            "{name}: {} with {replicas_text} and stickySessions.affinity {affinity}: Socket.IO clients start on polling, and a polling session's requests land on other replicas (400 \"Invalid session\") unless clients are websocket-only",
                            app.profile.name
                        )),
                    };
                    base.at(
                        ingress
                            .affinity
                            .as_ref()
                            .and_then(|a| a.location())
                            .or(replicas_at),
                    )
                    .hint("set ingress.stickySessions.affinity: sticky (or maxReplicas: 1)")
                }
            };
            let r = r
                .subject(name.clone())
                .evidence("replicas", replicas)
                .evidence("websocket_only", app.websocket_only());
            Some(app_evidence(r, app))
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

    const SCALE3: &str = "    scale:\n      minReplicas: 1\n      maxReplicas: 3\n";

    #[test]
    fn replicas_without_affinity_warn_and_sticky_passes() {
        assert_eq!(
            statuses(&run(&chainlit("      targetPort: 8000\n", SCALE3))),
            ["warn"]
        );
        // maxReplicas unset: Azure's default of 10.
        assert_eq!(
            statuses(&run(&chainlit("      targetPort: 8000\n", ""))),
            ["warn"]
        );
        let sticky = "      targetPort: 8000\n      stickySessions:\n        affinity: sticky\n";
        assert_eq!(statuses(&run(&chainlit(sticky, SCALE3))), ["pass"]);
        let one = "    scale:\n      maxReplicas: 1\n";
        assert_eq!(
            statuses(&run(&chainlit("      targetPort: 8000\n", one))),
            ["pass"]
        );
        let multi = chainlit(sticky, SCALE3).replace(
            "  configuration:\n",
            "  configuration:\n    activeRevisionsMode: Multiple\n",
        );
        let r = run(&multi);
        assert_eq!(statuses(&r), ["fail"]);
        assert_eq!(r[0].location.as_ref().unwrap().line, Some(5));
    }
}
