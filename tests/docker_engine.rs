//! `wsdoctor docker` against the real Docker engine of this machine: each scenario builds a
//! tiny compose-labelled project (busybox image via `docker import`), runs the binary with
//! `--format json` and asserts the exact statuses. Everything is removed on Drop.

mod docker_support;

use docker_support::{Lab, Spec, result, results, status};

/// A free loopback port (bound and released; the engine binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Redis with a password and an idle timeout, named `beagle-redis` like the seeds.
fn redis(lab: &mut Lab, networks: &[(&str, &[&str])]) {
    lab.container(Spec::new("beagle-redis").networks(networks).redis_server(&[
        "--requirepass",
        "pw-Secret-1",
        "--maxclients",
        "500",
        "--timeout",
        "300",
    ]));
}

fn app(url: &str) -> Spec {
    Spec::new("app")
        .env("REDIS_URL", url)
        .env("WEBSOCKET_MANAGER", "redis")
        .env("ENABLE_WEBSOCKET_SUPPORT", "true")
}

#[test]
fn healthy_deployment_passes_every_check() {
    if !docker_support::engine_or_skip("healthy_deployment_passes_every_check") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    let port = free_port();
    lab.container(
        app("redis://:pw-Secret-1@beagle-redis:6379/0").port(&format!("127.0.0.1:{port}:8080")),
    );
    let (code, report) = lab.wsdoctor(&[]);
    let app_name = lab.container_name("app");
    let redis_name = lab.container_name("beagle-redis");
    assert_eq!(status(&report, "docker.engine", "unix://"), "pass");
    assert_eq!(
        result(&report, "docker.engine", "")["evidence"]["api_version"],
        "1.41"
    );
    assert_eq!(status(&report, "docker.containers", &app_name), "pass");
    assert_eq!(
        result(&report, "docker.containers", &app_name)["evidence"]["role"],
        "app"
    );
    assert_eq!(status(&report, "docker.containers", &redis_name), "pass");
    assert_eq!(
        result(&report, "docker.containers", &redis_name)["evidence"]["role"],
        "redis"
    );
    assert_eq!(status(&report, "docker.network-shared", &app_name), "pass");
    assert_eq!(status(&report, "docker.dns-alias", "REDIS_URL"), "pass");
    // No compose file in the lab directory: env-drift says so.
    let drift = result(&report, "docker.env-drift", "");
    assert_eq!(drift["status"], "skip");
    assert!(
        drift["message"]
            .as_str()
            .unwrap()
            .contains("no compose file"),
        "{drift}"
    );
    assert_eq!(status(&report, "docker.redis-command", &redis_name), "pass");
    let ports = result(&report, "docker.ports", "");
    assert_eq!(ports["status"], "pass");
    assert_eq!(
        ports["evidence"]["published"][0],
        format!("{app_name}: 127.0.0.1:{port}->8080/tcp")
    );
    assert_eq!(report["summary"]["verdict"], "pass");
    assert_eq!(code, 0);
    // The password is nowhere in the report.
    assert!(!report.to_string().contains("pw-Secret-1"));
}

#[test]
fn containers_started_by_hand_are_found_by_name() {
    if !docker_support::engine_or_skip("containers_started_by_hand_are_found_by_name") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    lab.container(app("redis://:pw-Secret-1@beagle-redis:6379/0"));
    let app_name = lab.container_name("app");
    let redis_name = lab.container_name("beagle-redis");
    let (code, report) = docker_support::run_wsdoctor(
        lab.dir.path(),
        &[
            "docker",
            "--format",
            "json",
            "--container",
            &app_name,
            "--container",
            &redis_name,
            "--container",
            "wsdoctor-no-such-container",
        ],
        &[],
    );
    assert_eq!(status(&report, "docker.containers", &app_name), "pass");
    assert_eq!(
        status(&report, "docker.containers", "wsdoctor-no-such-container"),
        "fail"
    );
    assert_eq!(status(&report, "docker.dns-alias", "REDIS_URL"), "pass");
    assert_eq!(code, 1);
}

#[test]
fn app_and_redis_on_different_networks() {
    if !docker_support::engine_or_skip("app_and_redis_on_different_networks") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("backend", &[])]);
    lab.container(app("redis://:pw-Secret-1@beagle-redis:6379/0"));
    let (code, report) = lab.wsdoctor(&[]);
    let app_name = lab.container_name("app");
    let shared = result(&report, "docker.network-shared", &app_name);
    assert_eq!(shared["status"], "fail");
    assert_eq!(
        shared["evidence"]["app_networks"][0],
        lab.network_name("default")
    );
    assert_eq!(
        shared["evidence"]["redis_networks"][0],
        lab.network_name("backend")
    );
    assert_eq!(
        shared["evidence"]["compose_lines"],
        "services:\n  app:\n    networks: [default, backend]"
    );
    let dns = result(&report, "docker.dns-alias", "REDIS_URL");
    assert_eq!(dns["status"], "fail");
    assert!(
        dns["message"]
            .as_str()
            .unwrap()
            .contains("share no network"),
        "{dns}"
    );
    assert_eq!(code, 1);
}

#[test]
fn wrong_host_name_redis_vs_beagle_redis() {
    if !docker_support::engine_or_skip("wrong_host_name_redis_vs_beagle_redis") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    lab.container(app("redis://:pw-Secret-1@redis:6379/0"));
    let (code, report) = lab.wsdoctor(&[]);
    let app_name = lab.container_name("app");
    assert_eq!(status(&report, "docker.network-shared", &app_name), "pass");
    let dns = result(&report, "docker.dns-alias", "REDIS_URL");
    assert_eq!(dns["status"], "fail");
    assert_eq!(dns["evidence"]["host"], "redis");
    assert_eq!(dns["evidence"]["suggestion"], "beagle-redis");
    assert!(
        dns["hint"]
            .as_str()
            .unwrap()
            .contains("redis://:****@beagle-redis:6379/0"),
        "{dns}"
    );
    assert_eq!(code, 1);
    assert!(!report.to_string().contains("pw-Secret-1"));
}

#[test]
fn restart_loop_fails_with_redacted_last_logs() {
    if !docker_support::engine_or_skip("restart_loop_fails_with_redacted_last_logs") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    let mut crash = app("redis://:pw-Secret-1@beagle-redis:6379/0");
    crash.cmd = vec![
        "sh".into(),
        "-c".into(),
        "echo connecting to redis://:pw-Secret-1@beagle-redis:6379/0; echo 'Error 111 connecting to beagle-redis:6379. Connection refused.'; exit 3".into(),
    ];
    crash.restart = Some("always".into());
    lab.container(crash);
    assert!(
        lab.wait_for("app", 30, |v| v["RestartCount"].as_i64().unwrap_or(0) >= 4
            && v["State"]["Restarting"] == true),
        "the container did not restart"
    );
    let (code, report) = lab.wsdoctor(&[]);
    let c = result(&report, "docker.containers", &lab.container_name("app"));
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["message"].as_str().unwrap().contains("restart loop"),
        "{c}"
    );
    // Between two runs the state is `restarting` with the last exit code (the back-off is
    // 1.6 s by now); caught in a run, it is `running` and still a loop.
    if c["evidence"]["state"] == "restarting" {
        assert_eq!(c["evidence"]["exit_code"], 3);
    } else {
        assert_eq!(c["evidence"]["state"], "running");
    }
    assert_eq!(c["evidence"]["restart_policy"], "always");
    let logs = c["evidence"]["last_logs"].as_array().expect("last_logs");
    assert!(
        logs.iter()
            .any(|l| l == "Error 111 connecting to beagle-redis:6379. Connection refused."),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l == "connecting to redis://:****@beagle-redis:6379/0"),
        "{logs:?}"
    );
    assert!(!report.to_string().contains("pw-Secret-1"));
    assert_eq!(code, 1);
}

#[test]
fn redis_without_requirepass_warns() {
    if !docker_support::engine_or_skip("redis_without_requirepass_warns") {
        return;
    }
    let mut lab = Lab::new();
    lab.container(Spec::new("redis").redis_server(&["--appendonly", "yes"]));
    lab.container(app("redis://redis:6379/0"));
    let (code, report) = lab.wsdoctor(&[]);
    let r = result(
        &report,
        "docker.redis-command",
        &lab.container_name("redis"),
    );
    assert_eq!(r["status"], "warn", "{r}");
    assert_eq!(r["evidence"]["requirepass"], false);
    assert_eq!(r["evidence"]["command"], "redis-server --appendonly yes");
    assert_eq!(status(&report, "docker.dns-alias", "REDIS_URL"), "pass");
    assert_eq!(report["summary"]["verdict"], "warn");
    assert_eq!(code, 0);
}

#[test]
fn app_password_against_redis_without_one_fails() {
    if !docker_support::engine_or_skip("app_password_against_redis_without_one_fails") {
        return;
    }
    let mut lab = Lab::new();
    lab.container(Spec::new("redis").redis_server(&[]));
    lab.container(app("redis://:pw-Secret-1@redis:6379/0"));
    let (code, report) = lab.wsdoctor(&[]);
    let r = result(
        &report,
        "docker.redis-command",
        &lab.container_name("redis"),
    );
    assert_eq!(r["status"], "fail", "{r}");
    assert!(r["message"].as_str().unwrap().contains("ERR AUTH"), "{r}");
    assert_eq!(code, 1);
}

#[test]
fn host_port_published_twice_or_taken() {
    if !docker_support::engine_or_skip("host_port_published_twice_or_taken") {
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    let port = free_port();
    lab.container(
        app("redis://:pw-Secret-1@beagle-redis:6379/0").port(&format!("127.0.0.1:{port}:8080")),
    );
    let err = lab.container(Spec::new("web").port(&format!("127.0.0.1:{port}:80")));
    assert!(err.is_some(), "the second bind should fail");
    // A port held by a process that is not a container.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr").port();
    let err = lab.container(Spec::new("admin").port(&format!("127.0.0.1:{taken}:80")));
    let (code, report) = lab.wsdoctor(&[]);
    let ports = result(&report, "docker.ports", "");
    assert_eq!(ports["status"], "fail", "{ports}");
    let conflicts = ports["evidence"]["conflicts"].as_array().unwrap();
    assert!(
        conflicts.iter().any(|c| c.as_str().unwrap()
            == format!(
                "host port {port}/tcp is published by both {} and {}",
                lab.container_name("app"),
                lab.container_name("web")
            )),
        "{conflicts:?}"
    );
    let web = result(&report, "docker.containers", &lab.container_name("web"));
    assert_eq!(web["status"], "fail");
    assert!(
        web["message"]
            .as_str()
            .unwrap()
            .contains("port is already allocated"),
        "{web}"
    );
    // With docker-proxy (the default userland proxy) the engine reports the bind error; with
    // `userland-proxy: false` nothing binds the port and the start succeeds.
    if let Some(e) = err {
        assert!(e.contains("address already in use"), "{e}");
        assert!(
            conflicts.iter().any(
                |c| c.as_str().unwrap().contains(&lab.container_name("admin"))
                    && c.as_str().unwrap().contains("address already in use")
            ),
            "{conflicts:?}"
        );
    }
    drop(holder);
    assert_eq!(code, 1);
    assert!(results(&report, "docker.ports").len() == 1);
}

/// Forwards loopback TCP to the engine's unix socket (what `socat` or an SSH tunnel does), so
/// DOCKER_HOST=tcp:// is exercised against the real engine. Threads end with the test.
fn tcp_forwarder(socket: &str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let socket = socket.to_string();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(unix) = std::os::unix::net::UnixStream::connect(&socket) else {
                continue;
            };
            let (mut t_read, mut t_write) = (tcp.try_clone().expect("clone"), tcp);
            let (mut u_read, mut u_write) = (unix.try_clone().expect("clone"), unix);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut t_read, &mut u_write);
                let _ = u_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u_read, &mut t_write);
                let _ = t_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn tcp_docker_host_reaches_the_engine() {
    if !docker_support::engine_or_skip("tcp_docker_host_reaches_the_engine") {
        return;
    }
    let socket = "/var/run/docker.sock";
    if !std::path::Path::new(socket).exists() {
        docker_support::skipped(&format!(
            "SKIPPED tcp_docker_host_reaches_the_engine: the engine is not on {socket}"
        ));
        return;
    }
    let mut lab = Lab::new();
    redis(&mut lab, &[("default", &[])]);
    lab.container(app("redis://:pw-Secret-1@beagle-redis:6379/0"));
    let port = tcp_forwarder(socket);
    let host = format!("tcp://127.0.0.1:{port}");
    let (code, report) = docker_support::run_wsdoctor(
        lab.dir.path(),
        &["docker", "--format", "json", "--project", &lab.project],
        &[("DOCKER_HOST", &host)],
    );
    let engine = result(&report, "docker.engine", "");
    assert_eq!(engine["status"], "pass", "{engine}");
    assert_eq!(engine["evidence"]["endpoint"], host);
    assert_eq!(status(&report, "docker.dns-alias", "REDIS_URL"), "pass");
    assert_eq!(code, 0);
}

#[test]
fn env_drift_against_the_compose_files() {
    if !docker_support::engine_or_skip("env_drift_against_the_compose_files") {
        return;
    }
    let mut lab = Lab::new();
    // The files today: a new password and 4 workers. The running app was created before.
    let compose = format!(
        "name: {project}\n\
         services:\n\
         \x20 beagle-redis:\n\
         \x20   image: {image}\n\
         \x20   entrypoint: [\"sh\"]\n\
         \x20   command: [\"-c\", \"exec sleep 3600\", \"redis-server\", \"--requirepass\", \"${{REDIS_PASSWORD}}\"]\n\
         \x20 app:\n\
         \x20   image: {image}\n\
         \x20   environment:\n\
         \x20     REDIS_URL: redis://:${{REDIS_PASSWORD}}@beagle-redis:6379/0\n\
         \x20     WEBSOCKET_MANAGER: redis\n\
         \x20     UVICORN_WORKERS: \"4\"\n\
         \x20 worker:\n\
         \x20   image: {image}\n\
         \x20   environment:\n\
         \x20     REDIS_URL: redis://:${{REDIS_PASSWORD}}@beagle-redis:6379/0\n\
         \x20     WEBSOCKET_MANAGER: redis\n",
        project = lab.project,
        image = lab.image
    );
    std::fs::write(lab.dir.path().join("compose.yaml"), compose).expect("compose.yaml");
    std::fs::write(lab.dir.path().join(".env"), "REDIS_PASSWORD=pw-Secret-1\n").expect(".env");
    redis(&mut lab, &[("default", &[])]);
    lab.container(
        Spec::new("app")
            .env("REDIS_URL", "redis://:old-Secret-9@beagle-redis:6379/0")
            .env("WEBSOCKET_MANAGER", "redis")
            .env("UVICORN_WORKERS", "2"),
    );
    lab.container(
        Spec::new("worker")
            .env("REDIS_URL", "redis://:pw-Secret-1@beagle-redis:6379/0")
            .env("WEBSOCKET_MANAGER", "redis"),
    );
    // No --project: the name comes from the files' `name:`.
    let (code, report) =
        docker_support::run_wsdoctor(lab.dir.path(), &["docker", "--format", "json"], &[]);
    let drift = result(&report, "docker.env-drift", &lab.container_name("app"));
    assert_eq!(drift["status"], "fail", "{drift}");
    assert_eq!(drift["hint"], "docker compose up -d --force-recreate app");
    assert_eq!(drift["location"]["file"], "compose.yaml");
    assert_eq!(drift["location"]["line"], 10);
    let changes = drift["evidence"]["drift"].as_array().expect("drift list");
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["key"], "REDIS_URL");
    assert_eq!(changes[0]["secret"], true);
    assert!(changes[0].get("running").is_none() && changes[0].get("files").is_none());
    assert_eq!(changes[1]["key"], "UVICORN_WORKERS");
    assert_eq!(changes[1]["running"], "2");
    assert_eq!(changes[1]["files"], "4");
    assert_eq!(
        status(&report, "docker.env-drift", &lab.container_name("worker")),
        "pass"
    );
    assert_eq!(
        status(
            &report,
            "docker.env-drift",
            &lab.container_name("beagle-redis")
        ),
        "pass"
    );
    // The old password differs from the new --requirepass: the live WRONGPASS.
    let cmd = result(
        &report,
        "docker.redis-command",
        &lab.container_name("beagle-redis"),
    );
    assert_eq!(cmd["status"], "fail", "{cmd}");
    let text = report.to_string();
    assert!(
        !text.contains("old-Secret-9") && !text.contains("pw-Secret-1"),
        "{text}"
    );
    assert_eq!(code, 1);
}

#[test]
fn health_status_healthy_and_unhealthy() {
    if !docker_support::engine_or_skip("health_status_healthy_and_unhealthy") {
        return;
    }
    let mut lab = Lab::new();
    lab.container(
        Spec::new("beagle-redis")
            .redis_server(&["--requirepass", "pw-Secret-1", "--timeout", "300"])
            .health("exit 0"),
    );
    lab.container(
        app("redis://:pw-Secret-1@beagle-redis:6379/0").health("echo 'GET /health 503'; exit 1"),
    );
    let health = |v: &serde_json::Value| {
        v["State"]["Health"]["Status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        lab.wait_for("beagle-redis", 30, |v| health(v) == "healthy"),
        "redis never healthy"
    );
    assert!(
        lab.wait_for("app", 30, |v| health(v) == "unhealthy"),
        "app never unhealthy"
    );
    let (code, report) = lab.wsdoctor(&[]);
    let redis = result(
        &report,
        "docker.containers",
        &lab.container_name("beagle-redis"),
    );
    assert_eq!(redis["status"], "pass", "{redis}");
    assert_eq!(redis["evidence"]["health"], "healthy");
    let app = result(&report, "docker.containers", &lab.container_name("app"));
    assert_eq!(app["status"], "fail", "{app}");
    assert_eq!(app["evidence"]["health"], "unhealthy");
    assert_eq!(app["evidence"]["last_health_output"], "GET /health 503");
    assert_eq!(code, 1);
}
