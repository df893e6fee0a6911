//! Live Docker Swarm probe: the services, tasks and networks of one stack, through the Engine
//! API (bollard). Read-only: it lists and inspects; it never updates a service.
//!
//! A stack is what `docker stack deploy -c FILE NAME` made: every service, network, config and
//! secret carries the label `com.docker.stack.namespace=NAME`, and each service is named
//! `NAME_SERVICE` (docker/cli `cli/compose/convert`, `LabelNamespace` and `ScopedName`).

use crate::probe::budget::Budget;
use std::collections::{BTreeSet, HashMap};

use bollard::Docker;
use bollard::models::{Network, Service, Task};
use bollard::query_parameters::{
    ListNetworksOptionsBuilder, ListServicesOptionsBuilder, ListTasksOptionsBuilder,
};

use super::docker::{EngineProblem, problem_text, within};

/// The label `docker stack deploy` puts on every object of a stack (docker/cli
/// `cli/compose/convert/compose.go`, `LabelNamespace`).
pub const STACK_LABEL: &str = "com.docker.stack.namespace";

/// The node's part in a swarm, from `GET /info` (`Swarm.LocalNodeState`, `ControlAvailable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwarmState {
    /// Not in a swarm: `docker swarm init` never ran here, or the node left.
    Inactive,
    /// A manager: services and tasks can be listed.
    Manager,
    /// A worker: the engine refuses service and task listings ("This node is not a swarm
    /// manager").
    Worker,
    /// `pending`, `error` or `locked`, with the engine's error text.
    Other { state: String, error: String },
}

/// What the engine says about one stack.
#[derive(Debug, Clone)]
pub struct SwarmFacts {
    pub state: SwarmState,
    /// The stack namespace looked for (`--project`, else the deployment's project name).
    pub namespace: String,
    /// The stack's services (label `com.docker.stack.namespace=namespace`), by name.
    pub services: Vec<Service>,
    /// Every task of those services the manager still keeps (running ones and the recent
    /// history of failed ones, `TaskHistoryRetentionLimit`).
    pub tasks: Vec<Task>,
    /// Every network of the engine (services name theirs by id).
    pub networks: Vec<Network>,
    /// The namespaces of the stacks on this swarm (for a name that matches none).
    pub stacks_seen: Vec<String>,
    /// Requests that failed after the engine answered.
    pub errors: Vec<String>,
}

impl SwarmFacts {
    pub fn new(state: SwarmState, namespace: &str) -> SwarmFacts {
        SwarmFacts {
            state,
            namespace: namespace.to_string(),
            services: Vec::new(),
            tasks: Vec::new(),
            networks: Vec::new(),
            stacks_seen: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Reads the node's swarm state from an `/info` answer.
pub fn state_of(info: &bollard::models::SystemInfo) -> SwarmState {
    use bollard::models::LocalNodeState as S;
    let Some(swarm) = &info.swarm else {
        return SwarmState::Inactive;
    };
    match swarm.local_node_state {
        Some(S::ACTIVE) if swarm.control_available == Some(true) => SwarmState::Manager,
        Some(S::ACTIVE) => SwarmState::Worker,
        None | Some(S::INACTIVE) | Some(S::EMPTY) => SwarmState::Inactive,
        Some(other) => SwarmState::Other {
            state: other.to_string(),
            error: swarm.error.clone().unwrap_or_default(),
        },
    }
}

/// The stack namespace of a service (its label).
pub fn namespace_of(service: &Service) -> Option<&str> {
    service
        .spec
        .as_ref()?
        .labels
        .as_ref()?
        .get(STACK_LABEL)
        .map(String::as_str)
}

/// Gathers the stack's facts: the node's swarm state, and on a manager the stack's services,
/// their tasks and the engine's networks. Err only when `/info` itself failed.
pub async fn observe(
    docker: &Docker,
    namespace: &str,
    budget: &Budget,
) -> Result<SwarmFacts, EngineProblem> {
    let info = within(budget, docker.info()).await?;
    let mut facts = SwarmFacts::new(state_of(&info), namespace);
    if facts.state != SwarmState::Manager {
        return Ok(facts);
    }
    // All services, then the stack's by label: the other namespaces name the stacks there are.
    let opts = ListServicesOptionsBuilder::default().status(true).build();
    let services = match within(budget, docker.list_services(Some(opts))).await {
        Ok(s) => s,
        Err(p) => {
            facts
                .errors
                .push(format!("listing services: {}", problem_text(&p)));
            return Ok(facts);
        }
    };
    let seen: BTreeSet<String> = services
        .iter()
        .filter_map(namespace_of)
        .map(str::to_string)
        .collect();
    facts.stacks_seen = seen.into_iter().collect();
    let mut mine: Vec<Service> = services
        .into_iter()
        .filter(|s| namespace_of(s) == Some(namespace))
        .collect();
    mine.sort_by(|a, b| service_name(a).cmp(service_name(b)));
    facts.services = mine;
    if facts.services.is_empty() {
        return Ok(facts);
    }
    let ids: Vec<String> = facts.services.iter().filter_map(|s| s.id.clone()).collect();
    let filters: HashMap<String, Vec<String>> = HashMap::from([("service".to_string(), ids)]);
    let task_opts = ListTasksOptionsBuilder::default().filters(&filters).build();
    let net_opts = ListNetworksOptionsBuilder::default().build();
    let (tasks, networks) = tokio::join!(
        within(budget, docker.list_tasks(Some(task_opts))),
        within(budget, docker.list_networks(Some(net_opts))),
    );
    match tasks {
        Ok(t) => facts.tasks = t,
        Err(p) => facts
            .errors
            .push(format!("listing tasks: {}", problem_text(&p))),
    }
    match networks {
        Ok(n) => facts.networks = n,
        Err(p) => facts
            .errors
            .push(format!("listing networks: {}", problem_text(&p))),
    }
    Ok(facts)
}

/// `Spec.Name` (`STACK_SERVICE`).
pub fn service_name(service: &Service) -> &str {
    service
        .spec
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_from_recorded_info() {
        let active: bollard::models::SystemInfo = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docker-api/swarm-info.json"
        )))
        .unwrap();
        assert_eq!(state_of(&active), SwarmState::Manager);
        let inactive: bollard::models::SystemInfo = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docker-api/swarm-info-inactive.json"
        )))
        .unwrap();
        assert_eq!(state_of(&inactive), SwarmState::Inactive);
        let mut worker = active.clone();
        if let Some(s) = worker.swarm.as_mut() {
            s.control_available = Some(false);
        }
        assert_eq!(state_of(&worker), SwarmState::Worker);
    }
}
