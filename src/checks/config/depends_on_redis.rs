//! `config.depends-on-redis`: the app starts after its Redis.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.depends-on-redis",
    severity: Severity::Warning,
    title: "The app depends_on its Redis",
    summary: "A service whose REDIS_URL points at a Redis service of the project lists it in \
              `depends_on` (ideally with `condition: service_healthy` and a healthcheck on \
              Redis); a `service_healthy` condition needs a healthcheck.",
    why: "Without depends_on compose may start the app first; python-socketio's Redis manager \
          then fails its first connection and logs 'Cannot receive from redis... retrying' \
          (some apps exit). `condition: service_healthy` on a Redis service without a \
          healthcheck makes `docker compose up` fail outright.",
    fix: "Add `depends_on: {redis: {condition: service_healthy}}` to the app and \
          `healthcheck: {test: [\"CMD\", \"redis-cli\", \"ping\"]}` to Redis.",
};

/// Whether `service` depends on `target` through a chain of depends_on (compose starts the
/// whole chain in order).
fn starts_after(facts: &Facts, service: &str, target: &str) -> bool {
    let d = facts.deployment;
    let mut stack = vec![service.to_string()];
    let mut seen = vec![];
    while let Some(name) = stack.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        for dep in d
            .service(&name)
            .map(|s| s.depends_on.as_slice())
            .unwrap_or(&[])
        {
            if dep.service == target {
                return true;
            }
            stack.push(dep.service.clone());
        }
    }
    false
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "Kubernetes has no depends_on: pods start in any order and the app must retry its Redis connection",
    ) {
        return skip;
    }
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for u in &facts.urls {
        let Some(redis) = u.redis_service() else {
            continue;
        };
        if redis.name == u.service.name
            || seen.contains(&(u.service.name.clone(), redis.name.clone()))
        {
            continue;
        }
        seen.push((u.service.name.clone(), redis.name.clone()));
        let dep = u
            .service
            .depends_on
            .iter()
            .find(|d| d.service == redis.name);
        let r = match dep {
            None if starts_after(facts, &u.service.name, &redis.name) => RULE
                .pass(format!(
                    "{} starts after {} through its other dependencies",
                    u.service.name, redis.name
                ))
                .at(u.service.location()),
            None => RULE
                .fire(format!("{} uses {} but does not depend_on it: it may start first", u.service.name, redis.name))
                .hint(format!("depends_on: {{{}: {{condition: service_healthy}}}} (with a healthcheck on {})", redis.name, redis.name))
                .at(u.service.location()),
            Some(d) if d.condition.as_deref() == Some("service_healthy") && redis.healthcheck.is_none() => RULE
                .fail(format!(
                    "{} waits for {} to be healthy, but {} has no healthcheck: docker compose up fails",
                    u.service.name, redis.name, redis.name
                ))
                .hint(format!("add healthcheck: {{test: [\"CMD\", \"redis-cli\", \"ping\"]}} to {}", redis.name))
                .at(d.span.as_ref().map(|s| s.location())),
            Some(d) => RULE
                .pass(format!(
                    "{} depends_on {}{}",
                    u.service.name,
                    redis.name,
                    d.condition.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
                ))
                .at(d.span.as_ref().map(|s| s.location())),
        };
        out.push(r.subject(u.service.name.clone()));
    }
    if out.is_empty() {
        // Say why, from the first URL: a failed host check is the usual reason.
        out.push(facts.urls[0].skip_without_server(&RULE));
    }
    out
}
