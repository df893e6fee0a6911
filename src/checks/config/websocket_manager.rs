//! `config.websocket-manager`: several Socket.IO processes need a shared Redis manager.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.websocket-manager",
    severity: Severity::Error,
    title: "Several workers or replicas share a Redis manager",
    summary: "An app with more than one Socket.IO process (UVICORN_WORKERS / --workers above 1, \
              or deploy.replicas above 1) sets `WEBSOCKET_MANAGER=redis` (exactly, lowercase).",
    why: "Each worker process keeps its own Socket.IO state. Without a shared manager an event \
          emitted by one worker reaches only the clients connected to that worker: measured on \
          python-socketio with 3 workers, a broadcast reached 3 of 12 clients, while every \
          handshake succeeded. Open WebUI enables python-socketio's AsyncRedisManager only when \
          WEBSOCKET_MANAGER is exactly `redis`.",
    fix: "Set `WEBSOCKET_MANAGER=redis` and `WEBSOCKET_REDIS_URL` (or REDIS_URL) on the service, \
          or run a single worker and a single replica.",
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
            let processes = app.processes();
            let shape = format!(
                "{} worker{} x {} replica{}",
                app.workers.value,
                if app.workers.value == 1 { "" } else { "s" },
                app.replicas.value,
                if app.replicas.value == 1 { "" } else { "s" }
            );
            let at = app
                .manager
                .span
                .as_ref()
                .or(app.workers.span.as_ref())
                .or(app.replicas.span.as_ref())
                .map(|s| s.location())
                .or_else(|| app.service.location());
            let manager = app.manager.value.as_str();
            let r = if app.uses_redis_manager() {
                RULE.pass(format!("{name}: {shape}, WEBSOCKET_MANAGER=redis"))
            } else if manager.trim().eq_ignore_ascii_case("redis") {
                RULE.fire(format!(
                    "{name}: WEBSOCKET_MANAGER is '{manager}'; Open WebUI compares it with 'redis' exactly, so no manager is used"
                ))
                .hint("write WEBSOCKET_MANAGER=redis (lowercase, no spaces)")
            } else if processes > 1 {
                RULE.fire(format!(
                    "{name}: {shape} and no Redis manager: events reach only the clients of the worker that emitted them"
                ))
                .hint("set WEBSOCKET_MANAGER=redis and WEBSOCKET_REDIS_URL=redis://<redis service>:6379/0")
            } else {
                RULE.pass(format!("{name}: one Socket.IO process ({shape}): no manager needed"))
            };
            r.subject(name.clone())
                .at(at)
                .evidence("workers", app.workers.value)
                .evidence("replicas", app.replicas.value)
                .evidence("manager", manager.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    const IMG: &str = "ghcr.io/open-webui/open-webui:main";

    #[test]
    fn workers_without_manager_fail() {
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[("UVICORN_WORKERS", "4")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[("UVICORN_WORKERS", "4"), ("WEBSOCKET_MANAGER", "redis")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[("WEBSOCKET_MANAGER", "Redis")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
        let d = deployment(vec![service("w", IMG, 2)]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
        let d = deployment(vec![with_command(
            service("w", IMG, 2),
            &["uvicorn", "main:app", "--workers", "3"],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["fail"]);
    }
}
