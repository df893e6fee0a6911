//! `config.polling-multi-worker`: the polling transport across several processes.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.polling-multi-worker",
    severity: Severity::Error,
    title: "Polling is not spread over several workers without sticky sessions",
    summary: "An app that serves the polling transport (Open WebUI with \
              ENABLE_WEBSOCKET_SUPPORT=false) runs one Socket.IO process, or several replicas \
              behind sticky sessions.",
    why: "A polling client sends each request on whatever connection it has; a session lives in \
          the worker that created it. Any other worker answers 400 \"Invalid session\" (Node: \
          \"Session ID unknown\") and the client reconnects in a loop. A Redis manager does NOT \
          fix this: it relays broadcasts, not sessions (measured: 4 uvicorn workers with \
          AsyncRedisManager failed 13 of 20 polling rounds; 1 worker, 0 of 20). Sticky sessions \
          at a load balancer can pin a client to a replica, never to one worker process inside \
          a container.",
    fix: "Enable the websocket transport (ENABLE_WEBSOCKET_SUPPORT=true, the default) and make \
          the proxy pass the Upgrade; or run UVICORN_WORKERS=1 and scale with replicas behind \
          sticky sessions (cookie or ip_hash).",
};

fn has_sticky_label(service: &crate::config::Service) -> bool {
    service
        .labels
        .iter()
        .any(|(k, v)| k.contains("sticky") && !v.value.eq_ignore_ascii_case("false"))
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .apps
        .iter()
        .map(|app| {
            let name = &app.service.name;
            let at = app.websocket_support.span.as_ref().map(|s| s.location());
            let r = if app.websocket_support.value {
                RULE.pass(format!(
                    "{name}: websocket transport only (ENABLE_WEBSOCKET_SUPPORT {}): no polling sessions to pin",
                    if app.websocket_support.defaulted { "defaults to true" } else { "is true" }
                ))
            } else if app.workers.value > 1 {
                RULE.fire(format!(
                    "{name}: polling only (ENABLE_WEBSOCKET_SUPPORT=false) with {} workers per container: requests of one session land on other workers and get 400 \"Invalid session\"; Redis does not share sessions",
                    app.workers.value
                ))
                .hint("set ENABLE_WEBSOCKET_SUPPORT=true (and pass the Upgrade at the proxy), or UVICORN_WORKERS=1")
            } else if app.replicas.value > 1 && has_sticky_label(app.service) {
                RULE.pass(format!(
                    "{name}: polling with {} replicas behind a sticky-session label",
                    app.replicas.value
                ))
            } else if app.replicas.value > 1 {
                RULE.fire(format!(
                    "{name}: polling only with {} replicas and no sticky sessions in sight: 400 \"Invalid session\" loops unless the load balancer pins each client",
                    app.replicas.value
                ))
                .hint("enable sticky sessions at the load balancer, or set ENABLE_WEBSOCKET_SUPPORT=true")
            } else {
                RULE.pass(format!("{name}: polling with a single process"))
            };
            r.subject(name.clone())
                .at(at.or_else(|| app.service.location()))
                .evidence("websocket_support", app.websocket_support.value)
                .evidence("workers", app.workers.value)
                .evidence("replicas", app.replicas.value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    #[test]
    fn polling_with_workers_fails_even_with_redis() {
        let img = "ghcr.io/open-webui/open-webui:main";
        let d = deployment(vec![with_env(
            service("w", img, 2),
            &[
                ("ENABLE_WEBSOCKET_SUPPORT", "false"),
                ("UVICORN_WORKERS", "4"),
                ("WEBSOCKET_MANAGER", "redis"),
            ],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
        let d = deployment(vec![with_env(
            service("w", img, 2),
            &[("UVICORN_WORKERS", "4")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
        let d = deployment(vec![with_env(
            service("w", img, 2),
            &[("ENABLE_WEBSOCKET_SUPPORT", "False")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }
}
