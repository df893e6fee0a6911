//! `config.redis-url-host`: the URL's host is a service, container_name or alias.

use super::{Facts, Target, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-host",
    severity: Severity::Error,
    title: "REDIS_URL host is a compose service",
    summary: "The host in REDIS_URL / WEBSOCKET_REDIS_URL is the name, container_name, hostname \
              or network alias of a service of the project (or clearly external: an IP address \
              or a dotted name).",
    why: "On a compose network a container reaches another only by those names. A host that \
          is none of them (`redis` while the service is `beagle-redis`) fails DNS inside the \
          container, and the app loops on 'Error -2 connecting to redis:6379. Name or service \
          not known' — invisible in the browser except as a failing websocket.",
    fix: "Use the Redis service's name (or its container_name or a network alias) as the host.",
};

fn suggest<'a>(facts: &'a Facts, host: &str) -> Option<&'a str> {
    // Prefer a Redis service; among several, the closest name.
    let names: Vec<&str> = facts
        .deployment
        .services
        .iter()
        .flat_map(|s| s.dns_names())
        .collect();
    let redis_names: Vec<&str> = facts
        .redis
        .iter()
        .map(|r| r.service.name.as_str())
        .collect();
    let pool = if redis_names.is_empty() {
        &names
    } else {
        &redis_names
    };
    pool.iter()
        .map(|n| (strsim::jaro_winkler(host, n), *n))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.5 || pool.len() == 1)
        .map(|(_, n)| n)
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let host = u.usable().map(|p| p.host.clone()).unwrap_or_default();
            let r = match &u.target {
                Target::Unusable if u.unencoded.as_ref().is_some_and(|x| !x.only_at) => {
                    RULE.skip_because("config.redis-url-unencoded")
                }
                Target::Unusable => RULE.skip_because("config.redis-url-syntax"),
                Target::Socket => RULE.skip(format!("{} is a unix socket", u.label())),
                Target::SentinelMaster => RULE.skip(format!(
                    "{}: with REDIS_SENTINEL_HOSTS, '{host}' is the Sentinel master name",
                    u.label()
                )),
                Target::Loopback => RULE.skip(format!(
                    "{}: host '{host}' is a loopback address (see config.redis-url-loopback)",
                    u.label()
                )),
                Target::External => RULE
                    .pass(format!("{}: host '{host}' is outside the project", u.label()))
                    .evidence("host", host.clone()),
                Target::Service { service, via } => RULE
                    .pass(format!(
                        "{}: host '{host}' is the {via} of service {}",
                        u.label(),
                        service.name
                    ))
                    .evidence("service", service.name.clone()),
                Target::Unknown => {
                    let mut r = RULE
                        .fire(format!(
                            "{}: host '{host}' is not a service, container_name or alias of this project",
                            u.label()
                        ))
                        .evidence("host", host.clone());
                    if let Some(name) = suggest(facts, &host) {
                        let fixed = u
                            .usable()
                            .map(|p| {
                                let mut p = p.clone();
                                p.host = name.to_string();
                                p.display()
                            })
                            .unwrap_or_default();
                        r.message.push_str(&format!("; did you mean '{name}'?"));
                        r = r
                            .hint(format!("use {fixed}"))
                            .evidence("suggestion", name.to_string());
                    } else {
                        r = r.hint("use the name of the Redis service as the host");
                    }
                    r
                }
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    #[test]
    fn the_seed_bug_wrong_host_with_suggestion() {
        let app = with_env(
            service("open-webui", "ghcr.io/open-webui/open-webui:main", 2),
            &[("REDIS_URL", "redis://redis:6379/0")],
        );
        let redis = service("beagle-redis", "redis:7", 20);
        let d = deployment(vec![app, redis]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["fail"]);
        assert!(
            r[0].message.contains("did you mean 'beagle-redis'"),
            "{}",
            r[0].message
        );
        assert_eq!(
            r[0].hint.as_deref(),
            Some("use redis://beagle-redis:6379/0")
        );
        assert_eq!(r[0].location.as_ref().unwrap().line, Some(10));
    }

    #[test]
    fn container_name_alias_and_external_pass() {
        let app = with_env(
            service("app", "x", 2),
            &[("REDIS_URL", "redis://cache:6379/0")],
        );
        let mut redis = service("redis", "redis:7", 20);
        redis.networks[0].aliases.push("cache".into());
        let d = deployment(vec![app, redis]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
        let app = with_env(
            service("app", "x", 2),
            &[("REDIS_URL", "rediss://my.cache.example.com:6380")],
        );
        let d = deployment(vec![app]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }
}
