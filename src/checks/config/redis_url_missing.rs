//! `config.redis-url-missing`: the app needs Redis but has no URL.

use super::{Facts, app_evidence, no_apps};
use crate::apps::EnableRule;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-missing",
    severity: Severity::Error,
    title: "A Redis URL is given where Redis is needed",
    summary: "A Socket.IO app with `WEBSOCKET_MANAGER=redis` gets a `WEBSOCKET_REDIS_URL` or \
              `REDIS_URL` in its container environment.",
    why: "With the Redis manager enabled and no URL, python-socketio's AsyncRedisManager has \
          nothing to connect to and the app fails at start (or, with an empty URL, tries \
          localhost inside its own container). A REDIS_URL written only in the project .env \
          does not reach the container: that file feeds `${}` interpolation of the compose \
          file, nothing more.",
    fix: "Give the service the URL: `environment: REDIS_URL: redis://redis:6379/0` (or \
          `REDIS_URL: ${REDIS_URL}` to take it from .env), or `env_file: .env`.",
};

/// Kubernetes: the Secret or ConfigMap a URL variable (or a whole `envFrom`) comes from,
/// when it is not among the inputs.
fn unresolved_url(app: &crate::apps::SocketIoApp) -> Option<String> {
    let w = app.service.kube.as_ref()?;
    let wanted: Vec<&str> = app
        .profile
        .manager
        .url_vars
        .iter()
        .map(|u| u.name)
        .collect();
    w.unresolved_env
        .iter()
        .find(|e| {
            e.variable.as_deref().is_none_or(|v| {
                wanted.contains(&v) || crate::apps::REDIS_URL_VARIABLES.contains(&v)
            })
        })
        .map(|e| e.from.clone())
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    let in_dotenv = facts
        .deployment
        .dotenv
        .as_ref()
        .and_then(|f| f.get("WEBSOCKET_REDIS_URL").or_else(|| f.get("REDIS_URL")));
    facts
        .apps
        .iter()
        .map(|app| {
            let name = &app.service.name;
            match &app.profile.manager.enable {
                EnableRule::Never => {
                    return app_evidence(
                        RULE.skip(format!("{name}: {} has no Redis manager", app.profile.name))
                            .subject(name.clone()),
                        app,
                    );
                }
                EnableRule::InCode { how } if app.redis_url.is_none() => {
                    let vars: Vec<&str> =
                        app.profile.manager.url_vars.iter().map(|u| u.name).collect();
                    return app_evidence(
                        RULE.skip(format!(
                            "{name}: {} takes its manager URL in the app code ({how}); none of {} is set, so wsdoctor cannot tell",
                            app.profile.name,
                            vars.join(", ")
                        ))
                        .subject(name.clone()),
                        app,
                    );
                }
                _ => {}
            }
            if app.empty_redis_url.is_some() && app.uses_redis_manager() {
                return RULE
                    .skip_because("config.websocket-redis-url")
                    .subject(name.clone());
            }
            match (&app.redis_url, app.uses_redis_manager()) {
                (Some(url), _) => RULE
                    .pass(format!("{name} gets {}", url.source))
                    .subject(name.clone()),
                (None, true) if unresolved_url(app).is_some() => RULE
                    .skip(format!(
                        "{name}: its Redis URL may come from {}, which is not among the inputs (add that manifest to -f)",
                        unresolved_url(app).unwrap_or_default()
                    ))
                    .subject(name.clone()),
                (None, true) => {
                    let mut r = RULE
                        .fire(format!(
                            "{name} sets WEBSOCKET_MANAGER=redis but its container gets neither \
                             WEBSOCKET_REDIS_URL nor REDIS_URL"
                        ))
                        .subject(name.clone())
                        .at(app.manager.span.as_ref().map(|s| s.location()));
                    r = match in_dotenv {
                        Some(e) => r
                            .hint(format!(
                                "{} is set in {} (line {}), but the project .env only feeds ${{}} \
                                 interpolation: add `{}: ${{{}}}` under the service's environment, \
                                 or `env_file: .env`",
                                e.key, e.key_span.file, e.key_span.line, e.key, e.key
                            ))
                            .evidence("defined_in_dotenv", e.key.clone()),
                        None => r.hint("add REDIS_URL: redis://<redis service>:6379/0 to the service's environment"),
                    };
                    r
                }
                (None, false) => RULE
                    .skip(format!("{name} uses no Redis manager (WEBSOCKET_MANAGER is not redis)"))
                    .subject(name.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    #[test]
    fn manager_without_url_fails_and_with_url_passes() {
        let app = with_env(
            service("app", "ghcr.io/open-webui/open-webui:main", 2),
            &[("WEBSOCKET_MANAGER", "redis")],
        );
        let d = deployment(vec![app]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
        let app = with_env(
            service("app", "ghcr.io/open-webui/open-webui:main", 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
            ],
        );
        let d = deployment(vec![app]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }
}
