//! Traefik's dynamic configuration: the file provider (YAML or TOML: `http.routers`,
//! `http.services` with `loadBalancer.servers` and `sticky.cookie`, `http.middlewares`
//! `stripPrefix` / `replacePath` / `replacePathRegex` / `addPrefix`) and the Docker provider's
//! labels on compose services (`traefik.http.routers.R.rule`,
//! `traefik.http.services.S.loadbalancer.server.port`, `….sticky.cookie`). Every value keeps
//! its file:line.
//!
//! Sources (Traefik v2/v3 documentation):
//! - routers, rules and priority (default priority: the rule's length, longest first):
//!   <https://doc.traefik.io/traefik/routing/routers/>
//! - services, `loadBalancer.servers`, `sticky.cookie`:
//!   <https://doc.traefik.io/traefik/routing/services/>
//! - Docker labels, `loadbalancer.server.port`, the default service of a container:
//!   <https://doc.traefik.io/traefik/routing/providers/docker/>
//! - WebSocket is proxied with no configuration (HTTP/1.1 Upgrade passed through by the
//!   reverse proxy handler): <https://doc.traefik.io/traefik/routing/services/> and Traefik's
//!   `ReverseProxy` (Go's httputil, which forwards upgrades since Go 1.12).
//! - middlewares `stripPrefix`, `replacePath`, `addPrefix`:
//!   <https://doc.traefik.io/traefik/middlewares/http/stripprefix/>

use std::collections::BTreeMap;

use super::ProxySyntaxProblem;
use crate::config::model::{Located, Span};
use crate::config::yaml::{self, Node, Value};

/// A path test of a router rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRule {
    /// `PathPrefix(`/ws`)`: a plain string prefix (`/ws` also matches `/wsx`).
    Prefix(String),
    /// `Path(`/x`)`: exact.
    Exact(String),
}

impl PathRule {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathRule::Prefix(p) => path.starts_with(p.as_str()),
            PathRule::Exact(p) => path == p,
        }
    }
}

/// A router: a rule, the service it sends to and the middlewares on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    pub name: String,
    pub span: Span,
    pub rule: Option<Located<String>>,
    /// The path alternatives of the rule (empty: the rule does not test the path).
    pub paths: Vec<PathRule>,
    /// The rule also tests something else than the path (Host, Header, a negation).
    pub other: bool,
    pub service: Option<Located<String>>,
    pub middlewares: Vec<Located<String>>,
    /// `priority`, else the rule's length (routers doc, "Priority").
    pub priority: i64,
}

impl Router {
    pub fn may_match(&self, path: &str) -> bool {
        self.paths.is_empty() || self.paths.iter().any(|p| p.matches(path))
    }
}

/// A load-balancer service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub span: Span,
    /// Server URLs (`http://app:8080`), or for a Docker-label service the container's
    /// address made of the compose service name and the port label.
    pub servers: Vec<Located<String>>,
    /// `sticky.cookie` (or the label `…loadbalancer.sticky.cookie=true`): sessions stay on
    /// one server.
    pub sticky_cookie: Option<Span>,
    /// For a Docker-label service: the compose service whose containers are the servers
    /// (their number is the service's replicas).
    pub compose_service: Option<String>,
    pub port: Option<Located<u16>>,
}

/// A path-changing middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Middleware {
    pub name: String,
    pub span: Span,
    /// `stripPrefix`, `stripPrefixRegex`, `replacePath`, `replacePathRegex`, `addPrefix`, and
    /// its setting as written; None for middlewares that leave the path alone.
    pub rewrite: Option<Located<String>>,
}

/// A dynamic configuration read from files and labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraefikConfig {
    pub routers: Vec<Router>,
    pub services: Vec<Service>,
    pub middlewares: Vec<Middleware>,
    pub errors: Vec<ProxySyntaxProblem>,
}

impl TraefikConfig {
    /// The router that takes `path`: the matching one of highest priority.
    pub fn router_for(&self, path: &str) -> Option<&Router> {
        self.routers
            .iter()
            .filter(|r| r.may_match(path))
            .max_by_key(|r| r.priority)
    }

    /// A service by name; `name@provider` finds `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        let name = name.split('@').next().unwrap_or(name);
        self.services.iter().find(|s| s.name == name)
    }

    pub fn middleware(&self, name: &str) -> Option<&Middleware> {
        let name = name.split('@').next().unwrap_or(name);
        self.middlewares.iter().find(|m| m.name == name)
    }

    /// Whether this file holds no dynamic configuration (a static `traefik.yml` with
    /// entryPoints and providers only).
    pub fn is_empty(&self) -> bool {
        self.routers.is_empty() && self.services.is_empty() && self.middlewares.is_empty()
    }
}

/// Reads a rule: `Host(`a`) && PathPrefix(`/ws`, `/io`)`. Path matchers under `!` count as
/// "other"; `PathRegexp`/`PathPrefix` with `{var}` patterns cannot be followed and also count
/// as "other" (the router may take any path).
fn read_rule(rule: &str) -> (Vec<PathRule>, bool) {
    let mut paths = Vec::new();
    let mut other = false;
    let mut rest = rule;
    while let Some(open) = rest.find('(') {
        let head = rest[..open].trim_end();
        let name_start = head
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        let name = &head[name_start..];
        let negated = head[..name_start].trim_end().ends_with('!');
        let close = rest[open..].find(')').map_or(rest.len(), |p| open + p);
        let args: Vec<String> = rest[open + 1..close]
            .split(',')
            .map(|a| {
                a.trim()
                    .trim_matches(|c| c == '`' || c == '"' || c == '\'')
                    .to_string()
            })
            .filter(|a| !a.is_empty())
            .collect();
        match name {
            "PathPrefix" | "Path" if !negated && args.iter().all(|a| !a.contains('{')) => {
                for a in args {
                    paths.push(if name == "Path" {
                        PathRule::Exact(a)
                    } else {
                        PathRule::Prefix(a)
                    });
                }
            }
            "" => {}
            _ => other = true,
        }
        rest = &rest[(close + 1).min(rest.len())..];
    }
    (paths, other)
}

/// Case-insensitive key lookup (Traefik's file provider matches option names without case).
fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.as_map()?
        .iter()
        .rev()
        .find(|(k, _)| {
            k.scalar_string()
                .is_some_and(|s| s.eq_ignore_ascii_case(key))
        })
        .map(|(_, v)| v)
}

fn entries(node: Option<&Node>) -> &[(Node, Node)] {
    node.and_then(Node::as_map).unwrap_or(&[])
}

fn span(file: &str, n: &Node) -> Span {
    Span::new(file, n.line, n.column)
}

fn located_str(file: &str, n: &Node) -> Option<Located<String>> {
    n.scalar_string()
        .map(|s| Located::new(s, Some(span(file, n))))
}

fn strings(file: &str, n: Option<&Node>) -> Vec<Located<String>> {
    match n {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().filter_map(|i| located_str(file, i)).collect(),
            // A comma-separated string, as in labels and TOML shorthand.
            None => located_str(file, n)
                .map(|l| {
                    l.value
                        .split(',')
                        .map(|s| Located::new(s.trim().to_string(), l.span.clone()))
                        .filter(|s| !s.value.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        },
        None => Vec::new(),
    }
}

fn rewrite_of(file: &str, body: &Node) -> Option<Located<String>> {
    for kind in [
        "stripPrefix",
        "stripPrefixRegex",
        "replacePath",
        "replacePathRegex",
        "addPrefix",
    ] {
        if let Some(n) = get(body, kind) {
            let setting = match &n.value {
                Value::Map(m) => m
                    .iter()
                    .map(|(k, v)| {
                        let v = match v.as_seq() {
                            Some(items) => items
                                .iter()
                                .filter_map(Node::scalar_string)
                                .collect::<Vec<_>>()
                                .join(","),
                            None => v.scalar_string().unwrap_or_default(),
                        };
                        format!("{}={v}", k.scalar_string().unwrap_or_default())
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => n.scalar_string().unwrap_or_default(),
            };
            return Some(Located::new(
                format!("{kind} {setting}"),
                Some(span(file, n)),
            ));
        }
    }
    None
}

/// Reads the `http` part of a dynamic configuration tree.
fn read_tree(file: &str, root: &Node, cfg: &mut TraefikConfig) {
    let Some(http) = get(root, "http") else {
        return;
    };
    for (k, v) in entries(get(http, "routers")) {
        let name = k.scalar_string().unwrap_or_default();
        let rule = get(v, "rule").and_then(|n| located_str(file, n));
        let (paths, other) = rule
            .as_ref()
            .map(|r| read_rule(&r.value))
            .unwrap_or_default();
        let priority = get(v, "priority")
            .and_then(Node::scalar_string)
            .and_then(|p| p.parse().ok())
            .filter(|p| *p != 0)
            .unwrap_or_else(|| rule.as_ref().map_or(0, |r| r.value.len() as i64));
        cfg.routers.push(Router {
            name,
            span: span(file, k),
            rule,
            paths,
            other,
            service: get(v, "service").and_then(|n| located_str(file, n)),
            middlewares: strings(file, get(v, "middlewares")),
            priority,
        });
    }
    for (k, v) in entries(get(http, "services")) {
        let name = k.scalar_string().unwrap_or_default();
        let lb = get(v, "loadBalancer");
        let servers = lb
            .and_then(|lb| get(lb, "servers"))
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| get(s, "url").and_then(|u| located_str(file, u)))
            .collect();
        let sticky_cookie = lb
            .and_then(|lb| get(lb, "sticky"))
            .and_then(|s| get(s, "cookie"))
            .map(|c| span(file, c));
        cfg.services.push(Service {
            name,
            span: span(file, k),
            servers,
            sticky_cookie,
            compose_service: None,
            port: None,
        });
    }
    for (k, v) in entries(get(http, "middlewares")) {
        cfg.middlewares.push(Middleware {
            name: k.scalar_string().unwrap_or_default(),
            span: span(file, k),
            rewrite: rewrite_of(file, v),
        });
    }
}

/// Reads a dynamic configuration file (YAML, or TOML when the name ends in `.toml`).
pub fn parse_file(file: &str, text: &str) -> TraefikConfig {
    let mut cfg = TraefikConfig::default();
    let root = if file.ends_with(".toml") {
        match toml_tree(text) {
            Ok(n) => Some(n),
            Err((line, message)) => {
                cfg.errors.push(ProxySyntaxProblem {
                    span: Span::new(file, line, 1),
                    message,
                });
                None
            }
        }
    } else {
        match yaml::parse_documents(text) {
            Ok(docs) => docs.into_iter().next(),
            Err(e) => {
                cfg.errors.push(ProxySyntaxProblem {
                    span: Span::new(file, e.line.unwrap_or(1), e.column.unwrap_or(1)),
                    message: e.message,
                });
                None
            }
        }
    };
    if let Some(root) = root {
        read_tree(file, &root, &mut cfg);
    }
    cfg
}

/// A TOML document as a YAML-shaped tree, lines from the parser's byte spans.
fn toml_tree(text: &str) -> Result<Node, (u32, String)> {
    use toml::de::{DeTable, DeValue};
    let line_of = |offset: usize| -> u32 {
        let upto = text.get(..offset.min(text.len())).unwrap_or("");
        u32::try_from(upto.matches('\n').count() + 1).unwrap_or(u32::MAX)
    };
    let table = DeTable::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        (line, e.message().to_string())
    })?;
    fn convert(v: &DeValue<'_>, line_of: &dyn Fn(usize) -> u32) -> Value {
        match v {
            DeValue::String(s) => Value::Str {
                value: s.to_string(),
                raw: None,
            },
            DeValue::Integer(i) => i
                .as_str()
                .replace('_', "")
                .parse()
                .map_or(Value::Null, Value::Int),
            DeValue::Float(f) => f.as_str().parse().map_or(Value::Null, Value::Float),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::Str {
                value: d.to_string(),
                raw: None,
            },
            DeValue::Array(a) => Value::Seq(
                a.iter()
                    .map(|item| {
                        let l = line_of(item.span().start);
                        Node::new(convert(item.get_ref(), line_of), l, 1, 0)
                    })
                    .collect(),
            ),
            DeValue::Table(t) => Value::Map(
                t.iter()
                    .map(|(k, v)| {
                        let kl = line_of(k.span().start);
                        let vl = line_of(v.span().start);
                        (
                            Node::new(
                                Value::Str {
                                    value: k.get_ref().to_string(),
                                    raw: None,
                                },
                                kl,
                                1,
                                0,
                            ),
                            Node::new(convert(v.get_ref(), line_of), vl, 1, 0),
                        )
                    })
                    .collect(),
            ),
        }
    }
    let root = table.get_ref();
    let value = convert(&DeValue::Table(root.clone()), &line_of);
    Ok(Node::new(value, 1, 1, 0))
}

/// The Docker provider's view of one compose service's labels (`traefik.*`).
pub struct LabelledService<'a> {
    /// The compose service name: the host its containers answer to.
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, Located<String>>,
}

/// Reads the `traefik.http.*` labels of compose services (Docker provider doc: a router
/// without `service` uses the container's only service; a container with routers and no
/// service label gets a service named after it, at its first exposed port; labels are
/// case-insensitive after `traefik.`).
pub fn from_labels(services: &[LabelledService<'_>]) -> TraefikConfig {
    let mut cfg = TraefikConfig::default();
    for svc in services {
        let enabled = svc
            .labels
            .get("traefik.enable")
            .is_none_or(|v| v.value.eq_ignore_ascii_case("true"));
        let traefik: Vec<(Vec<String>, &Located<String>, &str)> = svc
            .labels
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix("traefik.http.")?;
                Some((rest.split('.').map(str::to_string).collect(), v, k.as_str()))
            })
            .collect();
        if traefik.is_empty() || !enabled {
            continue;
        }
        let mut routers: BTreeMap<String, Router> = BTreeMap::new();
        let mut services: BTreeMap<String, Service> = BTreeMap::new();
        let mut middlewares: BTreeMap<String, (Span, Vec<(String, String)>)> = BTreeMap::new();
        for (parts, v, _) in &traefik {
            let sp = v.span.clone().unwrap_or_else(|| Span::new("", 0, 0));
            let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
            match lower.first().map(String::as_str) {
                Some("routers") if parts.len() >= 3 => {
                    let r = routers.entry(parts[1].clone()).or_insert_with(|| Router {
                        name: parts[1].clone(),
                        span: sp.clone(),
                        rule: None,
                        paths: Vec::new(),
                        other: false,
                        service: None,
                        middlewares: Vec::new(),
                        priority: 0,
                    });
                    match lower[2].as_str() {
                        "rule" => {
                            let (paths, other) = read_rule(&v.value);
                            r.paths = paths;
                            r.other = other;
                            r.rule = Some((*v).clone());
                            if r.priority == 0 {
                                r.priority = v.value.len() as i64;
                            }
                        }
                        "service" => r.service = Some((*v).clone()),
                        "middlewares" => {
                            r.middlewares = v
                                .value
                                .split(',')
                                .map(|m| Located::new(m.trim().to_string(), v.span.clone()))
                                .collect();
                        }
                        "priority" => {
                            if let Ok(p) = v.value.parse() {
                                r.priority = p;
                            }
                        }
                        _ => {}
                    }
                }
                Some("services") if parts.len() >= 3 => {
                    let s = services.entry(parts[1].clone()).or_insert_with(|| Service {
                        name: parts[1].clone(),
                        span: sp.clone(),
                        servers: Vec::new(),
                        sticky_cookie: None,
                        compose_service: Some(svc.name.to_string()),
                        port: None,
                    });
                    let tail = lower[2..].join(".");
                    if tail == "loadbalancer.server.port" {
                        match v.value.parse() {
                            Ok(p) => s.port = Some(Located::new(p, v.span.clone())),
                            Err(_) => cfg.errors.push(ProxySyntaxProblem {
                                span: sp.clone(),
                                message: format!("`{}`: not a port", v.value),
                            }),
                        }
                    } else if tail == "loadbalancer.sticky.cookie" {
                        if v.value.eq_ignore_ascii_case("true") {
                            s.sticky_cookie = Some(sp.clone());
                        }
                    } else if tail.starts_with("loadbalancer.sticky.cookie.") {
                        // Any cookie option turns the sticky cookie on.
                        s.sticky_cookie.get_or_insert(sp.clone());
                    }
                }
                Some("middlewares") if parts.len() >= 4 => {
                    let m = middlewares
                        .entry(parts[1].clone())
                        .or_insert_with(|| (sp.clone(), Vec::new()));
                    m.1.push((lower[2..].join("."), v.value.clone()));
                }
                _ => {}
            }
        }
        // A container with routers but no service label gets one named after it.
        if services.is_empty() && !routers.is_empty() {
            let sp = routers
                .values()
                .next()
                .map(|r| r.span.clone())
                .unwrap_or_else(|| Span::new("", 0, 0));
            services.insert(
                svc.name.to_string(),
                Service {
                    name: svc.name.to_string(),
                    span: sp,
                    servers: Vec::new(),
                    sticky_cookie: None,
                    compose_service: Some(svc.name.to_string()),
                    port: None,
                },
            );
        }
        let only_service = (services.len() == 1)
            .then(|| services.keys().next().cloned())
            .flatten();
        for mut r in routers.into_values() {
            if r.service.is_none()
                && let Some(s) = &only_service
            {
                r.service = Some(Located::new(s.clone(), None));
            }
            cfg.routers.push(r);
        }
        for mut s in services.into_values() {
            let port = s
                .port
                .as_ref()
                .map(|p| format!(":{}", p.value))
                .unwrap_or_default();
            s.servers = vec![Located::new(
                format!("http://{}{port}", svc.name),
                s.port.as_ref().and_then(|p| p.span.clone()),
            )];
            cfg.services.push(s);
        }
        for (name, (sp, settings)) in middlewares {
            let rewrite = settings
                .iter()
                .find(|(k, _)| {
                    [
                        "stripprefix.",
                        "stripprefixregex.",
                        "replacepath.",
                        "replacepathregex.",
                        "addprefix.",
                    ]
                    .iter()
                    .any(|p| k.starts_with(p))
                })
                .map(|(k, v)| Located::new(format!("{k}={v}"), Some(sp.clone())));
            cfg.middlewares.push(Middleware {
                name,
                span: sp,
                rewrite,
            });
        }
    }
    cfg
}

/// A Traefik rewrite middleware as a model path rewrite (stripPrefix: the prefix is removed;
/// replacePath: every request gets that path; others are not followed).
fn model_rewrite(rewrite: &Located<String>) -> super::PathRewrite {
    use super::PathRewrite;
    let v = rewrite.value.as_str();
    let lower = v.to_ascii_lowercase();
    let setting = |key: &str| -> Option<String> {
        let at = lower.find(key)?;
        let rest = &v[at + key.len()..];
        Some(rest.split([' ', ',']).next().unwrap_or("").to_string())
    };
    if (lower.starts_with("stripprefix ") || lower.starts_with("stripprefix."))
        && let Some(p) = setting("prefixes=")
    {
        return PathRewrite::ReplacePrefix {
            prefix: p,
            with: String::new(),
            span: rewrite.span.clone(),
        };
    }
    if (lower.starts_with("replacepath ") || lower.starts_with("replacepath."))
        && let Some(p) = setting("path=")
    {
        return PathRewrite::Fixed {
            uri: p,
            span: rewrite.span.clone(),
        };
    }
    PathRewrite::Opaque {
        directive: v.to_string(),
        span: rewrite.span.clone(),
    }
}

/// Reads a Traefik dynamic configuration (file or labels) into the format-neutral model.
/// `replicas` gives, for a label-defined service, how many containers its compose service
/// runs: each is one server of the load balancer (Docker provider doc: Traefik routes to the
/// containers' own addresses, one server per container / swarm task).
pub fn to_model(
    cfg: &TraefikConfig,
    file: &str,
    source: super::ProxySource,
    replicas: &dyn Fn(&str) -> u32,
) -> super::ProxyConfig {
    use super::{
        Affinity, PathMatch as M, ProxyConfig, ProxyKind, ProxyRoute, ProxySite, ProxyTarget,
        ProxyTimeouts, UpgradeForwarding, UpstreamGroup, UpstreamServer,
    };
    let mut model = ProxyConfig::new(ProxyKind::Traefik, file, source);
    model.problems = cfg.errors.clone();
    for s in &cfg.services {
        let count = s
            .compose_service
            .as_deref()
            .map_or(1, |c| replicas(c).max(1));
        let mut servers = Vec::new();
        for url in &s.servers {
            let (host, port) = url
                .value
                .split_once("://")
                .map_or(url.value.as_str(), |(_, r)| r)
                .split('/')
                .next()
                .map(|hp| match hp.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p.parse().ok()),
                    None => (hp.to_string(), None),
                })
                .unwrap_or_default();
            for _ in 0..count {
                servers.push(UpstreamServer {
                    raw: url.value.clone(),
                    host: host.clone(),
                    port,
                    backup: false,
                    span: url.span.clone().unwrap_or_else(|| s.span.clone()),
                });
            }
        }
        model.upstreams.push(UpstreamGroup {
            name: s.name.clone(),
            span: s.span.clone(),
            servers,
            affinity: s
                .sticky_cookie
                .as_ref()
                .map(|sp| Located::new(Affinity::Cookie(String::new()), Some(sp.clone()))),
        });
    }
    let mut routers: Vec<&Router> = cfg.routers.iter().collect();
    routers.sort_by_key(|r| std::cmp::Reverse(r.priority));
    let mut routes = Vec::new();
    for r in routers {
        let group = r.service.as_ref().and_then(|s| {
            cfg.services
                .iter()
                .position(|x| x.name == s.value.split('@').next().unwrap_or(""))
        });
        let target = r.service.as_ref().map(|s| ProxyTarget {
            raw: s.clone(),
            scheme: String::new(),
            host: s.value.clone(),
            port: None,
            group,
            dynamic: false,
        });
        let rewrite = r
            .middlewares
            .iter()
            .filter_map(|m| cfg.middleware(&m.value))
            .find_map(|m| m.rewrite.as_ref())
            .map_or(super::PathRewrite::Unchanged, model_rewrite);
        let paths: Vec<M> = if r.paths.is_empty() {
            vec![M::Any]
        } else {
            r.paths
                .iter()
                .map(|p| match p {
                    PathRule::Prefix(p) => M::Prefix(p.clone()),
                    PathRule::Exact(p) => M::Exact(p.clone()),
                })
                .collect()
        };
        for path in paths {
            let mut route = ProxyRoute::new(
                r.rule
                    .as_ref()
                    .and_then(|x| x.span.clone())
                    .unwrap_or_else(|| r.span.clone()),
                path,
            );
            route.target.clone_from(&target);
            route.upgrade = UpgradeForwarding {
                forwarded: true,
                by_default: true,
                missing: Vec::new(),
                evidence: Vec::new(),
            };
            route.rewrite = rewrite.clone();
            // Traefik sets no idle limit on a proxied websocket or a waiting long-poll: the
            // serversTransport `forwardingTimeouts.responseHeaderTimeout` defaults to 0 (no
            // limit) and `idleConnTimeout` concerns pooled keep-alive connections
            // (https://doc.traefik.io/traefik/routing/services/#forwardingtimeouts); the
            // entrypoint `respondingTimeouts.readTimeout` (60 s) bounds reading the request,
            // and measured with Traefik 3.7.15, even `readTimeout=3s` left a websocket idle
            // for 10 s open (tests/traefik_live.rs). Not read here: forwardingTimeouts set in
            // the files (proxy3 report, "left").
            route.timeouts = ProxyTimeouts {
                unlimited: Some(super::NoIdleLimit {
                    why: "Traefik sets no idle limit on a proxied websocket or long-poll \
                          (forwardingTimeouts.responseHeaderTimeout defaults to 0)",
                    source: "https://doc.traefik.io/traefik/routing/services/#forwardingtimeouts",
                }),
                ..ProxyTimeouts::default()
            };
            routes.push(route);
        }
    }
    if !routes.is_empty() {
        model.sites.push(ProxySite {
            span: routes[0].span.clone(),
            hosts: Vec::new(),
            listen: Vec::new(),
            routes,
        });
    }
    model
}

/// The Traefik configuration the Docker provider builds from the labels of a compose
/// project's services, if any service carries `traefik.http.*` labels. Each service's
/// replicas (`deploy.replicas`, default 1) are the servers of its label-defined services.
pub fn from_deployment(d: &crate::config::model::Deployment) -> Option<super::ProxyConfig> {
    // Swarm mode reads the labels of the *service* (`deploy.labels`), standalone Docker
    // those of the container (`labels:`): "In Swarm Mode, Traefik uses labels found on
    // services, not on individual containers" (Traefik docs, Docker provider, Swarm mode:
    // https://doc.traefik.io/traefik/v2.11/providers/docker/#docker-api-access_1 and
    // https://doc.traefik.io/traefik/providers/swarm/ for v3). A compose file does not say
    // which mode runs it, so both are read; `deploy.labels` win on the same key.
    let merged: Vec<(&str, BTreeMap<String, Located<String>>)> = d
        .services
        .iter()
        .map(|s| {
            let mut labels = s.labels.clone();
            labels.extend(s.deploy_labels.clone());
            (s.name.as_str(), labels)
        })
        .collect();
    let labelled: Vec<LabelledService<'_>> = merged
        .iter()
        .map(|(name, labels)| LabelledService { name, labels })
        .collect();
    let cfg = from_labels(&labelled);
    if cfg.is_empty() && cfg.errors.is_empty() {
        return None;
    }
    let file = d
        .compose_files
        .first()
        .cloned()
        .unwrap_or_else(|| "compose.yaml".to_string());
    let replicas = |name: &str| -> u32 {
        d.services
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.replicas.as_ref())
            .map_or(1, |r| r.value)
    };
    Some(to_model(&cfg, &file, super::ProxySource::Labels, &replicas))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_priority_and_paths() {
        let (p, other) = read_rule("Host(`a.example`) && PathPrefix(`/ws`, `/io`)");
        assert_eq!(
            p,
            vec![
                PathRule::Prefix("/ws".into()),
                PathRule::Prefix("/io".into())
            ]
        );
        assert!(other);
        let (p, other) = read_rule("!PathPrefix(`/api`)");
        assert!(p.is_empty() && other);
    }

    #[test]
    fn yaml_file_provider() {
        let text = "http:\n  routers:\n    sio:\n      rule: \"PathPrefix(`/ws/`)\"\n      service: app\n      middlewares: [strip]\n    all:\n      rule: \"PathPrefix(`/`)\"\n      service: web\n  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [\"/ws\"]\n  services:\n    app:\n      loadBalancer:\n        sticky:\n          cookie: {}\n        servers:\n          - url: http://app1:8080\n          - url: http://app2:8080\n";
        let cfg = parse_file("dynamic.yml", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let r = cfg.router_for("/ws/socket.io/").unwrap();
        assert_eq!(r.name, "sio");
        assert_eq!(r.rule.as_ref().unwrap().span.as_ref().unwrap().line, 4);
        let s = cfg.service(&r.service.as_ref().unwrap().value).unwrap();
        assert_eq!(s.servers.len(), 2);
        assert_eq!(s.servers[1].span.as_ref().unwrap().line, 21);
        assert_eq!(s.sticky_cookie.as_ref().unwrap().line, 18);
        let m = cfg.middleware(&r.middlewares[0].value).unwrap();
        assert_eq!(
            m.rewrite.as_ref().unwrap().value,
            "stripPrefix prefixes=/ws"
        );
        assert_eq!(cfg.router_for("/x").unwrap().name, "all");
    }

    #[test]
    fn toml_file_provider() {
        let text = "[http.routers.sio]\n  rule = \"PathPrefix(`/socket.io`)\"\n  service = \"app\"\n\n[http.services.app.loadBalancer]\n  [[http.services.app.loadBalancer.servers]]\n    url = \"http://app:8000\"\n";
        let cfg = parse_file("dynamic.toml", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let r = cfg.router_for("/socket.io/").unwrap();
        assert_eq!(r.rule.as_ref().unwrap().span.as_ref().unwrap().line, 2);
        let s = cfg.service("app").unwrap();
        assert_eq!(s.servers[0].value, "http://app:8000");
        assert_eq!(s.servers[0].span.as_ref().unwrap().line, 7);
        let bad = parse_file("d.toml", "[http\nx = 1\n");
        assert_eq!(bad.errors.len(), 1);
    }

    #[test]
    fn docker_labels() {
        let mut labels = BTreeMap::new();
        let l =
            |v: &str, line| Located::new(v.to_string(), Some(Span::new("compose.yml", line, 9)));
        labels.insert("traefik.enable".into(), l("true", 10));
        labels.insert(
            "traefik.http.routers.socket-router.rule".into(),
            l("PathPrefix(`/wsk`)", 11),
        );
        labels.insert(
            "traefik.http.services.service01.loadbalancer.server.port".into(),
            l("5000", 12),
        );
        labels.insert(
            "traefik.http.services.service01.loadbalancer.sticky.cookie.name".into(),
            l("io", 13),
        );
        labels.insert(
            "traefik.http.middlewares.strip.replacepath.path".into(),
            l("/", 14),
        );
        labels.insert(
            "traefik.http.routers.socket-router.middlewares".into(),
            l("strip@docker", 15),
        );
        let cfg = from_labels(&[LabelledService {
            name: "socket-server",
            labels: &labels,
        }]);
        let r = cfg.router_for("/wsk/socket.io/").unwrap();
        assert_eq!(r.service.as_ref().unwrap().value, "service01");
        let s = cfg.service("service01").unwrap();
        assert_eq!(s.servers[0].value, "http://socket-server:5000");
        assert_eq!(s.sticky_cookie.as_ref().unwrap().line, 13);
        let m = cfg.middleware(&r.middlewares[0].value).unwrap();
        assert_eq!(m.rewrite.as_ref().unwrap().value, "replacepath.path=/");
    }
}
