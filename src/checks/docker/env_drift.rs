//! `docker.env-drift`: the running containers' environment is what the files give today.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{DeploymentFacts, DockerScope, Role, Roles, recreate_command};
use crate::catalogue::{Rule, Severity};
use crate::config::{EnvVar, Service};
use crate::probe::docker::{ContainerFacts, env_map};
use crate::redact::{is_secret_key, mask_url_passwords};
use crate::report::CheckResult;

pub static ENV_DRIFT: Rule = Rule {
    id: "docker.env-drift",
    severity: Severity::Error,
    title: "Running environment matches the files",
    summary: "Compares each running container's environment (Config.Env) with the environment \
              its compose service gets from the files today; secret values are compared, never \
              shown.",
    why: "A container's environment is fixed when it is created. Editing .env or the compose \
          file and running `docker compose restart` (or nothing) keeps the old REDIS_URL, \
          WEBSOCKET_MANAGER or UVICORN_WORKERS: the fix the user made is not running, and the \
          symptoms stay. Only recreating the container applies it.",
    fix: "Recreate the service: `docker compose up -d --force-recreate SERVICE` (`restart` is \
          not enough).",
};

/// Keys whose drift changes how the websocket layer behaves: drift there fails, elsewhere it
/// warns.
pub(super) fn matters(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    k.contains("REDIS")
        || k.starts_with("WEBSOCKET_")
        || matches!(
            k.as_str(),
            "ENABLE_WEBSOCKET_SUPPORT"
                | "UVICORN_WORKERS"
                | "WEB_CONCURRENCY"
                | "CORS_ALLOW_ORIGIN"
        )
}

/// A value that must not be printed: a secret-named key, or one that carries a URL password.
pub(super) fn is_secret(key: &str, value: &str) -> bool {
    is_secret_key(key) || mask_url_passwords(value) != value
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Drift {
    /// The files set it, the container has another value.
    Differs,
    /// The files set it, the container does not have it (added after creation).
    Missing,
    /// The container has it, the files no longer set it (nor does the image).
    Removed,
}

pub fn judge(
    roles: &Roles<'_>,
    files: DeploymentFacts<'_>,
    scope: &DockerScope,
) -> Vec<CheckResult> {
    let deployment = match files {
        Ok(d) => d,
        Err(reason) => return vec![ENV_DRIFT.skip(reason)],
    };
    let mut results = Vec::new();
    for (c, role) in &roles.all {
        let Some(service_name) = c.service() else {
            if *role != Role::Other {
                results.push(
                    ENV_DRIFT
                        .skip(format!("{} has no compose service label", c.name()))
                        .subject(c.name()),
                );
            }
            continue;
        };
        if scope.service.as_deref().is_some_and(|s| s != service_name) && *role != Role::Redis {
            continue;
        }
        let Some(service) = deployment.service(service_name) else {
            results.push(
                ENV_DRIFT
                    .skip(format!(
                        "service '{service_name}' of {} is not in the compose files read",
                        c.name()
                    ))
                    .subject(c.name()),
            );
            continue;
        };
        results.push(judge_container(c, service, scope.project.as_deref()));
    }
    if results.is_empty() {
        results.push(ENV_DRIFT.skip("no container of a compose service to compare"));
    }
    results
}

fn judge_container(c: &ContainerFacts, service: &Service, project: Option<&str>) -> CheckResult {
    let running = c.env();
    let image_env = c.image_env.as_deref().map(env_map);
    let wanted: BTreeMap<&str, (&str, &EnvVar)> = service
        .environment
        .iter()
        .filter_map(|(k, v)| v.value.as_deref().map(|val| (k.as_str(), (val, v))))
        .collect();
    let mut drifts: Vec<(String, Drift)> = Vec::new();
    for (key, (value, _)) in &wanted {
        match running.get(*key) {
            Some(v) if v == value => {}
            Some(_) => drifts.push((key.to_string(), Drift::Differs)),
            None => drifts.push((key.to_string(), Drift::Missing)),
        }
    }
    // Keys only the container has: drift only when the image does not set them either (an
    // image's ENV lands in Config.Env too). Without the image's env this direction is unknown.
    if let Some(image_env) = &image_env {
        for (key, value) in &running {
            if wanted.contains_key(key.as_str()) {
                continue;
            }
            if image_env.get(key) == Some(value) {
                continue;
            }
            drifts.push((key.clone(), Drift::Removed));
        }
    }
    let name = c.name();
    let subject = format!("{} ({})", service.name, name);
    let compared = wanted.len();
    if drifts.is_empty() {
        return ENV_DRIFT
            .pass(format!(
                "{name} runs with the environment the files give service '{}' ({compared} variables compared)",
                service.name
            ))
            .subject(subject)
            .evidence("service", service.name.as_str())
            .evidence("compared", compared);
    }
    let mut details = Vec::new();
    let mut any_matters = false;
    for (key, drift) in &drifts {
        any_matters |= matters(key);
        let file_value = wanted.get(key.as_str()).map(|(v, _)| *v);
        let run_value = running.get(key).map(String::as_str);
        let secret =
            is_secret(key, file_value.unwrap_or("")) || is_secret(key, run_value.unwrap_or(""));
        let mut d = serde_json::Map::new();
        d.insert("key".into(), json!(key));
        d.insert(
            "change".into(),
            json!(match drift {
                Drift::Differs => "differs",
                Drift::Missing => "not in the running container",
                Drift::Removed => "no longer in the files",
            }),
        );
        if secret {
            d.insert("secret".into(), json!(true));
        } else {
            if let Some(v) = run_value {
                d.insert("running".into(), json!(v));
            }
            if let Some(v) = file_value {
                d.insert("files".into(), json!(v));
            }
        }
        if let Some(loc) = wanted
            .get(key.as_str())
            .and_then(|(_, var)| var.span.as_ref())
        {
            d.insert("location".into(), json!(loc.location().to_string()));
        }
        details.push(Value::Object(d));
    }
    let keys: Vec<&str> = drifts.iter().map(|(k, _)| k.as_str()).collect();
    let location = drifts
        .iter()
        .find_map(|(k, _)| wanted.get(k.as_str()).and_then(|(_, v)| v.span.as_ref()))
        .map(|s| s.location());
    let message = format!(
        "{name} was not recreated after a config change: {} differ{} from the files ({})",
        keys.len(),
        if keys.len() == 1 { "s" } else { "" },
        keys.join(", ")
    );
    let result = if any_matters {
        ENV_DRIFT.fire(message)
    } else {
        ENV_DRIFT.warn(message)
    };
    result
        .subject(subject)
        .at(location)
        .hint(recreate_command(project, &service.name))
        .evidence("service", service.name.as_str())
        .evidence("compared", compared)
        .evidence("drift", Value::Array(details))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::fixtures;
    use crate::config::{Deployment, EnvSource, Span};
    use crate::report::Status;

    fn var(value: &str, line: u32) -> EnvVar {
        EnvVar {
            value: Some(value.to_string()),
            raw: Some(value.to_string()),
            span: Some(Span::new("docker-compose.yml", line, 7)),
            source: EnvSource::Environment,
            shadowed: Vec::new(),
        }
    }

    /// The app service exactly as the recorded container was created.
    fn app_service() -> Service {
        let mut s = Service {
            name: "app".into(),
            ..Service::default()
        };
        for (i, (k, v)) in [
            ("REDIS_URL", "redis://:s3cret-pass@redis:6379/0"),
            ("WEBSOCKET_MANAGER", "redis"),
            ("ENABLE_WEBSOCKET_SUPPORT", "true"),
            (
                "WEBSOCKET_REDIS_URL",
                "redis://:s3cret-pass@beagle-redis:6379/1",
            ),
            ("UVICORN_WORKERS", "2"),
            ("WEBUI_SECRET_KEY", "topsecret-key"),
        ]
        .iter()
        .enumerate()
        {
            s.environment.insert(k.to_string(), var(v, 10 + i as u32));
        }
        s
    }

    fn run(service: Service) -> Vec<CheckResult> {
        let obs = fixtures::observations(&["app"]);
        let roles = Roles::of(&obs, &DockerScope::default());
        let deployment = Deployment {
            project_name: "beagle".into(),
            services: vec![service],
            ..Deployment::default()
        };
        judge(
            &roles,
            Ok(&deployment),
            &DockerScope {
                service: None,
                project: Some("beagle".into()),
            },
        )
    }

    #[test]
    fn same_environment_passes() {
        let results = run(app_service());
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status, Status::Pass, "{:#?}", results[0]);
        assert_eq!(results[0].evidence["compared"], 6);
    }

    #[test]
    fn changed_redis_url_and_secret_fail_without_printing_secrets() {
        let mut s = app_service();
        s.environment.insert(
            "REDIS_URL".into(),
            var("redis://:s3cret-pass@beagle-redis:6379/0", 10),
        );
        s.environment
            .insert("WEBUI_SECRET_KEY".into(), var("rotated-key-value", 15));
        s.environment.insert("UVICORN_WORKERS".into(), var("4", 14));
        let results = run(s);
        let r = &results[0];
        assert_eq!(r.status, Status::Fail, "{r:#?}");
        assert_eq!(r.location.as_ref().map(|l| l.line), Some(Some(10)));
        assert_eq!(
            r.hint.as_deref(),
            Some("docker compose -p beagle up -d --force-recreate app")
        );
        let text = serde_json::to_string(&r).unwrap();
        for secret in ["s3cret-pass", "topsecret-key", "rotated-key-value"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let drift = r.evidence["drift"].as_array().unwrap();
        let keys: Vec<&str> = drift.iter().map(|d| d["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["REDIS_URL", "UVICORN_WORKERS", "WEBUI_SECRET_KEY"]);
        assert_eq!(drift[0]["secret"], true);
        assert_eq!(drift[1]["running"], "2");
        assert_eq!(drift[1]["files"], "4");
        assert_eq!(drift[2]["change"], "differs");
    }

    #[test]
    fn keys_added_or_removed_are_drift_but_image_env_is_not() {
        let mut s = app_service();
        s.environment.remove("ENABLE_WEBSOCKET_SUPPORT");
        s.environment.insert("NEW_FLAG".into(), var("1", 20));
        let results = run(s);
        let r = &results[0];
        assert_eq!(r.status, Status::Fail);
        let drift = r.evidence["drift"].as_array().unwrap();
        assert_eq!(drift.len(), 2, "{drift:#?}");
        assert_eq!(drift[0]["key"], "NEW_FLAG");
        assert_eq!(drift[0]["change"], "not in the running container");
        assert_eq!(drift[1]["key"], "ENABLE_WEBSOCKET_SUPPORT");
        assert_eq!(drift[1]["change"], "no longer in the files");
        // PATH and LANG come from the image and are not drift.
    }

    #[test]
    fn drift_in_unimportant_keys_only_warns() {
        let mut s = app_service();
        s.environment.insert("TZ".into(), var("UTC", 30));
        let results = run(s);
        assert_eq!(results[0].status, Status::Warn);
    }

    #[test]
    fn without_files_it_skips_with_the_reason() {
        let obs = fixtures::observations(&["app"]);
        let roles = Roles::of(&obs, &DockerScope::default());
        let results = judge(
            &roles,
            Err("no compose file in /srv/x".into()),
            &DockerScope::default(),
        );
        assert_eq!(results[0].status, Status::Skip);
        assert_eq!(results[0].message, "no compose file in /srv/x");
    }
}
