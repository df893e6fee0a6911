//! `config.redis-timeout`: Redis' idle timeout for servers Socket.IO apps use, judged with
//! its `maxclients` by the shared rule in [`crate::checks::redis::idle`] (the same rule as
//! `docker.redis-command` and `redis.timeout`).

use super::{Facts, no_redis};
use crate::catalogue::{Rule, Severity};
use crate::checks::redis::idle::{IdlePolicy, TIMEOUT_FIX};
use crate::config::redis_server::Origin;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-timeout",
    severity: Severity::Warning,
    title: "Redis closes idle connections",
    summary: "A Redis server used by a Socket.IO app sets `--timeout` (seconds) above 0; \
              Redis' default is 0, never. With `timeout 0` and a `--maxclients` below Redis' \
              default of 10000 the finding names both: that pair is the slow outage this \
              check exists for, and it is reported here once (config.redis-maxclients \
              refers to it).",
    why: "With `timeout 0` Redis keeps every connection a client forgets to close. Pools of \
          restarted or scaled workers leave theirs behind, and after days or weeks the count \
          reaches maxclients: `ERR max number of clients reached`, and every login and \
          websocket fails at once. A lowered maxclients (1000 is common in examples) makes \
          that days instead of months. A timeout is safe: Redis never applies it to pub/sub \
          connections (the Socket.IO manager's listener), and redis-py reconnects a pooled \
          connection the server closed on its next use.",
    fix: "Add `--timeout 1800` to the Redis command (`command: redis-server --timeout 1800 …`). \
          Raising `--maxclients` alone only delays the outage.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.redis.is_empty() {
        return no_redis(&RULE);
    }
    facts
        .redis
        .iter()
        .map(|server| {
            let name = &server.service.name;
            let at = server
                .timeout
                .span
                .as_ref()
                .or(server.maxclients.span.as_ref())
                .or(server.service.span.as_ref())
                .map(|s| s.location());
            let r = if !facts.used_by_socketio(server.service) {
                RULE.skip(format!("{name} is not used by a Socket.IO app's manager"))
            } else if server.timeout.origin == Origin::Unknown {
                RULE.skip(format!(
                    "{name} reads a config file; its timeout is not on the command line"
                ))
            } else {
                let timeout = server.timeout.value.unwrap_or(0);
                let maxclients = server.maxclients.value.map(u64::from);
                let policy = IdlePolicy::of(timeout, maxclients);
                match policy.finding() {
                    Some(finding) => RULE
                        .fire(format!(
                            "{name}: {finding}{}",
                            if server.timeout.origin == Origin::Default {
                                " (no --timeout: Redis' default is 0)"
                            } else {
                                ""
                            }
                        ))
                        .hint(TIMEOUT_FIX)
                        .evidence("timeout", timeout)
                        .evidence("maxclients", maxclients),
                    None => RULE
                        .pass(format!("{name}: idle connections close after {timeout} s"))
                        .evidence("timeout", timeout),
                }
            };
            r.subject(name.clone()).at(at)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    fn run(redis_cmd: &[&str]) -> Vec<CheckResult> {
        let app = with_env(
            service("app", "ghcr.io/open-webui/open-webui:main", 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
            ],
        );
        let redis = with_command(service("redis", "redis:7", 20), redis_cmd);
        let d = deployment(vec![app, redis]);
        check(&Facts::new(&d, None))
    }

    #[test]
    fn the_seed_pair_is_one_finding_naming_both() {
        let r = run(&["redis-server", "--maxclients", "1000"]);
        assert_eq!(statuses(&r), ["warn"]);
        assert!(
            r[0].message.contains("timeout 0 with maxclients 1000"),
            "{}",
            r[0].message
        );
        assert_eq!(r[0].hint.as_deref(), Some(TIMEOUT_FIX));
        assert_eq!(
            statuses(&run(&[
                "redis-server",
                "--maxclients",
                "1000",
                "--timeout",
                "1800"
            ])),
            ["pass"]
        );
        let r = run(&["redis-server"]);
        assert_eq!(statuses(&r), ["warn"]);
        assert!(r[0].message.contains("Redis' default"), "{}", r[0].message);
    }
}
