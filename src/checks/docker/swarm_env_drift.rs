//! `docker.swarm-env-drift`: each stack service's spec has the environment the stack file
//! gives it today.

use std::collections::BTreeMap;

use bollard::models::ServiceUpdateStatusStateEnum as UpdateState;
use serde_json::{Value, json};

use super::env_drift::{is_secret, matters};
use super::swarm::{StackService, deploy_command, services, stack_or_skip};
use super::{DeploymentFacts, DockerScope};
use crate::catalogue::{Rule, Severity};
use crate::config::{Deployment, EnvVar, Service};
use crate::probe::docker::DockerObservations;
use crate::report::CheckResult;

pub static SWARM_ENV_DRIFT: Rule = Rule {
    id: "docker.swarm-env-drift",
    severity: Severity::Error,
    title: "Swarm services run the stack file's environment",
    summary: "Compares each stack service's spec environment (TaskTemplate.ContainerSpec.Env) \
              with the environment the stack file gives that service today; secret values are \
              compared, never shown. A service whose last update paused or rolled back is \
              reported too: its tasks run the previous spec.",
    why: "A swarm service keeps the spec of the last `docker stack deploy`: editing the stack \
          file (REDIS_URL, WEBSOCKET_MANAGER, UVICORN_WORKERS) changes nothing until the stack \
          is deployed again, and an update that failed its health checks is rolled back to the \
          old environment (update_config.failure_action: rollback) without an error at the \
          prompt.",
    fix: "Deploy the file again: `docker stack deploy -c FILE STACK` (swarm then rolls the \
          tasks); when the spec already matches but the tasks do not, `docker service update \
          --force STACK_SERVICE`.",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drift {
    Differs,
    Missing,
    Removed,
}

pub fn judge(
    obs: &DockerObservations,
    files: DeploymentFacts<'_>,
    scope: &DockerScope,
) -> Vec<CheckResult> {
    let swarm = match stack_or_skip(obs, &SWARM_ENV_DRIFT) {
        Ok(s) => s,
        Err(skip) => return vec![*skip],
    };
    let deployment = match files {
        Ok(d) => d,
        Err(reason) => return vec![SWARM_ENV_DRIFT.skip(reason)],
    };
    let mut results = Vec::new();
    for s in services(swarm, scope) {
        let Some(service) = deployment.service(&s.name) else {
            results.push(
                SWARM_ENV_DRIFT
                    .skip(format!(
                        "service '{}' of {} is not in the stack file read",
                        s.name, s.full_name
                    ))
                    .subject(s.full_name.clone()),
            );
            continue;
        };
        results.push(judge_service(&s, service, deployment, &swarm.namespace));
    }
    results
}

fn judge_service(
    s: &StackService<'_>,
    service: &Service,
    deployment: &Deployment,
    stack: &str,
) -> CheckResult {
    let running = s.env();
    let wanted: BTreeMap<&str, (&str, &EnvVar)> = service
        .environment
        .iter()
        .filter_map(|(k, v)| v.value.as_deref().map(|val| (k.as_str(), (val, v))))
        .collect();
    // The spec holds only what the stack file set (the image's ENV is not in it), so a key
    // only the spec has was removed from the file.
    let mut drifts: Vec<(&str, Drift)> = Vec::new();
    for (key, (value, _)) in &wanted {
        match running.get(*key) {
            Some(v) if v == value => {}
            Some(_) => drifts.push((key, Drift::Differs)),
            None => drifts.push((key, Drift::Missing)),
        }
    }
    for key in running.keys() {
        if !wanted.contains_key(key.as_str()) {
            drifts.push((key, Drift::Removed));
        }
    }
    let full = &s.full_name;
    let compared = wanted.len();
    let deploy = deploy_command(&deployment.compose_files, stack);
    let base = |r: CheckResult| {
        r.subject(format!("{} ({full})", s.name))
            .evidence("service", s.name.as_str())
            .evidence("compared", compared)
    };
    // An update that paused or rolled back leaves the tasks on the previous spec.
    let update = s.service.update_status.as_ref();
    let stuck = update.and_then(|u| u.state).filter(|st| {
        matches!(
            st,
            UpdateState::PAUSED | UpdateState::ROLLBACK_PAUSED | UpdateState::ROLLBACK_COMPLETED
        )
    });
    if drifts.is_empty() {
        if let Some(state) = stuck {
            let why = update.and_then(|u| u.message.as_deref()).unwrap_or("");
            return base(SWARM_ENV_DRIFT.fail(format!(
                "{full}: the spec matches the stack file, but its last update is {state}{}: tasks may run the previous spec",
                if why.is_empty() { String::new() } else { format!(" ({why})") }
            )))
            .at(service.location())
            .hint(format!("docker service update --force {full}"))
            .evidence("update_state", state.to_string());
        }
        return base(SWARM_ENV_DRIFT.pass(format!(
            "{full} runs the environment the stack file gives service '{}' ({compared} variables compared)",
            s.name
        )));
    }
    let mut details = Vec::new();
    let mut any_matters = false;
    for (key, drift) in &drifts {
        any_matters |= matters(key);
        let file_value = wanted.get(key).map(|(v, _)| *v);
        let spec_value = running.get(*key).map(String::as_str);
        let secret =
            is_secret(key, file_value.unwrap_or("")) || is_secret(key, spec_value.unwrap_or(""));
        let mut d = serde_json::Map::new();
        d.insert("key".into(), json!(key));
        d.insert(
            "change".into(),
            json!(match drift {
                Drift::Differs => "differs",
                Drift::Missing => "not in the service spec",
                Drift::Removed => "no longer in the stack file",
            }),
        );
        if secret {
            d.insert("secret".into(), json!(true));
        } else {
            if let Some(v) = spec_value {
                d.insert("service".into(), json!(v));
            }
            if let Some(v) = file_value {
                d.insert("files".into(), json!(v));
            }
        }
        if let Some(span) = wanted.get(key).and_then(|(_, var)| var.span.as_ref()) {
            d.insert("location".into(), json!(span.location().to_string()));
        }
        details.push(Value::Object(d));
    }
    let keys: Vec<&str> = drifts.iter().map(|(k, _)| *k).collect();
    let location = drifts
        .iter()
        .find_map(|(k, _)| wanted.get(k).and_then(|(_, v)| v.span.as_ref()))
        .map(|s| s.location())
        .or_else(|| service.location());
    let message = format!(
        "{full} was not deployed again after the stack file changed: {} differ{} from the file ({})",
        keys.len(),
        if keys.len() == 1 { "s" } else { "" },
        keys.join(", ")
    );
    let r = if any_matters {
        SWARM_ENV_DRIFT.fail(message)
    } else {
        SWARM_ENV_DRIFT.warn(message)
    };
    base(r)
        .at(location)
        .hint(deploy)
        .evidence("drift", Value::Array(details))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::fixtures;
    use crate::config::{EnvSource, Span};
    use crate::report::Status;

    fn var(value: &str, line: u32) -> EnvVar {
        EnvVar {
            value: Some(value.to_string()),
            raw: Some(value.to_string()),
            span: Some(Span::new("stack.yml", line, 7)),
            source: EnvSource::Environment,
            shadowed: Vec::new(),
        }
    }

    /// The stack file the recorded stack was deployed from (its `app` and `redis`).
    fn stack_file(app_env: &[(&str, &str)]) -> Deployment {
        let mut app = Service {
            name: "app".into(),
            ..Service::default()
        };
        for (i, (k, v)) in app_env.iter().enumerate() {
            app.environment.insert(k.to_string(), var(v, 8 + i as u32));
        }
        Deployment {
            project_name: "beaglestack".into(),
            compose_files: vec!["stack.yml".into()],
            services: vec![
                app,
                Service {
                    name: "redis".into(),
                    ..Service::default()
                },
            ],
            ..Deployment::default()
        }
    }

    const RECORDED: [(&str, &str); 4] = [
        ("REDIS_URL", "redis://:s3cret-pass@redis:6379/0"),
        ("WEBSOCKET_MANAGER", "redis"),
        ("UVICORN_WORKERS", "1"),
        ("WEBUI_SECRET_KEY", "topsecret-key"),
    ];

    fn result_for<'a>(results: &'a [CheckResult], service: &str) -> &'a CheckResult {
        results
            .iter()
            .find(|r| r.evidence.get("service").and_then(Value::as_str) == Some(service))
            .unwrap_or_else(|| panic!("no result for {service}: {results:#?}"))
    }

    #[test]
    fn the_recorded_stack_matches_its_file() {
        let obs = fixtures::swarm_observations();
        let d = stack_file(&RECORDED);
        let results = judge(&obs, Ok(&d), &DockerScope::default());
        let app = result_for(&results, "app");
        assert_eq!(app.status, Status::Pass, "{app:#?}");
        assert_eq!(app.evidence["compared"], 4);
        assert_eq!(result_for(&results, "redis").status, Status::Pass);
        // Services of the stack that the file read does not have are said, not guessed.
        let ghost = results
            .iter()
            .find(|r| r.subject.as_deref() == Some("beaglestack_ghost"))
            .unwrap();
        assert_eq!(ghost.status, Status::Skip);
    }

    #[test]
    fn a_changed_file_is_drift_and_secrets_stay_hidden() {
        let obs = fixtures::swarm_observations();
        let d = stack_file(&[
            ("REDIS_URL", "redis://:n3w-pass@redis:6379/1"),
            ("WEBSOCKET_MANAGER", "redis"),
            ("UVICORN_WORKERS", "4"),
            ("WEBUI_SECRET_KEY", "topsecret-key"),
        ]);
        let results = judge(&obs, Ok(&d), &DockerScope::default());
        let app = result_for(&results, "app");
        assert_eq!(app.status, Status::Fail, "{app:#?}");
        assert_eq!(
            app.message,
            "beaglestack_app was not deployed again after the stack file changed: 2 differ \
             from the file (REDIS_URL, UVICORN_WORKERS)"
        );
        assert_eq!(
            app.hint.as_deref(),
            Some("docker stack deploy -c stack.yml beaglestack")
        );
        assert_eq!(app.location.as_ref().and_then(|l| l.line), Some(8));
        let text = serde_json::to_string(app).unwrap();
        for secret in ["s3cret-pass", "n3w-pass", "topsecret-key"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let drift = app.evidence["drift"].as_array().unwrap();
        assert_eq!(drift[0]["secret"], true);
        assert_eq!(drift[1]["service"], "1");
        assert_eq!(drift[1]["files"], "4");
    }

    #[test]
    fn keys_added_or_removed_and_unimportant_drift() {
        let obs = fixtures::swarm_observations();
        let mut env: Vec<(&str, &str)> = RECORDED.to_vec();
        env.push(("TZ", "UTC"));
        let results = judge(&obs, Ok(&stack_file(&env)), &DockerScope::default());
        let app = result_for(&results, "app");
        assert_eq!(app.status, Status::Warn, "{app:#?}");
        assert_eq!(
            app.evidence["drift"][0]["change"],
            "not in the service spec"
        );
        let env: Vec<(&str, &str)> = RECORDED[..3].to_vec();
        let results = judge(&obs, Ok(&stack_file(&env)), &DockerScope::default());
        let app = result_for(&results, "app");
        assert_eq!(app.evidence["drift"][0]["key"], "WEBUI_SECRET_KEY");
        assert_eq!(
            app.evidence["drift"][0]["change"],
            "no longer in the stack file"
        );
    }
}
