//! `config.websocket-redis-url`: WEBSOCKET_REDIS_URL against REDIS_URL.

use super::{Facts, app_evidence, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_url;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.websocket-redis-url",
    severity: Severity::Warning,
    title: "WEBSOCKET_REDIS_URL is usable and agrees with REDIS_URL",
    summary: "For Open WebUI: WEBSOCKET_REDIS_URL is not set to an empty value, and when both \
              WEBSOCKET_REDIS_URL and REDIS_URL are set they point at the same Redis server \
              (the database may differ).",
    why: "Open WebUI reads `os.getenv('WEBSOCKET_REDIS_URL', REDIS_URL)` (0.12.4 env.py:493): \
          a variable set to an empty value stays empty instead of following REDIS_URL, and \
          with WEBSOCKET_MANAGER=redis python-socketio raises `ValueError: Unsupported Redis \
          URL scheme` — the app never starts listening. When both are set, Open WebUI uses \
          WEBSOCKET_REDIS_URL for Socket.IO and REDIS_URL for its other state: after fixing \
          one host or password, the other is easily left pointing at the old server.",
    fix: "Remove the empty `WEBSOCKET_REDIS_URL=` line (it then follows REDIS_URL), or give it \
          a URL; when both are set, update them together.",
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
            let reads = app
                .profile
                .manager
                .url_vars
                .iter()
                .any(|u| u.name == "WEBSOCKET_REDIS_URL");
            if !reads {
                return app_evidence(
                    RULE.skip(format!(
                        "{name}: {} does not read WEBSOCKET_REDIS_URL",
                        app.profile.name
                    ))
                    .subject(name.clone()),
                    app,
                );
            }
            let at = app
                .service
                .environment
                .get("WEBSOCKET_REDIS_URL")
                .and_then(|v| v.span.as_ref())
                .map(|s| s.location());
            if let Some(empty) = &app.empty_redis_url {
                let r = if app.uses_redis_manager() {
                    let main = app.service.env("REDIS_URL").filter(|v| !v.is_empty());
                    RULE.fail(format!(
                        "{name}: {} is set but empty, and {} keeps it empty (it does not fall back to REDIS_URL): with {}={} the Socket.IO manager raises 'ValueError: Unsupported Redis URL scheme' and the app never starts listening",
                        empty.source,
                        app.profile.name,
                        app.manager.source,
                        app.manager.value
                    ))
                    .hint(match main {
                        Some(_) => "delete the empty WEBSOCKET_REDIS_URL line so it follows REDIS_URL".to_string(),
                        None => "set WEBSOCKET_REDIS_URL=redis://<redis service>:6379/0, or delete the line and set REDIS_URL".to_string(),
                    })
                } else {
                    RULE.warn(format!(
                        "{name}: WEBSOCKET_REDIS_URL is set but empty; harmless while {} is not 'redis', fatal once it is (the app keeps the empty URL)",
                        app.manager.source
                    ))
                    .hint("delete the empty WEBSOCKET_REDIS_URL line")
                };
                return app_evidence(r.subject(name.clone()).at(at.or_else(|| app.service.location())), app);
            }
            let ws = app.service.env("WEBSOCKET_REDIS_URL").filter(|v| !v.is_empty());
            let main = app.service.env("REDIS_URL").filter(|v| !v.is_empty());
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
            app_evidence(r.subject(name.clone()).at(at.or_else(|| app.service.location())), app)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    const IMG: &str = "ghcr.io/open-webui/open-webui:0.12.4";

    #[test]
    fn empty_websocket_url_fails_with_the_manager_and_warns_without() {
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
                ("WEBSOCKET_REDIS_URL", ""),
            ],
        )]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["fail"]);
        assert!(
            r[0].message.contains("never starts listening"),
            "{}",
            r[0].message
        );
        assert!(r[0].hint.as_deref().unwrap().contains("delete"));
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[
                ("REDIS_URL", "redis://redis:6379/0"),
                ("WEBSOCKET_REDIS_URL", ""),
            ],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["warn"]);
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
            ],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }
}
