//! One merged service node → [`Service`], with a span for every value and a
//! [`StructureProblem`](crate::config::StructureProblem) (not an error) for each value of the
//! wrong shape, as compose's schema would refuse it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Loader, absolute};
use crate::config::yaml::{Node, Value};
use crate::config::{
    BindMount, DependsOn, EnvFile, EnvSource, EnvVar, Located, MissingEnvFile, PortMapping,
    Service, ServiceNetwork,
};
use crate::error::CliError;
use crate::redact::is_secret_key;

/// env_file path → parsed file (None: missing), shared by the services that name it.
pub(super) type EnvFileCache = BTreeMap<PathBuf, Option<(String, EnvFile)>>;

pub(super) fn build(
    l: &mut Loader<'_>,
    name: &str,
    key: &Node,
    svc: &Node,
    cache: &mut EnvFileCache,
) -> Result<Service, CliError> {
    let mut s = Service {
        name: name.to_string(),
        span: Some(l.node_span(key)),
        ..Service::default()
    };
    if svc.as_map().is_none() {
        if !svc.is_null() {
            l.structure_problem(
                svc,
                format!(
                    "service `{name}` must be a mapping, found {}",
                    svc.kind_name()
                ),
            );
        } else {
            l.structure_problem(key, format!("service `{name}` is empty (null)"));
        }
        s.networks = default_network(l, key);
        return Ok(s);
    }
    s.image = string_field(l, svc, "image");
    s.build = svc.get("build").is_some_and(|b| !b.is_null());
    s.container_name = string_field(l, svc, "container_name");
    s.hostname = string_field(l, svc, "hostname");
    s.network_mode = string_field(l, svc, "network_mode");
    s.command = command_field(l, svc, "command");
    s.entrypoint = command_field(l, svc, "entrypoint");
    env_files(l, &mut s, svc, cache)?;
    if let Some(env) = svc.get("environment") {
        environment(l, &mut s, env);
    }
    s.networks = networks(l, svc, key);
    if let Some(ports) = svc.get("ports") {
        s.ports = self::ports(l, ports);
    }
    s.replicas = replicas(l, svc);
    if let Some(deps) = svc.get("depends_on") {
        s.depends_on = depends_on(l, deps);
    }
    s.healthcheck = healthcheck(l, svc);
    if let Some(labels) = svc.get("labels") {
        s.labels = self::labels(l, labels);
    }
    if let Some(volumes) = svc.get("volumes") {
        s.volumes = bind_mounts(l, volumes);
    }
    if let Some(profiles) = svc.get("profiles") {
        match profiles.as_seq() {
            Some(items) => s.profiles = items.iter().filter_map(Node::scalar_string).collect(),
            None if profiles.is_null() => {}
            None => l.structure_problem(
                profiles,
                format!("`profiles` must be a list, found {}", profiles.kind_name()),
            ),
        }
    }
    register_secrets(l, &s, svc);
    Ok(s)
}

fn string_field(l: &mut Loader<'_>, svc: &Node, field: &str) -> Option<Located<String>> {
    let node = svc.get(field)?;
    if node.is_null() {
        return None;
    }
    match node.scalar_string() {
        Some(v) if !matches!(node.value, Value::Seq(_) | Value::Map(_)) => {
            Some(Located::new(v, Some(l.node_span(node))))
        }
        _ => {
            l.structure_problem(
                node,
                format!("`{field}` must be a string, found {}", node.kind_name()),
            );
            None
        }
    }
}

/// `command` / `entrypoint`: a list as is; a string split like compose does (shell words:
/// quotes group, backslashes escape; no variable expansion).
fn command_field(l: &mut Loader<'_>, svc: &Node, field: &str) -> Option<Located<Vec<String>>> {
    let node = svc.get(field)?;
    let span = Some(l.node_span(node));
    match &node.value {
        Value::Null => None,
        Value::Seq(items) => {
            let mut args = Vec::new();
            for item in items {
                match item.scalar_string() {
                    Some(a) => args.push(a),
                    None => l.structure_problem(
                        item,
                        format!(
                            "`{field}` items must be strings, found {}",
                            item.kind_name()
                        ),
                    ),
                }
            }
            Some(Located::new(args, span))
        }
        Value::Map(_) => {
            l.structure_problem(
                node,
                format!("`{field}` must be a string or a list, found a mapping"),
            );
            None
        }
        _ => {
            let text = node.scalar_string().unwrap_or_default();
            let args = match shell_words::split(&text) {
                Ok(a) => a,
                Err(_) => {
                    l.structure_problem(
                        node,
                        format!("`{field}` has an unterminated quote (compose cannot split it)"),
                    );
                    text.split_whitespace().map(str::to_string).collect()
                }
            };
            Some(Located::new(args, span))
        }
    }
}

/// `env_file:` string, list of strings, or long form `{path, required, format}`; relative to
/// the project directory (or the extended file's directory). Missing files are recorded.
fn env_files(
    l: &mut Loader<'_>,
    s: &mut Service,
    svc: &Node,
    cache: &mut EnvFileCache,
) -> Result<(), CliError> {
    let Some(node) = svc.get("env_file") else {
        return Ok(());
    };
    let items: Vec<&Node> = match &node.value {
        Value::Null => Vec::new(),
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    for item in items {
        let (path_node, required) = match &item.value {
            Value::Map(_) => {
                let Some(p) = item.get("path") else {
                    l.structure_problem(item, "`env_file` entry without `path`");
                    continue;
                };
                let required = item.get("required").and_then(Node::as_bool).unwrap_or(true);
                (p, required)
            }
            Value::Str { .. } => (item, true),
            _ => {
                l.structure_problem(
                    item,
                    format!(
                        "`env_file` must be a path or a list, found {}",
                        item.kind_name()
                    ),
                );
                continue;
            }
        };
        let Some(rel) = path_node.scalar_string() else {
            l.structure_problem(path_node, "`env_file` path must be a string");
            continue;
        };
        let path = absolute(&l.file_base_dir(path_node.file), std::path::Path::new(&rel));
        // compose keeps one entry per path (the merge dedupes `env_file`).
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let display = l.display_path(&path);
        let span = Some(l.node_span(path_node));
        s.env_files
            .push(Located::new(display.clone(), span.clone()));
        if !cache.contains_key(&path) {
            let parsed = if path.is_file() {
                Some((display.clone(), l.read_env_file(&path, &display)?))
            } else {
                None
            };
            cache.insert(path.clone(), parsed);
        }
        match cache.get(&path).cloned().flatten() {
            Some((_, file)) => {
                for e in &file.entries {
                    let var = EnvVar {
                        value: e.value.clone(),
                        // A bare `KEY` line has no text of its own.
                        raw: Some(e.raw_value.clone())
                            .filter(|r| !(r.is_empty() && e.value.is_none())),
                        span: Some(e.value_span.clone()),
                        source: EnvSource::EnvFile(display.clone()),
                        shadowed: Vec::new(),
                    };
                    set_env(&mut s.environment, &e.key, var);
                }
            }
            None => l.deployment().missing_env_files.push(MissingEnvFile {
                service: s.name.clone(),
                path: display,
                required,
                span,
            }),
        }
    }
    Ok(())
}

/// Sets `key`, keeping what it overrides in `shadowed` (oldest first).
fn set_env(env: &mut BTreeMap<String, EnvVar>, key: &str, mut var: EnvVar) {
    if let Some(mut old) = env.remove(key) {
        let mut shadowed = std::mem::take(&mut old.shadowed);
        shadowed.push(old);
        var.shadowed = shadowed;
    }
    env.insert(key.to_string(), var);
}

/// `environment:` map or `- KEY=value` list (after merging, a list whose items are strings
/// or one-entry maps). A bare `KEY` takes its value from the interpolation environment.
fn environment(l: &mut Loader<'_>, s: &mut Service, env: &Node) {
    let entries: Vec<Node> = match &env.value {
        Value::Null => return,
        Value::Map(m) => one_entry_maps(m),
        Value::Seq(items) => items.clone(),
        _ => {
            l.structure_problem(
                env,
                format!(
                    "`environment` must be a mapping or a list of KEY=value, found {}",
                    env.kind_name()
                ),
            );
            return;
        }
    };
    for item in &entries {
        match &item.value {
            Value::Map(m) if m.len() == 1 => {
                let (k, v) = &m[0];
                let key = k.scalar_string().unwrap_or_default();
                let var = match &v.value {
                    Value::Null => EnvVar {
                        value: l.lookup(&key),
                        raw: None,
                        span: Some(l.node_span(k)),
                        source: EnvSource::Environment,
                        shadowed: Vec::new(),
                    },
                    Value::Seq(_) | Value::Map(_) => {
                        l.structure_problem(
                            v,
                            format!(
                                "environment `{key}` must be a string, number or boolean, found {}",
                                v.kind_name()
                            ),
                        );
                        continue;
                    }
                    _ => EnvVar {
                        value: v.scalar_string(),
                        raw: v.raw_string(),
                        span: Some(l.node_span(v)),
                        source: EnvSource::Environment,
                        shadowed: Vec::new(),
                    },
                };
                set_env(&mut s.environment, &key, var);
            }
            Value::Str { .. } => {
                let text = item.scalar_string().unwrap_or_default();
                let raw = item.raw_string().unwrap_or_default();
                let (key, var) = match text.split_once('=') {
                    Some((k, v)) => {
                        let raw_value = raw
                            .split_once('=')
                            .map_or(v.to_string(), |(_, r)| r.to_string());
                        let column = value_column(l, item, k);
                        (
                            k.to_string(),
                            EnvVar {
                                value: Some(v.to_string()),
                                raw: Some(raw_value),
                                span: Some(l.span(item.file, item.line, column)),
                                source: EnvSource::Environment,
                                shadowed: Vec::new(),
                            },
                        )
                    }
                    None => (
                        text.clone(),
                        EnvVar {
                            value: l.lookup(&text),
                            raw: None,
                            span: Some(l.node_span(item)),
                            source: EnvSource::Environment,
                            shadowed: Vec::new(),
                        },
                    ),
                };
                if key.is_empty() {
                    l.structure_problem(item, "environment entry without a name");
                    continue;
                }
                set_env(&mut s.environment, &key, var);
            }
            _ => l.structure_problem(
                item,
                format!(
                    "environment entries must be KEY=value strings, found {}",
                    item.kind_name()
                ),
            ),
        }
    }
}

/// The column of the value in a `- KEY=value` item: after `KEY=` (and the opening quote)
/// when the item is written there, else the item's own column (an alias, a folded scalar).
fn value_column(l: &Loader<'_>, item: &Node, key: &str) -> u32 {
    let Some(line) = l.file_text_line(item.file, item.line) else {
        return item.column;
    };
    let rest: String = line
        .chars()
        .skip(item.column.saturating_sub(1) as usize)
        .collect();
    let (rest, quote) = match rest.chars().next() {
        Some('"' | '\'') => (rest[1..].to_string(), 1),
        _ => (rest, 0),
    };
    if rest.starts_with(key) && rest[key.len()..].starts_with('=') {
        let offset = quote + key.chars().count() + 1;
        item.column + u32::try_from(offset).unwrap_or(0)
    } else {
        item.column
    }
}

fn default_network(l: &Loader<'_>, key: &Node) -> Vec<ServiceNetwork> {
    vec![ServiceNetwork {
        name: "default".into(),
        aliases: Vec::new(),
        span: Some(l.node_span(key)),
    }]
}

/// `networks:` list or map with `aliases`; the implicit `default` network when the service
/// names none and has no `network_mode` (compose-go's loader does the same).
fn networks(l: &mut Loader<'_>, svc: &Node, key: &Node) -> Vec<ServiceNetwork> {
    let mut out = Vec::new();
    match svc.get("networks") {
        None => {}
        Some(n) => match &n.value {
            Value::Null => {}
            Value::Seq(items) => {
                for item in items {
                    match item.scalar_string() {
                        Some(name) => out.push(ServiceNetwork {
                            name,
                            aliases: Vec::new(),
                            span: Some(l.node_span(item)),
                        }),
                        None => l.structure_problem(
                            item,
                            format!("network names must be strings, found {}", item.kind_name()),
                        ),
                    }
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    let mut aliases = Vec::new();
                    if let Some(a) = v.get("aliases") {
                        match a.as_seq() {
                            Some(items) => {
                                aliases = items.iter().filter_map(Node::scalar_string).collect();
                            }
                            None if a.is_null() => {}
                            None => l.structure_problem(
                                a,
                                format!("`aliases` must be a list, found {}", a.kind_name()),
                            ),
                        }
                    } else if !v.is_null() && v.as_map().is_none() {
                        l.structure_problem(
                            v,
                            format!(
                                "a service network must be a mapping or empty, found {}",
                                v.kind_name()
                            ),
                        );
                    }
                    out.push(ServiceNetwork {
                        name: k.scalar_string().unwrap_or_default(),
                        aliases,
                        span: Some(l.node_span(k)),
                    });
                }
            }
            _ => l.structure_problem(
                n,
                format!(
                    "`networks` must be a list or a mapping, found {}",
                    n.kind_name()
                ),
            ),
        },
    }
    let has_mode = svc.get("network_mode").is_some_and(|m| !m.is_null());
    if out.is_empty() && !has_mode {
        out = default_network(l, key);
    }
    out
}

fn ports(l: &mut Loader<'_>, ports: &Node) -> Vec<PortMapping> {
    let Some(items) = ports.as_seq() else {
        if !ports.is_null() {
            l.structure_problem(
                ports,
                format!("`ports` must be a list, found {}", ports.kind_name()),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let span = Some(l.node_span(item));
        match &item.value {
            Value::Map(_) => {
                let Some(target_node) = item.get("target") else {
                    l.structure_problem(item, "a long-syntax port needs `target`");
                    continue;
                };
                let target = target_node.scalar_string().unwrap_or_default();
                if !is_port_or_range(&target) {
                    l.structure_problem(
                        target_node,
                        format!("port target `{target}` is not a port number"),
                    );
                    continue;
                }
                out.push(PortMapping {
                    host_ip: item.get("host_ip").and_then(Node::scalar_string),
                    published: item
                        .get("published")
                        .and_then(Node::scalar_string)
                        .filter(|p| !p.is_empty()),
                    target,
                    protocol: item
                        .get("protocol")
                        .and_then(Node::scalar_string)
                        .unwrap_or_else(|| "tcp".into()),
                    span,
                });
            }
            Value::Int(_) | Value::Str { .. } => {
                let text = item.scalar_string().unwrap_or_default();
                match parse_short_port(&text) {
                    Some(mut p) => {
                        p.span = span;
                        out.push(p);
                    }
                    None => l.structure_problem(
                        item,
                        format!(
                            "`{text}` is not a port mapping ([HOST_IP:][HOST:]CONTAINER[/PROTOCOL])"
                        ),
                    ),
                }
            }
            _ => l.structure_problem(
                item,
                format!(
                    "a port must be a string or a mapping, found {}",
                    item.kind_name()
                ),
            ),
        }
    }
    out
}

fn is_port_or_range(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(s),
    }
}

/// Short syntax: `[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]`, HOST_IP possibly `[v6]`.
pub(super) fn parse_short_port(text: &str) -> Option<PortMapping> {
    let (spec, protocol) = match text.rsplit_once('/') {
        Some((s, p)) => (s, p.to_string()),
        None => (text, "tcp".to_string()),
    };
    let (host_ip, rest) = if let Some(after) = spec.strip_prefix('[') {
        let (ip, rest) = after.split_once("]:")?;
        (Some(ip.to_string()), rest)
    } else {
        (None, spec)
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (host_ip, published, target) = match (host_ip, parts.as_slice()) {
        (None, [t]) => (None, None, *t),
        (None, [p, t]) => (None, Some(*p), *t),
        (None, [ip, p, t]) => (Some(ip.to_string()), Some(*p), *t),
        (Some(ip), [p, t]) => (Some(ip), Some(*p), *t),
        _ => return None,
    };
    if !is_port_or_range(target) {
        return None;
    }
    let published = published.filter(|p| !p.is_empty());
    if let Some(p) = published
        && !is_port_or_range(p)
    {
        return None;
    }
    Some(PortMapping {
        host_ip: host_ip.filter(|h| !h.is_empty()),
        published: published.map(str::to_string),
        target: target.to_string(),
        protocol,
        span: None,
    })
}

/// `deploy.replicas`, else the legacy `scale`.
fn replicas(l: &mut Loader<'_>, svc: &Node) -> Option<Located<u32>> {
    let node = svc
        .get("deploy")
        .and_then(|d| d.get("replicas"))
        .filter(|n| !n.is_null())
        .or_else(|| svc.get("scale").filter(|n| !n.is_null()))?;
    let parsed = match &node.value {
        Value::Int(i) => u32::try_from(*i).ok(),
        // An interpolated `${REPLICAS:-2}` is a string; compose casts it.
        Value::Str { value, .. } => value.trim().parse::<u32>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) => Some(Located::new(n, Some(l.node_span(node)))),
        None => {
            l.structure_problem(
                node,
                format!(
                    "replicas must be a non-negative whole number, found {}",
                    node.scalar_string()
                        .map_or_else(|| node.kind_name().to_string(), |s| format!("`{s}`"))
                ),
            );
            None
        }
    }
}

fn depends_on(l: &mut Loader<'_>, deps: &Node) -> Vec<DependsOn> {
    let mut out = Vec::new();
    match &deps.value {
        Value::Null => {}
        Value::Seq(items) => {
            for item in items {
                match item.scalar_string() {
                    Some(service) => out.push(DependsOn {
                        service,
                        condition: None,
                        span: Some(l.node_span(item)),
                    }),
                    None => l.structure_problem(item, "depends_on entries must be service names"),
                }
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                if !v.is_null() && v.as_map().is_none() {
                    l.structure_problem(
                        v,
                        format!(
                            "depends_on `{}` must be a mapping, found {}",
                            k.scalar_string().unwrap_or_default(),
                            v.kind_name()
                        ),
                    );
                }
                out.push(DependsOn {
                    service: k.scalar_string().unwrap_or_default(),
                    condition: v.get("condition").and_then(Node::scalar_string),
                    span: Some(l.node_span(k)),
                });
            }
        }
        _ => l.structure_problem(
            deps,
            format!(
                "`depends_on` must be a list or a mapping, found {}",
                deps.kind_name()
            ),
        ),
    }
    out
}

/// Where the `healthcheck:` key is, unless it is disabled (`disable: true`, or `test` NONE).
fn healthcheck(l: &mut Loader<'_>, svc: &Node) -> Option<crate::config::Span> {
    let (key, hc) = svc
        .as_map()?
        .iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some("healthcheck"))?;
    if hc.is_null() {
        return None;
    }
    if hc.as_map().is_none() {
        l.structure_problem(
            hc,
            format!("`healthcheck` must be a mapping, found {}", hc.kind_name()),
        );
        return None;
    }
    if hc.get("disable").and_then(Node::as_bool) == Some(true) {
        return None;
    }
    let none = match hc.get("test") {
        Some(t) => match &t.value {
            Value::Seq(items) => items.first().and_then(Node::as_str) == Some("NONE"),
            Value::Str { value, .. } => value.trim() == "NONE",
            _ => false,
        },
        None => false,
    };
    if none {
        return None;
    }
    Some(l.node_span(key))
}

fn labels(l: &mut Loader<'_>, labels: &Node) -> BTreeMap<String, Located<String>> {
    let mut out = BTreeMap::new();
    let items: Vec<Node> = match &labels.value {
        Value::Null => return out,
        Value::Map(m) => one_entry_maps(m),
        Value::Seq(items) => items.clone(),
        _ => {
            l.structure_problem(
                labels,
                format!(
                    "`labels` must be a mapping or a list, found {}",
                    labels.kind_name()
                ),
            );
            return out;
        }
    };
    for item in &items {
        match &item.value {
            Value::Map(m) if m.len() == 1 => {
                let (k, v) = &m[0];
                out.insert(
                    k.scalar_string().unwrap_or_default(),
                    Located::new(v.scalar_string().unwrap_or_default(), Some(l.node_span(v))),
                );
            }
            _ => {
                let text = item.scalar_string().unwrap_or_default();
                let (k, v) = text.split_once('=').unwrap_or((text.as_str(), ""));
                out.insert(
                    k.to_string(),
                    Located::new(v.to_string(), Some(l.node_span(item))),
                );
            }
        }
    }
    out
}

/// Registers every secret value the service shows: secret-named env values, URL passwords
/// anywhere in the service, and Redis passwords on command lines and health checks
/// (`--requirepass X`, `requirepass X`, `--masterauth X`, `redis-cli -a X`).
fn register_secrets(l: &mut Loader<'_>, s: &Service, svc: &Node) {
    let healthcheck: Option<Vec<String>> =
        svc.get("healthcheck")
            .and_then(|h| h.get("test"))
            .map(|t| match &t.value {
                Value::Seq(items) => items.iter().filter_map(Node::scalar_string).collect(),
                _ => t
                    .scalar_string()
                    .map(|x| {
                        shell_words::split(&x)
                            .unwrap_or_else(|_| x.split_whitespace().map(str::to_string).collect())
                    })
                    .unwrap_or_default(),
            });
    let secrets = &mut l.deployment().secrets;
    for (key, var) in &s.environment {
        for v in std::iter::once(var).chain(var.shadowed.iter()) {
            if let Some(value) = &v.value {
                if is_secret_key(key) {
                    secrets.add(value);
                }
                secrets.add_url_passwords(value);
            }
        }
    }
    add_url_passwords_below(secrets, svc);
    let commands = [&s.command, &s.entrypoint]
        .into_iter()
        .flatten()
        .map(|c| c.value.as_slice())
        .chain(healthcheck.as_deref());
    for args in commands {
        let is_redis_cli = args
            .iter()
            .any(|a| a.contains("redis-cli") || a.contains("valkey-cli"));
        for (i, arg) in args.iter().enumerate() {
            let next = args.get(i + 1);
            match arg.as_str() {
                "--requirepass" | "requirepass" | "--masterauth" => {
                    if let Some(v) = next {
                        secrets.add(v);
                    }
                }
                "-a" | "--pass" if is_redis_cli => {
                    if let Some(v) = next {
                        secrets.add(v);
                    }
                }
                _ => {
                    // A shell string such as `redis-server --requirepass pw` inside `sh -c`.
                    let words: Vec<&str> = arg.split_whitespace().collect();
                    for w in words.windows(2) {
                        let cli_flag = is_redis_cli && matches!(w[0], "-a" | "--pass");
                        if cli_flag
                            || matches!(w[0], "--requirepass" | "requirepass" | "--masterauth")
                        {
                            secrets.add(w[1].trim_matches(['"', '\'']));
                        }
                    }
                }
            }
        }
    }
}

fn add_url_passwords_below(secrets: &mut crate::redact::Secrets, node: &Node) {
    match &node.value {
        Value::Str { value, raw } => {
            if value.contains("://") {
                secrets.add_url_passwords(value);
            }
            if let Some(r) = raw.as_deref().filter(|r| r.contains("://")) {
                secrets.add_url_passwords(r);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|i| add_url_passwords_below(secrets, i)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|(_, v)| add_url_passwords_below(secrets, v)),
        _ => {}
    }
}

/// A `KEY: value` mapping (environment, labels) as the list form's items: one single-entry
/// map per key, placed where the key is, so both forms are read by one code path.
fn one_entry_maps(m: &[(Node, Node)]) -> Vec<Node> {
    m.iter()
        .map(|(k, v)| {
            Node::new(
                Value::Map(vec![(k.clone(), v.clone())]),
                k.line,
                k.column,
                k.file,
            )
        })
        .collect()
}

/// The `volumes:` entries that bind a host path: short syntax `SOURCE:TARGET[:MODE]` whose
/// source is a path (starts with `.`, `/` or `~`; otherwise it names a volume), and long
/// syntax with `type: bind`. Relative sources are resolved against the directory of the file
/// that wrote them, as compose resolves them (compose-spec, "volumes" short syntax).
fn bind_mounts(l: &mut Loader<'_>, volumes: &Node) -> Vec<BindMount> {
    let Some(items) = volumes.as_seq() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let base = l.file_base_dir(item.file);
        let (source, target) = match &item.value {
            Value::Map(_) => {
                let kind = item.get("type").and_then(Node::scalar_string);
                if kind.as_deref() != Some("bind") {
                    continue;
                }
                let (Some(src), Some(dst)) = (
                    item.get("source").and_then(Node::scalar_string),
                    item.get("target").and_then(Node::scalar_string),
                ) else {
                    continue;
                };
                (src, dst)
            }
            _ => {
                let Some(text) = item.scalar_string() else {
                    continue;
                };
                let mut parts = text.splitn(3, ':');
                let (Some(src), Some(dst)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if !(src.starts_with('.') || src.starts_with('/') || src.starts_with('~')) {
                    continue;
                }
                (src.to_string(), dst.to_string())
            }
        };
        let source = match source.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(std::path::PathBuf::from)
                .unwrap_or_default()
                .join(rest),
            None => absolute(&base, std::path::Path::new(&source)),
        };
        out.push(BindMount {
            source,
            target,
            span: Some(l.node_span(item)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(text: &str) -> (Option<String>, Option<String>, String, String) {
        let p = parse_short_port(text).unwrap_or_else(|| panic!("{text} parses"));
        (p.host_ip, p.published, p.target, p.protocol)
    }

    #[test]
    fn short_port_syntax() {
        assert_eq!(port("6379"), (None, None, "6379".into(), "tcp".into()));
        assert_eq!(
            port("8080:80"),
            (None, Some("8080".into()), "80".into(), "tcp".into())
        );
        assert_eq!(
            port("127.0.0.1:6379:6379"),
            (
                Some("127.0.0.1".into()),
                Some("6379".into()),
                "6379".into(),
                "tcp".into()
            )
        );
        assert_eq!(
            port("8000-8010:8000-8010/udp"),
            (
                None,
                Some("8000-8010".into()),
                "8000-8010".into(),
                "udp".into()
            )
        );
        assert_eq!(
            port("[::1]:6379:6379"),
            (
                Some("::1".into()),
                Some("6379".into()),
                "6379".into(),
                "tcp".into()
            )
        );
        assert_eq!(
            port("127.0.0.1::80"),
            (Some("127.0.0.1".into()), None, "80".into(), "tcp".into())
        );
        assert!(parse_short_port("http").is_none());
        assert!(parse_short_port("1:2:3:4").is_none());
    }
}
