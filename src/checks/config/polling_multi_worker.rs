//! `config.polling-multi-worker`: the polling transport across several processes.

use super::{Facts, app_evidence, no_apps};
use crate::apps::Transports;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.polling-multi-worker",
    severity: Severity::Error,
    title: "Polling is not spread over several workers without sticky sessions",
    summary: "An app whose sessions start on the polling transport (Open WebUI with \
              ENABLE_WEBSOCKET_SUPPORT=false; Flask-SocketIO, python-socketio and Node \
              socket.io with their default transports) runs one Socket.IO process per \
              container, and several replicas only behind sticky sessions.",
    why: "A polling client sends each request on whatever connection it has; a session lives in \
          the worker that created it. Any other worker answers 400 \"Invalid session\" (Node: \
          \"Session ID unknown\") and the client reconnects in a loop. A Redis manager does NOT \
          fix this: it relays broadcasts, not sessions (measured: 4 uvicorn workers with \
          AsyncRedisManager failed 13 of 20 polling rounds; 1 worker, 0 of 20). Sticky sessions \
          at a load balancer can pin a client to a replica, never to one worker process inside \
          a container. Socket.IO clients start with polling unless told `transports: \
          ['websocket']`.",
    fix: "Open WebUI: keep ENABLE_WEBSOCKET_SUPPORT=true (the default) and make the proxy pass \
          the Upgrade. Other apps: one worker per container (gunicorn -w 1, uvicorn/hypercorn \
          without --workers) scaled with replicas behind sticky sessions (cookie or ip_hash), \
          or websocket-only clients and server.",
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
            let label = app.profile.name;
            let at = app.transports.span.as_ref();
            let workers = app.workers.value;
            let replicas = app.replicas.value;
            let r = match app.transports.value {
                Transports::WebsocketOnly => RULE.pass(format!(
                    "{name}: websocket transport only ({} {}): no polling sessions to pin",
                    app.transports.source,
                    if app.transports.defaulted { "defaults to true" } else { "is true" }
                )),
                Transports::PollingOnly if workers > 1 => RULE
                    .fire(format!(
                        "{name}: polling only ({}=false) with {workers} workers per container (from {}): requests of one session land on other workers and get 400 \"Invalid session\"; Redis does not share sessions",
                        app.transports.source, app.workers.source
                    ))
                    .hint(format!(
                        "set {}=true (and pass the Upgrade at the proxy), or run one worker",
                        app.transports.source
                    )),
                Transports::Both if workers > 1 => RULE
                    .warn(format!(
                        "{name}: {label} with {workers} workers per container (from {}): Socket.IO clients start on polling, and a polling session's requests land on other workers (400 \"Invalid session\"), Redis manager or not; this holds unless server and clients are websocket-only (transports are set in the app's code, which wsdoctor does not read)",
                        app.workers.source
                    ))
                    .hint("run one worker per container and scale with replicas behind sticky sessions, or make server and clients websocket-only"),
                // Kubernetes: pods behind a Service or an Ingress; whether they keep a client
                // on one pod is kube.session-affinity's question.
                _ if replicas > 1 && app.service.kube.is_some() => RULE.pass(format!(
                    "{name}: one Socket.IO process per pod; spreading sessions over {replicas} pods is judged by kube.session-affinity"
                )),
                _ if replicas > 1 && has_sticky_label(app.service) => RULE.pass(format!(
                    "{name}: polling with {replicas} replicas behind a sticky-session label"
                )),
                Transports::PollingOnly if replicas > 1 => RULE
                    .fire(format!(
                        "{name}: polling only with {replicas} replicas and no sticky sessions in sight: 400 \"Invalid session\" loops unless the load balancer pins each client"
                    ))
                    .hint(format!(
                        "enable sticky sessions at the load balancer, or set {}=true",
                        app.transports.source
                    )),
                Transports::Both if replicas > 1 => RULE
                    .warn(format!(
                        "{name}: {label} with {replicas} replicas and no sticky sessions in sight: polling sessions break unless the load balancer pins each client (or clients are websocket-only)"
                    ))
                    .hint("enable sticky sessions at the load balancer (cookie or ip_hash)"),
                _ => RULE.pass(format!("{name}: polling with a single process")),
            };
            let r = r
                .subject(name.clone())
                .at(at.map(|s| s.location()).or_else(|| app.service.location()))
                .evidence(
                    "websocket_support",
                    app.transports.value != Transports::PollingOnly,
                )
                .evidence("websocket_only", app.websocket_only())
                .evidence("workers", workers)
                .evidence("replicas", replicas);
            app_evidence(r, app)
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
