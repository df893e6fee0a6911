//! `config.network-shared`: the app and its Redis share a network.

use std::collections::BTreeSet;

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::{Deployment, Service};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.network-shared",
    severity: Severity::Error,
    title: "The app and its Redis share a network",
    summary: "A service whose REDIS_URL points at a Redis service of the project is on at \
              least one network that Redis service is on.",
    why: "Compose service names resolve only on networks both containers joined. On disjoint \
          networks the name does not resolve (or resolves to nothing reachable), and the \
          Socket.IO manager cannot connect: `Error -2 connecting to redis:6379`.",
    fix: "Add a common network to both services (`networks: [backend]` on each, with \
          `backend:` under the top-level `networks:`), or drop the explicit networks so both \
          join `default`.",
};

/// The networks a service is on, following `network_mode: service:X` to X.
fn networks_of<'a>(d: &'a Deployment, s: &'a Service, depth: u8) -> Option<BTreeSet<&'a str>> {
    match s.network_mode.as_ref().map(|m| m.value.as_str()) {
        Some("host") | Some("none") => None,
        Some(m) if m.starts_with("service:") && depth < 4 => {
            let target = d.service(&m["service:".len()..])?;
            networks_of(d, target, depth + 1)
        }
        Some(m) if m.starts_with("container:") => None,
        _ => Some(s.networks.iter().map(|n| n.name.as_str()).collect()),
    }
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "pods share one flat network; kube.network-policy judges what may block them",
    ) {
        return skip;
    }
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    let d = facts.deployment;
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match u.redis_service() {
                None => u.skip_without_server(&RULE),
                Some(redis) if redis.name == u.service.name => RULE.pass(format!("{}: same service", u.label())),
                Some(redis) => match (networks_of(d, u.service, 0), networks_of(d, redis, 0)) {
                    (Some(a), Some(b)) => {
                        let shared: Vec<&str> = a.intersection(&b).copied().collect();
                        if shared.is_empty() {
                            let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
                            let common = b.iter().next().copied().unwrap_or("default");
                            RULE.fire(format!(
                                "{} is on [{}] and {} on [{}]: no shared network, so '{}' does not resolve",
                                u.service.name,
                                list(&a),
                                redis.name,
                                list(&b),
                                u.usable().map(|p| p.host.as_str()).unwrap_or(&redis.name)
                            ))
                            .hint(format!("add `{common}` to the networks of {}", u.service.name))
                            .at(u.service.location())
                        } else {
                            RULE.pass(format!("{} and {} share {}", u.service.name, redis.name, shared.join(", ")))
                        }
                    }
                    _ => RULE.skip(format!("{}: network_mode host/none/container: not a compose network", u.label())),
                },
            };
            r.subject(u.service.name.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;
    use crate::config::ServiceNetwork;

    #[test]
    fn disjoint_networks_fail() {
        let mut app = with_env(
            service("app", "x", 2),
            &[("REDIS_URL", "redis://redis:6379")],
        );
        app.networks = vec![ServiceNetwork {
            name: "front".into(),
            aliases: vec![],
            span: None,
        }];
        let mut redis = service("redis", "redis:7", 20);
        redis.networks = vec![ServiceNetwork {
            name: "back".into(),
            aliases: vec![],
            span: None,
        }];
        let d = deployment(vec![app.clone(), redis.clone()]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
        app.networks.push(ServiceNetwork {
            name: "back".into(),
            aliases: vec![],
            span: None,
        });
        let d = deployment(vec![app, redis]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }
}
