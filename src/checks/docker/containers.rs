//! `docker.containers`: the deployment's containers are there, running, healthy, and not in a
//! restart loop.

use std::collections::BTreeSet;

use bollard::models::{ContainerStateStatusEnum as State, HealthStatusEnum as Health};
use serde_json::{Value, json};

use super::{Role, Roles, parse_redis_url, redis_urls};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::{ContainerFacts, DockerObservations, PROJECT_LABEL, Selection};
use crate::report::CheckResult;

pub static CONTAINERS: Rule = Rule {
    id: "docker.containers",
    severity: Severity::Error,
    title: "Containers running and healthy",
    summary: "Finds the deployment's containers (compose project label, or --container) and \
              reports each one's state, health, restart count and last exit code; the app and \
              the Redis container are recognised by their env, image and command.",
    why: "A Socket.IO app whose Redis container is stopped, unhealthy or crash-looping fails \
          every websocket connection (`Error 111 connecting to redis:6379`), while the app \
          itself may look up. Docker restarts a crashing container with a growing back-off, so \
          a restart loop shows as state `restarting` and a climbing RestartCount; its last log \
          lines say why.",
    fix: "Read the last log lines in the evidence (`docker logs --tail 50 NAME`), fix the cause \
          (often a wrong REDIS_URL or password), then `docker compose up -d`. For `unhealthy`, \
          `docker inspect --format '{{json .State.Health}}' NAME` shows the failing probe.",
};

/// A container that restarted this many times and has been up for less than
/// [`FRESH_SECS`] is looping, even when caught in its brief `running` window (Docker
/// resets its restart back-off only after a run of 10 s).
const LOOP_RESTARTS: i64 = 2;
const FRESH_SECS: i64 = 60;

pub fn judge(obs: &DockerObservations, roles: &Roles<'_>) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for e in &obs.errors {
        results.push(
            CONTAINERS
                .fail(format!("the engine did not answer everything: {e}"))
                .evidence("error", e.as_str()),
        );
    }
    for name in &obs.missing {
        results.push(
            CONTAINERS
                .fail(format!("no container named '{name}' on this engine"))
                .subject(name.as_str())
                .hint("`docker ps -a` lists the containers; give --container the name or id")
                .evidence("state", "missing"),
        );
    }
    if obs.containers.is_empty() && obs.missing.is_empty() {
        if let Selection::Project(project) = &obs.selection {
            results.push(no_project(obs, project));
        }
        return results;
    }
    if let Some(service) = &roles.service_missing {
        results.push(
            CONTAINERS
                .fail(format!("no container of service '{service}'"))
                .subject(service.as_str())
                .hint(format!("`docker compose up -d {service}`"))
                .evidence("state", "missing"),
        );
    }
    for (c, role) in &roles.all {
        results.push(judge_one(c, *role, obs.observed_at));
    }
    if roles.apps.is_empty() && roles.service_missing.is_none() {
        results.push(
            CONTAINERS
                .warn(
                    "no app container recognised (none has REDIS_URL, WEBSOCKET_REDIS_URL or \
                     WEBSOCKET_MANAGER in its env, nor an open-webui/chainlit image)",
                )
                .subject("app")
                .hint("name the app's compose service with --service"),
        );
    }
    if roles.redis.is_empty() {
        // A managed Redis (a dotted host name or an IP) is fine; a bare name means a
        // container was meant and is not in this project.
        let bare: BTreeSet<String> = roles
            .apps
            .iter()
            .flat_map(|a| redis_urls(a))
            .filter_map(|(_, u)| parse_redis_url(&u))
            .map(|p| p.host)
            .filter(|h| !h.contains('.') && !h.contains(':') && h != "localhost")
            .collect();
        if !bare.is_empty() {
            let hosts: Vec<&str> = bare.iter().map(String::as_str).collect();
            results.push(
                CONTAINERS
                    .fail(format!(
                        "no Redis container, but the app's Redis URL names host '{}'",
                        hosts.join("', '")
                    ))
                    .subject("redis")
                    .hint("start the Redis service (`docker compose up -d redis`) or check the project name")
                    .evidence("url_hosts", hosts),
            );
        }
    }
    results
}

fn no_project(obs: &DockerObservations, project: &str) -> CheckResult {
    let seen: BTreeSet<&str> = obs
        .all_containers
        .iter()
        .filter_map(|c| c.labels.as_ref()?.get(PROJECT_LABEL).map(String::as_str))
        .collect();
    let seen: Vec<&str> = seen.into_iter().collect();
    let hint = if seen.is_empty() {
        "start the deployment (`docker compose up -d`), or name hand-started containers with --container".to_string()
    } else {
        format!(
            "compose projects on this engine: {}; pick one with --project NAME",
            seen.join(", ")
        )
    };
    CONTAINERS
        .fail(format!(
            "no container of compose project '{project}' (label {PROJECT_LABEL}={project})"
        ))
        .subject(project)
        .hint(hint)
        .evidence("project", project)
        .evidence("projects_seen", seen)
}

/// Seconds since the epoch of an RFC 3339 time as the engine writes it.
fn epoch_secs(t: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(t).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

fn judge_one(c: &ContainerFacts, role: Role, now: i64) -> CheckResult {
    let name = c.name();
    let state = c.inspect.state.clone().unwrap_or_default();
    let status = state.status.unwrap_or(State::EMPTY);
    let health = state.health.as_ref().and_then(|h| h.status);
    let restarts = c.inspect.restart_count.unwrap_or(0);
    let exit_code = state.exit_code.unwrap_or(0);
    let started = state.started_at.as_deref().and_then(epoch_secs);
    let uptime = started.map(|s| now - s).filter(|u| *u >= 0);
    let health_text = match health {
        Some(Health::HEALTHY) => "healthy",
        Some(Health::UNHEALTHY) => "unhealthy",
        Some(Health::STARTING) => "starting",
        _ => "none",
    };
    let policy = c
        .inspect
        .host_config
        .as_ref()
        .and_then(|h| h.restart_policy.as_ref())
        .and_then(|p| p.name)
        .map(|n| n.to_string())
        .unwrap_or_default();
    let mut describe = format!("{name} ({}): {status}", role.as_str());
    if health.is_some_and(|h| !matches!(h, Health::NONE | Health::EMPTY)) {
        describe.push_str(&format!(", {health_text}"));
    }
    if restarts > 0 {
        describe.push_str(&format!(
            ", {restarts} restarts, last exit code {exit_code}"
        ));
    }
    let looping = status == State::RESTARTING
        || (status == State::RUNNING
            && restarts >= LOOP_RESTARTS
            && uptime.is_some_and(|u| u < FRESH_SECS));
    let key_role = matches!(role, Role::App | Role::Redis);
    let result = if looping {
        CONTAINERS
            .fail(format!("{describe}: restart loop"))
            .hint(format!(
                "the container keeps crashing; its last log lines are in the evidence (`docker logs --tail 50 {name}`)"
            ))
    } else if state.oom_killed == Some(true) && status != State::RUNNING {
        CONTAINERS
            .fail(format!("{describe}: killed for lack of memory (OOMKilled)"))
            .hint("raise the memory limit (deploy.resources.limits.memory) or lower the load")
    } else {
        match status {
            State::RUNNING if health == Some(Health::UNHEALTHY) => CONTAINERS
                .fail(format!("{describe}: its healthcheck fails"))
                .hint(format!(
                    "`docker inspect --format '{{{{json .State.Health}}}}' {name}` shows the failing probe"
                )),
            State::RUNNING if health == Some(Health::STARTING) => {
                CONTAINERS.warn(format!("{describe}: healthcheck not passed yet"))
            }
            State::RUNNING if restarts > 0 => CONTAINERS
                .warn(format!("{describe}: running now, but it has crashed before"))
                .hint(format!("`docker logs --tail 50 {name}` shows why it stopped")),
            State::RUNNING => CONTAINERS.pass(describe.clone()),
            State::EXITED if exit_code == 0 && !key_role => {
                CONTAINERS.pass(format!("{describe} with code 0 (a one-shot job)"))
            }
            State::CREATED if state.error.as_deref().is_some_and(|e| !e.is_empty()) => {
                CONTAINERS
                    .fail(format!(
                        "{describe}: it could not start: {}",
                        state.error.as_deref().unwrap_or("")
                    ))
                    .hint(format!("fix the cause, then `docker start {name}`"))
            }
            State::EXITED => CONTAINERS
                .fail(format!("{describe} (exit code {exit_code})"))
                .hint(format!(
                    "`docker logs --tail 50 {name}` shows why; then `docker compose up -d`"
                )),
            _ if !key_role && status == State::CREATED => {
                CONTAINERS.warn(format!("{describe}: never started"))
            }
            _ => CONTAINERS
                .fail(format!("{describe}: not running"))
                .hint("`docker compose up -d`"),
        }
    };
    let mut result = result
        .subject(name)
        .evidence("role", role.as_str())
        .evidence("state", status.to_string())
        .evidence("health", health_text)
        .evidence("restart_count", restarts)
        .evidence("exit_code", exit_code)
        .evidence("restart_policy", policy)
        .evidence(
            "image",
            c.inspect
                .config
                .as_ref()
                .and_then(|cfg| cfg.image.clone())
                .unwrap_or_default(),
        );
    if let Some(service) = c.service() {
        result = result.evidence("service", service);
    }
    if let Some(s) = &state.started_at {
        result = result.evidence("started_at", s.as_str());
    }
    if let Some(e) = state.error.as_deref().filter(|e| !e.is_empty()) {
        result = result.evidence("error", e);
    }
    if let Some(out) = state
        .health
        .as_ref()
        .and_then(|h| h.log.as_ref())
        .and_then(|l| l.last())
        .and_then(|r| r.output.as_deref())
    {
        result = result.evidence("last_health_output", out.trim());
    }
    if let Some(lines) = &c.log_tail {
        result = result.evidence(
            "last_logs",
            Value::Array(lines.iter().map(|l| json!(l)).collect()),
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::{DockerScope, fixtures};
    use crate::report::Status;

    fn run(names: &[&str]) -> Vec<CheckResult> {
        let obs = fixtures::observations(names);
        let roles = Roles::of(&obs, &DockerScope::default());
        judge(&obs, &roles)
    }

    fn by_subject<'a>(results: &'a [CheckResult], subject: &str) -> &'a CheckResult {
        results
            .iter()
            .find(|r| r.subject.as_deref() == Some(subject))
            .unwrap_or_else(|| panic!("no result for {subject}: {results:#?}"))
    }

    #[test]
    fn running_app_and_redis_pass_with_roles() {
        let results = run(&["app", "beagle-redis"]);
        assert_eq!(results.len(), 2, "{results:#?}");
        let app = by_subject(&results, "beagle-app-1");
        assert_eq!(app.status, Status::Pass);
        assert_eq!(app.evidence["role"], "app");
        assert_eq!(app.evidence["health"], "none");
        let redis = by_subject(&results, "beagle-beagle-redis-1");
        assert_eq!(redis.status, Status::Pass);
        assert_eq!(redis.evidence["role"], "redis");
    }

    #[test]
    fn restarting_container_is_a_loop_with_logs() {
        let obs = {
            let mut o = fixtures::observations(&["loop"]);
            o.containers[0].log_tail = Some(vec!["Error 111 connecting to redis:6379.".into()]);
            o
        };
        let roles = Roles::of(&obs, &DockerScope::default());
        let results = judge(&obs, &roles);
        let r = by_subject(&results, "beagle-loop-1");
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.contains("restart loop"), "{}", r.message);
        assert_eq!(r.evidence["exit_code"], 3);
        assert_eq!(r.evidence["state"], "restarting");
        assert_eq!(r.evidence["restart_policy"], "always");
        assert_eq!(
            r.evidence["last_logs"][0],
            "Error 111 connecting to redis:6379."
        );
    }

    #[test]
    fn container_that_could_not_start_fails_with_the_engine_error() {
        let results = run(&["late"]);
        let r = by_subject(&results, "beagle-late-1");
        assert_eq!(r.status, Status::Warn.max(r.status));
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.message.contains("port is already allocated"),
            "{}",
            r.message
        );
    }

    #[test]
    fn empty_project_lists_the_projects_seen() {
        let mut obs = fixtures::observations(&[]);
        obs.selection = Selection::Project("nope".into());
        let roles = Roles::of(&obs, &DockerScope::default());
        let results = judge(&obs, &roles);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status, Status::Fail);
        assert_eq!(results[0].evidence["projects_seen"][0], "beagle");
    }
}
