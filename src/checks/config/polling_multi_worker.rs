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

/// Where a proxy in front of the replicas is told to pin clients.
struct Affinity {
    /// The label key, e.g. `traefik.http.services.app.loadbalancer.sticky.cookie`.
    key: String,
    /// `labels` (container labels) or `deploy.labels` (swarm service labels).
    place: &'static str,
    location: Option<crate::report::Location>,
}

fn sticky_in(
    labels: &std::collections::BTreeMap<String, crate::config::Located<String>>,
    place: &'static str,
) -> Option<Affinity> {
    labels
        .iter()
        .find(|(k, v)| k.contains("sticky") && !v.value.eq_ignore_ascii_case("false"))
        .map(|(k, v)| Affinity {
            key: k.clone(),
            place,
            location: v.location(),
        })
}

/// The sticky-session label of the app's service. In a swarm stack Traefik's swarm provider
/// reads the *service's* labels, `deploy.labels` (Traefik docs, Docker provider, "Routing
/// Configuration with Labels": "In Swarm Mode, Traefik uses labels found on services, not on
/// individual containers"); container `labels` count only for Traefik's docker provider
/// without swarm mode, which sees each task container. `traefik.docker.lbswarm=true` hands
/// balancing to the swarm VIP, which has no affinity, so stickiness is lost then.
fn affinity(service: &crate::config::Service, stack: bool) -> Option<Affinity> {
    let lbswarm = service
        .deploy_labels
        .iter()
        .chain(service.labels.iter())
        .any(|(k, v)| k == "traefik.docker.lbswarm" && v.value.eq_ignore_ascii_case("true"));
    if stack && lbswarm {
        return None;
    }
    let deploy = if stack {
        sticky_in(&service.deploy_labels, "deploy.labels")
    } else {
        None
    };
    deploy.or_else(|| sticky_in(&service.labels, "labels"))
}

/// Why nothing pins a client in a swarm stack: the routing mesh balances connections over
/// the tasks with no session affinity (moby/swarmkit#1077, open since 2016), and so does the
/// VIP (endpoint_mode vip, IPVS round robin); dnsrr leaves it to the client's resolver.
fn stack_balancer(service: &crate::config::Service) -> String {
    let lbswarm = service
        .deploy_labels
        .iter()
        .chain(service.labels.iter())
        .any(|(k, v)| k == "traefik.docker.lbswarm" && v.value.eq_ignore_ascii_case("true"));
    if lbswarm {
        return "traefik.docker.lbswarm=true hands balancing to the service VIP, which has no session affinity (a sticky label is then void)".to_string();
    }
    match service.endpoint_mode.as_ref().map(|m| m.value.as_str()) {
        Some("dnsrr") => "endpoint_mode dnsrr: each lookup of the service name returns the tasks in turn, with no session affinity".to_string(),
        _ => "the swarm routing mesh and the service VIP balance connections over the tasks with no session affinity".to_string(),
    }
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
            let stack = facts.deployment.stack.is_some();
            let sticky = affinity(app.service, stack);
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
                // Container Apps replicas sit behind Azure's ingress, whose affinity setting
                // aca.sticky-sessions judges with the platform's documented limits.
                _ if replicas > 1
                    && facts
                        .deployment
                        .aca
                        .as_ref()
                        .is_some_and(|a| a.app_of(name).is_some()) =>
                {
                    RULE.skip(format!(
                        "{name}: {replicas} Container Apps replicas: judged by aca.sticky-sessions"
                    ))
                }
                // Kubernetes: pods behind a Service or an Ingress; whether they keep a client
                // on one pod is kube.session-affinity's question.
                _ if replicas > 1 && app.service.kube.is_some() => RULE.pass(format!(
                    "{name}: one Socket.IO process per pod; spreading sessions over {replicas} pods is judged by kube.session-affinity"
                )),
                _ if replicas > 1 && sticky.is_some() => {
                    let a = sticky.as_ref().expect("matched is_some");
                    let note = if stack && a.place == "labels" {
                        " (container labels: Traefik's docker provider without swarm mode reads them; in swarm mode Traefik reads deploy.labels)"
                    } else {
                        ""
                    };
                    RULE.pass(format!(
                        "{name}: polling with {replicas} replicas behind a sticky-session label ({} {}){note}",
                        a.place, a.key
                    ))
                    .evidence("sticky_label", a.key.clone())
                    .at(a.location.clone())
                }
                Transports::PollingOnly if replicas > 1 && stack => RULE
                    .fire(format!(
                        "{name}: polling only with {replicas} replicas in a swarm stack and no sticky proxy: {}, so requests of one session land on other replicas (400 \"Invalid session\")",
                        stack_balancer(app.service)
                    ))
                    .hint("put a sticky proxy in front, e.g. Traefik with deploy.labels traefik.http.services.NAME.loadbalancer.sticky.cookie=true, or set ENABLE_WEBSOCKET_SUPPORT=true / websocket-only clients"),
                Transports::Both if replicas > 1 && stack => RULE
                    .warn(format!(
                        "{name}: {label} with {replicas} replicas in a swarm stack and no sticky proxy: {}; polling sessions break unless clients are websocket-only",
                        stack_balancer(app.service)
                    ))
                    .hint("put a sticky proxy in front, e.g. Traefik with deploy.labels traefik.http.services.NAME.loadbalancer.sticky.cookie=true"),
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
            let r = if r.location.is_some() {
                r
            } else {
                r.at(at.map(|s| s.location()).or_else(|| app.service.location()))
            };
            let r = if stack { r.evidence("swarm_stack", true) } else { r };
            let r = r
                .subject(name.clone())
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
