//! `config.redis-url-port`: the URL's port is the one Redis listens on inside the network.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
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

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match (u.usable(), facts.server_for(u)) {
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
