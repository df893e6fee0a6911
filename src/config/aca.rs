//! Azure Container Apps as a deployment source: the YAML that `az containerapp show -o yaml`
//! prints and `az containerapp create/update --yaml` takes, read into the same deployment
//! model as compose (one [`Service`] per container, env with file:line, replicas, commands),
//! plus what only Container Apps has ([`ContainerApp`]: ingress, scale, revisions mode).
//!
//! Both shapes are read: the resource as `show` prints it (`configuration` and `template`
//! under `properties:`, `type: Microsoft.App/containerApps`) and the flat one `--yaml` also
//! accepts (azure-cli `containerapp/_utils.py` `process_loaded_yaml` moves a top-level
//! `configuration`, `template`, `environmentId`, `managedEnvironmentId`… under `properties`).
//! Property meanings: https://learn.microsoft.com/azure/container-apps/azure-resource-manager-api-spec
//! and https://learn.microsoft.com/azure/container-apps/ingress-how-to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::yaml::{self, Node, Value};
use crate::config::{
    Deployment, EnvSource, EnvVar, Located, PortMapping, Service, ServiceNetwork, Span,
    StructureProblem, scan_ignores,
};
use crate::error::CliError;

/// The ARM resource type of a container app (compared case-insensitively: ARM types are).
pub const RESOURCE_TYPE: &str = "Microsoft.App/containerApps";

/// What the Container Apps files said beyond the shared model.
#[derive(Debug, Clone, Default)]
pub struct ContainerApps {
    /// The files read, as shown to the user.
    pub files: Vec<String>,
    pub apps: Vec<ContainerApp>,
    /// Files that do not parse and values of the wrong shape: `aca.yaml-syntax` findings.
    pub problems: Vec<StructureProblem>,
}

impl ContainerApps {
    /// The container app a service (one of its containers) belongs to.
    pub fn app_of(&self, service: &str) -> Option<&ContainerApp> {
        self.apps
            .iter()
            .find(|a| a.services.iter().any(|s| s == service))
    }
}

/// One `Microsoft.App/containerApps` resource.
#[derive(Debug, Clone, Default)]
pub struct ContainerApp {
    pub name: String,
    /// The `name:` of the resource, or the document's start.
    pub span: Option<Span>,
    /// The environment's name (last segment of `environmentId` / `managedEnvironmentId`):
    /// apps of one environment reach each other by app name.
    pub environment: Option<Located<String>>,
    /// `configuration.activeRevisionsMode`: `Single` when unset (ARM API: "If no value if
    /// provided, this is the default").
    pub revisions_mode: Option<Located<String>>,
    pub ingress: Option<Ingress>,
    /// `template.scale.minReplicas` (default 0) and `maxReplicas` (default 10):
    /// https://learn.microsoft.com/azure/container-apps/scale-app ("Scale definition").
    pub min_replicas: Option<Located<u32>>,
    pub max_replicas: Option<Located<u32>>,
    /// Names (in `Deployment.services`) of its containers, the first container first.
    pub services: Vec<String>,
    /// `configuration.secrets[].name`.
    pub secret_names: Vec<Located<String>>,
}

/// `maxReplicas` when the file does not set it (scale-app: "Maximum number of replicas per
/// revision | 10").
pub const DEFAULT_MAX_REPLICAS: u32 = 10;

impl ContainerApp {
    /// The replicas the platform may run: `maxReplicas`, 10 when unset.
    pub fn max_replicas_value(&self) -> u32 {
        self.max_replicas
            .as_ref()
            .map_or(DEFAULT_MAX_REPLICAS, |m| m.value)
    }

    /// Whether several revisions may be active (`Multiple`, or `Labels` in newer API versions):
    /// session affinity is then unsupported (sticky-sessions doc).
    pub fn multiple_revisions(&self) -> bool {
        self.revisions_mode
            .as_ref()
            .is_some_and(|m| !m.value.eq_ignore_ascii_case("single"))
    }
}

/// `configuration.ingress`.
#[derive(Debug, Clone, Default)]
pub struct Ingress {
    /// Where `ingress:` is.
    pub span: Option<Span>,
    pub external: Option<Located<bool>>,
    /// `auto` (default), `http`, `http2`, `tcp`, lowercased.
    pub transport: Option<Located<String>>,
    pub target_port: Option<Located<u32>>,
    pub exposed_port: Option<Located<u32>>,
    pub allow_insecure: Option<Located<bool>>,
    /// `stickySessions.affinity`: `none` (default) or `sticky`, lowercased.
    pub affinity: Option<Located<String>>,
}

impl Ingress {
    /// The transport in force: `auto` when unset (ingress-how-to: "auto (default)").
    pub fn transport_value(&self) -> &str {
        self.transport.as_ref().map_or("auto", |t| t.value.as_str())
    }

    pub fn sticky(&self) -> bool {
        self.affinity.as_ref().is_some_and(|a| a.value == "sticky")
    }
}

/// Whether a YAML text is a container app: a document whose `type` is
/// `Microsoft.App/containerApps`, or that has `properties.template` /
/// `properties.configuration` or a top-level `template.containers` and no compose
/// `services:` or Kubernetes `apiVersion`. A text that does not parse counts when it names
/// the resource type or starts a top-level `properties:` (its syntax error is then ours).
pub fn is_container_app_text(text: &str) -> bool {
    // Every `-f` file is asked this before its own loader parses it: a text without any
    // top-level key a container app needs, nor the resource type, is not parsed twice.
    if !may_be_container_app(text) {
        return false;
    }
    match yaml::parse_documents(text) {
        Ok(docs) => docs.iter().any(is_container_app),
        Err(_) => {
            text.to_ascii_lowercase()
                .contains(&RESOURCE_TYPE.to_ascii_lowercase())
                || text.lines().any(|l| l.trim_end() == "properties:")
        }
    }
}

/// A cheap look at the text: the resource type named anywhere, a flow/JSON document, or a
/// `properties:` / `template:` key at the start of a line (top-level in block YAML; a
/// Kubernetes `spec.template:` is indented).
fn may_be_container_app(text: &str) -> bool {
    let top_level_key = |line: &str| {
        let key = line.trim_start_matches(['"', '\'']);
        line.len() - key.len() <= 1
            && ["properties", "template"].iter().any(|k| {
                key.strip_prefix(k).is_some_and(|rest| {
                    rest.trim_start_matches(['"', '\''])
                        .trim_start()
                        .starts_with(':')
                })
            })
    };
    text.trim_start().starts_with('{')
        || text
            .to_ascii_lowercase()
            .contains(&RESOURCE_TYPE.to_ascii_lowercase())
        || text.lines().any(top_level_key)
}

fn is_container_app(doc: &Node) -> bool {
    if doc.as_map().is_none() || doc.get("apiVersion").is_some() || doc.get("services").is_some() {
        return false;
    }
    if doc
        .get("type")
        .and_then(Node::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(RESOURCE_TYPE))
    {
        return true;
    }
    let props = doc.get("properties");
    props.is_some_and(|p| p.get("template").is_some() || p.get("configuration").is_some())
        || doc
            .get("template")
            .is_some_and(|t| t.get("containers").is_some())
}

/// Reads the given files (each already known to be Container Apps YAML; `-` is standard
/// input, already read into `stdin`) into a deployment. A file that cannot be opened stops
/// the run (exit 2); one that does not parse is a finding.
pub fn load(
    files: &[PathBuf],
    stdin: Option<&str>,
    project_dir: &Path,
) -> Result<Deployment, CliError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let project_dir = if project_dir.as_os_str().is_empty() {
        files
            .iter()
            .find(|f| f.as_os_str() != crate::config::compose::STDIN_PATH)
            .and_then(|f| absolute(&cwd, f).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.clone())
    } else {
        absolute(&cwd, project_dir)
    };
    let mut texts = Vec::new();
    for path in files {
        if path.as_os_str() == crate::config::compose::STDIN_PATH {
            texts.push(("-".to_string(), Ok(stdin.unwrap_or_default().to_string())));
            continue;
        }
        let abs = absolute(&cwd, path);
        let display = crate::report::paths::shown(&abs, &cwd, &project_dir);
        let text = crate::config::compose::read_text(&abs, &display)?;
        texts.push((display, text));
    }
    let mut dep = from_texts(&texts);
    dep.project_dir = project_dir.clone();
    dep.project_name = project_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(dep)
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// Builds the deployment from file texts (display name, text or refusal). Pure: the unit
/// tests call it directly.
pub fn from_texts(
    texts: &[(String, Result<String, crate::config::compose::Refusal>)],
) -> Deployment {
    let mut dep = Deployment::default();
    let mut aca = ContainerApps::default();
    for (display, text) in texts {
        aca.files.push(display.clone());
        dep.compose_files.push(display.clone());
        let text = match text {
            Ok(t) => t,
            Err((line, column, message)) => {
                aca.problems.push(StructureProblem {
                    message: message.clone(),
                    span: Some(Span::new(display.clone(), *line, *column)),
                });
                continue;
            }
        };
        dep.ignores.extend(scan_ignores(display, text));
        let docs = match yaml::parse_documents(text) {
            Ok(d) => d,
            Err(e) => {
                aca.problems.push(StructureProblem {
                    message: format!(
                        "not valid YAML: {} (az containerapp create --yaml refuses it)",
                        e.message
                    ),
                    span: Some(Span::new(
                        display.clone(),
                        e.line.unwrap_or(1),
                        e.column.unwrap_or(1),
                    )),
                });
                continue;
            }
        };
        let mut found = 0;
        for doc in &docs {
            if doc.is_null() {
                continue;
            }
            if !is_container_app(doc) {
                aca.problems.push(StructureProblem {
                    message: format!(
                        "this document is not a container app (no `properties.template`, \
                         `template.containers` or `type: {RESOURCE_TYPE}`)"
                    ),
                    span: Some(span(display, doc)),
                });
                continue;
            }
            found += 1;
            let mut reader = Reader {
                file: display,
                dep: &mut dep,
                problems: &mut aca.problems,
            };
            let app = reader.app(doc);
            aca.apps.push(app);
        }
        if found == 0 && docs.iter().all(Node::is_null) {
            aca.problems.push(StructureProblem {
                message: "the file is empty".into(),
                span: Some(Span::new(display.clone(), 1, 1)),
            });
        }
    }
    dep.aca = Some(aca);
    dep
}

fn span(file: &str, node: &Node) -> Span {
    Span::new(file, node.line, node.column)
}

/// Reads one container app document.
struct Reader<'a> {
    file: &'a str,
    dep: &'a mut Deployment,
    problems: &'a mut Vec<StructureProblem>,
}

impl Reader<'_> {
    fn problem(&mut self, node: &Node, message: String) {
        self.problems.push(StructureProblem {
            message,
            span: Some(span(self.file, node)),
        });
    }

    /// A property of the resource: under `properties:`, or at the top level (the flat shape
    /// `az containerapp create --yaml` accepts; the top-level one wins there too).
    fn prop<'n>(doc: &'n Node, key: &str) -> Option<&'n Node> {
        doc.get(key)
            .filter(|n| !n.is_null())
            .or_else(|| doc.get("properties").and_then(|p| p.get(key)))
            .filter(|n| !n.is_null())
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Located<String>> {
        match node.scalar_string() {
            Some(s) => Some(Located::new(s, Some(span(self.file, node)))),
            None => {
                self.problem(
                    node,
                    format!("{what} is {}, not a string", node.kind_name()),
                );
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<Located<u32>> {
        let n = match &node.value {
            Value::Int(i) => u32::try_from(*i).ok(),
            Value::Str { value, .. } => value.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(n) => Some(Located::new(n, Some(span(self.file, node)))),
            None => {
                self.problem(
                    node,
                    format!(
                        "{what} is {}, not a whole number",
                        match &node.value {
                            Value::Str { value, .. } => format!("'{value}'"),
                            Value::Int(i) => i.to_string(),
                            _ => node.kind_name().to_string(),
                        }
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<Located<bool>> {
        match node.as_bool() {
            Some(b) => Some(Located::new(b, Some(span(self.file, node)))),
            None => {
                self.problem(
                    node,
                    format!("{what} is {}, not true/false", node.kind_name()),
                );
                None
            }
        }
    }

    fn app(&mut self, doc: &Node) -> ContainerApp {
        let name_node = doc.get("name");
        let name = name_node
            .and_then(Node::scalar_string)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| {
                // `create --yaml` takes the name from `--name`; the file may leave it out.
                let stem = Path::new(self.file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "app".into());
                format!("{stem}-{}", self.dep.services.len() + 1)
            });
        let mut app = ContainerApp {
            name: name.clone(),
            span: Some(span(self.file, name_node.unwrap_or(doc))),
            ..ContainerApp::default()
        };
        app.environment = ["environmentId", "managedEnvironmentId"]
            .iter()
            .find_map(|k| Self::prop(doc, k))
            .and_then(|n| {
                let id = n.scalar_string()?;
                let last = id.trim_end_matches('/').rsplit('/').next()?.to_string();
                Some(Located::new(last, Some(span(self.file, n))))
            });
        if let Some(p) = doc
            .get("properties")
            .filter(|p| !p.is_null() && p.as_map().is_none())
        {
            self.problem(p, format!("properties is {}, not a mapping", p.kind_name()));
        }
        let config = Self::prop(doc, "configuration");
        let template = Self::prop(doc, "template");
        if let Some(c) = config.filter(|c| c.as_map().is_none()) {
            self.problem(
                c,
                format!("configuration is {}, not a mapping", c.kind_name()),
            );
        }
        if let Some(t) = template.filter(|t| t.as_map().is_none()) {
            self.problem(t, format!("template is {}, not a mapping", t.kind_name()));
        }
        let config = config.filter(|c| c.as_map().is_some());
        let template = template.filter(|t| t.as_map().is_some());

        // Secrets first: env entries resolve their secretRef against them.
        let mut secret_values: BTreeMap<String, String> = BTreeMap::new();
        if let Some(secrets) = config.and_then(|c| c.get("secrets")) {
            match secrets.as_seq() {
                Some(items) => {
                    for item in items {
                        let Some(n) = item.get("name") else {
                            self.problem(item, "a secret without `name`".into());
                            continue;
                        };
                        let Some(sn) = self.string(n, "secrets[].name") else {
                            continue;
                        };
                        if let Some(v) = item.get("value").and_then(Node::scalar_string) {
                            register_secret(self.dep, &v);
                            secret_values.insert(sn.value.clone(), v);
                        }
                        app.secret_names.push(sn);
                    }
                }
                None if secrets.is_null() => {}
                None => self.problem(
                    secrets,
                    format!(
                        "configuration.secrets is {}, not a list",
                        secrets.kind_name()
                    ),
                ),
            }
        }

        if let Some(c) = config {
            if let Some(m) = c.get("activeRevisionsMode").filter(|n| !n.is_null()) {
                app.revisions_mode = self.string(m, "configuration.activeRevisionsMode");
            }
            if let Some(i) = c.get("ingress").filter(|n| !n.is_null()) {
                app.ingress = self.ingress(i);
            }
        }

        let mut first_port: Option<u32> = None;
        if let Some(t) = template {
            if let Some(scale) = t.get("scale").filter(|n| !n.is_null()) {
                if let Some(n) = scale.get("minReplicas").filter(|n| !n.is_null()) {
                    app.min_replicas = self.number(n, "template.scale.minReplicas");
                }
                if let Some(n) = scale.get("maxReplicas").filter(|n| !n.is_null()) {
                    app.max_replicas = self.number(n, "template.scale.maxReplicas");
                }
            }
            match t.get("containers").map(|c| (c, c.as_seq())) {
                Some((_, Some(containers))) => {
                    for (i, c) in containers.iter().enumerate() {
                        if c.as_map().is_none() {
                            self.problem(
                                c,
                                format!(
                                    "template.containers[{i}] is {}, not a mapping",
                                    c.kind_name()
                                ),
                            );
                            continue;
                        }
                        let service = self.container(c, i, &app, &secret_values);
                        app.services.push(service.name.clone());
                        self.dep.services.push(service);
                    }
                }
                Some((c, None)) if !c.is_null() => self.problem(
                    c,
                    format!("template.containers is {}, not a list", c.kind_name()),
                ),
                _ => {}
            }
            first_port = app
                .ingress
                .as_ref()
                .and_then(|i| i.target_port.as_ref())
                .map(|p| p.value);
        }
        if app.services.is_empty() {
            self.problem(
                name_node.unwrap_or(doc),
                format!("container app '{name}' has no template.containers: nothing to check"),
            );
        }
        // The ingress reaches the first container on targetPort.
        if let (Some(port), Some(first)) = (first_port, app.services.first())
            && let Some(s) = self.dep.services.iter_mut().find(|s| &s.name == first)
        {
            let ingress = app.ingress.as_ref();
            s.ports.push(PortMapping {
                host_ip: None,
                published: None,
                target: port.to_string(),
                protocol: "tcp".into(),
                span: ingress
                    .and_then(|i| i.target_port.as_ref())
                    .and_then(|p| p.span.clone()),
            });
        }
        app
    }

    fn ingress(&mut self, node: &Node) -> Option<Ingress> {
        if node.as_map().is_none() {
            self.problem(
                node,
                format!(
                    "configuration.ingress is {}, not a mapping",
                    node.kind_name()
                ),
            );
            return None;
        }
        let mut ingress = Ingress {
            span: Some(span(self.file, node)),
            ..Ingress::default()
        };
        let get = |k: &str| node.get(k).filter(|n| !n.is_null());
        if let Some(n) = get("external") {
            ingress.external = self.boolean(n, "ingress.external");
        }
        if let Some(n) = get("allowInsecure") {
            ingress.allow_insecure = self.boolean(n, "ingress.allowInsecure");
        }
        if let Some(n) = get("transport") {
            ingress.transport = self.string(n, "ingress.transport").map(|mut t| {
                t.value = t.value.trim().to_ascii_lowercase();
                t
            });
            if let Some(t) = &ingress.transport
                && !["auto", "http", "http2", "tcp"].contains(&t.value.as_str())
            {
                let v = t.value.clone();
                self.problem(
                    n,
                    format!("ingress.transport '{v}' is not one of auto, http, http2, tcp"),
                );
            }
        }
        if let Some(n) = get("targetPort") {
            ingress.target_port = self.number(n, "ingress.targetPort");
        }
        if let Some(n) = get("exposedPort") {
            ingress.exposed_port = self.number(n, "ingress.exposedPort");
        }
        if let Some(n) = get("stickySessions").and_then(|s| s.get("affinity")) {
            ingress.affinity = self
                .string(n, "ingress.stickySessions.affinity")
                .map(|mut a| {
                    a.value = a.value.trim().to_ascii_lowercase();
                    a
                });
        }
        Some(ingress)
    }

    fn container(
        &mut self,
        c: &Node,
        index: usize,
        app: &ContainerApp,
        secret_values: &BTreeMap<String, String>,
    ) -> Service {
        let cname = c.get("name").and_then(Node::scalar_string);
        // The first container answers to the app's name; others are sidecars, named after
        // themselves (they share the replica's network: localhost reaches them).
        let name = if index == 0 {
            app.name.clone()
        } else {
            format!(
                "{}/{}",
                app.name,
                cname
                    .clone()
                    .unwrap_or_else(|| format!("container-{}", index + 1))
            )
        };
        let mut s = Service {
            name,
            span: Some(span(self.file, c.get("name").unwrap_or(c))),
            networks: vec![ServiceNetwork {
                name: app
                    .environment
                    .as_ref()
                    .map_or_else(|| "environment".to_string(), |e| e.value.clone()),
                aliases: vec![],
                span: app.environment.as_ref().and_then(|e| e.span.clone()),
            }],
            ..Service::default()
        };
        if let Some(img) = c.get("image").filter(|n| !n.is_null()) {
            s.image = self.string(img, "containers[].image");
        }
        // Kubernetes semantics: `command` replaces the image's entrypoint, `args` its CMD.
        s.entrypoint = c.get("command").and_then(|n| self.words(n, "command"));
        s.command = c.get("args").and_then(|n| self.words(n, "args"));
        // Redis passwords on the command line (`--requirepass PW`, also inside `sh -c "…"`).
        for args in [&s.entrypoint, &s.command].into_iter().flatten() {
            let words: Vec<&str> = args
                .value
                .iter()
                .flat_map(|a| a.split_whitespace())
                .collect();
            for pair in words.windows(2) {
                if matches!(pair[0], "--requirepass" | "--masterauth" | "-a") {
                    self.dep.secrets.add(pair[1]);
                }
            }
            for w in &args.value {
                self.dep.secrets.add_url_passwords(w);
            }
        }
        if let Some(env) = c.get("env").filter(|n| !n.is_null()) {
            match env.as_seq() {
                Some(items) => {
                    for item in items {
                        self.env_entry(&mut s, item, secret_values);
                    }
                }
                None => self.problem(
                    env,
                    format!("containers[].env is {}, not a list", env.kind_name()),
                ),
            }
        }
        s.replicas = Some(Located::new(
            app.max_replicas_value(),
            app.max_replicas.as_ref().and_then(|m| m.span.clone()),
        ));
        s.replicas_from = "template.scale.maxReplicas";
        s
    }

    fn words(&mut self, node: &Node, what: &str) -> Option<Located<Vec<String>>> {
        if node.is_null() {
            return None;
        }
        match node.as_seq() {
            Some(items) => Some(Located::new(
                items.iter().filter_map(Node::scalar_string).collect(),
                Some(span(self.file, node)),
            )),
            None => {
                self.problem(node, format!("{what} is {}, not a list", node.kind_name()));
                None
            }
        }
    }

    fn env_entry(
        &mut self,
        s: &mut Service,
        item: &Node,
        secret_values: &BTreeMap<String, String>,
    ) {
        let Some(key) = item.get("name").and_then(Node::scalar_string) else {
            self.problem(item, "an env entry without `name`".into());
            return;
        };
        let value_node = item.get("value").filter(|n| !n.is_null());
        let secret_ref = item.get("secretRef").and_then(Node::scalar_string);
        let (value, raw, at) = match (value_node, &secret_ref) {
            (Some(v), _) => {
                let text = v.scalar_string();
                (text.clone(), text, v)
            }
            (None, Some(r)) => (
                // `az containerapp show` lists secrets without values: then unknown.
                secret_values.get(r).cloned(),
                Some(format!("secretref:{r}")),
                item.get("secretRef").unwrap_or(item),
            ),
            (None, None) => (Some(String::new()), Some(String::new()), item),
        };
        if let Some(v) = &value {
            if crate::redact::is_secret_key(&key) {
                self.dep.secrets.add(v);
            }
            self.dep.secrets.add_url_passwords(v);
        }
        let var = EnvVar {
            value,
            raw,
            span: Some(span(self.file, at)),
            source: EnvSource::Environment,
            shadowed: vec![],
        };
        // "When multiple environment variables have the same name, the last one in the list
        // takes effect." (https://learn.microsoft.com/azure/container-apps/environment-variables)
        match s.environment.get_mut(&key) {
            Some(old) => {
                let earlier = std::mem::replace(old, var);
                old.shadowed.push(earlier);
            }
            None => {
                s.environment.insert(key, var);
            }
        }
    }
}

/// A secret's value never reaches a report: a URL's password is masked (its host stays
/// readable, checks name it), any other value whole.
fn register_secret(dep: &mut Deployment, value: &str) {
    if value.contains("://") {
        dep.secrets.add_url_passwords(value);
    } else {
        dep.secrets.add(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Deployment {
        from_texts(&[("app.yaml".to_string(), Ok(text.to_string()))])
    }

    const SHOWN: &str = "\
id: /subscriptions/x/resourceGroups/rg/providers/Microsoft.App/containerApps/chat
location: East US
name: chat
properties:
  environmentId: /subscriptions/x/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/prod-env
  configuration:
    activeRevisionsMode: Single
    ingress:
      external: true
      targetPort: 8000
      transport: Http
      allowInsecure: false
      stickySessions:
        affinity: none
    secrets:
    - name: redis-url
  template:
    containers:
    - image: ghcr.io/acme/chainlit-app:1.4
      name: chat
      command:
      - chainlit
      args:
      - run
      - app.py
      env:
      - name: REDIS_URL
        secretRef: redis-url
      - name: CHAINLIT_AUTH_SECRET
        value: s3cr3t-value-xyz
    scale:
      minReplicas: 1
      maxReplicas: 3
resourceGroup: rg
type: Microsoft.App/containerApps
";

    #[test]
    fn reads_the_shape_az_show_prints() {
        assert!(is_container_app_text(SHOWN));
        let d = read(SHOWN);
        let aca = d.aca.as_ref().unwrap();
        assert!(aca.problems.is_empty(), "{:?}", aca.problems);
        let app = &aca.apps[0];
        assert_eq!(app.name, "chat");
        assert_eq!(app.environment.as_ref().unwrap().value, "prod-env");
        let ingress = app.ingress.as_ref().unwrap();
        assert_eq!(ingress.transport_value(), "http");
        assert_eq!(
            ingress
                .transport
                .as_ref()
                .unwrap()
                .span
                .as_ref()
                .unwrap()
                .line,
            11
        );
        assert_eq!(ingress.target_port.as_ref().unwrap().value, 8000);
        assert!(!ingress.sticky());
        assert_eq!(app.max_replicas_value(), 3);
        let s = &d.services[0];
        assert_eq!(s.name, "chat");
        assert_eq!(s.entrypoint.as_ref().unwrap().value, ["chainlit"]);
        assert_eq!(s.command.as_ref().unwrap().value, ["run", "app.py"]);
        assert_eq!(s.replicas.as_ref().unwrap().value, 3);
        let url = &s.environment["REDIS_URL"];
        assert_eq!(url.value, None, "show prints no secret values");
        assert_eq!(url.raw.as_deref(), Some("secretref:redis-url"));
        assert_eq!(url.span.as_ref().unwrap().line, 28);
        assert_eq!(d.secrets.redact("x s3cr3t-value-xyz"), "x ****");
        assert_eq!(s.networks[0].name, "prod-env");
    }

    #[test]
    fn reads_the_flat_shape_and_resolves_secret_refs() {
        let text = "\
name: chat
configuration:
  ingress:
    targetPort: 8080
  secrets:
  - name: redis-url
    value: redis://:hunter2pw@redis-app:6379/0
template:
  containers:
  - image: ghcr.io/open-webui/open-webui:main
    name: web
    env:
    - name: REDIS_URL
      secretRef: redis-url
";
        assert!(is_container_app_text(text));
        let d = read(text);
        let s = &d.services[0];
        assert_eq!(
            s.env("REDIS_URL"),
            Some("redis://:hunter2pw@redis-app:6379/0")
        );
        assert!(
            !d.secrets
                .redact("redis://:hunter2pw@redis-app:6379/0")
                .contains("hunter2pw")
        );
        // Unset maxReplicas: the documented default.
        assert_eq!(s.replicas.as_ref().unwrap().value, DEFAULT_MAX_REPLICAS);
        assert_eq!(s.replicas.as_ref().unwrap().span, None);
        assert_eq!(
            d.aca.as_ref().unwrap().apps[0]
                .ingress
                .as_ref()
                .unwrap()
                .transport_value(),
            "auto"
        );
    }

    #[test]
    fn the_cheap_look_keeps_every_container_app_shape() {
        assert!(may_be_container_app("properties:\n  template: {}\n"));
        assert!(may_be_container_app(
            "name: x\ntemplate:\n  containers: []\n"
        ));
        assert!(may_be_container_app("\"properties\": {}\n"));
        assert!(may_be_container_app("{\"properties\": {\"template\": {}}}"));
        assert!(may_be_container_app("type: microsoft.app/containerapps\n"));
        assert!(!may_be_container_app(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec: {}\n"
        ));
        assert!(!may_be_container_app("services:\n  web:\n    image: x\n"));
        assert!(!may_be_container_app("templates: []\n"));
    }

    #[test]
    fn compose_and_manifests_are_not_container_apps() {
        assert!(!is_container_app_text("services:\n  web:\n    image: x\n"));
        assert!(!is_container_app_text(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n"
        ));
        // Unparsable, but names the resource type: ours to report.
        assert!(is_container_app_text(
            "type: Microsoft.App/containerApps\nproperties: [\n"
        ));
    }

    #[test]
    fn syntax_errors_and_bad_shapes_are_problems_with_lines() {
        let d = read("type: Microsoft.App/containerApps\nproperties:\n  template: [\n");
        let p = &d.aca.as_ref().unwrap().problems;
        assert_eq!(p.len(), 1);
        assert!(
            p[0].message.starts_with("not valid YAML"),
            "{}",
            p[0].message
        );
        let d = read(
            "name: a\nproperties:\n  configuration:\n    ingress:\n      targetPort: eighty\n  template:\n    containers:\n    - image: redis\n",
        );
        let p = &d.aca.as_ref().unwrap().problems;
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].span.as_ref().unwrap().line, 5);
        assert!(p[0].message.contains("'eighty'"));
        let d = read(
            "type: Microsoft.App/containerApps\nproperties:\n  template:\n    containers:\n    - 7\n    scale: {maxReplicas: -1}\n",
        );
        let p: Vec<String> = d
            .aca
            .unwrap()
            .problems
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert!(
            p.iter().any(|m| m.contains("containers[0] is a number")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("-1, not a whole number")),
            "{p:?}"
        );
        assert!(d.services.is_empty());
    }

    #[test]
    fn later_env_entry_wins_and_sidecars_get_their_own_name() {
        let d = read(
            "name: a\ntemplate:\n  containers:\n  - image: x\n    name: main\n    env:\n    - name: K\n      value: one\n    - name: K\n      value: two\n  - image: redis:7\n    name: cache\n",
        );
        assert_eq!(d.services[0].env("K"), Some("two"));
        assert_eq!(d.services[0].environment["K"].shadowed.len(), 1);
        assert_eq!(d.services[1].name, "a/cache");
    }

    #[test]
    fn redis_passwords_on_the_command_line_are_secrets() {
        let d = read(
            "name: r\ntemplate:\n  containers:\n  - image: redis:7\n    args: [redis-server, --requirepass, pw-on-args-1]\n  - image: redis:7\n    command: [sh, -c, 'redis-server --masterauth pw-in-shell-2']\n",
        );
        let shown = d.secrets.redact("pw-on-args-1 pw-in-shell-2");
        assert!(!shown.contains("pw-"), "{shown}");
    }
}
