//! `config.redis-maxclients`: room for the connections the app will hold. A limit that is
//! only a problem because idle connections are never closed (`timeout 0`) is reported by
//! `config.redis-timeout` (the shared rule in [`crate::checks::redis::idle`]); this check
//! says so instead of repeating the advice.

use super::{Facts, no_redis};
use crate::catalogue::{Rule, Severity};
use crate::checks::redis::idle::IdlePolicy;
use crate::config::redis_server::Origin;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-maxclients",
    severity: Severity::Error,
    title: "Redis maxclients leaves room for the app's connections",
    summary: "For a Redis server used by Socket.IO apps: `--maxclients` is at least a few \
              connections per Socket.IO process. A limit below Redis' default together with \
              `timeout 0` is reported once, by config.redis-timeout; this check then passes \
              and says so.",
    why: "Every Socket.IO process holds a pub/sub connection plus a pool for publishing, and \
          apps like Open WebUI hold more pools for their own state. A maxclients below that \
          is reached at once (`ERR max number of clients reached`, after which new \
          connections, logins and websockets fail). A limit that leaves room but comes with \
          `timeout 0` is reached later, by leaked connections: the idle timeout is the fix \
          there, which config.redis-timeout reports.",
    fix: "Raise `--maxclients` to at least 4 per Socket.IO process (Redis' default is \
          10000); for a lowered limit with `timeout 0`, see config.redis-timeout.",
};

/// Connections per Socket.IO process below which failure is certain: one pub/sub listener,
/// one publisher, and the app's own pool.
const MIN_PER_PROCESS: u32 = 4;

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
                .maxclients
                .span
                .as_ref()
                .or(server.service.span.as_ref())
                .map(|s| s.location());
            if !facts.used_by_socketio(server.service) {
                return RULE
                    .skip(format!("{name} is not used by a Socket.IO app's manager"))
                    .subject(name.clone())
                    .at(at);
            }
            let processes: u32 = facts
                .clients_of(server.service)
                .iter()
                .filter_map(|u| facts.apps.iter().find(|a| a.service.name == u.service.name))
                .map(|a| a.processes())
                .sum::<u32>()
                .max(1);
            let r = match server.maxclients.value {
                None => RULE.skip(format!("{name} reads a config file; maxclients is not on the command line")),
                Some(max) if max < processes.saturating_mul(MIN_PER_PROCESS) => RULE
                    .fire(format!(
                        "{name}: maxclients {max} for {processes} Socket.IO process(es) that need at least {} connections",
                        processes.saturating_mul(MIN_PER_PROCESS)
                    ))
                    .hint("raise --maxclients (default 10000)"),
                Some(max) => {
                    let room = format!("{name}: maxclients {max} for {processes} Socket.IO process(es)");
                    let explained = (server.timeout.origin != Origin::Unknown)
                        .then(|| IdlePolicy::of(server.timeout.value.unwrap_or(0), Some(u64::from(max))))
                        .and_then(|p| p.explained_limit("config.redis-timeout"));
                    match explained {
                        Some(why) => RULE
                            .pass(format!("{room}; {why}"))
                            .evidence("explained_by", "config.redis-timeout"),
                        None => RULE.pass(room),
                    }
                }
            };
            r.subject(name.clone())
                .at(at)
                .evidence("processes", processes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    fn run(redis_cmd: &[&str], workers: &str) -> Vec<&'static str> {
        let app = with_env(
            service("app", "ghcr.io/open-webui/open-webui:main", 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
                ("UVICORN_WORKERS", workers),
            ],
        );
        let redis = with_command(service("redis", "redis:7", 20), redis_cmd);
        let d = deployment(vec![app, redis]);
        statuses(&check(&Facts::new(&d, None)))
    }

    #[test]
    fn cases() {
        assert_eq!(run(&["redis-server", "--maxclients", "10"], "4"), ["fail"]);
        // Room enough, but with timeout 0: config.redis-timeout reports the pair; this one
        // passes and refers to it.
        assert_eq!(run(&["redis-server", "--maxclients", "50"], "4"), ["pass"]);
        assert_eq!(
            run(&["redis-server", "--maxclients", "1000"], "4"),
            ["pass"]
        );
        assert_eq!(
            run(
                &["redis-server", "--maxclients", "50", "--timeout", "1800"],
                "4"
            ),
            ["pass"]
        );
        assert_eq!(run(&["redis-server"], "4"), ["pass"]);
    }
}
