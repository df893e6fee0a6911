//! Which Kubernetes object a host name and port reach from a pod: cluster DNS (the search
//! list kubelet writes into every pod's resolv.conf), Service selectors, and the Service
//! port → targetPort → container port translation kube-proxy does.
//!
//! DNS: <https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/> — a pod in
//! namespace `ns` has `search ns.svc.cluster.local svc.cluster.local cluster.local` and
//! `ndots:5`, so `redis` is tried as `redis.ns.svc.cluster.local` first: a bare name reaches
//! only a Service of the pod's own namespace, `redis.other` one of namespace `other`.
//! A headless Service (`clusterIP: None`) also gives each pod of a StatefulSet a name,
//! `pod.service.ns.svc.cluster.local`, and connections go to the pod's port directly.

use super::objects::*;
use crate::config::{Deployment, Service};

/// What a host name resolves to from a pod of `client_namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A Service of the inputs; `pod` when the name is one pod of a headless Service.
    Service {
        service: &'a KubeService,
        pod: Option<String>,
        /// The name as the search list completed it (`redis.default.svc.cluster.local`).
        fqdn: String,
    },
    /// A name in a namespace of the inputs that no Service of the inputs answers to.
    Missing { namespace: String },
    /// A name outside what the inputs describe (another namespace, a DNS name elsewhere).
    Outside,
}

/// The candidates the resolver tries, in order, for a name with fewer than 5 dots
/// (ndots:5), then the name itself.
fn candidates(host: &str, client_namespace: &str) -> Vec<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::new();
    if host.matches('.').count() < 5 {
        for search in [
            format!("{client_namespace}.svc.{CLUSTER_DOMAIN}"),
            format!("svc.{CLUSTER_DOMAIN}"),
            CLUSTER_DOMAIN.to_string(),
        ] {
            out.push(format!("{host}.{search}"));
        }
    }
    out.push(host);
    out
}

/// Resolves `host` as a pod of `client_namespace` would.
pub fn resolve_host<'a>(cluster: &'a Cluster, host: &str, client_namespace: &str) -> Resolved<'a> {
    let suffix = format!(".svc.{CLUSTER_DOMAIN}");
    let mut namespace_seen = None;
    for (index, fqdn) in candidates(host, client_namespace).into_iter().enumerate() {
        let Some(rest) = fqdn.strip_suffix(&suffix) else {
            continue;
        };
        let labels: Vec<&str> = rest.split('.').collect();
        let (pod, name, namespace) = match labels.as_slice() {
            [name, ns] => (None, *name, *ns),
            [pod, name, ns] => (Some(pod.to_string()), *name, *ns),
            _ => continue,
        };
        let found = cluster
            .services
            .iter()
            .find(|s| s.name == name && s.namespace == namespace && (pod.is_none() || s.headless));
        if let Some(service) = found {
            return Resolved::Service { service, pod, fqdn };
        }
        // `a.b` completed with the pod's own namespace reads as pod `a` of Service `b`:
        // that says nothing about which namespace the user meant (`b` may be one).
        let completed = index == 0 && host.matches('.').count() < 5;
        if !(completed && pod.is_some())
            && namespace_seen.is_none()
            && cluster.namespaces.iter().any(|n| n == namespace)
        {
            namespace_seen = Some(namespace.to_string());
        }
    }
    // A bare name is always a name of the client's namespace: nothing answers to it.
    if !host.contains('.') {
        return Resolved::Missing {
            namespace: client_namespace.to_string(),
        };
    }
    match namespace_seen {
        Some(namespace) => Resolved::Missing { namespace },
        None => Resolved::Outside,
    }
}

/// How a client reaches `service` from `namespace` most simply: `redis` in its own
/// namespace, `redis.other` from elsewhere.
pub fn short_name(service: &KubeService, client_namespace: &str) -> String {
    if service.namespace == client_namespace {
        service.name.clone()
    } else {
        format!("{}.{}", service.name, service.namespace)
    }
}

/// The model services (containers) of the pods a Service selects: same namespace, labels
/// matching the selector. A Service without selector selects none (its endpoints are kept
/// by hand, or it is an ExternalName).
pub fn selected<'d>(deployment: &'d Deployment, service: &KubeService) -> Vec<&'d Service> {
    let Some(selector) = &service.selector else {
        return Vec::new();
    };
    let selector = LabelSelector {
        match_labels: selector.value.clone(),
        expressions: vec![],
    };
    deployment
        .services
        .iter()
        .filter(|s| {
            s.kube.as_ref().is_some_and(|w| {
                w.namespace == service.namespace
                    && !selector.match_labels.is_empty()
                    && selector.matches(&w.pod_labels)
            })
        })
        .collect()
}

/// Where a port of a Service leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRoute<'a> {
    /// The container port connections arrive on (`via`: the Service port used, None for a
    /// headless Service, which does not translate ports).
    Container {
        port: u16,
        via: Option<&'a ServicePort>,
    },
    /// The Service has no port `port` (kube-proxy refuses the connection).
    NoServicePort { port: u16 },
    /// `targetPort` names a port no container of the selected pods declares: the Service
    /// has no ready endpoint for it.
    NamedPortMissing { via: &'a ServicePort, name: String },
}

/// Follows `port` through `service` to the container port of `backend` (a selected pod's
/// container).
pub fn route_port<'a>(service: &'a KubeService, port: u16, backends: &[&Service]) -> PortRoute<'a> {
    if service.headless {
        return PortRoute::Container { port, via: None };
    }
    let Some(sp) = service.ports.iter().find(|p| p.port == port) else {
        return PortRoute::NoServicePort { port };
    };
    match &sp.target {
        None => PortRoute::Container {
            port: sp.port,
            via: Some(sp),
        },
        Some(TargetPort::Number(n)) => PortRoute::Container {
            port: *n,
            via: Some(sp),
        },
        Some(TargetPort::Name(name)) => {
            let found = backends.iter().find_map(|b| {
                b.kube
                    .as_ref()?
                    .container_ports
                    .iter()
                    .find(|p| p.name.as_deref() == Some(name))
            });
            match found {
                Some(p) => PortRoute::Container {
                    port: p.port,
                    via: Some(sp),
                },
                None => PortRoute::NamedPortMissing {
                    via: sp,
                    name: name.clone(),
                },
            }
        }
    }
}

/// Whether a NetworkPolicy peer admits pods with `labels` in `namespace` (the policy's own
/// namespace is `policy_namespace`). Namespace labels are only known for `kind: Namespace`
/// objects of the inputs (and `kubernetes.io/metadata.name`, set on every namespace).
pub fn peer_admits(
    cluster: &Cluster,
    peer: &PolicyPeer,
    policy_namespace: &str,
    namespace: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    if peer.ip_block.is_some() && peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        // ipBlock is for traffic from outside the cluster: pod IPs are ephemeral and the
        // documentation says such blocks should not be used for in-cluster pods.
        return false;
    }
    let namespace_ok = match &peer.namespace_selector {
        None => namespace == policy_namespace,
        Some(sel) => {
            let mut ns_labels = cluster
                .namespace_labels
                .get(namespace)
                .cloned()
                .unwrap_or_default();
            ns_labels.insert("kubernetes.io/metadata.name".into(), namespace.to_string());
            sel.matches(&ns_labels)
        }
    };
    let pod_ok = peer.pod_selector.as_ref().is_none_or(|s| s.matches(labels));
    namespace_ok && pod_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Located;
    use std::collections::BTreeMap;

    fn svc(name: &str, ns: &str) -> KubeService {
        KubeService {
            name: name.into(),
            namespace: ns.into(),
            kind: "ClusterIP".into(),
            headless: false,
            selector: Some(Located::new(
                [("app".to_string(), name.to_string())].into(),
                None,
            )),
            ports: vec![ServicePort {
                name: Some("redis".into()),
                port: 6379,
                target: Some(TargetPort::Name("redis".into())),
                span: None,
            }],
            external_name: None,
            session_affinity: None,
            annotations: BTreeMap::new(),
            span: None,
        }
    }

    fn cluster() -> Cluster {
        Cluster {
            services: vec![
                svc("redis", "cache"),
                svc("redis", "default"),
                svc("valkey", "cache"),
            ],
            namespaces: vec!["default".into(), "cache".into(), "ai".into()],
            ..Cluster::default()
        }
    }

    fn found(r: Resolved) -> Option<(String, String)> {
        match r {
            Resolved::Service { service, .. } => {
                Some((service.name.clone(), service.namespace.clone()))
            }
            _ => None,
        }
    }

    #[test]
    fn every_dns_form_kubernetes_answers() {
        let c = cluster();
        let s = |n: &str, ns: &str| Some((n.to_string(), ns.to_string()));
        assert_eq!(
            found(resolve_host(&c, "redis", "default")),
            s("redis", "default")
        );
        assert_eq!(
            found(resolve_host(&c, "redis", "cache")),
            s("redis", "cache")
        );
        assert_eq!(
            found(resolve_host(&c, "valkey.cache", "ai")),
            s("valkey", "cache")
        );
        assert_eq!(
            found(resolve_host(&c, "valkey.cache.svc", "ai")),
            s("valkey", "cache")
        );
        assert_eq!(
            found(resolve_host(&c, "valkey.cache.svc.cluster.local", "ai")),
            s("valkey", "cache")
        );
        assert_eq!(
            found(resolve_host(&c, "Valkey.cache.svc.cluster.local.", "ai")),
            s("valkey", "cache")
        );
    }

    #[test]
    fn a_bare_name_stays_in_its_namespace() {
        let c = cluster();
        assert_eq!(
            resolve_host(&c, "valkey", "ai"),
            Resolved::Missing {
                namespace: "ai".into()
            }
        );
        assert_eq!(
            resolve_host(&c, "valkey.default", "ai"),
            Resolved::Missing {
                namespace: "default".into()
            }
        );
        assert_eq!(resolve_host(&c, "redis.elsewhere", "ai"), Resolved::Outside);
        assert_eq!(
            resolve_host(&c, "my.redis.example.com", "ai"),
            Resolved::Outside
        );
    }

    #[test]
    fn headless_pod_names() {
        let mut c = cluster();
        c.services[0].headless = true;
        let r = resolve_host(&c, "redis-0.redis.cache.svc.cluster.local", "ai");
        assert!(
            matches!(r, Resolved::Service { pod: Some(ref p), .. } if p == "redis-0"),
            "{r:?}"
        );
        // Not headless: no pod names.
        assert_eq!(
            resolve_host(&c, "redis-0.redis.default", "ai"),
            Resolved::Missing {
                namespace: "default".into()
            }
        );
    }

    #[test]
    fn ports_follow_target_port_by_number_and_name() {
        let c = cluster();
        let redis = crate::config::Service {
            name: "redis".into(),
            kube: Some(Workload {
                container_ports: vec![ContainerPort {
                    name: Some("redis".into()),
                    port: 6380,
                    span: None,
                }],
                ..Workload::default()
            }),
            ..crate::config::Service::default()
        };
        let s = &c.services[0];
        assert!(matches!(
            route_port(s, 6379, &[&redis]),
            PortRoute::Container { port: 6380, .. }
        ));
        assert_eq!(
            route_port(s, 6380, &[&redis]),
            PortRoute::NoServicePort { port: 6380 }
        );
        let none = crate::config::Service::default();
        assert!(matches!(
            route_port(s, 6379, &[&none]),
            PortRoute::NamedPortMissing { .. }
        ));
        let mut numbered = s.clone();
        numbered.ports[0].target = Some(TargetPort::Number(7000));
        assert!(matches!(
            route_port(&numbered, 6379, &[]),
            PortRoute::Container { port: 7000, .. }
        ));
        numbered.ports[0].target = None;
        assert!(matches!(
            route_port(&numbered, 6379, &[]),
            PortRoute::Container { port: 6379, .. }
        ));
    }
}
