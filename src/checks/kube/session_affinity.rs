//! `kube.session-affinity`: polling sessions spread over several pods need affinity where
//! the traffic is balanced: the Ingress controller, or the Service without one.

use super::{Controller, controller, ingresses_to, services_of};
use crate::apps::Transports;
use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::helm::defaults::{CHART_NAME, CHART_VERSION};
use crate::config::kube::Cluster;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.session-affinity",
    severity: Severity::Error,
    title: "Polling across pods has session affinity",
    summary: "A Socket.IO app whose sessions start on HTTP long-polling, run with more than one \
              pod (replicas or an HPA's maxReplicas), keeps each client on one pod: \
              ingress-nginx `nginx.ingress.kubernetes.io/affinity: cookie`, Traefik's sticky \
              cookie (Service annotation or IngressRoute `sticky`), or, without an Ingress, the \
              Service's `sessionAffinity: ClientIP`.",
    why: "An Engine.IO session lives in the pod that opened it; a polling request balanced to \
          another pod gets 400 \"Session ID unknown\" / \"Invalid session\" and the client \
          reconnects in a loop (a Redis manager relays broadcasts, not sessions). \
          `sessionAffinity: ClientIP` is applied by kube-proxy to the client address it sees \
          (<https://kubernetes.io/docs/reference/networking/virtual-ips/#session-affinity>); it \
          does not survive an Ingress: ingress-nginx sends requests to the pod endpoints \
          directly, not through the Service's virtual IP \
          (<https://kubernetes.github.io/ingress-nginx/user-guide/miscellaneous/#why-endpoints-and-not-services>), \
          and balances each request unless `nginx.ingress.kubernetes.io/affinity: cookie` \
          (<https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#session-affinity>). \
          Traefik keeps a client on one server with its sticky cookie \
          (<https://doc.traefik.io/traefik/routing/providers/kubernetes-ingress/#on-service>, \
          IngressRoute `services[].sticky.cookie`).",
    fix: "ingress-nginx: annotate the Ingress `nginx.ingress.kubernetes.io/affinity: \"cookie\"` \
          (and `nginx.ingress.kubernetes.io/session-cookie-name`). Traefik: annotate the Service \
          `traefik.ingress.kubernetes.io/service.sticky.cookie: \"true\"`, or set `sticky: \
          {cookie: {}}` on the IngressRoute service. No Ingress: `sessionAffinity: ClientIP` on \
          the Service. Or make server and clients websocket-only.",
};

const NGINX_AFFINITY: &str = "nginx.ingress.kubernetes.io/affinity";
const TRAEFIK_STICKY: &str = "traefik.ingress.kubernetes.io/service.sticky.cookie";

/// Whether the Open WebUI chart (`--helm-values`) rendered this object: its fix is then a
/// value of the chart, not an edit of the object.
fn chart_renders(facts: &Facts, kind: &str, name: &str) -> bool {
    facts.deployment.helm.as_ref().is_some_and(|h| {
        h.rendered
            .iter()
            .any(|r| r.split_once(' ') == Some((kind, name)))
    })
}

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for app in &facts.apps {
        let name = &app.service.name;
        let pods = app.replicas.value;
        let at = app
            .replicas
            .span
            .as_ref()
            .map(|s| s.location())
            .or_else(|| app.service.location());
        if app.transports.value == Transports::WebsocketOnly {
            out.push(
                RULE.pass(format!(
                    "{name}: websocket transport only ({}): one connection per session, no polling requests to pin",
                    app.transports.source
                ))
                .subject(name.clone())
                .at(at),
            );
            continue;
        }
        if pods <= 1 {
            out.push(
                RULE.pass(format!(
                    "{name}: one pod ({}): nothing to pin",
                    app.replicas.source
                ))
                .subject(name.clone())
                .at(at),
            );
            continue;
        }
        let services = services_of(facts, cluster, app.service);
        let ingresses = ingresses_to(cluster, &services);
        let routes: Vec<_> = cluster
            .ingress_routes
            .iter()
            .flat_map(|r| r.services.iter().map(move |s| (r, s)))
            .filter(|(_, s)| {
                services
                    .iter()
                    .any(|k| k.name == s.service && k.namespace == s.namespace)
            })
            .collect();
        let spread = format!(
            "{name}: polling sessions over {pods} pods ({})",
            app.replicas.source
        );
        let mut judged = false;
        for ingress in &ingresses {
            judged = true;
            let iat = ingress.span.as_ref().map(|s| s.location());
            let r = match controller(ingress) {
                Controller::IngressNginx => match ingress.annotations.get(NGINX_AFFINITY) {
                    Some(a) if a.value == "cookie" => RULE
                        .pass(format!("{spread}: Ingress {} pins clients with a cookie ({NGINX_AFFINITY}: cookie)", ingress.name))
                        .at(a.span.as_ref().map(|s| s.location())),
                    _ => {
                        let client_ip = services.iter().any(|s| {
                            s.session_affinity.as_ref().is_some_and(|a| a.value == "ClientIP")
                        });
                        RULE.fire(format!(
                            "{spread}: Ingress {} (ingress-nginx) balances each request over the pods without {NGINX_AFFINITY}: cookie{}; requests of one session land on other pods (400 \"Invalid session\"; Node: \"Session ID unknown\")",
                            ingress.name,
                            if client_ip { "; the Service's sessionAffinity: ClientIP does not apply behind it (ingress-nginx sends to pod endpoints directly)" } else { "" }
                        ))
                        .hint(if chart_renders(facts, "Ingress", &ingress.name) {
                            format!("add `{NGINX_AFFINITY}: \"cookie\"` under the chart's `ingress.annotations` (the Ingress {} is rendered from them, templates/ingress.yaml)", ingress.name)
                        } else {
                            format!("annotate Ingress {}: {NGINX_AFFINITY}: \"cookie\"", ingress.name)
                        })
                        .at(iat)
                    }
                },
                Controller::Traefik => {
                    let sticky = services.iter().find_map(|s| {
                        s.annotations.get(TRAEFIK_STICKY).filter(|a| a.value == "true")
                    });
                    match sticky {
                        Some(a) => RULE
                            .pass(format!("{spread}: Traefik keeps clients on one pod ({TRAEFIK_STICKY} on the Service)"))
                            .at(a.span.as_ref().map(|s| s.location())),
                        None => RULE
                            .fire(format!(
                                "{spread}: Ingress {} (Traefik) balances requests over the pods without a sticky cookie; requests of one session land on other pods (400 \"Invalid session\"; Node: \"Session ID unknown\")",
                                ingress.name
                            ))
                            .hint(match services.first() {
                                Some(svc) if chart_renders(facts, "Service", &svc.name) => format!(
                                    "add `{TRAEFIK_STICKY}: \"true\"` under the chart's `service.annotations` (the Service {} is rendered from them, templates/service.yaml)",
                                    svc.name
                                ),
                                svc => format!(
                                    "annotate the Service {}: {TRAEFIK_STICKY}: \"true\"",
                                    svc.map_or("", |s| s.name.as_str())
                                ),
                            })
                            .at(iat),
                    }
                }
                Controller::Other => RULE
                    .warn(format!(
                        "{spread}: Ingress {} (class {}): wsdoctor does not know whether that controller keeps a client on one pod",
                        ingress.name,
                        ingress.class.as_deref().unwrap_or("unset")
                    ))
                    .hint("enable cookie-based session affinity in the ingress controller")
                    .at(iat),
            };
            out.push(r.subject(name.clone()));
        }
        for (route, s) in &routes {
            judged = true;
            let r = match &s.sticky {
                Some(span) => RULE
                    .pass(format!("{spread}: IngressRoute {} has a sticky cookie for {}", route.name, s.service))
                    .at(Some(span.location())),
                None => RULE
                    .fire(format!(
                        "{spread}: IngressRoute {} sends to Service {} without `sticky.cookie`; requests of one session land on other pods",
                        route.name, s.service
                    ))
                    .hint("add `sticky: {cookie: {name: io}}` to the IngressRoute's service")
                    .at(s.span.as_ref().map(|x| x.location())),
            };
            out.push(r.subject(name.clone()));
        }
        if judged {
            continue;
        }
        // No Ingress of the inputs: clients reach the Service (NodePort, LoadBalancer, or a
        // proxy wsdoctor does not see), and kube-proxy's ClientIP affinity is what pins them.
        let affinity = services.iter().find_map(|s| {
            s.session_affinity
                .as_ref()
                .filter(|a| a.value == "ClientIP")
        });
        let r = match (affinity, services.first()) {
            (Some(a), _) => RULE
                .pass(format!(
                    "{spread}: the Service has sessionAffinity: ClientIP (no Ingress among the inputs; it would not survive one, and clients behind one NAT share a pod)"
                ))
                .at(a.span.as_ref().map(|s| s.location())),
            (None, Some(svc)) => RULE
                .fire(format!(
                    "{spread}: Service {} balances connections over the pods without sessionAffinity; requests of one session land on other pods (400 \"Invalid session\"; Node: \"Session ID unknown\")",
                    svc.name
                ))
                .hint(if chart_renders(facts, "Service", &svc.name) {
                    // The chart's templates/service.yaml (open-webui 16.0.0) writes no
                    // sessionAffinity and has no value for it: what the chart offers is its
                    // Ingress, with the controller's cookie affinity in `ingress.annotations`
                    // (templates/ingress.yaml:12-14).
                    format!(
                        "the {CHART_NAME} chart {CHART_VERSION} has no value for the Service's sessionAffinity (templates/service.yaml): \
                         set `ingress.enabled: true` and the controller's cookie affinity in `ingress.annotations`, \
                         e.g. ingress-nginx `{NGINX_AFFINITY}: \"cookie\"`; or `websocket.enabled: true` (websocket transport only: nothing to pin)"
                    )
                } else {
                    format!("set sessionAffinity: ClientIP on Service {} (behind an Ingress, use the controller's cookie affinity instead)", svc.name)
                })
                // A Service the chart renders is no file of the user's: point at the values
                // that spread the sessions (replicaCount) instead of the chart's template.
                .at(if chart_renders(facts, "Service", &svc.name) {
                    at.clone()
                } else {
                    svc.span.as_ref().map(|s| s.location())
                }),
            (None, None) => RULE
                .warn(format!(
                    "{spread}: no Service of the inputs selects its pods, so wsdoctor cannot see what balances them"
                ))
                .hint("keep each client on one pod where traffic is balanced (cookie affinity), or go websocket-only")
                .at(at),
        };
        out.push(r.subject(name.clone()));
    }
    if out.is_empty() {
        out.push(RULE.skip("no Socket.IO app among the workloads"));
    }
    out
}
