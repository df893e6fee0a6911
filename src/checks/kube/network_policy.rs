//! `kube.network-policy`: no NetworkPolicy keeps the app's pods from the Redis pods.

use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::Service;
use crate::config::kube::resolve::peer_admits;
use crate::config::kube::{Cluster, NetworkPolicy, PolicyRule, Workload};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.network-policy",
    severity: Severity::Error,
    title: "NetworkPolicies let the app reach Redis",
    summary: "When NetworkPolicies select the Redis pods (ingress) or the app's pods (egress), \
              one of their rules admits the app's pods to the Redis port.",
    why: "Once any NetworkPolicy selects a pod for ingress, only traffic a rule of one of those \
          policies allows reaches it (policies add up; an empty `ingress: []` denies all); the \
          same for egress from the app's pods, DNS included. The app then times out connecting \
          to Redis while the Service and DNS look right. \
          <https://kubernetes.io/docs/concepts/services-networking/network-policies/>",
    fix: "Add an ingress rule to a policy selecting the Redis pods: `from: [{podSelector: \
          {matchLabels: <app pod labels>}}]` (plus `namespaceSelector` when the app is in another \
          namespace) with `ports: [{port: 6379}]`; and, if the app's egress is restricted, an \
          egress rule to the Redis pods and to DNS (port 53).",
};

fn port_ok(rule: &PolicyRule, port: u16, redis: &Workload) -> bool {
    rule.ports.is_empty()
        || rule.ports.iter().any(|p| {
            p.parse::<u16>().ok() == Some(port)
                || redis
                    .container_ports
                    .iter()
                    .any(|c| c.port == port && c.name.as_deref() == Some(p.as_str()))
        })
}

fn selecting<'c>(cluster: &'c Cluster, w: &Workload, egress: bool) -> Vec<&'c NetworkPolicy> {
    cluster
        .network_policies
        .iter()
        .filter(|p| {
            p.namespace == w.namespace
                && p.pod_selector.matches(&w.pod_labels)
                && if egress {
                    p.egress_restricted
                } else {
                    p.ingress_restricted
                }
        })
        .collect()
}

fn names(policies: &[&NetworkPolicy]) -> String {
    policies
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn judge(cluster: &Cluster, app: &Service, redis: &Service, port: u16, label: &str) -> CheckResult {
    let (Some(aw), Some(rw)) = (&app.kube, &redis.kube) else {
        return RULE.skip(format!("{label}: not Kubernetes workloads"));
    };
    let ingress = selecting(cluster, rw, false);
    let admitted_in = ingress.iter().any(|p| {
        p.ingress.iter().any(|r| {
            port_ok(r, port, rw)
                && r.peers.as_ref().is_none_or(|peers| {
                    peers.iter().any(|peer| {
                        peer_admits(cluster, peer, &p.namespace, &aw.namespace, &aw.pod_labels)
                    })
                })
        })
    });
    if !ingress.is_empty() && !admitted_in {
        let first = ingress[0];
        return RULE
            .fire(format!(
                "{label}: NetworkPolicy {} selects the pods of {} {} for ingress, and no rule admits {} {} (labels {}, namespace {}) on port {port}: connections to Redis time out",
                names(&ingress),
                rw.kind,
                rw.name,
                aw.kind,
                aw.name,
                aw.pod_labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                aw.namespace
            ))
            .hint(format!(
                "add to NetworkPolicy {}: ingress: [{{from: [{{podSelector: {{matchLabels: {{{}}}}}}}], ports: [{{port: {port}}}]}}]",
                first.name,
                aw.pod_labels.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            ))
            .at(first.span.as_ref().map(|s| s.location()));
    }
    let egress = selecting(cluster, aw, true);
    let admitted_out = egress.iter().any(|p| {
        p.egress.iter().any(|r| {
            port_ok(r, port, rw)
                && r.peers.as_ref().is_none_or(|peers| {
                    peers.iter().any(|peer| {
                        peer_admits(cluster, peer, &p.namespace, &rw.namespace, &rw.pod_labels)
                    })
                })
        })
    });
    if !egress.is_empty() && !admitted_out {
        let first = egress[0];
        return RULE
            .fire(format!(
                "{label}: NetworkPolicy {} restricts egress of {} {} and no rule lets it reach {} {} (namespace {}) on port {port}: connections to Redis time out",
                names(&egress),
                aw.kind,
                aw.name,
                rw.kind,
                rw.name,
                rw.namespace
            ))
            .hint(format!(
                "add to NetworkPolicy {}: egress: [{{to: [{{podSelector: {{matchLabels: {{{}}}}}}}], ports: [{{port: {port}}}]}}]",
                first.name,
                rw.pod_labels.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            ))
            .at(first.span.as_ref().map(|s| s.location()));
    }
    if ingress.is_empty() && egress.is_empty() {
        RULE.pass(format!(
            "{label}: no NetworkPolicy of the inputs restricts {} {} or {} {}",
            aw.kind, aw.name, rw.kind, rw.name
        ))
    } else {
        let all: Vec<&NetworkPolicy> = ingress.iter().chain(egress.iter()).copied().collect();
        RULE.pass(format!(
            "{label}: NetworkPolicy {} admits {} {} to {} {} on port {port}",
            names(&all),
            aw.kind,
            aw.name,
            rw.kind,
            rw.name
        ))
    }
}

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for u in &facts.urls {
        let (Some(redis), Some(k)) = (u.redis_service(), &u.kube) else {
            continue;
        };
        let port = match &k.route {
            crate::config::kube::resolve::PortRoute::Container { port, .. } => *port,
            _ => {
                out.push(
                    RULE.skip_because("kube.service-selector")
                        .subject(u.service.name.clone()),
                );
                continue;
            }
        };
        let r = judge(cluster, u.service, redis, port, &u.label()).subject(u.service.name.clone());
        // A finding points at the policy; a pass at the URL.
        let r = if r.location.is_none() {
            r.at(u.location())
        } else {
            r
        };
        out.push(r);
    }
    if out.is_empty() {
        out.push(RULE.skip("no Redis URL reaches Redis pods of the inputs"));
    }
    out
}
