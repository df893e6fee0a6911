//! `config.sentinel-timeout`: Sentinel without a socket connect timeout.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.sentinel-timeout",
    severity: Severity::Warning,
    title: "Redis Sentinel is used with a connect timeout",
    summary: "An app with REDIS_SENTINEL_HOSTS also sets REDIS_SOCKET_CONNECT_TIMEOUT.",
    why: "During a failover the old master's address stops answering. Without a connect \
          timeout redis-py waits for the operating system's TCP timeout (minutes) before asking \
          Sentinel again, and every websocket event stalls that long.",
    fix: "Set REDIS_SOCKET_CONNECT_TIMEOUT to a few seconds (e.g. 5).",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .apps
        .iter()
        .map(|app| {
            let name = &app.service.name;
            let sentinel = app.service.environment.get("REDIS_SENTINEL_HOSTS");
            let timeout = app.service.env("REDIS_SOCKET_CONNECT_TIMEOUT").filter(|v| !v.trim().is_empty());
            let r = match (sentinel.and_then(|s| s.value.as_deref()).filter(|v| !v.is_empty()), timeout) {
                (None, _) => RULE.skip(format!("{name}: no REDIS_SENTINEL_HOSTS")),
                (Some(_), Some(t)) => RULE.pass(format!("{name}: Sentinel with REDIS_SOCKET_CONNECT_TIMEOUT={t}")),
                (Some(_), None) => RULE
                    .fire(format!("{name}: REDIS_SENTINEL_HOSTS is set without REDIS_SOCKET_CONNECT_TIMEOUT: a failover stalls on the TCP timeout"))
                    .hint("REDIS_SOCKET_CONNECT_TIMEOUT=5")
                    .at(sentinel.and_then(|s| s.span.as_ref()).map(|s| s.location())),
            };
            r.subject(name.clone())
        })
        .collect()
}
