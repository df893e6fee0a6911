//! `config.redis-url-loopback`: localhost used from inside a container.

use super::{Facts, Target, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-loopback",
    severity: Severity::Error,
    title: "REDIS_URL does not point at localhost from inside a container",
    summary: "The host in REDIS_URL is not localhost, 127.0.0.1 or ::1 for a service that runs \
              in its own network namespace.",
    why: "Inside a container, localhost is the container itself, not the Docker host and not \
          the Redis container: the connection is refused. It works on a laptop outside Docker, \
          which is why the mistake survives into compose files.",
    fix: "Use the Redis service's name (`redis://redis:6379/0`). To reach a Redis on the Docker \
          host, use `host.docker.internal` (with `extra_hosts: [\"host.docker.internal:host-gateway\"]` \
          on Linux), or `network_mode: host` if you really mean the host's network.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let host_mode = u
                .service
                .network_mode
                .as_ref()
                .is_some_and(|m| m.value == "host");
            let r = match &u.target {
                Target::Loopback if host_mode => RULE.pass(format!(
                    "{}: localhost with network_mode: host reaches the host's Redis",
                    u.label()
                )),
                Target::Loopback => {
                    let redis = facts.redis.first().map(|r| r.service.name.as_str());
                    RULE.fire(format!(
                        "{}: '{}' inside the container is the container itself, not Redis",
                        u.label(),
                        u.usable().map(|p| p.host.as_str()).unwrap_or("localhost")
                    ))
                    .hint(match redis {
                        Some(name) => format!("use the Redis service's name: redis://{name}:6379/0"),
                        None => "use the Redis service's name, or host.docker.internal for a Redis on the host".to_string(),
                    })
                }
                Target::Unusable => RULE.skip_because("config.redis-url-syntax"),
                _ => RULE.pass(format!("{}: not a loopback address", u.label())),
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
