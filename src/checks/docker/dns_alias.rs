//! `docker.dns-alias`: the host in the running app's Redis URL is a name of the Redis
//! container on a network they share.

use std::collections::BTreeMap;

use super::{
    DEFAULT_BRIDGE, Roles, UrlParts, names_on_any_network, networks, parse_redis_url, redis_for,
    redis_urls, same_netns, shared_networks,
};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::ContainerFacts;
use crate::report::CheckResult;

pub static DNS_ALIAS: Rule = Rule {
    id: "docker.dns-alias",
    severity: Severity::Error,
    title: "Redis URL host resolves to the Redis container",
    summary: "Reads REDIS_URL / WEBSOCKET_REDIS_URL from the running app container's environment \
              and checks that its host is the container name or a network alias of the Redis \
              container on a network both are on.",
    why: "Docker's embedded DNS (127.0.0.11) answers only for container names and aliases on \
          the networks the asking container shares; compose adds the service name as an alias. \
          `redis://…@redis:6379` with the service called `beagle-redis` gives `Name or service \
          not known` (redis-py: `Error -2 connecting to redis:6379`), and the default `bridge` \
          network has no DNS at all. `localhost` inside a container is the container itself.",
    fix: "Use the Redis service name (or its container_name / an alias on the shared network) \
          as the URL host, e.g. `redis://:PASSWORD@beagle-redis:6379/0`, then recreate the app \
          (`docker compose up -d --force-recreate APP`).",
};

pub fn judge(roles: &Roles<'_>) -> Vec<CheckResult> {
    if roles.apps.is_empty() {
        return vec![DNS_ALIAS.skip("no app container found (see docker.containers)")];
    }
    let mut results = Vec::new();
    for app in &roles.apps {
        let urls = redis_urls(app);
        if urls.is_empty() {
            results.push(
                DNS_ALIAS
                    .skip(format!(
                        "{} has no REDIS_URL or WEBSOCKET_REDIS_URL in its environment",
                        app.name()
                    ))
                    .subject(app.name()),
            );
            continue;
        }
        for (key, url) in urls {
            results.push(judge_url(app, key, &url, &roles.redis));
        }
    }
    results
}

/// Names under which `redis` answers to `app`, per shared network.
fn reachable_names(app: &ContainerFacts, redis: &ContainerFacts) -> BTreeMap<String, Vec<String>> {
    let redis_nets = networks(redis);
    let mut out = BTreeMap::new();
    for net in shared_networks(app, redis) {
        let mut names = Vec::new();
        if net == DEFAULT_BRIDGE {
            // No DNS on the default bridge: only legacy links (`/redis:/app/alias`) resolve,
            // through /etc/hosts.
            for link in app
                .inspect
                .host_config
                .as_ref()
                .and_then(|h| h.links.as_ref())
                .into_iter()
                .flatten()
            {
                if let Some((target, alias)) = link.split_once(':')
                    && target.trim_start_matches('/') == redis.name()
                {
                    names.push(redis.name().to_ascii_lowercase());
                    if let Some(a) = alias.rsplit('/').next() {
                        names.push(a.to_ascii_lowercase());
                    }
                }
            }
        } else {
            names.push(redis.name().to_ascii_lowercase());
            names.extend(
                redis_nets
                    .get(&net)
                    .into_iter()
                    .flatten()
                    .map(|a| a.to_ascii_lowercase()),
            );
        }
        names.sort();
        names.dedup();
        out.insert(net, names);
    }
    out
}

fn ip_on_shared(app: &ContainerFacts, redis: &ContainerFacts, host: &str) -> Option<String> {
    let shared = shared_networks(app, redis);
    redis
        .inspect
        .network_settings
        .as_ref()?
        .networks
        .as_ref()?
        .iter()
        .find(|(net, ep)| shared.contains(net) && ep.ip_address.as_deref() == Some(host))
        .map(|(net, _)| net.clone())
}

fn judge_url(
    app: &ContainerFacts,
    key: &str,
    url: &str,
    all_redis: &[&ContainerFacts],
) -> CheckResult {
    let subject = format!("{} {key}", app.name());
    let Some(UrlParts { host, .. }) = parse_redis_url(url) else {
        return DNS_ALIAS
            .warn(format!(
                "cannot read a host from {key} of {} (a unix socket or not a URL)",
                app.name()
            ))
            .subject(subject)
            .evidence("key", key);
    };
    let base = |r: CheckResult| {
        r.subject(subject.as_str())
            .evidence("key", key)
            .evidence("host", host.as_str())
    };
    let redis = redis_for(app, all_redis);
    if crate::config::redis_url::is_loopback(&host) {
        if let Some(r) = redis.filter(|r| same_netns(app, r)) {
            return base(DNS_ALIAS.pass(format!(
                "{key} host {host}: {} shares the app's network namespace",
                r.name()
            )));
        }
        return base(DNS_ALIAS.fire(format!(
            "{key} host '{host}' is the app container itself, not Redis"
        )))
        .hint(match redis {
            Some(r) => format!(
                "use the Redis service name: {}",
                r.service().unwrap_or(r.name())
            ),
            None => "use the Redis service name as the host".to_string(),
        });
    }
    let Some(redis) = redis else {
        return base(DNS_ALIAS.skip(format!(
            "{key} host '{host}' is not a container of this deployment (no Redis container found)"
        )));
    };
    let base = |r: CheckResult| base(r).evidence("redis", redis.name());
    if let Some(net) = ip_on_shared(app, redis, &host) {
        return base(DNS_ALIAS.warn(format!(
            "{key} uses {}'s IP address {host} on {net}: it changes whenever the container is recreated",
            redis.name()
        )))
        .hint(format!(
            "use the service name: {}",
            redis.service().unwrap_or(redis.name())
        ));
    }
    let reachable = reachable_names(app, redis);
    let evidence_names: serde_json::Map<String, serde_json::Value> = reachable
        .iter()
        .map(|(net, names)| (net.clone(), names.clone().into()))
        .collect();
    if let Some((net, _)) = reachable.iter().find(|(_, names)| names.contains(&host)) {
        return base(DNS_ALIAS.pass(format!(
            "{key} host '{host}' is a name of {} on network {net}",
            redis.name()
        )))
        .evidence("network", net.as_str())
        .evidence("names", evidence_names);
    }
    let everywhere = names_on_any_network(app, redis);
    let candidates: Vec<&String> = reachable.values().flatten().collect();
    let candidates: Vec<&String> = if candidates.is_empty() {
        everywhere.iter().collect()
    } else {
        candidates
    };
    // Suggest the nearest name, preferring the service alias over the container's
    // generated name or id.
    let suggestion = redis
        .service()
        .map(str::to_ascii_lowercase)
        .filter(|s| candidates.contains(&s))
        .or_else(|| {
            candidates
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(&host, a).total_cmp(&strsim::jaro_winkler(&host, b))
                })
                .map(|s| s.to_string())
        });
    let message = if reachable.is_empty() {
        if everywhere.contains(&host) {
            format!(
                "{key} host '{host}' is a name of {}, but they share no network (see docker.network-shared)",
                redis.name()
            )
        } else {
            format!(
                "{key} host '{host}' is not a name of {}, and they share no network",
                redis.name()
            )
        }
    } else if reachable.keys().all(|n| n == DEFAULT_BRIDGE) && candidates.is_empty() {
        format!(
            "{key} host '{host}': the app and {} share only the default bridge network, which has no DNS",
            redis.name()
        )
    } else {
        format!(
            "{key} host '{host}' is not a name or alias of {} on {}",
            redis.name(),
            reachable.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    let message = match &suggestion {
        Some(s) if !reachable.is_empty() => format!("{message}; did you mean '{s}'?"),
        _ => message,
    };
    let mut r = base(DNS_ALIAS.fire(message)).evidence("names", evidence_names);
    if let Some(s) = suggestion {
        r = r
            .hint(format!(
                "set the host of {key} to '{s}' (e.g. {}), then recreate {}",
                replace_host(url, &host, &s),
                app.service().unwrap_or(app.name())
            ))
            .evidence("suggestion", s);
    }
    r
}

/// The URL with its host replaced (the password stays; the report masks it).
fn replace_host(url: &str, host: &str, new_host: &str) -> String {
    let at = url
        .rfind('@')
        .map_or_else(|| url.find("://").map_or(0, |i| i + 3), |i| i + 1);
    let (head, tail) = url.split_at(at);
    if tail.to_ascii_lowercase().starts_with(host) {
        format!("{head}{new_host}{}", &tail[host.len()..])
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::{DockerScope, fixtures};
    use crate::report::Status;

    fn results(names: &[&str]) -> Vec<CheckResult> {
        let obs = fixtures::observations(names);
        judge(&Roles::of(&obs, &DockerScope::default()))
    }

    #[test]
    fn recorded_seed_bug_redis_vs_beagle_redis() {
        let results = results(&["app", "beagle-redis"]);
        assert_eq!(results.len(), 2, "{results:#?}");
        let redis_url = &results[0];
        assert_eq!(redis_url.evidence["key"], "REDIS_URL");
        assert_eq!(redis_url.status, Status::Fail);
        assert_eq!(redis_url.evidence["host"], "redis");
        assert_eq!(redis_url.evidence["suggestion"], "beagle-redis");
        assert!(
            redis_url.message.contains("did you mean 'beagle-redis'"),
            "{}",
            redis_url.message
        );
        assert!(
            redis_url
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("@beagle-redis:6379/0"),
            "{:?}",
            redis_url.hint
        );
        // WEBSOCKET_REDIS_URL of the same app already uses the alias.
        let ws = &results[1];
        assert_eq!(ws.evidence["key"], "WEBSOCKET_REDIS_URL");
        assert_eq!(ws.status, Status::Pass, "{ws:#?}");
        assert_eq!(ws.evidence["network"], "beagle_backend");
    }

    #[test]
    fn loopback_is_the_container_itself() {
        let mut obs = fixtures::observations(&["app", "beagle-redis"]);
        if let Some(env) = obs.containers[0]
            .inspect
            .config
            .as_mut()
            .and_then(|c| c.env.as_mut())
        {
            env.retain(|e| !e.starts_with("WEBSOCKET_REDIS_URL="));
            for e in env.iter_mut() {
                if e.starts_with("REDIS_URL=") {
                    *e = "REDIS_URL=redis://localhost:6379/0".into();
                }
            }
        }
        let results = judge(&Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status, Status::Fail);
        assert!(results[0].message.contains("the app container itself"));
    }

    #[test]
    fn host_replacement_keeps_the_rest() {
        assert_eq!(
            replace_host("redis://:pw@redis:6379/0", "redis", "beagle-redis"),
            "redis://:pw@beagle-redis:6379/0"
        );
        assert_eq!(
            replace_host("redis://redis", "redis", "cache"),
            "redis://cache"
        );
    }
}
