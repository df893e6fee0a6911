//! Recorded Engine API answers (tests/fixtures/docker-api, made by record.sh against Docker
//! 20.10 / API 1.41), deserialized into bollard's models, so the judges are tested on what a
//! real engine says even where no engine runs.

use bollard::models::{ContainerInspectResponse, ContainerSummary, ImageInspect, SystemVersion};

use crate::probe::docker::{ContainerFacts, DockerObservations, EngineFacts, Selection};

macro_rules! recorded {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docker-api/",
            $name
        ))
    };
}

pub fn inspect(name: &str) -> ContainerInspectResponse {
    let text = match name {
        "app" => recorded!("inspect-app.json"),
        "beagle-redis" => recorded!("inspect-beagle-redis.json"),
        "loop" => recorded!("inspect-loop.json"),
        "nopass" => recorded!("inspect-nopass.json"),
        "late" => recorded!("inspect-late.json"),
        other => panic!("no recording for {other}"),
    };
    serde_json::from_str(text).expect("recorded inspect deserializes into bollard's model")
}

pub fn image_env() -> Vec<String> {
    let image: ImageInspect =
        serde_json::from_str(recorded!("image.json")).expect("recorded image deserializes");
    image.config.and_then(|c| c.env).unwrap_or_default()
}

pub fn engine() -> EngineFacts {
    let v: SystemVersion =
        serde_json::from_str(recorded!("version.json")).expect("recorded version deserializes");
    EngineFacts {
        version: v.version.unwrap_or_default(),
        api_version: v.api_version.unwrap_or_default(),
        min_api_version: v.min_api_version.unwrap_or_default(),
        os: v.os.unwrap_or_default(),
        arch: v.arch.unwrap_or_default(),
    }
}

pub fn all_containers() -> Vec<ContainerSummary> {
    serde_json::from_str(recorded!("containers-list.json")).expect("recorded list deserializes")
}

pub fn facts(name: &str) -> ContainerFacts {
    ContainerFacts {
        inspect: inspect(name),
        image_env: Some(image_env()),
        log_tail: None,
    }
}

/// Observations of the recorded project with the named containers; `observed_at` is a few
/// seconds after the recording (so the restart loop is "recent").
pub fn observations(names: &[&str]) -> DockerObservations {
    DockerObservations {
        endpoint: "unix:///var/run/docker.sock".to_string(),
        engine: Ok(engine()),
        selection: Selection::Project("beagle".to_string()),
        containers: names.iter().map(|n| facts(n)).collect(),
        all_containers: all_containers(),
        missing: Vec::new(),
        errors: Vec::new(),
        observed_at: started_at_secs("loop") + 5,
        swarm: None,
    }
}

fn started_at_secs(name: &str) -> i64 {
    let started = inspect(name)
        .state
        .and_then(|s| s.started_at)
        .unwrap_or_default();
    humantime::parse_rfc3339_weak(&started)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Observations of the recorded stack `beaglestack` (record-swarm.sh): `app` (2 replicas) and
/// `redis` on the overlay `backend`, and three services whose tasks cannot run (`bad`: command
/// not in the image, `ghost`: no such image, `crash`: exits 3). No compose container.
pub fn swarm_observations() -> DockerObservations {
    use crate::probe::swarm::{SwarmFacts, state_of};
    let info: bollard::models::SystemInfo =
        serde_json::from_str(recorded!("swarm-info.json")).expect("recorded info deserializes");
    let mut swarm = SwarmFacts::new(state_of(&info), "beaglestack");
    swarm.services =
        serde_json::from_str(recorded!("swarm-services.json")).expect("services deserialize");
    swarm.services.sort_by(|a, b| {
        crate::probe::swarm::service_name(a).cmp(crate::probe::swarm::service_name(b))
    });
    swarm.tasks = serde_json::from_str(recorded!("swarm-tasks.json")).expect("tasks deserialize");
    swarm.networks =
        serde_json::from_str(recorded!("swarm-networks.json")).expect("networks deserialize");
    swarm.stacks_seen = vec!["beaglestack".to_string()];
    DockerObservations {
        selection: Selection::Project("beaglestack".to_string()),
        containers: Vec::new(),
        swarm: Some(swarm),
        ..observations(&[])
    }
}

/// The same engine before `docker swarm init`.
pub fn swarm_observations_inactive() -> DockerObservations {
    use crate::probe::swarm::{SwarmFacts, state_of};
    let info: bollard::models::SystemInfo =
        serde_json::from_str(recorded!("swarm-info-inactive.json"))
            .expect("recorded info deserializes");
    DockerObservations {
        swarm: Some(SwarmFacts::new(state_of(&info), "beaglestack")),
        ..observations(&[])
    }
}
