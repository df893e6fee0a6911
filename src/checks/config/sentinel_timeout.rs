//! `config.sentinel-timeout`: Sentinel without a socket connect timeout.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.sentinel-timeout",
    severity: Severity::Warning,
    title: "Redis Sentinel is used with a connect timeout",
    summary: "Open WebUI with WEBSOCKET_SENTINEL_HOSTS or REDIS_SENTINEL_HOSTS also sets \
              REDIS_SOCKET_CONNECT_TIMEOUT (0.12.4 env.py:412-416 and 481-484: it feeds both \
              the REDIS_URL client and the Socket.IO manager's options).",
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
            let m = &app.profile.manager;
            if m.sentinel.is_none() && m.other_sentinel_vars.is_empty() {
                return RULE
                    .skip(format!(
                        "{name}: {} configures Sentinel (if at all) in its code or URL",
                        app.profile.name
                    ))
                    .subject(name.clone());
            }
            // The manager's Sentinel variable first, then the other client's.
            let sentinel = m
                .sentinel
                .iter()
                .map(|s| s.hosts)
                .chain(m.other_sentinel_vars.iter().copied())
                .find_map(|v| {
                    let var = app.service.environment.get(v)?;
                    var.value.as_deref().filter(|x| !x.trim().is_empty())?;
                    Some((v, var))
                });
            let timeout = app.service.env("REDIS_SOCKET_CONNECT_TIMEOUT").filter(|v| !v.trim().is_empty());
            let r = match (sentinel, timeout) {
                (None, _) => RULE.skip(format!("{name}: no Sentinel hosts set")),
                (Some((v, _)), Some(t)) => RULE.pass(format!("{name}: Sentinel ({v}) with REDIS_SOCKET_CONNECT_TIMEOUT={t}")),
                (Some((v, var)), None) => RULE
                    .fire(format!("{name}: {v} is set without REDIS_SOCKET_CONNECT_TIMEOUT: a failover stalls on the TCP timeout"))
                    .hint("REDIS_SOCKET_CONNECT_TIMEOUT=5")
                    .at(var.span.as_ref().map(|s| s.location())),
            };
            r.subject(name.clone())
        })
        .collect()
}
