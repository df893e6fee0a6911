//! Speed of the docker layer: the pure judges on recorded Engine API answers, and a full
//! `observe` round trip against the local engine when one is reachable.
//! Run: `cargo bench --bench docker`. Prints medians; asserts nothing.

use std::time::{Duration, Instant};

use bollard::models::{ContainerInspectResponse, ContainerSummary, ImageInspect};
use wsdoctor::checks::docker::{DockerScope, run};
use wsdoctor::probe::docker::{
    ContainerFacts, DockerObservations, Endpoint, EngineFacts, Selection, now_secs, observe,
};

fn recorded(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/docker-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let image: ImageInspect = serde_json::from_str(&recorded("image.json")).expect("image");
    let image_env = image.config.and_then(|c| c.env);
    let containers: Vec<ContainerFacts> = ["app", "beagle-redis", "loop", "nopass", "late"]
        .iter()
        .map(|n| ContainerFacts {
            inspect: serde_json::from_str::<ContainerInspectResponse>(&recorded(&format!(
                "inspect-{n}.json"
            )))
            .expect("inspect"),
            image_env: image_env.clone(),
            log_tail: Some(vec!["Error 111 connecting to redis:6379.".to_string(); 20]),
        })
        .collect();
    let all: Vec<ContainerSummary> =
        serde_json::from_str(&recorded("containers-list.json")).expect("list");
    let obs = DockerObservations {
        endpoint: "unix:///var/run/docker.sock".into(),
        engine: Ok(EngineFacts::default()),
        selection: Selection::Project("beagle".into()),
        containers,
        all_containers: all,
        missing: Vec::new(),
        errors: Vec::new(),
        observed_at: now_secs(),
        swarm: None,
    };
    let scope = DockerScope::default();
    let batch = 1000;
    let mut samples = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..batch {
            std::hint::black_box(run(&obs, Err("no files".into()), &scope));
        }
        samples.push(t.elapsed() / batch);
    }
    println!(
        "judges, 5 recorded containers, all 7 checks: median {:?} per run",
        median(samples)
    );

    let endpoint = Endpoint::from_env(std::env::var("DOCKER_HOST").ok().as_deref(), None);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let probe = rt.block_on(observe(
        &endpoint,
        Selection::Project("wsdoctor-bench-none".into()),
        Duration::from_secs(3),
    ));
    if probe.engine.is_err() {
        println!("observe: SKIPPED, no engine at {}", endpoint.display());
        return;
    }
    let mut samples = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        std::hint::black_box(rt.block_on(observe(
            &endpoint,
            Selection::Project("wsdoctor-bench-none".into()),
            Duration::from_secs(3),
        )));
        samples.push(t.elapsed());
    }
    println!(
        "observe (connect, negotiate, version, list {} containers): median {:?}",
        probe.all_containers.len(),
        median(samples)
    );
}
