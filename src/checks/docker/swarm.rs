//! What the `docker.swarm-*` checks share: which stack service plays which part, its env,
//! command and networks as the service spec says, and when there is nothing to judge.

use std::collections::BTreeMap;

use bollard::models::{NetworkAttachmentConfig, Service, TaskSpecContainerSpec};

use super::{DockerScope, Role, image_repo_leaf};
use crate::catalogue::Rule;
use crate::probe::docker::{DockerObservations, Selection, env_map};
use crate::probe::swarm::{STACK_LABEL, SwarmFacts, SwarmState, service_name};
use crate::report::CheckResult;

/// One service of the stack, with its part.
#[derive(Debug, Clone)]
pub struct StackService<'a> {
    pub service: &'a Service,
    /// `STACK_SERVICE`, as `docker service ls` shows it.
    pub full_name: String,
    /// The key in the stack file (the full name without `STACK_`).
    pub name: String,
    pub role: Role,
}

impl StackService<'_> {
    pub fn container_spec(&self) -> Option<&TaskSpecContainerSpec> {
        container_spec(self.service)
    }

    /// `ContainerSpec.Env` as a map.
    pub fn env(&self) -> BTreeMap<String, String> {
        env_map(
            self.container_spec()
                .and_then(|c| c.env.as_deref())
                .unwrap_or(&[]),
        )
    }

    /// The networks the service's tasks join (`TaskTemplate.Networks`, else the older
    /// `Spec.Networks`), by id, with the aliases there.
    pub fn networks(&self) -> Vec<&NetworkAttachmentConfig> {
        let spec = self.service.spec.as_ref();
        let nets = spec
            .and_then(|s| s.task_template.as_ref())
            .and_then(|t| t.networks.as_ref())
            .filter(|n| !n.is_empty())
            .or_else(|| spec.and_then(|s| s.networks.as_ref()));
        nets.map(|n| n.iter().collect()).unwrap_or_default()
    }

    /// Every name another task reaches this service by on `network_id`: the stack-file
    /// service name is an alias on each network (docker/cli `convertServiceNetworks`), the
    /// full name is the service's own DNS name.
    pub fn names_on(&self, network_id: &str) -> Vec<String> {
        let mut names = vec![self.full_name.to_ascii_lowercase()];
        for n in self.networks() {
            if n.target.as_deref() == Some(network_id) {
                names.extend(n.aliases.iter().flatten().map(|a| a.to_ascii_lowercase()));
            }
        }
        names
    }
}

pub fn container_spec(service: &Service) -> Option<&TaskSpecContainerSpec> {
    service
        .spec
        .as_ref()?
        .task_template
        .as_ref()?
        .container_spec
        .as_ref()
}

/// The image without the digest `docker stack deploy` pins (`redis:7@sha256:…` → `redis:7`).
pub fn image_of(service: &Service) -> &str {
    let image = container_spec(service)
        .and_then(|c| c.image.as_deref())
        .unwrap_or("");
    image.split('@').next().unwrap_or(image)
}

/// Command + Args: the process the tasks run.
pub fn argv(service: &Service) -> Vec<String> {
    let spec = container_spec(service);
    let mut argv: Vec<String> = spec.and_then(|c| c.command.clone()).unwrap_or_default();
    argv.extend(spec.and_then(|c| c.args.clone()).unwrap_or_default());
    argv
}

/// Redis (or Valkey) by image or by command, as for containers ([`super::is_redis`]).
fn is_redis_service(service: &Service) -> bool {
    let leaf = image_repo_leaf(image_of(service));
    matches!(
        leaf.as_str(),
        "redis" | "valkey" | "redis-stack-server" | "redis-stack"
    ) || argv(service)
        .iter()
        .any(|a| a.contains("redis-server") || a.contains("valkey-server"))
}

/// The app by its env or image, as for containers ([`super::is_app`]).
fn is_app_service(service: &Service) -> bool {
    let env = env_map(
        container_spec(service)
            .and_then(|c| c.env.as_deref())
            .unwrap_or(&[]),
    );
    if ["REDIS_URL", "WEBSOCKET_REDIS_URL", "WEBSOCKET_MANAGER"]
        .iter()
        .any(|k| env.contains_key(*k))
    {
        return true;
    }
    let image = image_of(service).to_ascii_lowercase();
    image.contains("open-webui") || image.contains("chainlit")
}

/// The stack's services with their parts; `--service` names the app, as for containers.
pub fn services<'a>(swarm: &'a SwarmFacts, scope: &DockerScope) -> Vec<StackService<'a>> {
    let prefix = format!("{}_", swarm.namespace);
    swarm
        .services
        .iter()
        .map(|service| {
            let full_name = service_name(service).to_string();
            let name = full_name
                .strip_prefix(&prefix)
                .unwrap_or(&full_name)
                .to_string();
            let role = if is_redis_service(service) {
                Role::Redis
            } else if is_app_service(service) {
                Role::App
            } else {
                Role::Other
            };
            let role = match &scope.service {
                Some(s) if *s == name && role != Role::Redis => Role::App,
                Some(_) if role == Role::App => Role::Other,
                _ => role,
            };
            StackService {
                service,
                full_name,
                name,
                role,
            }
        })
        .collect()
}

/// The network's name for an id (the id itself when the engine did not list it).
pub fn network_name(swarm: &SwarmFacts, id: &str) -> String {
    swarm
        .networks
        .iter()
        .find(|n| n.id.as_deref() == Some(id))
        .and_then(|n| n.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The swarm facts when there is a stack to judge, else the one `skip` that says why.
pub fn stack_or_skip<'a>(
    obs: &'a DockerObservations,
    rule: &'static Rule,
) -> Result<&'a SwarmFacts, Box<CheckResult>> {
    let Some(swarm) = &obs.swarm else {
        return Err(Box::new(match &obs.selection {
            Selection::Names(_) => rule.skip(
                "containers were chosen with --container: no swarm stack to look at (give \
                 --project STACK)",
            ),
            Selection::Project(_) => rule.skip(
                "the engine's swarm state could not be read (see docker.containers for the \
                 error)",
            ),
        }));
    };
    let skip = |why: String| {
        Err(Box::new(
            rule.skip(why).evidence("swarm", swarm_state_text(swarm)),
        ))
    };
    match &swarm.state {
        SwarmState::Inactive => skip(
            "this engine is not in swarm mode (docker info: Swarm inactive): no stack to check"
                .to_string(),
        ),
        SwarmState::Worker => skip(
            "this node is a swarm worker: services and tasks are listed only on a manager (run \
             wsdoctor against a manager node; `docker node ls` there lists them)"
                .to_string(),
        ),
        SwarmState::Other { state, error } => skip(format!(
            "the swarm on this engine is {state}{}: services cannot be listed",
            if error.is_empty() {
                String::new()
            } else {
                format!(" ({error})")
            }
        )),
        SwarmState::Manager if swarm.services.is_empty() => {
            let others = if swarm.stacks_seen.is_empty() {
                "no stack is deployed on this swarm".to_string()
            } else {
                format!("stacks on this swarm: {}", swarm.stacks_seen.join(", "))
            };
            skip(format!(
                "no swarm stack '{}' (label {STACK_LABEL}={}); {others}",
                swarm.namespace, swarm.namespace
            ))
        }
        SwarmState::Manager => Ok(swarm),
    }
}

fn swarm_state_text(swarm: &SwarmFacts) -> String {
    match &swarm.state {
        SwarmState::Inactive => "inactive".to_string(),
        SwarmState::Manager => "manager".to_string(),
        SwarmState::Worker => "worker".to_string(),
        SwarmState::Other { state, .. } => state.clone(),
    }
}

/// `docker stack deploy -c FILE… STACK`: what applies the files to a stack.
pub fn deploy_command(files: &[String], stack: &str) -> String {
    let mut cmd = "docker stack deploy".to_string();
    if files.is_empty() {
        cmd.push_str(" -c docker-compose.yml");
    }
    for f in files {
        cmd.push_str(" -c ");
        cmd.push_str(f);
    }
    cmd.push(' ');
    cmd.push_str(stack);
    cmd
}
