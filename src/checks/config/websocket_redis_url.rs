//! `config.websocket-redis-url`: WEBSOCKET_REDIS_URL against REDIS_URL.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_url;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.websocket-redis-url",
    severity: Severity::Warning,
    title: "WEBSOCKET_REDIS_URL and REDIS_URL agree",
    summary: "For an Open WebUI-style app: when both WEBSOCKET_REDIS_URL and REDIS_URL are set, \
              they point at the same Redis server (the database may differ).",
    why: "Open WebUI uses WEBSOCKET_REDIS_URL for Socket.IO (defaulting to REDIS_URL) and \
          REDIS_URL for its other state. After fixing one host or password, the other is \
          easily left pointing at the old server: half the app works, and websockets (or \
          sessions) fail.",
    fix: "Drop WEBSOCKET_REDIS_URL so it follows REDIS_URL, or update both together.",
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
            let ws = app.service.env("WEBSOCKET_REDIS_URL").filter(|v| !v.is_empty());
            let main = app.service.env("REDIS_URL").filter(|v| !v.is_empty());
            let at = app
                .service
                .environment
                .get("WEBSOCKET_REDIS_URL")
                .and_then(|v| v.span.as_ref())
                .map(|s| s.location());
            let r = match (ws, main) {
                (None, Some(_)) => RULE.pass(format!("{name}: WEBSOCKET_REDIS_URL follows REDIS_URL")),
                (None, None) => RULE.skip(format!("{name}: neither WEBSOCKET_REDIS_URL nor REDIS_URL is set")),
                (Some(_), None) => RULE.pass(format!("{name}: only WEBSOCKET_REDIS_URL is set")),
                (Some(a), Some(b)) => match (redis_url::parse(a), redis_url::parse(b)) {
                    (Ok(x), Ok(y)) if x.host == y.host && x.port == y.port => {
                        if x.password != y.password {
                            RULE.fire(format!(
                                "{name}: WEBSOCKET_REDIS_URL and REDIS_URL point at {}:{} with different passwords",
                                x.host, x.port
                            ))
                            .hint("one of them gets WRONGPASS: use the same password in both")
                        } else {
                            RULE.pass(format!("{name}: both point at {}:{}", x.host, x.port))
                        }
                    }
                    (Ok(x), Ok(y)) => RULE
                        .fire(format!(
                            "{name}: Socket.IO uses {}:{} (WEBSOCKET_REDIS_URL) while the rest of the app uses {}:{} (REDIS_URL)",
                            x.host, x.port, y.host, y.port
                        ))
                        .hint("drop WEBSOCKET_REDIS_URL so it follows REDIS_URL, or update both together"),
                    _ => RULE.skip_because("config.redis-url-syntax"),
                },
            };
            r.subject(name.clone()).at(at.or_else(|| app.service.location()))
        })
        .collect()
}
