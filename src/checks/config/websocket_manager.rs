//! `config.websocket-manager`: several Socket.IO processes need a shared Redis manager.

use super::{Facts, app_evidence, no_apps};
use crate::apps::EnableRule;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.websocket-manager",
    severity: Severity::Error,
    title: "Several workers or replicas share a Redis manager",
    summary: "An app with more than one Socket.IO process (workers per container x replicas) \
              uses a Redis manager: Open WebUI with `WEBSOCKET_MANAGER=redis` (exactly, \
              lowercase); Flask-SocketIO, python-socketio and Node socket.io with a manager \
              set in their code (wsdoctor looks for the URL in MESSAGE_QUEUE / REDIS_URL); \
              Chainlit has none, so it runs one process.",
    why: "Each worker process keeps its own Socket.IO state. Without a shared manager an event \
          emitted by one worker reaches only the clients connected to that worker: measured on \
          python-socketio with 3 workers, a broadcast reached 3 of 12 clients, while every \
          handshake succeeded. Open WebUI enables python-socketio's AsyncRedisManager only when \
          WEBSOCKET_MANAGER is exactly `redis` (0.12.4 socket/main.py:102).",
    fix: "Open WebUI: set `WEBSOCKET_MANAGER=redis` and `WEBSOCKET_REDIS_URL` (or REDIS_URL). \
          Flask-SocketIO: `SocketIO(app, message_queue=os.environ['REDIS_URL'])`. \
          python-socketio: `client_manager=socketio.AsyncRedisManager(url)`. Node: \
          `io.adapter(createAdapter(pub, sub))`. Or run a single process.",
};

fn plural(n: u32, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .apps
        .iter()
        .map(|app| {
            let name = &app.service.name;
            let label = app.profile.name;
            let processes = app.processes();
            let shape = format!(
                "{} x {}",
                plural(app.workers.value, "worker"),
                plural(app.replicas.value, "replica")
            );
            let workers_from = if app.workers.defaulted {
                String::new()
            } else {
                format!(" ({} from {})", plural(app.workers.value, "worker"), app.workers.source)
            };
            let at = app
                .manager
                .span
                .as_ref()
                .or(app.workers.span.as_ref())
                .or(app.replicas.span.as_ref());
            let manager = app.manager.value.as_str();
            let r = match &app.profile.manager.enable {
                EnableRule::VarEquals { var, value } => {
                    if app.uses_redis_manager() {
                        RULE.pass(format!("{name}: {shape}, {var}={value}"))
                    } else if manager.trim().eq_ignore_ascii_case(value) {
                        RULE.fire(format!(
                            "{name}: {var} is '{manager}'; {label} compares it with '{value}' exactly, so no manager is used"
                        ))
                        .hint(format!("write {var}={value} (lowercase, no spaces)"))
                    } else if processes > 1 {
                        RULE.fire(format!(
                            "{name}: {shape}{workers_from} and no Redis manager: events reach only the clients of the worker that emitted them"
                        ))
                        .hint(format!("set {var}={value} and WEBSOCKET_REDIS_URL=redis://<redis service>:6379/0"))
                    } else {
                        RULE.pass(format!("{name}: one Socket.IO process ({shape}): no manager needed"))
                    }
                }
                // Chainlit emits to one session at a time (socket.py emit_fn: `to=sid`): with
                // no manager to share, several replicas only need each client pinned to one
                // (config.polling-multi-worker says so).
                EnableRule::Never => {
                    if processes > 1 {
                        RULE.skip(format!(
                            "{name}: {label} has no Redis manager and keeps each session in one process ({shape}): replicas need sticky sessions, not a manager (see config.polling-multi-worker)"
                        ))
                    } else {
                        RULE.pass(format!("{name}: one {label} process: no manager needed"))
                    }
                }
                EnableRule::InCode { how } => {
                    let vars: Vec<&str> = app.profile.manager.url_vars.iter().map(|u| u.name).collect();
                    if processes <= 1 {
                        RULE.pass(format!("{name}: one Socket.IO process ({shape}): no manager needed"))
                    } else if let Some(url) = &app.redis_url {
                        RULE.pass(format!(
                            "{name}: {shape}; {} is set: assuming the app passes it to its manager ({how})",
                            url.source
                        ))
                    } else {
                        RULE.warn(format!(
                            "{name}: {label} with {shape}{workers_from} and no manager URL in its environment ({}): unless {how} names a Redis URL, events reach only the clients of the worker that emitted them",
                            vars.join(", ")
                        ))
                        .hint(format!("configure the manager ({how}) from {}=redis://<redis service>:6379/0, or run one process", vars.last().unwrap_or(&"REDIS_URL")))
                    }
                }
            };
            let mut r = r;
            if let Some(note) = &app.recognised.fallback {
                r.message.push_str(&format!(" ({note})"));
            }
            let r = r
                .subject(name.clone())
                .at(at.map(|s| s.location()).or_else(|| app.service.location()))
                .evidence("workers", app.workers.value)
                .evidence("workers_from", app.workers.source.clone())
                .evidence("replicas", app.replicas.value)
                .evidence("manager", manager.to_string());
            app_evidence(r, app)
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

    #[test]
    fn web_concurrency_is_not_open_webuis_worker_count() {
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[("WEB_CONCURRENCY", "4")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
        // An invalid UVICORN_WORKERS counts as 1 (env.py:461-464).
        let d = deployment(vec![with_env(
            service("w", IMG, 2),
            &[("UVICORN_WORKERS", "four")],
        )]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["pass"]);
        // …but WEB_CONCURRENCY is gunicorn's and uvicorn's default worker count.
        let d = deployment(vec![with_env(
            with_command(
                service("api", "python:3.12", 2),
                &["uvicorn", "app:sio_app", "--host", "0.0.0.0"],
            ),
            &[
                ("WEB_CONCURRENCY", "3"),
                ("ENABLE_WEBSOCKET_SUPPORT", "true"),
            ],
        )]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["fail"], "{r:#?}");
        assert!(r[0].message.contains("WEB_CONCURRENCY"), "{}", r[0].message);
    }

    #[test]
    fn apps_with_the_manager_in_code_warn_without_a_url() {
        let api = with_command(
            service("api", "python:3.12", 2),
            &[
                "sh",
                "-c",
                "pip install python-socketio uvicorn && hypercorn -w 2 app:app",
            ],
        );
        let d = deployment(vec![api.clone()]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["warn"]);
        let d = deployment(vec![with_env(
            api,
            &[("REDIS_URL", "redis://redis:6379/0")],
        )]);
        assert_eq!(statuses(&check(&Facts::new(&d, None))), ["pass"]);
    }

    #[test]
    fn an_unknown_app_name_falls_back_and_says_so() {
        let d = deployment(vec![with_command(
            service("rt", "example/rt:1", 2),
            &["gunicorn", "-w", "2", "app:app"],
        )]);
        let r = check(&Facts::with_app(&d, None, Some("django-channels")));
        assert_eq!(statuses(&r), ["warn"]);
        assert!(
            r[0].message.contains("no profile for 'django-channels'"),
            "{}",
            r[0].message
        );
        assert!(r[0].evidence.contains_key("fallback"));
    }
}
