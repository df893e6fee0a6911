//! What the Kubernetes reader keeps of the cluster objects besides the model services:
//! Services, Ingresses, NetworkPolicies and the like, each with the span of its definition.
//! Checks resolve names and labels against these (see [`super::resolve`]).

use std::collections::BTreeMap;

use crate::config::{Located, Span, StructureProblem};

/// `metadata.namespace`, `default` when absent (what `kubectl apply` without `-n` uses).
pub const DEFAULT_NAMESPACE: &str = "default";

/// The cluster DNS domain kubelet writes into pods' resolv.conf search list
/// (`--cluster-domain`, `cluster.local` on every distribution's default).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// A label selector: `matchLabels` and `matchExpressions` (Service selectors are only labels).
/// <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub expressions: Vec<SelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy every requirement (an empty selector selects everything).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    // An operator the API server would refuse: selects nothing.
                    _ => false,
                }
            })
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    /// `app=redis,tier=cache` for messages.
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for e in &self.expressions {
            parts.push(format!("{} {} ({})", e.key, e.operator, e.values.join(",")));
        }
        if parts.is_empty() {
            "(every pod)".to_string()
        } else {
            parts.join(",")
        }
    }
}

/// A Service port: `port` (what clients dial) → `targetPort` (number or container port name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    /// `targetPort` as written; None: the same as `port`.
    pub target: Option<TargetPort>,
    pub span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for TargetPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetPort::Number(n) => write!(f, "{n}"),
            TargetPort::Name(n) => write!(f, "{n}"),
        }
    }
}

/// A `kind: Service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeService {
    pub name: String,
    pub namespace: String,
    /// `ClusterIP` (default), `NodePort`, `LoadBalancer`, `ExternalName`.
    pub kind: String,
    /// `clusterIP: None`: DNS answers with the pods' addresses, no port translation.
    pub headless: bool,
    /// None: no selector (endpoints managed by hand, or ExternalName).
    pub selector: Option<Located<BTreeMap<String, String>>>,
    pub ports: Vec<ServicePort>,
    pub external_name: Option<Located<String>>,
    /// `sessionAffinity: ClientIP`.
    pub session_affinity: Option<Located<String>>,
    /// `metadata.annotations` (Traefik reads its sticky cookie from the Service's).
    pub annotations: BTreeMap<String, Located<String>>,
    pub span: Option<Span>,
}

/// One backend of an Ingress rule (or its default backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressBackend {
    pub service: String,
    /// `port.number` or `port.name` as written.
    pub port: Option<String>,
    pub path: Option<String>,
    pub span: Option<Span>,
}

/// A `kind: Ingress` (networking.k8s.io/v1, and the old extensions/v1beta1 shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub name: String,
    pub namespace: String,
    /// `spec.ingressClassName`, else the `kubernetes.io/ingress.class` annotation.
    pub class: Option<String>,
    pub annotations: BTreeMap<String, Located<String>>,
    pub backends: Vec<IngressBackend>,
    pub span: Option<Span>,
}

/// A Traefik `IngressRoute` (traefik.io / traefik.containo.us) service reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteService {
    pub service: String,
    pub namespace: String,
    /// `sticky.cookie` is set on this service reference.
    pub sticky: Option<Span>,
    pub span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRoute {
    pub name: String,
    pub namespace: String,
    pub services: Vec<RouteService>,
    pub span: Option<Span>,
}

/// A peer of a NetworkPolicy rule (`from` / `to` item).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyPeer {
    pub pod_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub ip_block: Option<String>,
}

/// One ingress or egress rule: peers (empty: every peer) and ports (empty: every port).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyRule {
    /// None: the rule has no `from`/`to` (any peer).
    pub peers: Option<Vec<PolicyPeer>>,
    /// Port numbers or names; empty: any port.
    pub ports: Vec<String>,
    pub span: Option<Span>,
}

/// A `kind: NetworkPolicy`.
/// <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    pub pod_selector: LabelSelector,
    /// Whether the policy restricts ingress / egress of the pods it selects (policyTypes,
    /// or by default: ingress always, egress when an `egress` section is present).
    pub ingress_restricted: bool,
    pub egress_restricted: bool,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    pub span: Option<Span>,
}

/// An object of the inputs wsdoctor does not read (a CRD, RBAC…), kept for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredObject {
    pub kind: String,
    pub name: String,
    pub span: Option<Span>,
}

/// What the Kubernetes reader gathered besides the model services.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub services: Vec<KubeService>,
    pub ingresses: Vec<Ingress>,
    pub ingress_routes: Vec<IngressRoute>,
    pub network_policies: Vec<NetworkPolicy>,
    /// Labels of `kind: Namespace` objects among the inputs (by name).
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Every namespace an object of the inputs is in.
    pub namespaces: Vec<String>,
    /// `kind: Kustomization` files (kustomize input, not cluster objects).
    pub kustomizations: Vec<Span>,
    pub ignored: Vec<IgnoredObject>,
    /// Documents that do not parse or are not Kubernetes objects (`kube.manifest-syntax`).
    pub syntax: Vec<StructureProblem>,
    /// Workload objects (Deployment…) that yield no model service, with why.
    pub skipped_workloads: Vec<StructureProblem>,
}

/// Where a model service comes from in the cluster: one container of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Pod`, `ReplicaSet`, `Job`, `CronJob`.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub container: String,
    /// The pod template's labels (what Service selectors and NetworkPolicies match).
    pub pod_labels: BTreeMap<String, String>,
    pub container_ports: Vec<ContainerPort>,
    /// `spec.replicas` as written (the model's `replicas` may be an HPA's maxReplicas).
    pub spec_replicas: Option<Located<u32>>,
    /// `maxReplicas` of a HorizontalPodAutoscaler targeting the workload.
    pub hpa_max: Option<Located<u32>>,
    /// StatefulSet `serviceName` (the headless Service giving pods DNS names).
    pub service_name: Option<String>,
    /// Env references wsdoctor could not resolve: (variable or None for a whole envFrom,
    /// what it refers to).
    pub unresolved_env: Vec<UnresolvedEnv>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub span: Option<Span>,
}

/// A `valueFrom` / `envFrom` whose Secret or ConfigMap is not among the inputs: the
/// container gets a value at run time that files cannot tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedEnv {
    /// None: an `envFrom` (any variable may come from it).
    pub variable: Option<String>,
    /// `Secret open-webui-secrets key redis-url`.
    pub from: String,
    pub span: Option<Span>,
}
