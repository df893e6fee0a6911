//! `config.redis-url-host`: the URL's host is a service, container_name or alias.

use super::{Facts, Target, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::kube::resolve;
use crate::config::redis_url;
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

/// Kubernetes: the Service of the inputs nearest to `host`, as the client would write it
/// (`redis` in its namespace, `redis.cache` from another). Services that select a Redis
/// server's pods come first.
fn suggest_kube(facts: &Facts, host: &str, client: &crate::config::Service) -> Option<String> {
    let cluster = facts.deployment.kube.as_ref()?;
    let namespace = client
        .kube
        .as_ref()
        .map_or(crate::config::kube::DEFAULT_NAMESPACE, |w| {
            w.namespace.as_str()
        });
    let reaches_redis = |svc: &crate::config::kube::KubeService| {
        resolve::selected(facts.deployment, svc)
            .iter()
            .any(|b| facts.redis.iter().any(|r| r.service.name == b.name))
    };
    let redis: Vec<_> = cluster
        .services
        .iter()
        .filter(|s| reaches_redis(s))
        .collect();
    let pool: Vec<_> = if redis.is_empty() {
        cluster.services.iter().collect()
    } else {
        redis
    };
    let first = host.split('.').next().unwrap_or(host);
    pool.iter()
        .map(|svc| {
            let name = resolve::short_name(svc, namespace);
            (strsim::jaro_winkler(first, &svc.name), name)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.5 || pool.len() == 1)
        .map(|(_, n)| n)
}

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

/// The service (left out by its profiles) that answers to `host`, if one does.
fn inactive_service<'a>(facts: &'a Facts, host: &str) -> Option<&'a crate::config::Service> {
    facts
        .deployment
        .inactive_services
        .iter()
        .find(|s| s.dns_names().contains(&host))
}

/// The URL names a service compose does not start: no container answers to the name, so it
/// fails exactly like a wrong host (same check: the user's question is "does this host
/// resolve?"); the message names the profiles that would start it.
fn not_started(
    facts: &Facts,
    host: &str,
    service: &crate::config::Service,
    label: String,
) -> CheckResult {
    let profiles = service.profiles.join(" or ");
    let active = if facts.deployment.active_profiles.is_empty() {
        "no profile is active".to_string()
    } else {
        format!("active: {}", facts.deployment.active_profiles.join(", "))
    };
    let first = service.profiles.first().cloned().unwrap_or_default();
    RULE.fire(format!(
        "{label}: host '{host}' is service {}, which is not started unless profile {profiles} is active ({active}): the app's Redis is not started",
        service.name
    ))
    .hint(format!(
        "start with --profile {first} (or COMPOSE_PROFILES={first}), or remove `profiles:` from service {}",
        service.name
    ))
    .evidence("host", host.to_string())
    .evidence("inactive_service", service.name.clone())
    .evidence("profiles", service.profiles.join(","))
}

/// Each Sentinel host an app's manager is given must be reachable: a service (or external).
fn sentinel_hosts(facts: &Facts) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for app in &facts.apps {
        let Some(sentinel) = &app.sentinel else {
            continue;
        };
        let name = &app.service.name;
        let at = sentinel.span.as_ref().map(|s| s.location());
        let unknown: Vec<&str> = sentinel
            .hosts
            .iter()
            .map(String::as_str)
            .filter(|h| {
                !redis_url::looks_external(h)
                    && !redis_url::is_loopback(h)
                    && !match &facts.deployment.kube {
                        Some(cluster) => !matches!(
                            resolve::resolve_host(
                                cluster,
                                h,
                                app.service
                                    .kube
                                    .as_ref()
                                    .map_or("default", |w| w.namespace.as_str())
                            ),
                            resolve::Resolved::Missing { .. }
                        ),
                        None => facts
                            .deployment
                            .services
                            .iter()
                            .any(|s| s.dns_names().contains(h)),
                    }
            })
            .collect();
        let r = if unknown.is_empty() {
            RULE.pass(format!(
                "{name} {}: {} (port {}) reachable by name",
                sentinel.source,
                sentinel.hosts.join(","),
                sentinel.port
            ))
        } else {
            let mut r = RULE.fire(format!(
                "{name} {}: '{}' is not a service, container_name or alias of this project",
                sentinel.source,
                unknown.join("', '")
            ));
            if let Some(s) = unknown.first().and_then(|h| suggest(facts, h)) {
                let fixed: Vec<String> = sentinel
                    .hosts
                    .iter()
                    .map(|h| {
                        if unknown.contains(&h.as_str()) {
                            s.to_string()
                        } else {
                            h.clone()
                        }
                    })
                    .collect();
                r = r.hint(format!("{}={}", sentinel.source, fixed.join(",")));
            } else {
                r = r.hint("name the Sentinel services (comma-separated) in the variable");
            }
            r
        };
        out.push(
            r.subject(name.clone())
                .at(at.or_else(|| app.service.location())),
        );
    }
    out
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    let sentinels = sentinel_hosts(facts);
    facts
        .urls
        .iter()
        .map(|u| {
            let host = u.usable().map(|p| p.host.clone()).unwrap_or_default();
            if let (Target::Unknown, Some(service)) = (&u.target, inactive_service(facts, &host)) {
                return not_started(facts, &host, service, u.label())
                    .subject(u.service.name.clone())
                    .at(u.location());
            }
            let r = match &u.target {
                Target::Unusable if u.unencoded.as_ref().is_some_and(|x| !x.only_at) => {
                    RULE.skip_because("config.redis-url-unencoded")
                }
                Target::Unusable => RULE.skip_because("config.redis-url-syntax"),
                Target::Socket => RULE.skip(format!("{} is a unix socket", u.label())),
                Target::SentinelMaster => RULE.skip(format!(
                    "{}: '{host}' is the Sentinel master name (Sentinel hosts are set for every client reading it)",
                    u.label()
                )),
                Target::MasterNameDialed {
                    reader,
                    missing_var,
                    set_var,
                    socketio_breaks,
                } => {
                    let hosts = u
                        .service
                        .env(set_var)
                        .map(|h| h.trim().to_string())
                        .unwrap_or_default();
                    let message = format!(
                        "{}: '{host}' is a Sentinel master name for the client {set_var} configures, but {reader} does not read {set_var}: it dials '{host}' as a host name, which no service answers to",
                        u.label()
                    );
                    let r = if *socketio_breaks {
                        RULE.fail(format!("{message}; the Socket.IO manager never connects (0 subscribers)"))
                    } else {
                        RULE.warn(format!("{message}; Socket.IO is unaffected"))
                    };
                    r.hint(format!("set {missing_var}={hosts} (the same Sentinels) on the service"))
                        .evidence("master_name", host.clone())
                        .evidence("missing", missing_var.to_string())
                }
                Target::Loopback => RULE.skip(format!(
                    "{}: host '{host}' is a loopback address (see config.redis-url-loopback)",
                    u.label()
                )),
                Target::External => match u.kube.as_ref().and_then(|k| Some((k, k.service.external_name.as_ref()?))) {
                    Some((k, external)) => RULE
                        .pass(format!(
                            "{}: host '{host}' is Service {}/{}, an ExternalName for '{}'",
                            u.label(),
                            k.service.namespace,
                            k.service.name,
                            external.value
                        ))
                        .evidence("host", host.clone()),
                    None => RULE
                        .pass(format!("{}: host '{host}' is outside the project", u.label()))
                        .evidence("host", host.clone()),
                },
                Target::EmptyService => {
                    let k = u.kube.as_ref().expect("an empty Service comes from Kubernetes");
                    RULE.pass(format!(
                        "{}: host '{host}' is Service {}/{} ({}); what it reaches is kube.service-selector's question",
                        u.label(),
                        k.service.namespace,
                        k.service.name,
                        k.fqdn
                    ))
                    .evidence("kube_service", k.service.name.clone())
                }
                Target::Service { service, .. } if u.kube.is_some() => {
                    let k = u.kube.as_ref().expect("checked");
                    let w = service.kube.as_ref();
                    RULE.pass(format!(
                        "{}: host '{host}' is Service {}/{} ({}), selecting {} {}",
                        u.label(),
                        k.service.namespace,
                        k.service.name,
                        k.fqdn,
                        w.map_or("", |w| w.kind.as_str()),
                        w.map_or(service.name.as_str(), |w| w.name.as_str()),
                    ))
                    .evidence("service", service.name.clone())
                    .evidence("kube_service", k.service.name.clone())
                }
                Target::Service { service, via } => RULE
                    .pass(format!(
                        "{}: host '{host}' is the {via} of service {}",
                        u.label(),
                        service.name
                    ))
                    .evidence("service", service.name.clone()),
                Target::Unknown if facts.deployment.kube.is_some() => {
                    let namespace = u
                        .service
                        .kube
                        .as_ref()
                        .map_or("default", |w| w.namespace.as_str());
                    let mut r = RULE
                        .fire(format!(
                            "{}: host '{host}' is no Service of the inputs as seen from namespace {namespace} (a bare name only reaches a Service of the pod's own namespace; another namespace's is `name.namespace`)",
                            u.label()
                        ))
                        .evidence("host", host.clone())
                        .evidence("namespace", namespace.to_string());
                    if let Some(name) = suggest_kube(facts, &host, u.service) {
                        let fixed = u
                            .usable()
                            .map(|p| {
                                let mut p = p.clone();
                                p.host = name.clone();
                                p.display()
                            })
                            .unwrap_or_default();
                        r.message.push_str(&format!("; did you mean '{name}'?"));
                        r = r.hint(format!("use {fixed}")).evidence("suggestion", name);
                    } else {
                        r = r.hint("use the name of the Redis Service as the host");
                    }
                    r
                }
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
        .chain(sentinels)
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

    const OWUI: &str = "ghcr.io/open-webui/open-webui:0.12.4";

    fn sentinel_deployment(vars: &[(&str, &str)]) -> crate::config::Deployment {
        let app = with_env(service("open-webui", OWUI, 2), vars);
        deployment(vec![
            app,
            service("redis", "redis:7", 20),
            service("sentinel", "redis:7", 30),
        ])
    }

    #[test]
    fn websocket_sentinel_hosts_make_the_host_a_master_name() {
        let d = sentinel_deployment(&[
            ("WEBSOCKET_MANAGER", "redis"),
            ("WEBSOCKET_REDIS_URL", "redis://:pw@mymaster/0"),
            ("WEBSOCKET_SENTINEL_HOSTS", "sentinel"),
        ]);
        let r = check(&Facts::new(&d, None));
        // The URL (a master name: skipped) and the Sentinel hosts (a service: pass).
        assert_eq!(statuses(&r), ["skip", "pass"], "{r:#?}");
        let d = sentinel_deployment(&[
            ("WEBSOCKET_MANAGER", "redis"),
            ("WEBSOCKET_REDIS_URL", "redis://:pw@mymaster/0"),
            ("WEBSOCKET_SENTINEL_HOSTS", "sentinal"),
        ]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["skip", "fail"]);
        assert_eq!(
            r[1].hint.as_deref(),
            Some("WEBSOCKET_SENTINEL_HOSTS=sentinel")
        );
    }

    #[test]
    fn only_redis_sentinel_hosts_leaves_the_manager_dialing_the_master_name() {
        let d = sentinel_deployment(&[
            ("WEBSOCKET_MANAGER", "redis"),
            ("REDIS_URL", "redis://:pw@mymaster/0"),
            ("REDIS_SENTINEL_HOSTS", "sentinel"),
        ]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["fail"]);
        assert!(
            r[0].message.contains("Socket.IO manager"),
            "{}",
            r[0].message
        );
        assert_eq!(
            r[0].hint.as_deref(),
            Some("set WEBSOCKET_SENTINEL_HOSTS=sentinel (the same Sentinels) on the service")
        );
        // Both variables set: every reader goes through Sentinel.
        let d = sentinel_deployment(&[
            ("WEBSOCKET_MANAGER", "redis"),
            ("REDIS_URL", "redis://:pw@mymaster/0"),
            ("REDIS_SENTINEL_HOSTS", "sentinel"),
            ("WEBSOCKET_SENTINEL_HOSTS", "sentinel"),
        ]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["skip", "pass"]);
        // Only the manager's Sentinels, and REDIS_URL is the manager's URL: Socket.IO works,
        // but REDIS_URL's own client (main.py:414) dials the master name.
        let d = sentinel_deployment(&[
            ("WEBSOCKET_MANAGER", "redis"),
            ("REDIS_URL", "redis://:pw@mymaster/0"),
            ("WEBSOCKET_SENTINEL_HOSTS", "sentinel"),
        ]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["warn", "pass"]);
        assert!(
            r[0].message.contains("Socket.IO is unaffected"),
            "{}",
            r[0].message
        );
        assert_eq!(
            r[0].hint.as_deref(),
            Some("set REDIS_SENTINEL_HOSTS=sentinel (the same Sentinels) on the service")
        );
        // Without the manager only REDIS_URL's client reads it, through Sentinel.
        let d = sentinel_deployment(&[
            ("REDIS_URL", "redis://:pw@mymaster/0"),
            ("REDIS_SENTINEL_HOSTS", "sentinel"),
        ]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["skip"]);
    }
}
