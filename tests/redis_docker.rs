//! `docker.redis-command` on the real Docker engine judges a running Redis container's
//! `--timeout` / `--maxclients` with the rule `config.redis-timeout` applies to the files,
//! with the same fix text (compared with `wsdoctor lint` on the redis-leak-seed fixture).

mod docker_support;

use std::path::PathBuf;

use docker_support::{Lab, Spec, result};

fn app(url: &str) -> Spec {
    Spec::new("app")
        .env("REDIS_URL", url)
        .env("WEBSOCKET_MANAGER", "redis")
}

/// The fix `config.redis-timeout` prints for the seed's files.
fn files_fix() -> serde_json::Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/redis-leak-seed");
    let (_, report) = docker_support::run_wsdoctor(
        &dir,
        &["lint", "--format", "json", "--project-dir", "."],
        &[],
    );
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == "config.redis-timeout"))
        .map(|c| c["hint"].clone())
        .expect("config.redis-timeout in the lint report")
}

#[test]
fn running_redis_with_timeout_zero_is_judged_like_the_files() {
    if !docker_support::engine_or_skip("running_redis_with_timeout_zero_is_judged_like_the_files") {
        return;
    }
    let fix = files_fix();
    let mut lab = Lab::new();
    // The seed: a password, maxclients 1000, no --timeout (Redis' default 0).
    lab.container(Spec::new("seed-redis").redis_server(&[
        "--requirepass",
        "pw-Secret-1",
        "--maxclients",
        "1000",
    ]));
    // timeout 0 given explicitly, default maxclients.
    lab.container(Spec::new("zero-redis").redis_server(&[
        "--requirepass",
        "pw-Secret-1",
        "--timeout",
        "0",
    ]));
    // The fix applied.
    lab.container(Spec::new("fixed-redis").redis_server(&[
        "--requirepass",
        "pw-Secret-1",
        "--maxclients",
        "1000",
        "--timeout",
        "1800",
    ]));
    lab.container(app("redis://:pw-Secret-1@seed-redis:6379/0"));
    let (_, report) = lab.wsdoctor(&[]);

    let seed = result(
        &report,
        "docker.redis-command",
        &lab.container_name("seed-redis"),
    );
    assert_eq!(seed["status"], "warn", "{seed}");
    assert!(
        seed["message"]
            .as_str()
            .unwrap()
            .contains("timeout 0 with maxclients 1000"),
        "{seed}"
    );
    assert_eq!(seed["hint"], fix, "the same fix as the files");

    let zero = result(
        &report,
        "docker.redis-command",
        &lab.container_name("zero-redis"),
    );
    assert_eq!(zero["status"], "warn", "{zero}");
    assert!(
        zero["message"]
            .as_str()
            .unwrap()
            .contains("timeout 0: idle connections are never closed"),
        "{zero}"
    );
    assert_eq!(zero["hint"], fix);

    let fixed = result(
        &report,
        "docker.redis-command",
        &lab.container_name("fixed-redis"),
    );
    assert_eq!(fixed["status"], "pass", "{fixed}");
    assert!(!report.to_string().contains("pw-Secret-1"));
}
