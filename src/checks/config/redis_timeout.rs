//! `config.redis-timeout`: Redis' idle timeout for servers Socket.IO apps use.

use super::{Facts, no_redis};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_server::Origin;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-timeout",
    severity: Severity::Warning,
    title: "Redis closes idle connections",
    summary: "A Redis server used by a Socket.IO app sets `--timeout` (seconds) above 0; \
              Redis' default is 0, never.",
    why: "With `timeout 0` Redis keeps every connection a client forgets to close. Pools of \
          restarted or scaled workers leave theirs behind, and after days or weeks the count \
          reaches maxclients: `ERR max number of clients reached`, and every login and \
          websocket fails at once. A timeout is safe: Redis never applies it to pub/sub \
          connections (the Socket.IO manager's listener), and redis-py reconnects a pooled \
          connection the server closed on its next use.",
    fix: "Add `--timeout 1800` to the Redis command (`command: redis-server --timeout 1800 …`).",
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
                .or(server.service.span.as_ref())
                .map(|s| s.location());
            let r = if !facts.used_by_socketio(server.service) {
                RULE.skip(format!("{name} is not used by a Socket.IO app's manager"))
            } else {
                match (&server.timeout.origin, server.timeout.value) {
                    (Origin::Unknown, _) => RULE.skip(format!(
                        "{name} reads a config file; its timeout is not on the command line"
                    )),
                    (_, Some(0)) | (_, None) => RULE
                        .fire(format!(
                            "{name}: timeout is 0{}: idle connections are never closed and pile up toward maxclients",
                            if server.timeout.origin == Origin::Default { " (Redis' default)" } else { "" }
                        ))
                        .hint("add --timeout 1800 to the redis-server command"),
                    (_, Some(t)) => RULE.pass(format!("{name}: idle connections close after {t} s")),
                }
            };
            r.subject(name.clone()).at(at)
        })
        .collect()
}
