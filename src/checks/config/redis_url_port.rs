//! `config.redis-url-port`: the URL's port is the one Redis listens on inside the network.

use super::{Facts, UrlUse, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::kube::resolve::PortRoute;
use crate::config::redis_server::RedisServer;
use crate::config::redis_url::RedisUrl;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-port",
    severity: Severity::Error,
    title: "REDIS_URL port is the port Redis listens on",
    summary: "When REDIS_URL points at a Redis service of the project, its port is the port \
              that server listens on inside the network (6379 unless `--port`), not a port \
              published on the host.",
    why: "Containers talk to each other on the container port. `ports: \"16379:6379\"` only \
          opens 16379 on the Docker host; `redis://redis:16379` from another container is \
          refused.",
    fix: "Use the container port in the URL (`redis://redis:6379/0`); the published port is \
          for clients outside Docker.",
};

/// Kubernetes: the URL's port is a port of the Service, whose targetPort is where Redis
/// listens (kube-proxy forwards `port` to `targetPort`; a headless Service does not
/// translate: the URL's port is the pod's).
fn kube_port(u: &UrlUse, url: &RedisUrl, server: &RedisServer) -> CheckResult {
    let k = u.kube.as_ref().expect("a Kubernetes URL");
    let svc = format!("Service {}", k.service.name);
    match (&k.route, server.listen_port()) {
        (PortRoute::NamedPortMissing { .. }, _) => RULE.skip_because("kube.service-selector"),
        (PortRoute::NoServicePort { port }, _) => {
            let ports: Vec<String> = k.service.ports.iter().map(|p| p.port.to_string()).collect();
            let mut r = RULE
                .fire(format!(
                    "{}: {svc} has no port {port} (its ports: {}): connections are refused",
                    u.label(),
                    if ports.is_empty() {
                        "none".to_string()
                    } else {
                        ports.join(", ")
                    }
                ))
                .evidence("url_port", url.port);
            if let Some(first) = k.service.ports.first() {
                let mut fixed = url.clone();
                fixed.port = first.port;
                r = r.hint(format!("use {}", fixed.display()));
            }
            r
        }
        (PortRoute::Container { .. }, None) => RULE.skip(format!(
            "{} reads a config file; its port is unknown",
            server.service.name
        )),
        (PortRoute::Container { port, via }, Some(listen)) => {
            let path = match via {
                Some(sp) => format!(
                    "{svc} port {} → targetPort {}",
                    sp.port,
                    sp.target
                        .as_ref()
                        .map_or(sp.port.to_string(), |t| t.to_string())
                ),
                None => format!("headless {svc}: straight to the pod's port {port}"),
            };
            if *port == listen {
                RULE.pass(format!(
                    "{}: {path} → {} listens on {listen}",
                    u.label(),
                    server.service.name
                ))
            } else {
                let r = RULE
                    .fire(format!(
                        "{}: {path} = container port {port}, but {} listens on {listen}",
                        u.label(),
                        server.service.name
                    ))
                    .evidence("container_port", *port)
                    .evidence("listen_port", listen);
                match via {
                    Some(sp) => {
                        let at = sp
                            .span
                            .as_ref()
                            .map_or(String::new(), |s| format!(" ({}:{})", s.file, s.line));
                        r.hint(format!("set targetPort: {listen} on {svc}{at}"))
                    }
                    None => {
                        let mut fixed = url.clone();
                        fixed.port = listen;
                        r.hint(format!("use {}", fixed.display()))
                    }
                }
            }
        }
    }
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match (u.usable(), facts.server_for(u)) {
                (Some(url), Some(server)) if u.kube.is_some() => {
                    kube_port(u, url, server)
                }
                (None, _) => u.skip_without_server(&RULE),
                (Some(_), None) => u.skip_without_server(&RULE),
                (Some(url), Some(server)) => match server.listen_port() {
                    None => RULE.skip(format!(
                        "{} reads a config file; its port is unknown",
                        server.service.name
                    )),
                    Some(listen) if listen == url.port => RULE.pass(format!(
                        "{}: port {} is where {} listens",
                        u.label(),
                        url.port,
                        server.service.name
                    )),
                    Some(listen) => {
                        let published = server
                            .published_ports()
                            .iter()
                            .any(|p| p.published_port() == Some(url.port));
                        let why = if published {
                            format!(
                                "{} is the port {} publishes on the host; inside the network it listens on {listen}",
                                url.port, server.service.name
                            )
                        } else {
                            format!("{} listens on {listen}, not {}", server.service.name, url.port)
                        };
                        let mut fixed = url.clone();
                        fixed.port = listen;
                        RULE.fire(format!("{}: {why}", u.label()))
                            .hint(format!("use {}", fixed.display()))
                            .evidence("url_port", url.port)
                            .evidence("listen_port", listen)
                    }
                },
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
