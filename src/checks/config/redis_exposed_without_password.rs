//! `config.redis-exposed-without-password`: Redis published on every interface, no password.

use super::{Facts, no_redis};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_server::Origin;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-exposed-without-password",
    severity: Severity::Warning,
    title: "Redis is not published without a password",
    summary: "A Redis service that publishes its port on all interfaces (`\"6379:6379\"`, no \
              host IP) requires a password.",
    why: "Docker publishes ports through its own iptables rules, ahead of host firewalls such \
          as ufw: the port is reachable from the network. An open Redis is found by scanners \
          within hours and used to write files or run code on the host, and anyone can read \
          and inject Socket.IO messages.",
    fix: "Publish on loopback only (`\"127.0.0.1:6379:6379\"`), or not at all (containers \
          reach Redis over the compose network), or set `--requirepass`.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "no ports are published on a host; a Service of type LoadBalancer/NodePort is what exposes Redis",
    ) {
        return skip;
    }
    if facts.redis.is_empty() {
        return no_redis(&RULE);
    }
    facts
        .redis
        .iter()
        .map(|server| {
            let name = &server.service.name;
            let exposed: Vec<&crate::config::PortMapping> = server
                .service
                .ports
                .iter()
                .filter(|p| p.published.is_some())
                .filter(|p| {
                    matches!(
                        p.host_ip.as_deref(),
                        None | Some("0.0.0.0") | Some("::") | Some("")
                    )
                })
                .collect();
            let r = if exposed.is_empty() {
                RULE.pass(format!("{name}: not published on all interfaces"))
                    .at(server.service.location())
            } else if server.password.origin == Origin::Unknown {
                RULE.skip(format!(
                    "{name}: published, but its password cannot be read from the files"
                ))
            } else if server.password.value.is_some() {
                RULE.pass(format!("{name}: published, with a password"))
            } else {
                let p = exposed[0];
                RULE.fire(format!(
                    "{name}: port {} is published on every interface and Redis has no password",
                    p.published.as_deref().unwrap_or("")
                ))
                .hint(format!(
                    "publish on loopback only: \"127.0.0.1:{}:{}\", or add --requirepass",
                    p.published.as_deref().unwrap_or(""),
                    p.target
                ))
                .at(p.span.as_ref().map(|s| s.location()))
            };
            r.subject(name.clone())
        })
        .collect()
}
