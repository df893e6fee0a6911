//! `docker.network-shared`: the app and its Redis are on a common network.

use super::{Roles, network_mode, networks, redis_for, same_netns, shared_networks};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::{ContainerFacts, DockerObservations, PROJECT_LABEL, Selection};
use crate::report::CheckResult;

pub static NETWORK_SHARED: Rule = Rule {
    id: "docker.network-shared",
    severity: Severity::Error,
    title: "App and Redis share a network",
    summary: "Compares the networks the running app and Redis containers are attached to \
              (NetworkSettings.Networks).",
    why: "Containers reach each other only over a network they both joined; compose puts a \
          service on `default` only when it lists no networks, so giving Redis a `backend` \
          network and forgetting to add it to the app leaves the app with `Name or service not \
          known` / `Connection refused` for Redis, whatever REDIS_URL says.",
    fix: "List a network of the Redis service under the app service's `networks:` (keep the \
          ones it already has, `default` included), then `docker compose up -d APP`.",
};

pub fn judge(obs: &DockerObservations, roles: &Roles<'_>) -> Vec<CheckResult> {
    if roles.apps.is_empty() {
        return vec![NETWORK_SHARED.skip("no app container found (see docker.containers)")];
    }
    if roles.redis.is_empty() {
        return vec![
            NETWORK_SHARED.skip("no Redis container in the deployment (see docker.containers)"),
        ];
    }
    let project = match &obs.selection {
        Selection::Project(p) => Some(p.as_str()),
        Selection::Names(_) => None,
    };
    roles
        .apps
        .iter()
        .map(|app| {
            let redis = redis_for(app, &roles.redis).unwrap_or(roles.redis[0]);
            judge_pair(app, redis, project)
        })
        .collect()
}

/// The compose key of an engine network: `beagle_backend` → `backend` in project `beagle`;
/// None for a network the project did not create (it must be declared `external`).
fn compose_key(network: &str, container: &ContainerFacts, project: Option<&str>) -> Option<String> {
    let project = project.or_else(|| container.label(PROJECT_LABEL))?;
    network
        .strip_prefix(&format!("{project}_"))
        .map(str::to_string)
}

fn judge_pair(app: &ContainerFacts, redis: &ContainerFacts, project: Option<&str>) -> CheckResult {
    let subject = format!("{} -> {}", app.name(), redis.name());
    let app_nets: Vec<String> = networks(app).into_keys().collect();
    let redis_nets: Vec<String> = networks(redis).into_keys().collect();
    let base = |r: CheckResult| {
        r.subject(subject.as_str())
            .evidence("app", app.name())
            .evidence("redis", redis.name())
            .evidence("app_networks", app_nets.clone())
            .evidence("redis_networks", redis_nets.clone())
    };
    if same_netns(app, redis) {
        return base(NETWORK_SHARED.pass(format!(
            "{} and {} share a network namespace (network_mode {} / {}): Redis is on localhost",
            app.name(),
            redis.name(),
            network_mode(app),
            network_mode(redis)
        )));
    }
    let shared = shared_networks(app, redis);
    if !shared.is_empty() {
        return base(NETWORK_SHARED.pass(format!(
            "{} and {} share network {}",
            app.name(),
            redis.name(),
            shared.join(", ")
        )))
        .evidence("shared", shared);
    }
    let app_service = app.service().unwrap_or(app.name()).to_string();
    if network_mode(app) == "host" {
        return base(NETWORK_SHARED.fail(format!(
            "{} uses network_mode: host and {} is on {}: the app reaches Redis only through a port published on the host",
            app.name(),
            redis.name(),
            redis_nets.join(", ")
        )))
        .hint(format!(
            "publish Redis on 127.0.0.1 and use redis://…@127.0.0.1:PORT, or drop network_mode: host from {app_service}"
        ));
    }
    // The lines that would join them: the app keeps its networks and gains Redis's.
    let target = redis_nets
        .iter()
        .find(|n| n.as_str() != super::DEFAULT_BRIDGE)
        .or(redis_nets.first())
        .cloned()
        .unwrap_or_default();
    let mut keys: Vec<String> = app_nets
        .iter()
        .map(|n| compose_key(n, app, project).unwrap_or_else(|| n.clone()))
        .collect();
    let target_key = compose_key(&target, redis, project);
    keys.push(target_key.clone().unwrap_or_else(|| target.clone()));
    let mut lines = format!(
        "services:\n  {app_service}:\n    networks: [{}]",
        keys.join(", ")
    );
    if target_key.is_none() {
        lines.push_str(&format!("\nnetworks:\n  {target}:\n    external: true"));
    }
    base(NETWORK_SHARED.fire(format!(
        "{} ({}) and {} ({}) share no network: the app cannot reach Redis",
        app.name(),
        if app_nets.is_empty() {
            "no network".to_string()
        } else {
            app_nets.join(", ")
        },
        redis.name(),
        if redis_nets.is_empty() {
            "no network".to_string()
        } else {
            redis_nets.join(", ")
        },
    )))
    .hint(format!(
        "join them in the compose file, then `docker compose up -d {app_service}`:\n{lines}"
    ))
    .evidence("compose_lines", lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::{DockerScope, fixtures};
    use crate::report::Status;

    #[test]
    fn recorded_app_shares_backend_with_redis() {
        let obs = fixtures::observations(&["app", "beagle-redis"]);
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status, Status::Pass, "{:#?}", results[0]);
        assert_eq!(results[0].evidence["shared"][0], "beagle_backend");
    }

    #[test]
    fn app_off_the_redis_network_gets_the_compose_lines() {
        let mut obs = fixtures::observations(&["app", "beagle-redis"]);
        // Take the app off `beagle_backend`, as if its compose service listed no networks.
        if let Some(n) = obs.containers[0]
            .inspect
            .network_settings
            .as_mut()
            .and_then(|s| s.networks.as_mut())
        {
            n.remove("beagle_backend");
        }
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        let r = &results[0];
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.evidence["app_networks"][0], "beagle_default");
        assert_eq!(r.evidence["redis_networks"][0], "beagle_backend");
        assert_eq!(
            r.evidence["compose_lines"],
            "services:\n  app:\n    networks: [default, backend]"
        );
    }

    #[test]
    fn no_redis_container_is_a_skip() {
        let obs = fixtures::observations(&["app"]);
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results[0].status, Status::Skip);
    }
}
