//! `kube.service-selector`: the Service a Redis URL names selects the Redis pods, and its
//! targetPort names a port they declare.

use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::kube::Cluster;
use crate::config::kube::resolve::PortRoute;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.service-selector",
    severity: Severity::Error,
    title: "The Redis Service selects the Redis pods",
    summary: "The Service a REDIS_URL host names has a selector matching the labels of the Redis \
              pods' template (same namespace), and a named `targetPort` is a port name those \
              containers declare.",
    why: "A Service sends traffic only to the ready pods its selector matches, in its own \
          namespace. A selector that matches no pod (`app: redis-master` while the StatefulSet's \
          pods are labelled `app: redis`) leaves the Service without endpoints: the name \
          resolves, every connection is refused, and the app loops on 'Connection refused'. \
          A `targetPort` given by name reaches only containers with a `ports[].name` of that \
          name. <https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service>",
    fix: "Make the Service's `spec.selector` the labels of the Redis pod template \
          (`spec.template.metadata.labels`), and its `targetPort` the Redis container's port \
          number or the `name` of one of its `ports`.",
};

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let _ = cluster;
    let mut out = Vec::new();
    for u in &facts.urls {
        let Some(k) = &u.kube else { continue };
        let svc = &k.service;
        let label = format!("Service {}/{}", svc.namespace, svc.name);
        let at = svc.span.as_ref().map(|s| s.location());
        let r = if let Some(external) = &svc.external_name {
            RULE.skip(format!(
                "{}: {label} is an ExternalName for '{}': no selector",
                u.label(),
                external.value
            ))
        } else if svc.selector.is_none() {
            RULE.warn(format!(
                "{}: {label} has no selector: its endpoints are kept by hand (EndpointSlices wsdoctor cannot see)",
                u.label()
            ))
            .hint("give the Service a selector matching the Redis pods' labels")
        } else if let Some(selector) = svc.selector.as_ref().filter(|_| k.backends.is_empty()) {
            let shown: Vec<String> = selector
                .value
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            // The workloads of that namespace, to show what labels they do have.
            let candidates: Vec<String> = facts
                .deployment
                .services
                .iter()
                .filter_map(|s| s.kube.as_ref())
                .filter(|w| w.namespace == svc.namespace)
                .filter(|w| {
                    facts
                        .redis
                        .iter()
                        .any(|r| r.service.kube.as_ref().is_some_and(|rw| rw.name == w.name))
                })
                .map(|w| {
                    let labels: Vec<String> = w
                        .pod_labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!("{} {} has {}", w.kind, w.name, labels.join(","))
                })
                .collect();
            let mut r = RULE
                .fire(format!(
                    "{}: {label} selects {} and no pod of the inputs in namespace {} has those labels{}: the Service has no endpoints and connections are refused",
                    u.label(),
                    shown.join(","),
                    svc.namespace,
                    if candidates.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", candidates.join("; "))
                    }
                ))
                .evidence("selector", shown.join(","));
            r = match candidates.first() {
                Some(_) => r.hint("set the Service's selector to the Redis pod template's labels"),
                None => {
                    r.hint("add the Redis workload's manifest to the inputs, or fix the selector")
                }
            };
            r.at(selector.span.as_ref().map(|s| s.location()).or(at.clone()))
        } else {
            match &k.route {
                PortRoute::NamedPortMissing { via, name } => {
                    let declared: Vec<String> = k
                        .backends
                        .iter()
                        .filter_map(|b| b.kube.as_ref())
                        .flat_map(|w| w.container_ports.iter())
                        .map(|p| match &p.name {
                            Some(n) => format!("{n}={}", p.port),
                            None => p.port.to_string(),
                        })
                        .collect();
                    RULE.fire(format!(
                        "{}: {label} port {} has targetPort '{name}', a name no container of the selected pods declares (their ports: {}): no endpoint for it",
                        u.label(),
                        via.port,
                        if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                    ))
                    .hint(format!("name the Redis container's port `{name}` (ports: [{{name: {name}, containerPort: 6379}}]) or use a number as targetPort"))
                    .at(via.span.as_ref().map(|s| s.location()).or(at.clone()))
                }
                _ => {
                    let workloads: Vec<String> = k
                        .backends
                        .iter()
                        .filter_map(|b| b.kube.as_ref())
                        .map(|w| format!("{} {}", w.kind, w.name))
                        .collect();
                    RULE.pass(format!(
                        "{}: {label} selects the pods of {}",
                        u.label(),
                        workloads.join(", ")
                    ))
                    .at(at.clone())
                }
            }
        };
        out.push(r.subject(u.service.name.clone()));
    }
    if out.is_empty() {
        out.push(RULE.skip("no Redis URL names a Service of the inputs"));
    }
    out
}
