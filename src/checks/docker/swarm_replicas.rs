//! `docker.swarm-replicas`: every service of the stack runs the replicas it asks for, and when
//! it does not, the tasks' own error says why.

use std::collections::BTreeMap;

use bollard::models::{Service, Task, TaskState};
use serde_json::{Value, json};

use super::swarm::{StackService, services, stack_or_skip};
use super::{DeploymentFacts, DockerScope, Role};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::DockerObservations;
use crate::report::CheckResult;

pub static SWARM_REPLICAS: Rule = Rule {
    id: "docker.swarm-replicas",
    severity: Severity::Error,
    title: "Swarm services run their replicas",
    summary: "For each service of the stack (label com.docker.stack.namespace), compares the \
              tasks running with the replicas asked for, and reports the tasks' errors (\"No \
              such image\", \"task: non-zero exit (1)\", a command not found) when they fall \
              short.",
    why: "`docker stack deploy` returns as soon as the services are created; the tasks start \
          afterwards and may never run. A swarm keeps retrying (and `docker service ls` shows \
          0/1), the app answers 502 or its Redis URL resolves to nothing, and the reason is \
          only in `docker service ps --no-trunc`: an image that no node has (a swarm pulls from \
          a registry, it does not build), a command that is not in the image, a process that \
          exits, a placement constraint no node meets.",
    fix: "Read the task error: push the image to a registry the nodes can pull from (or load \
          it on every node), fix `command`/`entrypoint`, read `docker service logs SERVICE`; \
          then `docker stack deploy -c FILE STACK` again.",
};

/// How many task errors to show per service.
const ERRORS_SHOWN: usize = 3;

/// Replicas asked for: `Replicated.Replicas`; for `global`, the tasks the orchestrator wants
/// running (one per eligible node; `ServiceStatus.DesiredTasks` when the engine gave it).
/// None for jobs (they run to completion).
fn desired(service: &Service, tasks: &[&Task]) -> Option<u64> {
    if let Some(n) = service
        .service_status
        .as_ref()
        .and_then(|s| s.desired_tasks)
    {
        return Some(n);
    }
    let mode = service.spec.as_ref()?.mode.as_ref()?;
    if let Some(r) = &mode.replicated {
        return Some(r.replicas.unwrap_or(1).max(0) as u64);
    }
    if mode.global.is_some() {
        return Some(
            tasks
                .iter()
                .filter(|t| t.desired_state == Some(TaskState::RUNNING))
                .count() as u64,
        );
    }
    None
}

fn is_job(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|s| s.mode.as_ref())
        .is_some_and(|m| m.replicated_job.is_some() || m.global_job.is_some())
}

fn running(tasks: &[&Task]) -> u64 {
    tasks
        .iter()
        .filter(|t| {
            t.desired_state == Some(TaskState::RUNNING)
                && t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
        })
        .count() as u64
}

/// One distinct task error, with how many tasks had it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TaskError {
    text: String,
    state: String,
    exit_code: Option<i64>,
    count: usize,
}

/// The tasks' errors, newest first, each text once.
fn errors(tasks: &[&Task]) -> Vec<TaskError> {
    let mut sorted: Vec<&&Task> = tasks.iter().collect();
    let stamp = |t: &Task| {
        t.status
            .as_ref()
            .and_then(|s| s.timestamp.clone())
            .or_else(|| t.updated_at.clone())
            .unwrap_or_default()
    };
    sorted.sort_by_key(|t| std::cmp::Reverse(stamp(t)));
    let mut out: Vec<TaskError> = Vec::new();
    for t in sorted {
        let Some(status) = &t.status else { continue };
        let Some(text) = status
            .err
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            continue;
        };
        if let Some(seen) = out.iter_mut().find(|e| e.text == text) {
            seen.count += 1;
            continue;
        }
        out.push(TaskError {
            text: text.to_string(),
            state: status.state.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: status
                .container_status
                .as_ref()
                .and_then(|c| c.exit_code)
                .filter(|c| *c != 0),
            count: 1,
        });
    }
    out
}

/// What to do about a task error: each cause has its own fix. Texts from swarmkit
/// (`agent/exec/dockerapi`: "No such image", "task: non-zero exit (N)", "starting container
/// failed: …") and the scheduler ("no suitable node").
fn hint_for(error: &str, full_name: &str) -> String {
    let e = error.to_ascii_lowercase();
    if e.contains("no such image") || e.contains("pull access denied") {
        "the image is not on the node that got the task: a swarm pulls images, it does not \
         build them (`build:` is ignored by docker stack deploy); push it to a registry every \
         node can reach (`docker stack deploy --with-registry-auth`) or `docker load` it on \
         every node"
            .to_string()
    } else if e.contains("executable file not found") || e.contains("starting container failed") {
        format!(
            "the task's command cannot start in the image: check `command`/`entrypoint` of the \
             service in the stack file (`docker service ps --no-trunc {full_name}`)"
        )
    } else if e.contains("non-zero exit") {
        format!("the process exits: `docker service logs --tail 50 {full_name}` shows why")
    } else if e.contains("no suitable node") {
        "no node meets the service's `deploy.placement` constraints or resource reservations \
         (`docker node ls`, `docker node inspect`)"
            .to_string()
    } else {
        format!("`docker service ps --no-trunc {full_name}` shows every task's error")
    }
}

pub fn judge(
    obs: &DockerObservations,
    files: DeploymentFacts<'_>,
    scope: &DockerScope,
) -> Vec<CheckResult> {
    let swarm = match stack_or_skip(obs, &SWARM_REPLICAS) {
        Ok(s) => s,
        Err(skip) => return vec![*skip],
    };
    let mut by_service: BTreeMap<&str, Vec<&Task>> = BTreeMap::new();
    for t in &swarm.tasks {
        if let Some(id) = t.service_id.as_deref() {
            by_service.entry(id).or_default().push(t);
        }
    }
    let mut results: Vec<CheckResult> = services(swarm, scope)
        .iter()
        .map(|s| {
            let id = s.service.id.as_deref().unwrap_or("");
            let tasks = by_service.get(id).map(Vec::as_slice).unwrap_or(&[]);
            judge_service(s, tasks, files.clone())
        })
        .collect();
    for e in &swarm.errors {
        results.push(
            SWARM_REPLICAS
                .fail(format!("the engine did not answer everything: {e}"))
                .evidence("error", e.as_str()),
        );
    }
    results
}

fn judge_service(s: &StackService<'_>, tasks: &[&Task], files: DeploymentFacts<'_>) -> CheckResult {
    let name = &s.full_name;
    // The service's `deploy.replicas` (else its key) in the stack file, when it was read.
    let location = files.ok().and_then(|d| d.service(&s.name)).and_then(|f| {
        f.replicas
            .as_ref()
            .and_then(|r| r.location())
            .or_else(|| f.location())
    });
    let base = |r: CheckResult| {
        r.subject(name.clone())
            .at(location.clone())
            .evidence("service", s.name.as_str())
            .evidence("role", s.role.as_str())
    };
    if is_job(s.service) {
        return base(SWARM_REPLICAS.skip(format!(
            "{name} is a job (replicated-job/global-job): it runs to completion, not as replicas"
        )));
    }
    let Some(want) = desired(s.service, tasks) else {
        return base(SWARM_REPLICAS.skip(format!("{name}: the engine gave no service mode")));
    };
    let have = running(tasks);
    let errs = errors(tasks);
    let shown: Vec<Value> = errs
        .iter()
        .take(ERRORS_SHOWN)
        .map(|e| {
            let mut v = json!({"error": e.text, "state": e.state, "tasks": e.count});
            if let Some(code) = e.exit_code {
                v["exit_code"] = json!(code);
            }
            v
        })
        .collect();
    let counts = |r: CheckResult| {
        base(r)
            .evidence("desired", want)
            .evidence("running", have)
            .evidence("task_errors", Value::Array(shown.clone()))
    };
    if want == 0 {
        return counts(SWARM_REPLICAS.warn(format!(
            "{name} is scaled to 0 replicas: nothing answers for it"
        )))
        .hint(format!("docker service scale {name}=1"));
    }
    if have >= want {
        return counts(SWARM_REPLICAS.pass(format!("{name}: {have}/{want} replicas running")));
    }
    let message = match errs.first() {
        Some(e) => format!(
            "{name}: {have}/{want} replicas running; its tasks fail with: {}{}",
            e.text,
            match errs.len() {
                1 => String::new(),
                n => format!(
                    " (and {} other error{})",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            }
        ),
        None => format!(
            "{name}: {have}/{want} replicas running; no task reports an error yet (still \
             pulling or starting?)"
        ),
    };
    let hint = errs
        .first()
        .map(|e| hint_for(&e.text, name))
        .unwrap_or_else(|| format!("`docker service ps --no-trunc {name}`"));
    let r = if s.role == Role::Other {
        SWARM_REPLICAS.warn(message)
    } else {
        SWARM_REPLICAS.fail(message)
    };
    counts(r).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::fixtures;
    use crate::report::Status;

    fn by_subject<'a>(results: &'a [CheckResult], subject: &str) -> &'a CheckResult {
        results
            .iter()
            .find(|r| r.subject.as_deref() == Some(subject))
            .unwrap_or_else(|| panic!("no result about {subject}: {results:#?}"))
    }

    #[test]
    fn recorded_stack_replicas_and_task_errors() {
        let obs = fixtures::swarm_observations();
        let results = judge(&obs, Err("no files".into()), &DockerScope::default());
        assert_eq!(results.len(), 5, "{results:#?}");
        let app = by_subject(&results, "beaglestack_app");
        assert_eq!(app.status, Status::Pass, "{app:#?}");
        assert_eq!(app.message, "beaglestack_app: 2/2 replicas running");
        assert_eq!(app.evidence["role"], "app");
        let redis = by_subject(&results, "beaglestack_redis");
        assert_eq!(redis.status, Status::Pass);
        assert_eq!(redis.evidence["role"], "redis");
        let ghost = by_subject(&results, "beaglestack_ghost");
        // Neither app nor Redis: a warning, with the engine's own words.
        assert_eq!(ghost.status, Status::Warn, "{ghost:#?}");
        assert_eq!(
            ghost.message,
            "beaglestack_ghost: 0/1 replicas running; its tasks fail with: No such image: \
             wsdoctor-no-such-image:1"
        );
        assert!(ghost.hint.as_deref().unwrap().contains("registry"));
        assert_eq!(ghost.evidence["task_errors"][0]["tasks"], 4);
        let crash = by_subject(&results, "beaglestack_crash");
        assert!(
            crash.message.ends_with("task: non-zero exit (3)"),
            "{crash:#?}"
        );
        assert_eq!(crash.evidence["task_errors"][0]["exit_code"], 3);
        assert!(
            crash
                .hint
                .as_deref()
                .unwrap()
                .contains("docker service logs")
        );
        let bad = by_subject(&results, "beaglestack_bad");
        assert!(
            bad.message
                .contains("\"nosuchcmd\": executable file not found")
        );
        assert!(bad.hint.as_deref().unwrap().contains("command"));
    }

    #[test]
    fn a_failing_redis_service_fails() {
        let obs = fixtures::swarm_observations();
        // `--service ghost` makes the ghost the app: then its missing replicas fail.
        let scope = DockerScope {
            service: Some("ghost".into()),
            project: None,
        };
        let results = judge(&obs, Err("no files".into()), &scope);
        assert_eq!(
            by_subject(&results, "beaglestack_ghost").status,
            Status::Fail
        );
        assert_eq!(
            by_subject(&results, "beaglestack_app").evidence["role"],
            "other"
        );
    }

    #[test]
    fn not_in_swarm_mode_or_no_such_stack_skips_with_the_reason() {
        let obs = fixtures::swarm_observations_inactive();
        let results = judge(&obs, Err("no files".into()), &DockerScope::default());
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status, Status::Skip);
        assert!(
            results[0].message.contains("not in swarm mode"),
            "{results:#?}"
        );
        let mut obs = fixtures::swarm_observations();
        if let Some(s) = obs.swarm.as_mut() {
            s.namespace = "other".into();
            s.services.clear();
        }
        let results = judge(&obs, Err("no files".into()), &DockerScope::default());
        assert_eq!(
            results[0].message,
            "no swarm stack 'other' (label com.docker.stack.namespace=other); stacks on this \
             swarm: beaglestack"
        );
    }
}
