//! `config.redis-url-override`: REDIS_URL set in several places; which one the container gets.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::EnvSource;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-override",
    severity: Severity::Warning,
    title: "REDIS_URL is defined in one place",
    summary: "REDIS_URL / WEBSOCKET_REDIS_URL is not defined with different values in the \
              project .env, an env_file and the service's environment, or if it is, says which \
              one the container gets.",
    why: "Compose gives a container its `environment:` over its `env_file:` entries, and the \
          project .env only feeds `${}` interpolation. When the same variable appears in \
          several places with different values, the one people edit is often not the one that \
          wins, and the fix 'does nothing'.",
    fix: "Keep one definition: put the URL in .env and write `REDIS_URL: ${REDIS_URL}` in the \
          compose file, or set it only under `environment:`.",
};

fn place(source: &EnvSource) -> String {
    match source {
        EnvSource::Environment => "environment:".to_string(),
        EnvSource::EnvFile(f) => format!("env_file {f}"),
        EnvSource::KubeRef(r) => r.clone(),
    }
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(&RULE, facts, "no project .env feeds the containers") {
        return skip;
    }
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    let dotenv = facts.deployment.dotenv.as_ref();
    facts
        .urls
        .iter()
        .map(|u| {
            let mut others: Vec<String> = Vec::new();
            for s in &u.var.shadowed {
                if s.value.as_deref() != Some(u.text.as_str()) {
                    let at = s
                        .span
                        .as_ref()
                        .map(|sp| format!(" ({}:{})", sp.file, sp.line))
                        .unwrap_or_default();
                    others.push(format!("{}{at}", place(&s.source)));
                }
            }
            // The project .env defines it too, with another value, and the container does not
            // take it from there (no ${VAR} reference, not an env_file).
            let referenced = u.var.raw.as_deref().is_some_and(|r| r.contains('$'));
            let from_that_file = |path: &str| matches!(&u.var.source, EnvSource::EnvFile(f) if f == path);
            // Only when the .env value is meant for this deployment (its host is one of the
            // project's services): a `localhost` URL in .env is for running the app outside
            // Docker, and the compose value rightly differs.
            let meant_for_compose = |value: &str| {
                crate::config::redis_url::parse(value).is_ok_and(|p| {
                    facts.deployment.services.iter().any(|s| s.dns_names().contains(&p.host.as_str()))
                })
            };
            if let Some(env) = dotenv
                && let Some(e) = env.get(u.variable)
                && e.value.as_deref() != Some(u.text.as_str())
                && e.value.as_deref().is_some_and(meant_for_compose)
                && !referenced
                && !from_that_file(&env.path)
            {
                others.push(format!("{} line {} (used for ${{}} interpolation only)", env.path, e.key_span.line));
            }
            let winner = match &u.var.span {
                Some(sp) => format!("{} ({}:{})", place(&u.var.source), sp.file, sp.line),
                None => place(&u.var.source),
            };
            let r = if others.is_empty() {
                RULE.pass(format!("{}: defined once, in {winner}", u.label()))
            } else {
                RULE.fire(format!(
                    "{} is also set, with another value, in {}; the container gets the one from {winner}: {}",
                    u.label(),
                    others.join(", "),
                    u.shown()
                ))
                .hint(format!(
                    "keep one definition of {}, e.g. in .env with `{}: ${{{}}}` under environment:",
                    u.variable, u.variable, u.variable
                ))
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
