//! `docker.swarm-network-shared`: the app's stack service and its Redis service join one
//! network, and the URL's host is a name of Redis there.

use super::swarm::{StackService, network_name, services, stack_or_skip};
use super::{DockerScope, Role, parse_redis_url};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::DockerObservations;
use crate::probe::swarm::SwarmFacts;
use crate::report::CheckResult;

pub static SWARM_NETWORK_SHARED: Rule = Rule {
    id: "docker.swarm-network-shared",
    severity: Severity::Error,
    title: "Swarm app and Redis services share an overlay network",
    summary: "The app's service and the Redis service of the stack are attached to a common \
              network (TaskTemplate.Networks), and the Redis URL's host is the Redis service's \
              name or an alias on it.",
    why: "Tasks reach other services only on networks they share: a stack service is known by \
          its stack-file name (an alias on each of its networks) and by STACK_SERVICE, and \
          nowhere else. An app on `frontend` with Redis on `backend` gets 'Name or service \
          not known' / 'Temporary failure in name resolution' for REDIS_URL, and Socket.IO \
          events stop crossing replicas. `container_name` and `links` do not exist in a stack \
          (docker stack deploy ignores them), so a URL naming one resolves to nothing.",
    fix: "Put both services on one overlay network in the stack file (`networks: [backend]` on \
          each, `backend: {driver: overlay}` at the top level) and use the Redis service's \
          name as the URL host; then `docker stack deploy -c FILE STACK`.",
};

/// The Redis host of an app service's URL (REDIS_URL, else WEBSOCKET_REDIS_URL).
fn url_host(app: &StackService<'_>) -> Option<(&'static str, String)> {
    let env = app.env();
    ["WEBSOCKET_REDIS_URL", "REDIS_URL"]
        .iter()
        .filter_map(|k| env.get(*k).map(|v| (*k, v)))
        .find_map(|(k, v)| parse_redis_url(v).map(|p| (k, p.host)))
}

fn network_ids(s: &StackService<'_>) -> Vec<String> {
    s.networks()
        .iter()
        .filter_map(|n| n.target.clone())
        .collect()
}

pub fn judge(obs: &DockerObservations, scope: &DockerScope) -> Vec<CheckResult> {
    let swarm = match stack_or_skip(obs, &SWARM_NETWORK_SHARED) {
        Ok(s) => s,
        Err(skip) => return vec![*skip],
    };
    let all = services(swarm, scope);
    let apps: Vec<&StackService<'_>> = all.iter().filter(|s| s.role == Role::App).collect();
    let redis: Vec<&StackService<'_>> = all.iter().filter(|s| s.role == Role::Redis).collect();
    if apps.is_empty() {
        return vec![SWARM_NETWORK_SHARED.skip(format!(
            "no app service in stack '{}' (none has REDIS_URL, WEBSOCKET_REDIS_URL or \
             WEBSOCKET_MANAGER in its env; name it with --service)",
            swarm.namespace
        ))];
    }
    if redis.is_empty() {
        return vec![SWARM_NETWORK_SHARED.skip(format!(
            "no Redis service in stack '{}' (a Redis outside the stack is reached over the \
             network, not a stack network)",
            swarm.namespace
        ))];
    }
    apps.iter()
        .map(|app| judge_app(swarm, app, &redis))
        .collect()
}

fn judge_app(
    swarm: &SwarmFacts,
    app: &StackService<'_>,
    redis: &[&StackService<'_>],
) -> CheckResult {
    let host = url_host(app);
    // The Redis service the URL names on some network, else the only one there is.
    let named = host.as_ref().and_then(|(_, h)| {
        redis
            .iter()
            .find(|r| network_ids(r).iter().any(|id| r.names_on(id).contains(h)))
    });
    let target = named.or(if redis.len() == 1 {
        redis.first()
    } else {
        None
    });
    let Some(target) = target else {
        return SWARM_NETWORK_SHARED
            .skip(format!(
                "{}: several Redis services and the URL names none of them",
                app.full_name
            ))
            .subject(app.full_name.clone());
    };
    let app_nets = network_ids(app);
    let redis_nets = network_ids(target);
    let shared: Vec<&String> = app_nets.iter().filter(|n| redis_nets.contains(n)).collect();
    let names =
        |ids: &[String]| -> Vec<String> { ids.iter().map(|id| network_name(swarm, id)).collect() };
    let base = |r: CheckResult| {
        r.subject(format!("{} -> {}", app.full_name, target.full_name))
            .evidence("app_networks", names(&app_nets))
            .evidence("redis_networks", names(&redis_nets))
    };
    if shared.is_empty() {
        return base(SWARM_NETWORK_SHARED.fail(format!(
            "{} (networks: {}) and {} (networks: {}) share no network: the app cannot reach Redis",
            app.full_name,
            list(&names(&app_nets)),
            target.full_name,
            list(&names(&redis_nets)),
        )))
        .hint(format!(
            "attach both to one overlay network in the stack file (`networks: [backend]` on {} and {})",
            app.name, target.name
        ));
    }
    let shared_names: Vec<String> = shared.iter().map(|id| network_name(swarm, id)).collect();
    let on_shared: Vec<String> = shared.iter().flat_map(|id| target.names_on(id)).collect();
    match &host {
        Some((key, h)) if !on_shared.contains(h) => {
            let mut known = on_shared.clone();
            known.sort();
            known.dedup();
            base(SWARM_NETWORK_SHARED.fail(format!(
                "{} and {} share {}, but {key}'s host '{h}' is not a name of {} there ({})",
                app.full_name,
                target.full_name,
                list(&shared_names),
                target.full_name,
                known.join(", ")
            )))
            .hint(format!(
                "use the Redis service's name: redis://…@{}:6379 (container_name and links do not exist in a stack)",
                target.name
            ))
        }
        _ => base(SWARM_NETWORK_SHARED.pass(format!(
            "{} and {} share {}{}",
            app.full_name,
            target.full_name,
            list(&shared_names),
            match &host {
                Some((key, h)) => format!("; {key}'s host '{h}' resolves there"),
                None => String::new(),
            }
        ))),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::fixtures;
    use crate::report::Status;

    #[test]
    fn recorded_stack_shares_the_backend_overlay() {
        let obs = fixtures::swarm_observations();
        let results = judge(&obs, &DockerScope::default());
        assert_eq!(results.len(), 1, "{results:#?}");
        let r = &results[0];
        assert_eq!(r.status, Status::Pass, "{r:#?}");
        assert_eq!(
            r.message,
            "beaglestack_app and beaglestack_redis share beaglestack_backend; REDIS_URL's host \
             'redis' resolves there"
        );
        assert_eq!(r.evidence["app_networks"][0], "beaglestack_backend");
    }

    #[test]
    fn separate_networks_and_unknown_host_fail() {
        let mut obs = fixtures::swarm_observations();
        let swarm = obs.swarm.as_mut().unwrap();
        // Move Redis to the stack's default network.
        let default_id = swarm
            .networks
            .iter()
            .find(|n| n.name.as_deref() == Some("beaglestack_default"))
            .and_then(|n| n.id.clone())
            .unwrap();
        for s in &mut swarm.services {
            if crate::probe::swarm::service_name(s) == "beaglestack_redis" {
                let nets = s
                    .spec
                    .as_mut()
                    .and_then(|sp| sp.task_template.as_mut())
                    .and_then(|t| t.networks.as_mut())
                    .unwrap();
                nets[0].target = Some(default_id.clone());
            }
        }
        let results = judge(&obs, &DockerScope::default());
        assert_eq!(results[0].status, Status::Fail, "{results:#?}");
        assert_eq!(
            results[0].message,
            "beaglestack_app (networks: beaglestack_backend) and beaglestack_redis (networks: \
             beaglestack_default) share no network: the app cannot reach Redis"
        );
        // A URL naming a container_name, which a stack does not have.
        let mut obs = fixtures::swarm_observations();
        for s in &mut obs.swarm.as_mut().unwrap().services {
            if crate::probe::swarm::service_name(s) == "beaglestack_app" {
                let env = s
                    .spec
                    .as_mut()
                    .and_then(|sp| sp.task_template.as_mut())
                    .and_then(|t| t.container_spec.as_mut())
                    .and_then(|c| c.env.as_mut())
                    .unwrap();
                for e in env.iter_mut() {
                    if e.starts_with("REDIS_URL=") {
                        *e = "REDIS_URL=redis://:s3cret-pass@beagle-redis-1:6379/0".into();
                    }
                }
            }
        }
        let results = judge(&obs, &DockerScope::default());
        assert_eq!(results[0].status, Status::Fail);
        assert!(
            results[0]
                .message
                .contains("REDIS_URL's host 'beagle-redis-1' is not a name of beaglestack_redis"),
            "{results:#?}"
        );
    }
}
