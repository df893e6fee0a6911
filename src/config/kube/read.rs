//! Kubernetes objects → the deployment model: one model service per container of each
//! workload, env resolved from the Secrets and ConfigMaps among the inputs, and the objects
//! checks resolve against (Services, Ingresses, NetworkPolicies) kept in [`Cluster`].

use std::collections::BTreeMap;

use super::Manifests;
use super::objects::*;
use crate::config::yaml::{Node, Value};
use crate::config::{
    Deployment, EnvSource, EnvVar, Located, Platform, Service, Span, StructureProblem,
};

/// Workload kinds whose pod template becomes model services, with the path to the template.
const WORKLOADS: [&str; 8] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "Job",
    "CronJob",
];

/// Reads manifests into a deployment. Pure: the same objects give the same model (the Helm
/// values reader feeds the objects a chart would render through here).
pub fn deployment_from_manifests(m: &Manifests, project_dir: &std::path::Path) -> Deployment {
    let mut reader = Reader {
        m,
        dep: Deployment {
            platform: Platform::Kubernetes,
            project_dir: project_dir.to_path_buf(),
            ..Deployment::default()
        },
        cluster: Cluster::default(),
        secrets: BTreeMap::new(),
        config_maps: BTreeMap::new(),
        public_names: std::collections::BTreeSet::new(),
    };
    reader.run();
    reader.finish()
}

/// A key of a Secret or ConfigMap: its value and where it is written.
#[derive(Clone)]
struct DataValue {
    value: String,
    span: Option<Span>,
}

/// (namespace, name) → key → value.
type DataObjects = BTreeMap<(String, String), BTreeMap<String, DataValue>>;

struct Reader<'m> {
    m: &'m Manifests,
    dep: Deployment,
    cluster: Cluster,
    secrets: DataObjects,
    config_maps: DataObjects,
    /// Names of the objects and namespaces of the inputs: written in plain text there, and
    /// what a report must show (a Secret holding `REDIS_HOST=redis` must not mask every
    /// `redis` of the report).
    public_names: std::collections::BTreeSet<String>,
}

pub(crate) fn span_of(m: &Manifests, node: &Node) -> Option<Span> {
    let file = m.files.get(node.file as usize)?;
    Some(Span::new(file.clone(), node.line, node.column))
}

fn str_at<'n>(node: &'n Node, path: &[&str]) -> Option<&'n Node> {
    let mut n = node;
    for key in path {
        n = n.get(key)?;
    }
    Some(n)
}

fn string_at(node: &Node, path: &[&str]) -> Option<String> {
    str_at(node, path).and_then(Node::scalar_string)
}

pub(crate) fn namespace_of(object: &Node) -> String {
    string_at(object, &["metadata", "namespace"])
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

fn name_of(object: &Node) -> String {
    string_at(object, &["metadata", "name"]).unwrap_or_default()
}

fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.and_then(Node::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.scalar_string()?, v.scalar_string().unwrap_or_default()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn port_number(node: &Node) -> Option<u16> {
    match &node.value {
        Value::Int(i) => u16::try_from(*i).ok(),
        Value::Str { value, .. } => value.parse().ok(),
        _ => None,
    }
}

/// A label selector (`matchLabels` / `matchExpressions`).
pub(crate) fn label_selector(node: &Node) -> LabelSelector {
    let expressions = node
        .get("matchExpressions")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|e| SelectorRequirement {
            key: string_at(e, &["key"]).unwrap_or_default(),
            operator: string_at(e, &["operator"]).unwrap_or_default(),
            values: e
                .get("values")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::scalar_string)
                .collect(),
        })
        .collect();
    LabelSelector {
        match_labels: string_map(node.get("matchLabels")),
        expressions,
    }
}

/// Standard base64 (RFC 4648 with padding), what the API server requires in Secret `data`.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0u32;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion):
/// `$(NAME)` becomes the value of a variable defined before, `$$` is a literal `$`, and a
/// reference to an undefined variable stays as written.
pub fn expand(text: &str, defined: &dyn Fn(&str) -> Option<String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if bytes[i] == b'$' && i + 1 < text.len() {
            match bytes[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                    continue;
                }
                b'(' => {
                    if let Some(close) = text[i + 2..].find(')') {
                        let name = &text[i + 2..i + 2 + close];
                        match defined(name) {
                            Some(v) => out.push_str(&v),
                            None => out.push_str(&text[i..i + 3 + close]),
                        }
                        i += 3 + close;
                        continue;
                    }
                }
                _ => {}
            }
        }
        let ch = text[i..].chars().next().unwrap_or('\u{0}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

impl<'m> Reader<'m> {
    fn span(&self, node: &Node) -> Option<Span> {
        span_of(self.m, node)
    }

    /// Registers a Secret's value for redaction, unless it is a name the manifests show in
    /// plain text anyway (an object or namespace name), a boolean, or a number under a key
    /// that names a port or a database index (`REDIS_PORT: 6379` masked would blank every
    /// 6379 of the report; a numeric value under any other key may be a PIN or a password).
    /// `keys`: the Secret's key and the variable it feeds; a secret-looking one
    /// (`*PASSWORD*`, `*TOKEN*`…) masks the value whatever it is.
    fn register_secret(&mut self, keys: &[&str], value: &str) {
        self.dep.secrets.add_url_passwords(value);
        let v = value.trim();
        let secret_named = keys.iter().any(|k| crate::redact::is_secret_key(k));
        let numeric_setting = keys.iter().any(|k| {
            let k = k.to_ascii_uppercase();
            k.contains("PORT") || k.ends_with("DB") || k.contains("DATABASE")
        });
        let public = self.public_names.contains(v)
            || (numeric_setting && v.parse::<u32>().is_ok())
            || matches!(v, "true" | "false");
        if public && !secret_named {
            return;
        }
        self.dep.secrets.add(v);
    }

    fn run(&mut self) {
        let objects = &self.m.objects;
        for o in objects {
            self.public_names.insert(name_of(o));
            self.public_names.insert(namespace_of(o));
        }
        // Data objects first: env refers to them whatever the order of the files.
        for o in objects {
            let kind = string_at(o, &["kind"]).unwrap_or_default();
            let key = (namespace_of(o), name_of(o));
            match kind.as_str() {
                "Secret" => {
                    let mut data = BTreeMap::new();
                    for (k, v) in o.get("data").and_then(Node::as_map).unwrap_or_default() {
                        let (Some(k), Some(text)) = (k.scalar_string(), v.scalar_string()) else {
                            continue;
                        };
                        self.dep.secrets.add(&text);
                        let Some(bytes) = base64_decode(&text) else {
                            continue;
                        };
                        let value = String::from_utf8_lossy(&bytes).into_owned();
                        data.insert(
                            k,
                            DataValue {
                                value,
                                span: self.span(v),
                            },
                        );
                    }
                    for (k, v) in o
                        .get("stringData")
                        .and_then(Node::as_map)
                        .unwrap_or_default()
                    {
                        let (Some(k), Some(value)) = (k.scalar_string(), v.scalar_string()) else {
                            continue;
                        };
                        data.insert(
                            k,
                            DataValue {
                                value,
                                span: self.span(v),
                            },
                        );
                    }
                    self.secrets.insert(key, data);
                }
                "ConfigMap" => {
                    let mut data = BTreeMap::new();
                    for (k, v) in o.get("data").and_then(Node::as_map).unwrap_or_default() {
                        if let (Some(k), Some(value)) = (k.scalar_string(), v.scalar_string()) {
                            data.insert(
                                k,
                                DataValue {
                                    value,
                                    span: self.span(v),
                                },
                            );
                        }
                    }
                    self.config_maps.insert(key, data);
                }
                _ => {}
            }
        }
        for o in objects {
            let namespace = namespace_of(o);
            if !self.cluster.namespaces.contains(&namespace) {
                self.cluster.namespaces.push(namespace.clone());
            }
            let kind = string_at(o, &["kind"]).unwrap_or_default();
            let api = string_at(o, &["apiVersion"]).unwrap_or_default();
            match kind.as_str() {
                k if WORKLOADS.contains(&k) => self.workload(o, k, namespace),
                "Service" => self.service(o, namespace),
                "Ingress" => self.ingress(o, namespace),
                "IngressRoute" if api.starts_with("traefik.") => self.ingress_route(o, namespace),
                "NetworkPolicy" => self.network_policy(o, namespace),
                "Namespace" => {
                    let name = name_of(o);
                    let mut labels = string_map(str_at(o, &["metadata", "labels"]));
                    // Set on every namespace by the API server since 1.21.
                    labels.insert("kubernetes.io/metadata.name".into(), name.clone());
                    self.cluster.namespace_labels.insert(name, labels);
                }
                "Kustomization" if api.starts_with("kustomize.config.k8s.io") => {
                    if let Some(s) = self.span(o) {
                        self.cluster.kustomizations.push(s);
                    }
                }
                "Secret" | "ConfigMap" | "HorizontalPodAutoscaler" => {}
                _ => self.cluster.ignored.push(IgnoredObject {
                    kind: kind.clone(),
                    name: name_of(o),
                    span: self.span(o),
                }),
            }
        }
        self.autoscalers();
    }

    fn finish(mut self) -> Deployment {
        // Names must be unique in the model: a name two namespaces use gets its namespace.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for s in &self.dep.services {
            *seen.entry(s.name.clone()).or_default() += 1;
        }
        for s in &mut self.dep.services {
            if seen.get(&s.name).copied().unwrap_or(0) > 1
                && let Some(w) = &s.kube
            {
                s.name = format!("{}/{}", w.namespace, s.name);
            }
        }
        self.dep.project_name = self
            .cluster
            .namespaces
            .first()
            .cloned()
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        for s in &self.dep.services {
            self.dep.secrets.add_name(&s.name);
            for k in s.environment.keys() {
                self.dep.secrets.add_name(k);
            }
        }
        self.dep.kube = Some(self.cluster);
        self.dep
    }

    fn workload(&mut self, o: &Node, kind: &str, namespace: String) {
        let name = name_of(o);
        let template = match kind {
            "Pod" => Some(o),
            "CronJob" => str_at(o, &["spec", "jobTemplate", "spec", "template"]),
            _ => str_at(o, &["spec", "template"]),
        };
        let Some(template) = template else {
            self.cluster.skipped_workloads.push(StructureProblem {
                message: format!("{kind} {name} has no pod template"),
                span: self.span(o),
            });
            return;
        };
        let pod_labels = string_map(str_at(template, &["metadata", "labels"]));
        let containers = str_at(template, &["spec", "containers"])
            .and_then(Node::as_seq)
            .unwrap_or_default();
        let replicas_node = match kind {
            "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
                str_at(o, &["spec", "replicas"])
            }
            _ => None,
        };
        let spec_replicas = replicas_node.and_then(|n| {
            let v = match &n.value {
                Value::Int(i) => u32::try_from(*i).ok(),
                _ => n.scalar_string().and_then(|s| s.parse().ok()),
            }?;
            Some(Located::new(v, self.span(n)))
        });
        let service_name = string_at(o, &["spec", "serviceName"]);
        let name_node = str_at(o, &["metadata", "name"]);
        let single = containers.len() == 1;
        for c in containers {
            let container = string_at(c, &["name"]).unwrap_or_default();
            let model_name = if single {
                name.clone()
            } else {
                format!("{name}/{container}")
            };
            let mut workload = Workload {
                kind: kind.to_string(),
                name: name.clone(),
                namespace: namespace.clone(),
                container: container.clone(),
                pod_labels: pod_labels.clone(),
                container_ports: Vec::new(),
                spec_replicas: spec_replicas.clone(),
                hpa_max: None,
                service_name: service_name.clone(),
                unresolved_env: Vec::new(),
            };
            for p in c.get("ports").and_then(Node::as_seq).unwrap_or_default() {
                if let Some(port) = p.get("containerPort").and_then(port_number) {
                    workload.container_ports.push(ContainerPort {
                        name: string_at(p, &["name"]),
                        port,
                        span: p.get("containerPort").and_then(|n| self.span(n)),
                    });
                }
            }
            let environment = self.environment(c, &namespace, &mut workload);
            let lookup = |var: &str| environment.get(var).and_then(|v| v.value.clone());
            let words = |key: &str| -> Option<Located<Vec<String>>> {
                let node = c.get(key)?;
                let items = node.as_seq()?;
                Some(Located::new(
                    items
                        .iter()
                        .filter_map(Node::scalar_string)
                        .map(|w| expand(&w, &lookup))
                        .collect(),
                    self.span(node),
                ))
            };
            // `command` replaces the image's ENTRYPOINT and `args` its CMD: compose's
            // `entrypoint` and `command` (kubernetes.io/docs/tasks/inject-data-application/
            // define-command-argument-container/#notes).
            let entrypoint = words("command");
            let command = words("args");
            let ports = workload
                .container_ports
                .iter()
                .map(|p| crate::config::PortMapping {
                    host_ip: None,
                    published: None,
                    target: p.port.to_string(),
                    protocol: "tcp".into(),
                    span: p.span.clone(),
                })
                .collect();
            let service = Service {
                name: model_name,
                span: c.get("name").or(name_node).and_then(|n| self.span(n)),
                image: c
                    .get("image")
                    .and_then(|n| Some(Located::new(n.scalar_string()?, self.span(n)))),
                command,
                entrypoint,
                environment,
                ports,
                replicas: spec_replicas.clone().or_else(|| {
                    // No `replicas`: the API server defaults it to 1; a DaemonSet runs one
                    // per node (unknown here), a Pod or Job one.
                    (kind != "DaemonSet").then(|| Located::new(1, None))
                }),
                kube: Some(workload),
                ..Service::default()
            };
            self.dep.services.push(service);
        }
    }

    /// The container's environment as kubelet builds it (`makeEnvironmentVariables`):
    /// `envFrom` sources in order, then `env` entries in order, each `$(VAR)` expanded
    /// against what is defined so far.
    fn environment(
        &mut self,
        c: &Node,
        namespace: &str,
        workload: &mut Workload,
    ) -> BTreeMap<String, EnvVar> {
        let mut env: BTreeMap<String, EnvVar> = BTreeMap::new();
        let set = |env: &mut BTreeMap<String, EnvVar>, key: String, mut var: EnvVar| {
            if let Some(old) = env.remove(&key) {
                var.shadowed.push(old);
            }
            env.insert(key, var);
        };
        for source in c.get("envFrom").and_then(Node::as_seq).unwrap_or_default() {
            let prefix = string_at(source, &["prefix"]).unwrap_or_default();
            let (kind, reference) = if let Some(r) = source.get("secretRef") {
                ("Secret", r)
            } else if let Some(r) = source.get("configMapRef") {
                ("ConfigMap", r)
            } else {
                continue;
            };
            let name = string_at(reference, &["name"]).unwrap_or_default();
            let objects = if kind == "Secret" {
                &self.secrets
            } else {
                &self.config_maps
            };
            match objects.get(&(namespace.to_string(), name.clone())) {
                Some(data) => {
                    for (k, v) in data.clone() {
                        let key = format!("{prefix}{k}");
                        if kind == "Secret" {
                            self.register_secret(&[&k, &key], &v.value);
                            self.dep.secrets.add_url_passwords(&v.value);
                        }
                        set(
                            &mut env,
                            key,
                            EnvVar {
                                value: Some(v.value.clone()),
                                raw: None,
                                span: v.span.clone(),
                                source: EnvSource::KubeRef(format!("{kind} {name} key {k}")),
                                shadowed: vec![],
                            },
                        );
                    }
                }
                None => workload.unresolved_env.push(UnresolvedEnv {
                    variable: None,
                    from: format!("{kind} {name} (envFrom)"),
                    span: self.span(source),
                }),
            }
        }
        for e in c.get("env").and_then(Node::as_seq).unwrap_or_default() {
            let Some(key) = string_at(e, &["name"]) else {
                continue;
            };
            if let Some(from) = e.get("valueFrom") {
                let (kind, reference) = if let Some(r) = from.get("secretKeyRef") {
                    ("Secret", r)
                } else if let Some(r) = from.get("configMapKeyRef") {
                    ("ConfigMap", r)
                } else {
                    // fieldRef / resourceFieldRef: known only in a running pod.
                    workload.unresolved_env.push(UnresolvedEnv {
                        variable: Some(key.clone()),
                        from: "the pod's fields (fieldRef)".into(),
                        span: self.span(from),
                    });
                    continue;
                };
                let name = string_at(reference, &["name"]).unwrap_or_default();
                let item = string_at(reference, &["key"]).unwrap_or_default();
                let objects = if kind == "Secret" {
                    &self.secrets
                } else {
                    &self.config_maps
                };
                let found = objects
                    .get(&(namespace.to_string(), name.clone()))
                    .and_then(|d| d.get(&item))
                    .cloned();
                match found {
                    Some(v) => {
                        if kind == "Secret" {
                            self.register_secret(&[&key, &item], &v.value);
                            self.dep.secrets.add_url_passwords(&v.value);
                        }
                        set(
                            &mut env,
                            key,
                            EnvVar {
                                value: Some(v.value),
                                raw: None,
                                span: v.span.or_else(|| self.span(from)),
                                source: EnvSource::KubeRef(format!("{kind} {name} key {item}")),
                                shadowed: vec![],
                            },
                        );
                    }
                    None => workload.unresolved_env.push(UnresolvedEnv {
                        variable: Some(key.clone()),
                        from: format!("{kind} {name} key {item}"),
                        span: self.span(from),
                    }),
                }
                continue;
            }
            let value_node = e.get("value");
            let raw = value_node.and_then(Node::scalar_string).unwrap_or_default();
            let value = expand(&raw, &|name: &str| {
                env.get(name).and_then(|v| v.value.clone())
            });
            if crate::redact::is_secret_key(&key) {
                self.dep.secrets.add(&value);
            }
            self.dep.secrets.add_url_passwords(&value);
            set(
                &mut env,
                key,
                EnvVar {
                    value: Some(value),
                    raw: Some(raw),
                    span: value_node.or(e.get("name")).and_then(|n| self.span(n)),
                    source: EnvSource::Environment,
                    shadowed: vec![],
                },
            );
        }
        env
    }

    fn service(&mut self, o: &Node, namespace: String) {
        let spec = o.get("spec");
        let get = |k: &str| spec.and_then(|s| s.get(k));
        let ports = get("ports")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                Some(ServicePort {
                    name: string_at(p, &["name"]),
                    port: p.get("port").and_then(port_number)?,
                    target: p.get("targetPort").map(|t| match port_number(t) {
                        Some(n) => TargetPort::Number(n),
                        None => TargetPort::Name(t.scalar_string().unwrap_or_default()),
                    }),
                    span: p.get("port").and_then(|n| self.span(n)),
                })
            })
            .collect();
        let located =
            |n: Option<&Node>| n.and_then(|n| Some(Located::new(n.scalar_string()?, self.span(n))));
        let service = KubeService {
            name: name_of(o),
            namespace,
            kind: get("type")
                .and_then(Node::scalar_string)
                .unwrap_or_else(|| "ClusterIP".into()),
            headless: get("clusterIP").and_then(Node::scalar_string).as_deref() == Some("None"),
            selector: get("selector").map(|s| Located::new(string_map(Some(s)), self.span(s))),
            ports,
            external_name: located(get("externalName")),
            session_affinity: located(get("sessionAffinity")),
            annotations: self.annotations(o),
            span: str_at(o, &["metadata", "name"]).and_then(|n| self.span(n)),
        };
        self.cluster.services.push(service);
    }

    fn annotations(&self, o: &Node) -> BTreeMap<String, Located<String>> {
        str_at(o, &["metadata", "annotations"])
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.scalar_string()?,
                    Located::new(v.scalar_string()?, self.span(v)),
                ))
            })
            .collect()
    }

    fn ingress(&mut self, o: &Node, namespace: String) {
        let annotations = self.annotations(o);
        let spec = o.get("spec");
        let mut backends = Vec::new();
        let backend = |b: &Node, path: Option<String>| -> Option<IngressBackend> {
            // networking.k8s.io/v1: backend.service.{name,port.{number,name}};
            // extensions/v1beta1: backend.{serviceName,servicePort}.
            let (service, port) = match b.get("service") {
                Some(s) => (
                    string_at(s, &["name"])?,
                    string_at(s, &["port", "number"]).or_else(|| string_at(s, &["port", "name"])),
                ),
                None => (
                    string_at(b, &["serviceName"])?,
                    string_at(b, &["servicePort"]),
                ),
            };
            Some(IngressBackend {
                service,
                port,
                path,
                span: self.span(b),
            })
        };
        if let Some(b) = spec.and_then(|s| s.get("defaultBackend").or_else(|| s.get("backend"))) {
            backends.extend(backend(b, None));
        }
        for rule in spec
            .and_then(|s| s.get("rules"))
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            for p in str_at(rule, &["http", "paths"])
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                if let Some(b) = p.get("backend") {
                    backends.extend(backend(b, string_at(p, &["path"])));
                }
            }
        }
        let class = spec
            .and_then(|s| s.get("ingressClassName"))
            .and_then(Node::scalar_string)
            .or_else(|| {
                annotations
                    .get("kubernetes.io/ingress.class")
                    .map(|a| a.value.clone())
            });
        self.cluster.ingresses.push(Ingress {
            name: name_of(o),
            namespace,
            class,
            annotations,
            backends,
            span: str_at(o, &["metadata", "name"]).and_then(|n| self.span(n)),
        });
    }

    fn ingress_route(&mut self, o: &Node, namespace: String) {
        let mut services = Vec::new();
        for route in str_at(o, &["spec", "routes"])
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            for s in route
                .get("services")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                let Some(name) = string_at(s, &["name"]) else {
                    continue;
                };
                services.push(RouteService {
                    service: name,
                    namespace: string_at(s, &["namespace"]).unwrap_or_else(|| namespace.clone()),
                    sticky: str_at(s, &["sticky", "cookie"]).and_then(|n| self.span(n)),
                    span: self.span(s),
                });
            }
        }
        self.cluster.ingress_routes.push(IngressRoute {
            name: name_of(o),
            namespace,
            services,
            span: str_at(o, &["metadata", "name"]).and_then(|n| self.span(n)),
        });
    }

    fn network_policy(&mut self, o: &Node, namespace: String) {
        let spec = o.get("spec");
        let rules = |key: &str, peer_key: &str| -> Vec<PolicyRule> {
            spec.and_then(|s| s.get(key))
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|r| PolicyRule {
                    peers: r.get(peer_key).and_then(Node::as_seq).map(|peers| {
                        peers
                            .iter()
                            .map(|p| PolicyPeer {
                                pod_selector: p.get("podSelector").map(label_selector),
                                namespace_selector: p.get("namespaceSelector").map(label_selector),
                                ip_block: string_at(p, &["ipBlock", "cidr"]),
                            })
                            .collect()
                    }),
                    ports: r
                        .get("ports")
                        .and_then(Node::as_seq)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|p| string_at(p, &["port"]))
                        .collect(),
                    span: self.span(r),
                })
                .collect()
        };
        let types: Vec<String> = spec
            .and_then(|s| s.get("policyTypes"))
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_string)
            .collect();
        let has_egress = spec.and_then(|s| s.get("egress")).is_some();
        let (ingress_restricted, egress_restricted) = if types.is_empty() {
            // policyTypes unset: Ingress always, Egress when the policy has egress rules.
            (true, has_egress)
        } else {
            (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            )
        };
        self.cluster.network_policies.push(NetworkPolicy {
            name: name_of(o),
            namespace,
            pod_selector: spec
                .and_then(|s| s.get("podSelector"))
                .map(label_selector)
                .unwrap_or_default(),
            ingress_restricted,
            egress_restricted,
            ingress: rules("ingress", "from"),
            egress: rules("egress", "to"),
            span: str_at(o, &["metadata", "name"]).and_then(|n| self.span(n)),
        });
    }

    /// An HPA's `maxReplicas` is how many pods the workload may run: the count checks use.
    fn autoscalers(&mut self) {
        for o in &self.m.objects {
            if string_at(o, &["kind"]).as_deref() != Some("HorizontalPodAutoscaler") {
                continue;
            }
            let namespace = namespace_of(o);
            let (Some(kind), Some(name)) = (
                string_at(o, &["spec", "scaleTargetRef", "kind"]),
                string_at(o, &["spec", "scaleTargetRef", "name"]),
            ) else {
                continue;
            };
            let Some(max_node) = str_at(o, &["spec", "maxReplicas"]) else {
                continue;
            };
            let Some(max) = max_node.scalar_string().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let max = Located::new(max, span_of(self.m, max_node));
            for s in &mut self.dep.services {
                if let Some(w) = &mut s.kube
                    && w.kind == kind
                    && w.name == name
                    && w.namespace == namespace
                {
                    w.hpa_max = Some(max.clone());
                    s.replicas = Some(max.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependent_env_expansion_follows_kubernetes() {
        let vars: BTreeMap<&str, &str> = [("HOST", "redis"), ("PORT", "6379")].into();
        let look = |n: &str| vars.get(n).map(|v| v.to_string());
        assert_eq!(
            expand("redis://$(HOST):$(PORT)/0", &look),
            "redis://redis:6379/0"
        );
        assert_eq!(expand("$(MISSING)x", &look), "$(MISSING)x");
        assert_eq!(expand("$$(HOST)", &look), "$(HOST)");
        assert_eq!(expand("a$b$(HOST", &look), "a$b$(HOST");
        assert_eq!(expand("é$(HOST)é", &look), "éredisé");
    }

    fn manifests(text: &str) -> Manifests {
        let mut read = crate::config::kube::ReadManifests::default();
        read.add_text("m.yaml", text);
        assert!(read.syntax.is_empty(), "{:?}", read.syntax);
        read.manifests
    }

    const SECRET_AND_APP: &str = "\
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: chat}
data:
  url: cmVkaXM6Ly86cHc0NTY3QHJlZGlzOjYzNzkvMA==
stringData:
  host: valkey
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: chat}
data: {MANAGER: redis, PORT: \"6380\"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: chat}
spec:
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: app
        image: python:3.12
        envFrom:
        - configMapRef: {name: c}
          prefix: WS_
        - secretRef: {name: missing}
        env:
        - name: REDIS_URL
          valueFrom: {secretKeyRef: {name: s, key: url}}
        - name: HOST
          valueFrom: {secretKeyRef: {name: s, key: host}}
        - name: OTHER_URL
          value: redis://$(HOST):$(WS_PORT)/1
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - name: ELSEWHERE
          valueFrom: {configMapKeyRef: {name: c, key: MANAGER}}
        args: [\"--redis\", \"$(REDIS_URL)\"]
";

    #[test]
    fn env_from_secrets_and_config_maps_resolved_and_registered() {
        let d = deployment_from_manifests(&manifests(SECRET_AND_APP), std::path::Path::new("."));
        let app = d
            .service("app")
            .expect("one container: the workload's name");
        // data: base64, located at the Secret's key.
        let url = &app.environment["REDIS_URL"];
        assert_eq!(url.value.as_deref(), Some("redis://:pw4567@redis:6379/0"));
        assert_eq!(url.span.as_ref().map(|s| s.line), Some(5));
        assert_eq!(url.source, EnvSource::KubeRef("Secret s key url".into()));
        // stringData, and $(VAR) over earlier entries and envFrom (with its prefix).
        assert_eq!(app.env("HOST"), Some("valkey"));
        assert_eq!(app.env("WS_MANAGER"), Some("redis"));
        assert_eq!(app.env("OTHER_URL"), Some("redis://valkey:6380/1"));
        assert_eq!(app.env("ELSEWHERE"), Some("redis"));
        // args expand against the container's env.
        assert_eq!(
            app.command.as_ref().map(|c| c.value.clone()),
            Some(vec![
                "--redis".to_string(),
                "redis://:pw4567@redis:6379/0".to_string()
            ])
        );
        // What cannot be known from files is listed, not guessed.
        let w = app.kube.as_ref().unwrap();
        let unresolved: Vec<(Option<&str>, &str)> = w
            .unresolved_env
            .iter()
            .map(|u| (u.variable.as_deref(), u.from.as_str()))
            .collect();
        assert_eq!(
            unresolved,
            [
                (None, "Secret missing (envFrom)"),
                (Some("POD_IP"), "the pod's fields (fieldRef)")
            ]
        );
        // Secret values never reach a report.
        let shown = d
            .secrets
            .redact("url redis://:pw4567@redis:6379/0 and pw4567");
        assert!(!shown.contains("pw4567"), "{shown}");
        assert_eq!(w.namespace, "chat");
        assert_eq!(app.replicas.as_ref().map(|r| r.value), Some(1));
    }

    #[test]
    fn a_secret_value_that_names_an_object_stays_readable() {
        // `host: valkey` names nothing of the inputs: masked. With a Service `valkey` among
        // them, the name is public (the report must say which Service); a password-named key
        // is masked whatever its value.
        let d = deployment_from_manifests(&manifests(SECRET_AND_APP), std::path::Path::new("."));
        assert_eq!(d.secrets.redact("host valkey"), "host ****");
        let text = format!(
            "{SECRET_AND_APP}---\napiVersion: v1\nkind: Service\nmetadata: {{name: valkey, namespace: chat}}\n"
        );
        let d = deployment_from_manifests(&manifests(&text), std::path::Path::new("."));
        assert_eq!(d.secrets.redact("host valkey"), "host valkey");
        let text = text.replace("  host: valkey", "  password: valkey\n  host: valkey");
        let text = text.replace("key: host}", "key: password}");
        let d = deployment_from_manifests(&manifests(&text), std::path::Path::new("."));
        assert_eq!(d.secrets.redact("host valkey"), "host ****");
    }

    #[test]
    fn a_numeric_secret_value_is_masked_unless_it_is_a_port_or_db() {
        let numeric = |key: &str| {
            let text = SECRET_AND_APP
                .replace("  host: valkey", &format!("  {key}: \"48213907\""))
                .replace("key: host}", &format!("key: {key}}}"));
            deployment_from_manifests(&manifests(&text), std::path::Path::new("."))
        };
        assert_eq!(numeric("auth").secrets.redact("x 48213907"), "x ****");
        assert_eq!(
            numeric("redis-port").secrets.redact("x 48213907"),
            "x 48213907"
        );
    }

    #[test]
    fn secrets_are_per_namespace() {
        let text = SECRET_AND_APP.replace(
            "metadata: {name: app, namespace: chat}",
            "metadata: {name: app, namespace: other}",
        );
        let d = deployment_from_manifests(&manifests(&text), std::path::Path::new("."));
        let app = d.service("app").unwrap();
        assert_eq!(app.env("REDIS_URL"), None);
        assert!(
            app.kube
                .as_ref()
                .unwrap()
                .unresolved_env
                .iter()
                .any(|u| u.from == "Secret s key url")
        );
    }

    #[test]
    fn a_list_unfolds_and_an_hpa_sets_the_pod_count() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: web}
  spec:
    replicas: 2
    serviceName: web
    template:
      metadata: {labels: {app: web}}
      spec:
        containers:
        - {name: web, image: node:22, ports: [{name: http, containerPort: 3000}]}
        - {name: sidecar, image: busybox}
- apiVersion: autoscaling/v2
  kind: HorizontalPodAutoscaler
  metadata: {name: web}
  spec:
    scaleTargetRef: {kind: StatefulSet, name: web}
    maxReplicas: 6
- apiVersion: helm.toolkit.fluxcd.io/v2
  kind: HelmRelease
  metadata: {name: open-webui}
";
        let d = deployment_from_manifests(&manifests(text), std::path::Path::new("."));
        let names: Vec<&str> = d.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["web/web", "web/sidecar"]);
        let web = &d.services[0];
        assert_eq!(web.replicas.as_ref().map(|r| r.value), Some(6));
        assert_eq!(
            web.replicas
                .as_ref()
                .and_then(|r| r.span.as_ref())
                .map(|s| s.line),
            Some(21)
        );
        let w = web.kube.as_ref().unwrap();
        assert_eq!(w.spec_replicas.as_ref().map(|r| r.value), Some(2));
        assert_eq!(w.container_ports[0].name.as_deref(), Some("http"));
        let cluster = d.kube.as_ref().unwrap();
        assert_eq!(cluster.ignored.len(), 1);
        assert_eq!(cluster.ignored[0].kind, "HelmRelease");
    }

    #[test]
    fn base64_as_the_api_server_writes_it() {
        assert_eq!(base64_decode("cGFzcw==").unwrap(), b"pass");
        assert_eq!(
            base64_decode("cmVkaXM6Ly86cHdAcmVkaXM6NjM3OS8w").unwrap(),
            b"redis://:pw@redis:6379/0"
        );
        assert!(base64_decode("not base64!").is_none());
    }

    #[test]
    fn selectors_with_expressions() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "redis".to_string())].into();
        let mut s = LabelSelector::default();
        assert!(s.matches(&labels));
        s.match_labels.insert("app".into(), "redis".into());
        assert!(s.matches(&labels));
        s.expressions.push(SelectorRequirement {
            key: "tier".into(),
            operator: "DoesNotExist".into(),
            values: vec![],
        });
        assert!(s.matches(&labels));
        s.expressions[0].operator = "Exists".into();
        assert!(!s.matches(&labels));
    }
}
