//! The objects the Open WebUI chart 16.0.0 renders from merged values, as Kubernetes object
//! trees ([`Node`]s), for what wsdoctor checks: the Open WebUI workload (its replicas, image,
//! ports and env), its Service, Ingress and HTTPRoute, and the chart's own Redis (Deployment
//! and Service).
//!
//! Each function follows one template of the chart (open-webui/helm-charts a6305e705ee1,
//! `charts/open-webui/templates/`), cited by file:line (`WM` workload-manager.yaml, `H`
//! _helpers.tpl, `WR` websocket-redis.yaml, `SVC` service.yaml, `ING` ingress.yaml, `RT`
//! route.yaml). A rendered value carries the span of the values node that produced it (the
//! user's file, or the chart default in `open-webui-16.0.0.tgz/values.yaml`); text the template
//! writes itself (`kind: Service`, `targetPort: http`) carries the template's own line.
//!
//! Not rendered (nothing wsdoctor checks reads them): PVC, ServiceAccount, ManagedCertificate,
//! extraResources, the ollama/pipelines/tika/terminals subcharts' own objects, the SSO env
//! block (its secrets are registered for redaction), probes, volumes, scheduling fields.

use super::defaults::{APP_VERSION, CHART_NAME, CHART_PACKAGE, CHART_VERSION};
use crate::config::yaml::{Node, Value};

/// Where the release is installed: `helm install NAME -n NAMESPACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

/// The file table of the rendered objects: the user's files first, then the chart's own
/// files (values.yaml, templates) as they are needed.
#[derive(Debug, Default)]
pub struct FileTable {
    pub files: Vec<String>,
}

impl FileTable {
    pub fn index(&mut self, name: &str) -> u32 {
        let i = match self.files.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                self.files.push(name.to_string());
                self.files.len() - 1
            }
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }
}

/// A template of the chart, by file name under `templates/`.
fn template(files: &mut FileTable, name: &str, line: u32) -> At {
    let file = files.index(&format!("{CHART_PACKAGE}/templates/{name}"));
    At {
        file,
        line,
        column: 1,
    }
}

/// A place a rendered node points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    file: u32,
    line: u32,
    column: u32,
}

impl At {
    fn of(n: &Node) -> At {
        At {
            file: n.file,
            line: n.line,
            column: n.column,
        }
    }
}

fn node(value: Value, at: At) -> Node {
    Node::new(value, at.line, at.column, at.file)
}

fn s(text: impl Into<String>, at: At) -> Node {
    node(
        Value::Str {
            value: text.into(),
            raw: None,
        },
        at,
    )
}

fn map(at: At, entries: Vec<(&str, Node)>) -> Node {
    node(
        Value::Map(entries.into_iter().map(|(k, v)| (s(k, at), v)).collect()),
        at,
    )
}

fn seq(at: At, items: Vec<Node>) -> Node {
    node(Value::Seq(items), at)
}

/// The merged values with Go template semantics for reading them.
struct Values<'a>(&'a Node);

impl<'a> Values<'a> {
    fn get(&self, path: &str) -> Option<&'a Node> {
        path.split('.').try_fold(self.0, |n, k| n.get(k))
    }

    /// Go template truthiness: false, 0, "", empty list/map and nil are false.
    fn truthy(&self, path: &str) -> bool {
        self.get(path).is_some_and(truthy)
    }

    /// What `{{ .Values.x }}` prints for a scalar ("" for nil: templates here always guard).
    fn text(&self, path: &str) -> String {
        self.get(path)
            .and_then(Node::scalar_string)
            .unwrap_or_default()
    }

    /// The span of a value, or of `fallback` when the key is absent (a user `null` deleted it).
    fn at(&self, path: &str, fallback: At) -> At {
        self.get(path).map_or(fallback, At::of)
    }
}

fn truthy(n: &Node) -> bool {
    match &n.value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str { value, .. } => !value.is_empty(),
        Value::Seq(s) => !s.is_empty(),
        Value::Map(m) => !m.is_empty(),
    }
}

/// Sprig `trunc 63 | trimSuffix "-"`.
fn dns_name(name: &str) -> String {
    let cut: String = name.chars().take(63).collect();
    cut.strip_suffix('-').map(str::to_string).unwrap_or(cut)
}

/// `open-webui.fullname` (H:24-35).
pub fn fullname(values: &Node, release: &Release) -> String {
    let v = Values(values);
    let over = v.text("fullnameOverride");
    if !over.is_empty() {
        return dns_name(&over);
    }
    let name = non_empty(v.text("nameOverride")).unwrap_or_else(|| CHART_NAME.to_string());
    if release.name.contains(&name) {
        dns_name(&release.name)
    } else {
        dns_name(&format!("{}-{name}", release.name))
    }
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// `open-webui.namespace` (H:4-10).
fn namespace(v: &Values, release: &Release) -> String {
    non_empty(v.text("namespaceOverride")).unwrap_or_else(|| release.namespace.clone())
}

/// A subchart's Service name as the parent's helpers compute it (H:63-66, H:174-183):
/// `fullnameOverride`, else `<release>-<nameOverride|chart>` (pipelines: the release alone
/// when it contains the chart name).
fn subchart_name(v: &Values, release: &Release, chart: &str, contains_rule: bool) -> String {
    if let Some(over) = non_empty(v.text(&format!("{chart}.fullnameOverride"))) {
        return over;
    }
    let name = non_empty(v.text(&format!("{chart}.nameOverride"))).unwrap_or(chart.to_string());
    if contains_rule && release.name.contains(&name) {
        release.name.clone()
    } else {
        format!("{}-{name}", release.name)
    }
}

/// Labels of every Open WebUI object (H:112-148): base labels and selector labels.
fn labels(v: &Values, release: &Release, component: &str, at: At) -> Vec<(String, Node)> {
    let name = non_empty(v.text("nameOverride")).unwrap_or_else(|| CHART_NAME.to_string());
    vec![
        (
            "helm.sh/chart".to_string(),
            s(format!("{CHART_NAME}-{CHART_VERSION}"), at),
        ),
        ("app.kubernetes.io/version".to_string(), s(APP_VERSION, at)),
        ("app.kubernetes.io/managed-by".to_string(), s("Helm", at)),
        ("app.kubernetes.io/name".to_string(), s(dns_name(&name), at)),
        (
            "app.kubernetes.io/instance".to_string(),
            s(release.name.clone(), at),
        ),
        (
            "app.kubernetes.io/component".to_string(),
            s(component.to_string(), at),
        ),
    ]
}

/// The selector labels (H:124-134, H:191-194): instance and component.
fn selector(release: &Release, component: &str, at: At) -> Node {
    map(
        at,
        vec![
            ("app.kubernetes.io/instance", s(release.name.clone(), at)),
            ("app.kubernetes.io/component", s(component.to_string(), at)),
        ],
    )
}

fn owned_map(at: At, entries: Vec<(String, Node)>) -> Node {
    node(
        Value::Map(entries.into_iter().map(|(k, v)| (s(k, at), v)).collect()),
        at,
    )
}

/// Labels plus the user's extra labels (a mapping in the values), user's keys last (they win
/// in the rendered YAML, as a later duplicate key does).
fn with_extra(mut base: Vec<(String, Node)>, extra: Option<&Node>) -> Vec<(String, Node)> {
    if let Some(entries) = extra.and_then(Node::as_map) {
        for (k, val) in entries {
            if let Some(key) = k.scalar_string() {
                base.retain(|(b, _)| *b != key);
                base.push((key, val.clone()));
            }
        }
    }
    base
}

/// Problems Helm itself would stop on (`fail` in a template): the chart renders nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderFailure {
    pub message: String,
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

/// Every object the chart renders that wsdoctor reads, in the order `helm template` prints
/// them (Service, Deployment/StatefulSet, Ingress, route, Redis).
pub fn render(
    values: &Node,
    release: &Release,
    files: &mut FileTable,
) -> Result<Vec<Node>, RenderFailure> {
    let v = Values(values);
    let mut objects = vec![service(&v, values, release, files)];
    objects.push(workload(&v, values, release, files)?);
    if let Some(ingress) = ingress(&v, values, release, files) {
        objects.push(ingress);
    }
    if let Some(route) = route(&v, values, release, files) {
        objects.push(route);
    }
    objects.extend(redis(&v, values, release, files));
    Ok(objects)
}

fn metadata(
    name: String,
    ns: String,
    labels: Vec<(String, Node)>,
    annotations: Option<&Node>,
    at: At,
) -> Node {
    let mut entries = vec![
        ("name", s(name, at)),
        ("namespace", s(ns, at)),
        ("labels", owned_map(at, labels)),
    ];
    if let Some(a) = annotations.filter(|a| truthy(a)) {
        entries.push(("annotations", a.clone()));
    }
    map(at, entries)
}

/// SVC:1-37.
fn service(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Node {
    let t = |files: &mut FileTable, line| template(files, "service.yaml", line);
    let full = fullname(values, release);
    let top = t(files, 1);
    let lab = with_extra(
        labels(v, release, CHART_NAME, t(files, 7)),
        v.get("service.labels"),
    );
    let meta = metadata(
        full.clone(),
        namespace(v, release),
        lab,
        v.get("service.annotations"),
        t(files, 4),
    );
    let port_at = t(files, 20);
    let mut port = vec![
        ("protocol", s("TCP", port_at)),
        ("name", s("http", t(files, 21))),
        (
            "port",
            v.get("service.port")
                .cloned()
                .unwrap_or_else(|| s("", port_at)),
        ),
        ("targetPort", s("http", t(files, 23))),
    ];
    if v.truthy("service.appProtocol") {
        port.push(("appProtocol", v.get("service.appProtocol").unwrap().clone()));
    }
    if v.truthy("service.nodePort") {
        port.push(("nodePort", v.get("service.nodePort").unwrap().clone()));
    }
    let ty = match v.get("service.type").filter(|n| truthy(n)) {
        Some(n) => n.clone(),
        None => s("ClusterIP", t(files, 18)),
    };
    let mut spec = vec![
        ("selector", selector(release, CHART_NAME, t(files, 16))),
        ("type", ty),
        ("ports", seq(port_at, vec![map(port_at, port)])),
    ];
    if v.truthy("service.loadBalancerClass") {
        spec.push((
            "loadBalancerClass",
            v.get("service.loadBalancerClass").unwrap().clone(),
        ));
    }
    if v.text("service.type") == "ClusterIP" && v.truthy("service.clusterIP") {
        spec.push(("clusterIP", v.get("service.clusterIP").unwrap().clone()));
    }
    map(
        top,
        vec![
            ("apiVersion", s("v1", top)),
            ("kind", s("Service", t(files, 2))),
            ("metadata", meta),
            ("spec", map(t(files, 15), spec)),
        ],
    )
}

/// The workload kind (WM:1-6): `workload.kind`, else StatefulSet when persistence is local
/// and enabled (the defaults), else Deployment.
fn workload_kind(v: &Values, files: &mut FileTable) -> Result<Node, RenderFailure> {
    if let Some(kind) = v.get("workload.kind").filter(|n| truthy(n)) {
        let text = kind.scalar_string().unwrap_or_default();
        if text != "Deployment" && text != "StatefulSet" {
            return Err(RenderFailure {
                message: format!(
                    "workload.kind is '{text}': the chart fails to render (\"workload.kind must be \\\"Deployment\\\" or \\\"StatefulSet\\\" (or empty)\", templates/workload-manager.yaml:3)"
                ),
                file: kind.file,
                line: kind.line,
                column: kind.column,
            });
        }
        return Ok(kind.clone());
    }
    let stateful = v.truthy("persistence.enabled") && v.text("persistence.provider") == "local";
    let at = if stateful {
        v.at(
            "persistence.provider",
            template(files, "workload-manager.yaml", 6),
        )
    } else {
        v.get("persistence.enabled")
            .filter(|n| !truthy(n))
            .or_else(|| v.get("persistence.provider"))
            .map_or_else(|| template(files, "workload-manager.yaml", 6), At::of)
    };
    Ok(s(
        if stateful {
            "StatefulSet"
        } else {
            "Deployment"
        },
        at,
    ))
}

/// WM:1-480 (the fields wsdoctor reads).
fn workload(
    v: &Values,
    values: &Node,
    release: &Release,
    files: &mut FileTable,
) -> Result<Node, RenderFailure> {
    let t = |files: &mut FileTable, line| template(files, "workload-manager.yaml", line);
    let kind = workload_kind(v, files)?;
    let stateful = kind.as_str() == Some("StatefulSet");
    let full = fullname(values, release);
    let top = t(files, 7);
    let lab = with_extra(
        labels(v, release, CHART_NAME, t(files, 13)),
        v.get("extraLabels"),
    );
    let meta = metadata(
        full.clone(),
        namespace(v, release),
        lab,
        v.get("annotations"),
        t(files, 9),
    );
    let replicas = v
        .get("replicaCount")
        .cloned()
        .unwrap_or_else(|| s("", t(files, 20)));
    let mut spec = vec![("replicas", replicas)];
    if stateful {
        spec.push(("serviceName", s(full.clone(), t(files, 25))));
    }
    spec.push((
        "selector",
        map(
            t(files, 27),
            vec![("matchLabels", selector(release, CHART_NAME, t(files, 29)))],
        ),
    ));
    if let Some(strategy) = v.get("strategy").filter(|n| truthy(n)) {
        spec.push((
            if stateful {
                "updateStrategy"
            } else {
                "strategy"
            },
            strategy.clone(),
        ));
    }
    let pod_labels = with_extra(
        labels(v, release, CHART_NAME, t(files, 42)),
        v.get("podLabels"),
    );
    let mut pod_meta = vec![("labels", owned_map(t(files, 42), pod_labels))];
    if let Some(a) = v.get("podAnnotations").filter(|n| truthy(n)) {
        pod_meta.push(("annotations", a.clone()));
    }
    let container = container(v, values, release, files);
    let pod_spec = map(
        t(files, 50),
        vec![("containers", seq(t(files, 101), vec![container]))],
    );
    spec.push((
        "template",
        map(
            t(files, 39),
            vec![
                ("metadata", map(t(files, 40), pod_meta)),
                ("spec", pod_spec),
            ],
        ),
    ));
    Ok(map(
        top,
        vec![
            ("apiVersion", s("apps/v1", top)),
            ("kind", kind),
            ("metadata", meta),
            ("spec", map(t(files, 19), spec)),
        ],
    ))
}

/// `open-webui.tag` (H:384-395): `image.tag`, else the app version (`-slim` with useSlim).
fn image(v: &Values, repo_path: &str, at: At) -> Node {
    let repo = v.text(&format!("{repo_path}.repository"));
    let tag_node = v.get(&format!("{repo_path}.tag")).filter(|n| truthy(n));
    match tag_node {
        Some(tag) => s(
            format!("{repo}:{}", tag.scalar_string().unwrap_or_default()),
            At::of(tag),
        ),
        None => {
            let tag = if v.truthy(&format!("{repo_path}.useSlim")) {
                format!("{APP_VERSION}-slim")
            } else {
                APP_VERSION.to_string()
            };
            s(
                format!("{repo}:{tag}"),
                v.at(&format!("{repo_path}.repository"), at),
            )
        }
    }
}

fn env(name: &str, value: Node) -> Node {
    let at = At::of(&value);
    map(at, vec![("name", s(name, at)), ("value", value)])
}

fn env_text(name: &str, value: impl Into<String>, at: At) -> Node {
    env(name, s(value, at))
}

fn secret_env(name: &str, secret: &Node, key: &Node) -> Node {
    let at = At::of(secret);
    map(
        at,
        vec![
            ("name", s(name, at)),
            (
                "valueFrom",
                map(
                    at,
                    vec![(
                        "secretKeyRef",
                        map(at, vec![("name", secret.clone()), ("key", key.clone())]),
                    )],
                ),
            ),
        ],
    )
}

/// A value as `{{ x | quote }}` prints it: the scalar's text, at the value's span.
fn quoted(n: &Node) -> Node {
    s(n.scalar_string().unwrap_or_default(), At::of(n))
}

/// The Open WebUI container (WM:101-480).
fn container(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Node {
    let t = |files: &mut FileTable, line| template(files, "workload-manager.yaml", line);
    let at = t(files, 102);
    let mut c = vec![
        ("name", s(CHART_NAME, at)),
        ("image", image(v, "image", t(files, 104))),
    ];
    if let Some(p) = v.get("image.pullPolicy") {
        c.push(("imagePullPolicy", p.clone()));
    }
    for key in ["command", "args"] {
        if let Some(n) = v.get(key).filter(|n| truthy(n)) {
            c.push((key, n.clone()));
        }
    }
    let port_at = t(files, 116);
    let container_port = v
        .get("service.containerPort")
        .cloned()
        .unwrap_or_else(|| s("", t(files, 117)));
    c.push((
        "ports",
        seq(
            port_at,
            vec![map(
                port_at,
                vec![
                    ("name", s("http", port_at)),
                    ("containerPort", container_port),
                ],
            )],
        ),
    ));
    let env_list = env_vars(v, values, release, files);
    c.push(("env", seq(t(files, 143), env_list)));
    if let Some(from) = v.get("extraEnvFrom").filter(|n| truthy(n)) {
        c.push(("envFrom", from.clone()));
    }
    map(at, c)
}

/// The container's `env:` in template order (WM:143-475).
fn env_vars(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Vec<Node> {
    let t = |files: &mut FileTable, line| template(files, "workload-manager.yaml", line);
    let mut out = Vec::new();
    // WM:144-147, H:329-356: WEBUI_URL from the ingress host unless extraEnvVars sets it.
    if v.truthy("ingress.enabled") && !has_custom_webui_url(v) {
        let proto = if v.truthy("ingress.tls") {
            "https"
        } else {
            "http"
        };
        let at = v.at("ingress.host", t(files, 146));
        out.push(env_text(
            "WEBUI_URL",
            format!("{proto}://{}", v.text("ingress.host")),
            at,
        ));
    }
    // WM:148-155, H:48-100.
    if v.truthy("ollamaUrlsFromExtraEnv") {
    } else if v.truthy("ollamaUrls") || v.truthy("ollama.enabled") {
        let urls: Vec<String> = v
            .get("ollamaUrls")
            .and_then(Node::as_seq)
            .map(|s| s.iter().filter_map(Node::scalar_string).collect())
            .unwrap_or_default();
        let joined = urls.join(";");
        let joined = joined.strip_suffix('/').unwrap_or(&joined).to_string();
        let local = format!(
            "http://{}.{}.svc.{}:{}",
            subchart_name(v, release, "ollama", false),
            release.namespace,
            v.text("clusterDomain"),
            v.text("ollama.service.port")
        );
        let (value, at) = match (v.truthy("ollama.enabled"), urls.is_empty()) {
            (true, false) => (
                format!("{joined};{local}"),
                v.at("ollamaUrls", t(files, 151)),
            ),
            (true, true) => (local, v.at("ollama.enabled", t(files, 151))),
            _ => (joined, v.at("ollamaUrls", t(files, 151))),
        };
        out.push(env_text("OLLAMA_BASE_URLS", value, at));
    } else {
        out.push(env_text(
            "ENABLE_OLLAMA_API",
            "False",
            v.at("ollama.enabled", t(files, 153)),
        ));
    }
    openai_env(v, release, files, &mut out);
    // WM:235-240, H:75-83.
    if v.truthy("tika.enabled") {
        let at = v.at("tika.enabled", t(files, 235));
        out.push(env_text("CONTENT_EXTRACTION_ENGINE", "Tika", at));
        out.push(env_text(
            "TIKA_SERVER_URL",
            format!("http://{}:9998", subchart_name(v, release, "tika", false)),
            at,
        ));
    }
    storage_env(v, files, &mut out);
    websocket_env(v, values, release, files, &mut out);
    // WM:329-332.
    if let Some(db) = v.get("databaseUrl").filter(|n| truthy(n)) {
        out.push(env("DATABASE_URL", quoted(db)));
    }
    // WM:449-453.
    if let Some(level) = v.get("logging.level").filter(|n| truthy(n)) {
        out.push(env("GLOBAL_LOG_LEVEL", quoted(level)));
    }
    // WM:470-472, H:362-379.
    if let Some(extra) = v.get("extraEnvVars").filter(|n| truthy(n)) {
        out.extend(extra_env(extra));
    }
    // WM:473-475: passed through.
    if let Some(common) = v.get("commonEnvVars").and_then(Node::as_seq) {
        out.extend(common.iter().cloned());
    }
    out
}

/// `open-webui.hasCustomWebUIUrl` (H:329-344).
fn has_custom_webui_url(v: &Values) -> bool {
    match v.get("extraEnvVars").map(|n| &n.value) {
        Some(Value::Map(_)) => v.get("extraEnvVars.WEBUI_URL").is_some(),
        Some(Value::Seq(items)) => items
            .iter()
            .any(|i| i.get("name").and_then(Node::as_str) == Some("WEBUI_URL")),
        _ => false,
    }
}

/// `open-webui.env` (H:362-379): a list passes through; a mapping becomes `- name: KEY` with
/// `value:` (quoted) or the mapping's own fields (`valueFrom`).
fn extra_env(extra: &Node) -> Vec<Node> {
    match &extra.value {
        Value::Map(entries) => {
            // Go ranges over a map in key order.
            let mut sorted: Vec<&(Node, Node)> = entries.iter().collect();
            sorted.sort_by_key(|(k, _)| k.scalar_string().unwrap_or_default());
            sorted
                .into_iter()
                .filter_map(|(k, val)| {
                    let name = k.scalar_string()?;
                    let at = At::of(val);
                    Some(match &val.value {
                        Value::Map(fields) => {
                            let mut e = vec![(s("name", At::of(k)), s(name, At::of(k)))];
                            e.extend(fields.iter().cloned());
                            node(Value::Map(e), at)
                        }
                        Value::Null => env(&name, s("", at)),
                        _ => env(&name, quoted(val)),
                    })
                })
                .collect()
        }
        Value::Seq(items) => items.clone(),
        _ => Vec::new(),
    }
}

/// WM:156-234: the OpenAI branch the values select.
fn openai_env(v: &Values, release: &Release, files: &mut FileTable, out: &mut Vec<Node>) {
    let t = |files: &mut FileTable, line| template(files, "workload-manager.yaml", line);
    let enabled = v.truthy("enableOpenaiApi");
    let base = v.truthy("openaiBaseApiUrl");
    let bases = v.truthy("openaiBaseApiUrls");
    let pipelines = v.truthy("pipelines.enabled");
    let endpoint = || {
        format!(
            "http://{}.{}.svc.{}:{}",
            subchart_name(v, release, "pipelines", true),
            release.namespace,
            v.text("clusterDomain"),
            v.text("pipelines.service.port")
        )
    };
    let joined = |path: &str| -> String {
        v.get(path)
            .and_then(Node::as_seq)
            .map(|s| {
                s.iter()
                    .filter_map(Node::scalar_string)
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default()
    };
    let key = |out: &mut Vec<Node>| {
        if let (Some(secret), Some(k)) = (
            v.get("openaiApiKeyExistingSecret").filter(|n| truthy(n)),
            v.get("openaiApiKeyExistingSecretKey"),
        ) {
            out.push(secret_env("OPENAI_API_KEY", secret, k));
        } else if let Some(k) = v.get("openaiApiKey").filter(|n| truthy(n)) {
            out.push(env("OPENAI_API_KEY", quoted(k)));
        }
    };
    let keys = |out: &mut Vec<Node>| {
        if let (Some(secret), Some(k)) = (
            v.get("openaiApiKeysExistingSecret").filter(|n| truthy(n)),
            v.get("openaiApiKeysExistingSecretKey"),
        ) {
            out.push(secret_env("OPENAI_API_KEYS", secret, k));
        } else if let Some(k) = v.get("openaiApiKeys").filter(|n| truthy(n)) {
            out.push(env_text(
                "OPENAI_API_KEYS",
                joined("openaiApiKeys"),
                At::of(k),
            ));
        }
    };
    if enabled && base && !bases && !pipelines {
        out.push(env(
            "OPENAI_API_BASE_URL",
            quoted(v.get("openaiBaseApiUrl").unwrap()),
        ));
        key(out);
    } else if enabled && base && pipelines && !bases {
        let at = v.at("openaiBaseApiUrl", t(files, 174));
        out.push(env_text(
            "OPENAI_API_BASE_URLS",
            format!("{};{}", endpoint(), v.text("openaiBaseApiUrl")),
            at,
        ));
        keys(out);
    } else if enabled && pipelines && !base && !bases {
        let at = v.at("pipelines.enabled", t(files, 189));
        out.push(env_text("OPENAI_API_BASE_URL", endpoint(), at));
        key(out);
    } else if enabled && bases && pipelines {
        let at = v.at("openaiBaseApiUrls", t(files, 204));
        out.push(env_text(
            "OPENAI_API_BASE_URLS",
            format!("{};{}", endpoint(), joined("openaiBaseApiUrls")),
            at,
        ));
        keys(out);
    } else if enabled && bases && !pipelines {
        let at = v.at("openaiBaseApiUrls", t(files, 219));
        out.push(env_text(
            "OPENAI_API_BASE_URLS",
            joined("openaiBaseApiUrls"),
            at,
        ));
        keys(out);
    } else if !enabled {
        out.push(env_text(
            "ENABLE_OPENAI_API",
            "False",
            v.at("enableOpenaiApi", t(files, 232)),
        ));
    }
}

/// WM:241-300: the storage provider's variables.
fn storage_env(v: &Values, files: &mut FileTable, out: &mut Vec<Node>) {
    let provider = v.text("persistence.provider");
    let Some(p) = v.get("persistence.provider") else {
        return;
    };
    let plain = |out: &mut Vec<Node>, name: &str, path: &str| {
        let at = v.at(path, At::of(p));
        out.push(env_text(name, v.text(path), at));
    };
    let either = |out: &mut Vec<Node>, name: &str, secret: &str, key: &str, value: &str| match (
        v.get(secret).filter(|n| truthy(n)),
        v.get(key),
    ) {
        (Some(sn), Some(kn)) => out.push(secret_env(name, sn, kn)),
        _ => plain(out, name, value),
    };
    let _ = files;
    match provider.as_str() {
        "s3" => {
            out.push(env("STORAGE_PROVIDER", quoted(p)));
            let s3 = "persistence.s3";
            either(
                out,
                "S3_ACCESS_KEY_ID",
                &format!("{s3}.accessKeyExistingSecret"),
                &format!("{s3}.accessKeyExistingAccessKey"),
                &format!("{s3}.accessKey"),
            );
            either(
                out,
                "S3_SECRET_ACCESS_KEY",
                &format!("{s3}.secretKeyExistingSecret"),
                &format!("{s3}.secretKeyExistingSecretKey"),
                &format!("{s3}.secretKey"),
            );
            plain(out, "S3_ENDPOINT_URL", &format!("{s3}.endpointUrl"));
            plain(out, "S3_BUCKET_NAME", &format!("{s3}.bucket"));
            plain(out, "S3_REGION_NAME", &format!("{s3}.region"));
            plain(out, "S3_KEY_PREFIX", &format!("{s3}.keyPrefix"));
        }
        "gcs" => {
            out.push(env("STORAGE_PROVIDER", quoted(p)));
            either(
                out,
                "GOOGLE_APPLICATION_CREDENTIALS_JSON",
                "persistence.gcs.appCredentialsJsonExistingSecret",
                "persistence.gcs.appCredentialsJsonExistingSecretKey",
                "persistence.gcs.appCredentialsJson",
            );
            plain(out, "GCS_BUCKET_NAME", "persistence.gcs.bucket");
        }
        "azure" => {
            out.push(env("STORAGE_PROVIDER", quoted(p)));
            plain(
                out,
                "AZURE_STORAGE_ENDPOINT",
                "persistence.azure.endpointUrl",
            );
            plain(
                out,
                "AZURE_STORAGE_CONTAINER_NAME",
                "persistence.azure.container",
            );
            either(
                out,
                "AZURE_STORAGE_KEY",
                "persistence.azure.keyExistingSecret",
                "persistence.azure.keyExistingSecretKey",
                "persistence.azure.key",
            );
        }
        _ => {}
    }
}

/// `websocket.redis.url` (H:207-213): `websocket.url`, else the chart's Redis Service by its
/// cluster DNS name (Release.Namespace, not namespaceOverride).
pub fn websocket_redis_url(values: &Node, release: &Release) -> String {
    let v = Values(values);
    if v.truthy("websocket.url") {
        return v.text("websocket.url");
    }
    format!(
        "redis://{}-redis.{}.svc.{}:6379/0",
        fullname(values, release),
        release.namespace,
        v.text("clusterDomain")
    )
}

/// WM:301-328.
fn websocket_env(
    v: &Values,
    values: &Node,
    release: &Release,
    files: &mut FileTable,
    out: &mut Vec<Node>,
) {
    let t = |files: &mut FileTable, line| template(files, "workload-manager.yaml", line);
    let enabled_at = v.at("websocket.enabled", t(files, 302));
    let enabled = v.truthy("websocket.enabled");
    out.push(env_text(
        "ENABLE_WEBSOCKET_SUPPORT",
        if enabled { "True" } else { "False" },
        enabled_at,
    ));
    if !enabled {
        return;
    }
    if let Some(manager) = v.get("websocket.manager").filter(|n| truthy(n)) {
        out.push(env("WEBSOCKET_MANAGER", quoted(manager)));
    }
    if v.text("websocket.manager") != "redis" {
        return;
    }
    for name in ["REDIS_URL", "WEBSOCKET_REDIS_URL"] {
        if let Some(secret) = v.get("websocket.existingSecret").filter(|n| truthy(n)) {
            // `existingSecretKey | default "redis-url"` (WM:314).
            let key = v
                .get("websocket.existingSecretKey")
                .filter(|n| truthy(n))
                .cloned()
                .unwrap_or_else(|| s("redis-url", At::of(secret)));
            out.push(secret_env(name, secret, &key));
        } else {
            // Set by the user: their line; computed: the helper that builds it.
            let at = v
                .get("websocket.url")
                .filter(|n| truthy(n))
                .map_or_else(|| template(files, "_helpers.tpl", 212), At::of);
            out.push(env_text(name, websocket_redis_url(values, release), at));
        }
    }
}

/// WR:1-112: the chart's own Redis, when websocket and websocket.redis are enabled.
fn redis(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Vec<Node> {
    if !(v.truthy("websocket.enabled") && v.truthy("websocket.redis.enabled")) {
        return Vec::new();
    }
    let t = |files: &mut FileTable, line| template(files, "websocket-redis.yaml", line);
    let name = format!("{}-redis", fullname(values, release));
    let ns = namespace(v, release);
    let top = v.at("websocket.redis.enabled", t(files, 1));
    let lab = with_extra(
        labels(v, release, &name, t(files, 8)),
        v.get("websocket.redis.labels"),
    );
    let meta = metadata(
        name.clone(),
        ns.clone(),
        lab.clone(),
        v.get("websocket.redis.annotations"),
        top,
    );
    let mut c = vec![
        // The Redis is there because of `websocket.redis.enabled`: findings about the
        // server (its flags, its name) point at that value.
        ("name", s(name.clone(), top)),
        ("image", redis_image(v, t(files, 38))),
    ];
    if let Some(p) = v.get("websocket.redis.image.pullPolicy") {
        c.push(("imagePullPolicy", p.clone()));
    }
    for key in ["command", "args"] {
        if let Some(n) = v
            .get(&format!("websocket.redis.{key}"))
            .filter(|n| truthy(n))
        {
            c.push((key, n.clone()));
        }
    }
    let port_at = t(files, 49);
    let container_port = v
        .get("websocket.redis.service.containerPort")
        .cloned()
        .unwrap_or_else(|| s("", t(files, 50)));
    c.push((
        "ports",
        seq(
            port_at,
            vec![map(
                port_at,
                vec![
                    ("name", s("http", port_at)),
                    ("containerPort", container_port),
                ],
            )],
        ),
    ));
    let pod_labels = with_extra(
        labels(v, release, &name, t(files, 23)),
        v.get("websocket.redis.pods.labels"),
    );
    let deployment = map(
        top,
        vec![
            ("apiVersion", s("apps/v1", t(files, 2))),
            ("kind", s("Deployment", t(files, 3))),
            ("metadata", meta),
            (
                "spec",
                map(
                    t(files, 16),
                    vec![
                        (
                            "selector",
                            map(
                                t(files, 17),
                                vec![("matchLabels", selector(release, &name, t(files, 19)))],
                            ),
                        ),
                        (
                            "template",
                            map(
                                t(files, 20),
                                vec![
                                    (
                                        "metadata",
                                        map(
                                            t(files, 21),
                                            vec![("labels", owned_map(t(files, 23), pod_labels))],
                                        ),
                                    ),
                                    (
                                        "spec",
                                        map(
                                            t(files, 31),
                                            vec![(
                                                "containers",
                                                seq(t(files, 36), vec![map(t(files, 37), c)]),
                                            )],
                                        ),
                                    ),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    );
    let svc_at = t(files, 86);
    let svc_meta = metadata(
        name.clone(),
        ns,
        lab,
        v.get("websocket.redis.service.annotations"),
        t(files, 88),
    );
    let port_name = match v
        .get("websocket.redis.service.portName")
        .filter(|n| truthy(n))
    {
        Some(n) => n.clone(),
        None => s("http", t(files, 106)),
    };
    let mut port = vec![
        ("protocol", s("TCP", t(files, 105))),
        ("name", port_name),
        (
            "port",
            v.get("websocket.redis.service.port")
                .cloned()
                .unwrap_or_else(|| s("", t(files, 107))),
        ),
        ("targetPort", s("http", t(files, 108))),
    ];
    if let Some(np) = v
        .get("websocket.redis.service.nodePort")
        .filter(|n| truthy(n))
    {
        port.push(("nodePort", np.clone()));
    }
    let ty = match v.get("websocket.redis.service.type").filter(|n| truthy(n)) {
        Some(n) => n.clone(),
        None => s("ClusterIP", t(files, 103)),
    };
    let service = map(
        svc_at,
        vec![
            ("apiVersion", s("v1", svc_at)),
            ("kind", s("Service", t(files, 87))),
            ("metadata", svc_meta),
            (
                "spec",
                map(
                    t(files, 100),
                    vec![
                        ("selector", selector(release, &name, t(files, 102))),
                        ("type", ty),
                        ("ports", seq(t(files, 104), vec![map(t(files, 105), port)])),
                    ],
                ),
            ),
        ],
    );
    vec![deployment, service]
}

/// WR:38: `"repository:tag"`, at the tag when set (the part users change).
fn redis_image(v: &Values, fallback: At) -> Node {
    let text = format!(
        "{}:{}",
        v.text("websocket.redis.image.repository"),
        v.text("websocket.redis.image.tag")
    );
    let at = v
        .get("websocket.redis.image.tag")
        .or_else(|| v.get("websocket.redis.image.repository"))
        .map_or(fallback, At::of);
    s(text, at)
}

/// ING:1-54, when `ingress.enabled`.
fn ingress(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Option<Node> {
    let enabled = v.get("ingress.enabled").filter(|n| truthy(n))?;
    let t = |files: &mut FileTable, line| template(files, "ingress.yaml", line);
    let full = fullname(values, release);
    let top = At::of(enabled);
    let lab = with_extra(
        labels(v, release, CHART_NAME, t(files, 8)),
        v.get("ingress.extraLabels"),
    );
    let meta = metadata(
        full.clone(),
        namespace(v, release),
        lab,
        v.get("ingress.annotations"),
        t(files, 4),
    );
    let mut spec = Vec::new();
    if let Some(class) = v.get("ingress.class").filter(|n| truthy(n)) {
        spec.push(("ingressClassName", class.clone()));
    }
    let extra_hosts: Vec<Node> = v
        .get("ingress.additionalHosts")
        .and_then(Node::as_seq)
        .map(<[Node]>::to_vec)
        .unwrap_or_default();
    if let Some(tls) = v.get("ingress.tls").filter(|n| truthy(n)) {
        let at = At::of(tls);
        let mut hosts = vec![quoted_or(v.get("ingress.host"), at)];
        hosts.extend(extra_hosts.iter().map(quoted));
        let secret = match v.get("ingress.existingSecret").filter(|n| truthy(n)) {
            Some(n) => n.clone(),
            None => s(format!("{full}-tls"), at),
        };
        spec.push((
            "tls",
            seq(
                at,
                vec![map(
                    at,
                    vec![("hosts", seq(at, hosts)), ("secretName", secret)],
                )],
            ),
        ));
    }
    let backend = |files: &mut FileTable| {
        let at = t(files, 37);
        map(
            t(files, 34),
            vec![
                ("path", s("/", t(files, 35))),
                ("pathType", s("Prefix", t(files, 36))),
                (
                    "backend",
                    map(
                        at,
                        vec![(
                            "service",
                            map(
                                at,
                                vec![
                                    ("name", s(full.clone(), t(files, 39))),
                                    ("port", map(at, vec![("name", s("http", t(files, 41)))])),
                                ],
                            ),
                        )],
                    ),
                ),
            ],
        )
    };
    let mut rules = Vec::new();
    let rule_at = t(files, 29);
    let mut first = Vec::new();
    if let Some(host) = v.get("ingress.host").filter(|n| truthy(n)) {
        first.push(("host", quoted(host)));
    }
    let paths = backend(files);
    first.push((
        "http",
        map(rule_at, vec![("paths", seq(rule_at, vec![paths]))]),
    ));
    rules.push(map(rule_at, first));
    for host in &extra_hosts {
        let paths = backend(files);
        let at = At::of(host);
        rules.push(map(
            at,
            vec![
                ("host", quoted(host)),
                ("http", map(at, vec![("paths", seq(at, vec![paths]))])),
            ],
        ));
    }
    spec.push(("rules", seq(rule_at, rules)));
    Some(map(
        top,
        vec![
            ("apiVersion", s("networking.k8s.io/v1", t(files, 2))),
            ("kind", s("Ingress", t(files, 3))),
            ("metadata", meta),
            ("spec", map(t(files, 16), spec)),
        ],
    ))
}

fn quoted_or(n: Option<&Node>, at: At) -> Node {
    n.map_or_else(|| s("", at), quoted)
}

/// RT:44-89: the main route, when `route.enabled` (the optional HTTP→HTTPS redirect route of
/// RT:2-43 carries no backend and is not rendered).
fn route(v: &Values, values: &Node, release: &Release, files: &mut FileTable) -> Option<Node> {
    let enabled = v.get("route.enabled").filter(|n| truthy(n))?;
    let t = |files: &mut FileTable, line| template(files, "route.yaml", line);
    let top = At::of(enabled);
    let full = fullname(values, release);
    let or_default = |path: &str, default: &str, at: At| match v.get(path).filter(|n| truthy(n)) {
        Some(n) => n.clone(),
        None => s(default, at),
    };
    let api = or_default(
        "route.apiVersion",
        "gateway.networking.k8s.io/v1",
        t(files, 45),
    );
    let kind = or_default("route.kind", "HTTPRoute", t(files, 46));
    let lab = with_extra(
        labels(v, release, CHART_NAME, t(files, 51)),
        v.get("route.extraLabels"),
    );
    let meta = metadata(
        full.clone(),
        namespace(v, release),
        lab,
        v.get("route.annotations"),
        t(files, 48),
    );
    let backend_at = t(files, 73);
    let mut backend = vec![
        (
            "group",
            quoted_or(v.get("route.backendRef.group"), backend_at),
        ),
        (
            "kind",
            v.get("route.backendRef.kind")
                .cloned()
                .unwrap_or_else(|| s("", backend_at)),
        ),
        ("name", s(full, t(files, 75))),
    ];
    if let Some(ns) = v.get("service.namespace").filter(|n| truthy(n)) {
        backend.push(("namespace", ns.clone()));
    }
    backend.push((
        "port",
        v.get("service.port")
            .cloned()
            .unwrap_or_else(|| s("", t(files, 79))),
    ));
    if let Some(w) = v.get("route.backendRef.weight") {
        backend.push(("weight", w.clone()));
    }
    let mut rule = vec![(
        "backendRefs",
        seq(backend_at, vec![map(backend_at, backend)]),
    )];
    for key in ["filters", "matches"] {
        if let Some(n) = v.get(&format!("route.{key}")).filter(|n| truthy(n)) {
            rule.push((key, n.clone()));
        }
    }
    let mut rules: Vec<Node> = v
        .get("route.additionalRules")
        .and_then(Node::as_seq)
        .map(<[Node]>::to_vec)
        .unwrap_or_default();
    rules.push(map(backend_at, rule));
    let mut spec = Vec::new();
    if let Some(refs) = v.get("route.parentRefs").filter(|n| truthy(n)) {
        spec.push(("parentRefs", refs.clone()));
    }
    let hostnames = v
        .get("route.hostnames")
        .cloned()
        .unwrap_or_else(|| seq(t(files, 67), Vec::new()));
    spec.push(("hostnames", hostnames));
    spec.push(("rules", seq(t(files, 68), rules)));
    Some(map(
        top,
        vec![
            ("apiVersion", api),
            ("kind", kind),
            ("metadata", meta),
            ("spec", map(t(files, 59), spec)),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::helm::{chart_defaults, merge};
    use crate::config::yaml::parse_documents;

    /// Renders values text (file 0) over the chart defaults for release `open-webui` in
    /// `default`; returns the objects and the file table.
    fn render_text(text: &str) -> (Vec<Node>, Vec<String>) {
        let mut table = FileTable::default();
        table.index("values.yaml");
        let mut user = parse_documents(text).unwrap().remove(0);
        user.set_file(0);
        let defaults = chart_defaults(&mut table);
        let values = merge::coalesce(user, defaults);
        let release = Release {
            name: "open-webui".into(),
            namespace: "default".into(),
        };
        let objects = render(&values, &release, &mut table).unwrap();
        (objects, table.files)
    }

    fn find<'a>(objects: &'a [Node], kind: &str, name: &str) -> Option<&'a Node> {
        objects.iter().find(|o| {
            o.get("kind").and_then(Node::as_str) == Some(kind)
                && o.get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_str)
                    == Some(name)
        })
    }

    fn at<'a>(n: &'a Node, path: &str) -> &'a Node {
        path.split('.')
            .try_fold(n, |n, k| match k.parse::<usize>() {
                Ok(i) => n.as_seq().and_then(|s| s.get(i)),
                Err(_) => n.get(k),
            })
            .unwrap_or_else(|| panic!("no {path}"))
    }

    /// (value, file, line) of one env var of the Open WebUI container.
    fn env_of(workload: &Node, name: &str, files: &[String]) -> Option<(String, String, u32)> {
        let env = at(workload, "spec.template.spec.containers.0.env").as_seq()?;
        env.iter()
            .rev()
            .find(|e| e.get("name").and_then(Node::as_str) == Some(name))
            .map(|e| {
                let v = e.get("value").unwrap();
                (
                    v.scalar_string().unwrap_or_default(),
                    files[v.file as usize].clone(),
                    v.line,
                )
            })
    }

    #[test]
    fn defaults_render_a_statefulset_with_the_chart_redis_and_its_url() {
        // WM:6: StatefulSet when persistence is enabled and local (V:394, V:422).
        let (objects, files) = render_text("{}\n");
        let sts = find(&objects, "StatefulSet", "open-webui").expect("statefulset");
        let replicas = at(sts, "spec.replicas");
        assert_eq!(replicas.value, Value::Int(1));
        assert_eq!(
            files[replicas.file as usize],
            "open-webui-16.0.0.tgz/values.yaml"
        );
        assert_eq!(replicas.line, 183);
        // H:207-213: the in-chart Redis Service's cluster DNS name.
        let (url, file, line) = env_of(sts, "REDIS_URL", &files).unwrap();
        assert_eq!(
            url,
            "redis://open-webui-redis.default.svc.cluster.local:6379/0"
        );
        assert_eq!(
            (file.as_str(), line),
            ("open-webui-16.0.0.tgz/templates/_helpers.tpl", 212)
        );
        assert_eq!(env_of(sts, "WEBSOCKET_REDIS_URL", &files).unwrap().0, url);
        assert_eq!(env_of(sts, "WEBSOCKET_MANAGER", &files).unwrap().0, "redis");
        assert_eq!(
            env_of(sts, "ENABLE_WEBSOCKET_SUPPORT", &files).unwrap().0,
            "True"
        );
        // H:384-395: the app version as the tag.
        assert_eq!(
            at(sts, "spec.template.spec.containers.0.image").as_str(),
            Some("ghcr.io/open-webui/open-webui:0.11.0")
        );
        // WR:1-112: the chart's Redis Deployment and Service, selector matching its pods.
        let redis = find(&objects, "Deployment", "open-webui-redis").expect("redis deployment");
        assert_eq!(
            at(redis, "spec.template.spec.containers.0.image").as_str(),
            Some("redis:7.4.2-alpine3.21")
        );
        let svc = find(&objects, "Service", "open-webui-redis").expect("redis service");
        assert_eq!(at(svc, "spec.ports.0.port").value, Value::Int(6379));
        assert_eq!(at(svc, "spec.ports.0.targetPort").as_str(), Some("http"));
        let component = "app.kubernetes.io/component";
        assert_eq!(
            at(svc, "spec.selector")
                .get(component)
                .and_then(Node::as_str),
            Some("open-webui-redis")
        );
        assert_eq!(
            at(redis, "spec.template.metadata.labels")
                .get(component)
                .and_then(Node::as_str),
            Some("open-webui-redis")
        );
        // SVC:18-37: the app's Service on port 80 to the container port named http (8080).
        let app_svc = find(&objects, "Service", "open-webui").expect("service");
        assert_eq!(at(app_svc, "spec.ports.0.port").value, Value::Int(80));
        assert!(
            app_svc
                .get("spec")
                .unwrap()
                .get("sessionAffinity")
                .is_none()
        );
        assert_eq!(
            at(sts, "spec.template.spec.containers.0.ports.0.containerPort").value,
            Value::Int(8080)
        );
        // ING:1: no Ingress unless enabled.
        assert!(
            objects
                .iter()
                .all(|o| o.get("kind").and_then(Node::as_str) != Some("Ingress"))
        );
    }

    #[test]
    fn workload_kind_follows_persistence_and_workload_kind() {
        let (objects, _) = render_text("persistence:\n  enabled: false\n");
        assert!(find(&objects, "Deployment", "open-webui").is_some());
        let (objects, _) = render_text("persistence:\n  provider: s3\n");
        assert!(find(&objects, "Deployment", "open-webui").is_some());
        let (objects, _) = render_text("workload:\n  kind: Deployment\n");
        assert!(find(&objects, "Deployment", "open-webui").is_some());
        // WM:2-3: any other kind makes the chart fail.
        let mut table = FileTable::default();
        table.index("values.yaml");
        let mut user = parse_documents("workload:\n  kind: DaemonSet\n")
            .unwrap()
            .remove(0);
        user.set_file(0);
        let values = merge::coalesce(user, chart_defaults(&mut table));
        let release = Release {
            name: "r".into(),
            namespace: "n".into(),
        };
        let e = render(&values, &release, &mut table).unwrap_err();
        assert_eq!((e.file, e.line), (0, 2));
        assert!(e.message.contains("DaemonSet"), "{e:?}");
    }

    #[test]
    fn websocket_values_become_env_with_the_values_lines() {
        // WM:301-328: the user's url on both variables, at their line.
        let (objects, files) = render_text(
            "replicaCount: 3\nwebsocket:\n  url: redis://valkey:6379/1\n  redis:\n    enabled: false\n",
        );
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        for name in ["REDIS_URL", "WEBSOCKET_REDIS_URL"] {
            assert_eq!(
                env_of(sts, name, &files).unwrap(),
                ("redis://valkey:6379/1".into(), "values.yaml".into(), 3)
            );
        }
        assert_eq!(at(sts, "spec.replicas").line, 1);
        assert!(find(&objects, "Deployment", "open-webui-redis").is_none());
        // websocket.enabled false: ENABLE_WEBSOCKET_SUPPORT=False, no manager, no URL, no Redis.
        let (objects, files) = render_text("websocket:\n  enabled: false\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "ENABLE_WEBSOCKET_SUPPORT", &files).unwrap(),
            ("False".into(), "values.yaml".into(), 2)
        );
        assert!(env_of(sts, "WEBSOCKET_MANAGER", &files).is_none());
        assert!(env_of(sts, "REDIS_URL", &files).is_none());
        assert!(find(&objects, "Service", "open-webui-redis").is_none());
        // An empty manager: no WEBSOCKET_MANAGER and no URL (WM:304, WM:308).
        let (objects, files) = render_text("websocket:\n  manager: ''\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert!(env_of(sts, "WEBSOCKET_MANAGER", &files).is_none());
        assert!(env_of(sts, "REDIS_URL", &files).is_none());
    }

    #[test]
    fn existing_secret_gives_secret_key_refs() {
        // WM:310-314: valueFrom.secretKeyRef with existingSecretKey (default "redis-url").
        let (objects, _) = render_text("websocket:\n  existingSecret: redis-creds\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        let env = at(sts, "spec.template.spec.containers.0.env")
            .as_seq()
            .unwrap();
        let redis = env
            .iter()
            .find(|e| e.get("name").and_then(Node::as_str) == Some("REDIS_URL"))
            .unwrap();
        assert_eq!(
            at(redis, "valueFrom.secretKeyRef.name").as_str(),
            Some("redis-creds")
        );
        assert_eq!(
            at(redis, "valueFrom.secretKeyRef.key").as_str(),
            Some("redis-url")
        );
        assert_eq!(at(redis, "valueFrom.secretKeyRef.name").line, 2);
    }

    #[test]
    fn extra_env_vars_list_and_map_forms_come_after_the_chart_vars() {
        // H:362-379: a list passes through; a map becomes name/value (quoted) or its fields.
        let (objects, files) = render_text(
            "extraEnvVars:\n  - name: WEBSOCKET_MANAGER\n    value: ''\n  - name: UVICORN_WORKERS\n    value: '4'\n",
        );
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        let env = at(sts, "spec.template.spec.containers.0.env")
            .as_seq()
            .unwrap();
        let names: Vec<&str> = env.iter().filter_map(|e| e.get("name")?.as_str()).collect();
        let first = names
            .iter()
            .position(|n| *n == "WEBSOCKET_MANAGER")
            .unwrap();
        let last = names
            .iter()
            .rposition(|n| *n == "WEBSOCKET_MANAGER")
            .unwrap();
        assert!(
            first < last,
            "the chart's var first, the user's duplicate after: {names:?}"
        );
        assert_eq!(env_of(sts, "UVICORN_WORKERS", &files).unwrap().2, 5);
        let (objects, files) = render_text(
            "extraEnvVars:\n  WEBUI_SECRET_KEY:\n    valueFrom:\n      secretKeyRef: {name: s, key: k}\n  ENABLE_SIGNUP: false\n  A_PORT: 8080\n",
        );
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "ENABLE_SIGNUP", &files).unwrap(),
            ("false".into(), "values.yaml".into(), 5)
        );
        assert_eq!(env_of(sts, "A_PORT", &files).unwrap().0, "8080");
        let env = at(sts, "spec.template.spec.containers.0.env")
            .as_seq()
            .unwrap();
        let key = env
            .iter()
            .find(|e| e.get("name").and_then(Node::as_str) == Some("WEBUI_SECRET_KEY"))
            .unwrap();
        assert_eq!(at(key, "valueFrom.secretKeyRef.name").as_str(), Some("s"));
        // WM:476-478: extraEnvFrom as envFrom.
        let (objects, _) = render_text("extraEnvFrom:\n  - secretRef:\n      name: owui\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            at(
                sts,
                "spec.template.spec.containers.0.envFrom.0.secretRef.name"
            )
            .as_str(),
            Some("owui")
        );
    }

    #[test]
    fn ingress_with_annotations_tls_and_webui_url() {
        // ING:1-54 and WM:144-146 with H:350-356.
        let (objects, files) = render_text(
            "ingress:\n  enabled: true\n  class: nginx\n  host: chat.example.org\n  tls: true\n  annotations:\n    nginx.ingress.kubernetes.io/proxy-read-timeout: '3600'\n",
        );
        let ing = find(&objects, "Ingress", "open-webui").expect("ingress");
        assert_eq!(at(ing, "spec.ingressClassName").as_str(), Some("nginx"));
        let ann = at(ing, "metadata.annotations");
        let timeout = ann
            .get("nginx.ingress.kubernetes.io/proxy-read-timeout")
            .unwrap();
        assert_eq!((timeout.as_str(), timeout.line), (Some("3600"), 7));
        assert_eq!(
            at(ing, "spec.rules.0.host").as_str(),
            Some("chat.example.org")
        );
        assert_eq!(
            at(ing, "spec.rules.0.http.paths.0.path").as_str(),
            Some("/")
        );
        assert_eq!(
            at(ing, "spec.rules.0.http.paths.0.backend.service.port.name").as_str(),
            Some("http")
        );
        assert_eq!(
            at(ing, "spec.tls.0.secretName").as_str(),
            Some("open-webui-tls")
        );
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "WEBUI_URL", &files).unwrap(),
            ("https://chat.example.org".into(), "values.yaml".into(), 4)
        );
    }

    #[test]
    fn fullname_follows_release_name_and_overrides() {
        // H:24-35.
        let v = parse_documents("{}\n").unwrap().remove(0);
        let r = |name: &str| Release {
            name: name.into(),
            namespace: "ns".into(),
        };
        assert_eq!(fullname(&v, &r("open-webui")), "open-webui");
        assert_eq!(fullname(&v, &r("my-open-webui-prod")), "my-open-webui-prod");
        assert_eq!(fullname(&v, &r("chat")), "chat-open-webui");
        let v = parse_documents("fullnameOverride: owui\n")
            .unwrap()
            .remove(0);
        assert_eq!(fullname(&v, &r("chat")), "owui");
        let v = parse_documents("nameOverride: ui\n").unwrap().remove(0);
        assert_eq!(fullname(&v, &r("chat")), "chat-ui");
    }

    #[test]
    fn ollama_and_pipelines_urls_follow_the_helpers() {
        // H:59-100 and WM:148-155: the ollama subchart's Service, with the user's URLs first;
        // H:50 trims one trailing "/" off the joined list, not off each URL.
        let (objects, files) = render_text("ollamaUrls: ['http://gpu:11434/']\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "OLLAMA_BASE_URLS", &files).unwrap().0,
            "http://gpu:11434;http://open-webui-ollama.default.svc.cluster.local:11434"
        );
        let (objects, files) = render_text("ollama:\n  enabled: false\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "ENABLE_OLLAMA_API", &files).unwrap(),
            ("False".into(), "values.yaml".into(), 2)
        );
        // WM:171-174, H:169-185: pipelines enabled with the default OpenAI URL.
        let (objects, files) = render_text("{}\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(
            env_of(sts, "OPENAI_API_BASE_URLS", &files).unwrap().0,
            "http://open-webui-pipelines.default.svc.cluster.local:9099;https://api.openai.com/v1"
        );
        // WM:156-159: pipelines disabled: the URL and the key (a chart default secret).
        let (objects, files) = render_text("pipelines:\n  enabled: false\n");
        let sts = find(&objects, "StatefulSet", "open-webui").unwrap();
        assert_eq!(env_of(sts, "OPENAI_API_KEY", &files).unwrap().2, 541);
    }

    #[test]
    fn route_when_enabled() {
        // RT:44-89.
        let (objects, _) = render_text(
            "route:\n  enabled: true\n  hostnames: [chat.example.org]\n  parentRefs:\n    - name: gw\n",
        );
        let rt = find(&objects, "HTTPRoute", "open-webui").expect("route");
        assert_eq!(
            at(rt, "spec.rules.0.backendRefs.0.name").as_str(),
            Some("open-webui")
        );
        assert_eq!(
            at(rt, "spec.rules.0.backendRefs.0.port").value,
            Value::Int(80)
        );
        assert_eq!(
            at(rt, "spec.hostnames.0").as_str(),
            Some("chat.example.org")
        );
        assert_eq!(
            at(rt, "spec.rules.0.matches.0.path.value").as_str(),
            Some("/")
        );
    }
}
