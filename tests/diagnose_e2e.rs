//! `wsdoctor diagnose` end to end: the deployment of fixtures/live run for real on this
//! machine — a redis-server with the password of its .env, python-socketio under uvicorn as
//! the app (the same stack as Open WebUI), nginx where a proxy is the point — and the binary
//! run against it. Each scenario asserts the verdict, the first fix of the ordered list, and
//! (once) that no secret appears in any of the six formats.

mod docker_support;
mod ws_support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use ws_support::{Nginx, Proc, SioServer, free_port, missing};

/// The password in fixtures/live/.env.
const PASSWORD: &str = "Live-Pw-7731";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/live")
}

/// redis-server with the fixture's password, as its compose command says.
fn redis(test: &str) -> Option<(Proc, u16)> {
    if !std::path::Path::new("/usr/bin/redis-server").exists() {
        missing(
            test,
            "/usr/bin/redis-server is not installed (apt-get install redis-server)",
        );
        return None;
    }
    let port = free_port();
    let mut cmd = Command::new("/usr/bin/redis-server");
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .args([
        "--appendonly",
        "no",
        "--requirepass",
        PASSWORD,
        "--timeout",
        "1800",
    ]);
    let proc = Proc::spawn("redis-server", cmd).expect("spawn redis-server");
    assert!(
        ws_support::wait_tcp(port, Duration::from_secs(10)),
        "redis-server did not start"
    );
    Some((proc, port))
}

/// The app: python-socketio with the Redis manager, `workers` uvicorn workers, subscribing
/// to the manager channel at startup as the Open WebUI of the fixture does.
fn app(test: &str, workers: u32, transports: &str, redis_port: u16) -> Option<SioServer> {
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{redis_port}/0");
    match SioServer::start(
        workers,
        &[
            "--transports",
            transports,
            "--path",
            "ws/socket.io",
            "--redis-url",
            &url,
            "--manager-at-startup",
        ],
    ) {
        Ok(s) => Some(s),
        Err(e) => {
            missing(test, &e);
            None
        }
    }
}

struct Run {
    code: i32,
    report: Value,
    wall: Duration,
}

fn diagnose(env: &[(&str, String)], extra: &[&str], format: &str) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.args([
        "diagnose",
        "--timeout",
        "2s",
        "--format",
        format,
        "--project-dir",
    ])
    .arg(fixture())
    .args(extra)
    .env_remove("REDIS_PASSWORD")
    .env_remove("COMPOSE_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run wsdoctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn run(env: &[(&str, String)], extra: &[&str]) -> Run {
    let started = Instant::now();
    let (code, stdout, stderr) = diagnose(env, extra, "json");
    let wall = started.elapsed();
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}\n{stderr}"));
    // The report keeps to the published JSON Schema, live checks included.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options().build(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    Run { code, report, wall }
}

impl Run {
    fn status(&self, id: &str) -> Vec<&str> {
        self.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap())
            .collect()
    }

    fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    /// The ids of the fix list, in order (failures first, then warnings, report order).
    fn fix_ids(&self) -> Vec<String> {
        let checks = self.report["checks"].as_array().unwrap();
        let mut ids = Vec::new();
        for status in ["fail", "warn"] {
            for c in checks {
                if c["status"] == status && c.get("suppressed").is_none() {
                    ids.push(c["id"].as_str().unwrap().to_string());
                }
            }
        }
        ids
    }
}

/// None of `secrets` in any of the six formats (stdout and stderr).
fn assert_no_secret_anywhere(env: &[(&str, String)], extra: &[&str], secrets: &[&str]) {
    for format in ["text", "json", "markdown", "sarif", "junit", "github"] {
        let (_, out, err) = diagnose(env, extra, format);
        for secret in secrets {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "--format {format} leaked {secret}:\n{out}{err}"
            );
        }
    }
}

fn ports(app: u16, redis: u16) -> Vec<(&'static str, String)> {
    vec![
        ("APP_PORT", app.to_string()),
        ("REDIS_PORT", redis.to_string()),
    ]
}

#[test]
fn healthy_deployment_passes_and_leaks_nothing() {
    let t = "healthy_deployment_passes_and_leaks_nothing";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let env = ports(app.port, rport);
    let r = run(&env, &[]);
    assert_eq!(r.code, 0, "{:#}", r.report);
    assert_eq!(r.report["summary"]["verdict"], "pass", "{:#}", r.report);
    assert_eq!(r.status("redis.connect"), ["pass"]);
    assert_eq!(r.status("redis.auth"), ["pass"]);
    assert_eq!(
        r.status("redis.pubsub"),
        ["pass"],
        "{:#}",
        r.check("redis.pubsub")
    );
    assert_eq!(r.check("redis.pubsub")["evidence"]["expected_workers"], 1);
    assert_eq!(r.status("ws.websocket-handshake"), ["pass"]);
    assert_eq!(r.status("ws.socketio-connect"), ["pass"]);
    // Redis was reached through the port its service publishes: the report says so.
    assert!(
        r.check("redis.connect")["message"]
            .as_str()
            .unwrap()
            .contains("publishes"),
        "{:#}",
        r.check("redis.connect")
    );
    assert!(r.fix_ids().is_empty());
    eprintln!("diagnose healthy: {} ms wall", r.wall.as_millis());

    // No secret in any format; with --show-secrets it is there.
    for format in ["text", "json", "markdown", "sarif", "junit", "github"] {
        let (_, out, err) = diagnose(&env, &[], format);
        assert!(
            !out.contains(PASSWORD) && !err.contains(PASSWORD),
            "--format {format} leaked:\n{out}{err}"
        );
    }
    let (_, out, _) = diagnose(&env, &["--show-secrets"], "json");
    assert!(out.contains(PASSWORD));
}

#[test]
fn seed_bug_wrong_host_skips_the_redis_probe_because_of_it() {
    let t = "seed_bug_wrong_host_skips_the_redis_probe_because_of_it";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let mut env = ports(app.port, rport);
    env.push(("APP_REDIS_HOST", "beagle-redis".to_string()));
    let r = run(&env, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.report["summary"]["verdict"], "fail");
    assert_eq!(r.status("config.redis-url-host"), ["fail"]);
    // Correlated: one failure, not a second confusing one from the probe.
    assert_eq!(r.status("redis.connect"), ["skip"]);
    assert_eq!(
        r.check("redis.connect")["evidence"]["depends_on"],
        "config.redis-url-host"
    );
    assert_eq!(
        r.fix_ids().first().map(String::as_str),
        Some("config.redis-url-host")
    );
    assert_eq!(r.status("ws.socketio-connect"), ["pass"]);
    assert_no_secret_anywhere(&env, &[], &[PASSWORD]);
}

#[test]
fn wrong_password_fails_in_the_files_and_live() {
    let t = "wrong_password_fails_in_the_files_and_live";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let mut env = ports(app.port, rport);
    env.push(("APP_REDIS_PASSWORD", "Stale-Pw-0001".to_string()));
    let r = run(&env, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("config.redis-url-password"), ["fail"]);
    assert_eq!(r.status("redis.auth"), ["fail"]);
    assert!(
        r.check("redis.auth")["message"]
            .as_str()
            .unwrap()
            .contains("WRONGPASS"),
        "{:#}",
        r.check("redis.auth")
    );
    assert_eq!(
        r.fix_ids()[..2],
        [
            "config.redis-url-password".to_string(),
            "redis.auth".to_string()
        ]
    );
    let (_, text, _) = diagnose(&env, &[], "text");
    assert!(
        !text.contains("Stale-Pw-0001") && !text.contains(PASSWORD),
        "{text}"
    );
}

#[test]
fn polling_on_four_workers_names_the_cause() {
    let t = "polling_on_four_workers_names_the_cause";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 4, "polling", rport) else {
        return;
    };
    let mut env = ports(app.port, rport);
    env.push(("WORKERS", "4".to_string()));
    env.push(("WEBSOCKET_SUPPORT", "false".to_string()));
    let r = run(&env, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("config.polling-multi-worker"), ["fail"]);
    assert_eq!(
        r.status("ws.sticky-session"),
        ["fail"],
        "{:#}",
        r.check("ws.sticky-session")
    );
    let sticky = r.check("ws.sticky-session");
    assert_eq!(sticky["evidence"]["cause"], "config.polling-multi-worker");
    assert!(
        sticky["message"]
            .as_str()
            .unwrap()
            .contains("The files explain it")
    );
    assert_eq!(
        r.fix_ids().first().map(String::as_str),
        Some("config.polling-multi-worker")
    );
}

#[test]
fn proxy_without_upgrade_fails_the_websocket_handshake() {
    let t = "proxy_without_upgrade_fails_the_websocket_handshake";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let nginx = match Nginx::start(app.port, "") {
        Ok(n) => n,
        Err(e) => return missing(t, &e),
    };
    let env = ports(app.port, rport);
    let url = nginx.url();
    let r = run(&env, &["--url", &url]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("ws.websocket-handshake"), ["fail"]);
    let hs = r.check("ws.websocket-handshake");
    assert!(
        hs["hint"]
            .as_str()
            .unwrap_or("")
            .contains("proxy_set_header Upgrade"),
        "{hs:#}"
    );
    assert_eq!(
        r.fix_ids().first().map(String::as_str),
        Some("ws.websocket-handshake")
    );
}

#[test]
fn dead_redis_and_silent_app_cost_about_one_timeout() {
    let t = "dead_redis_and_silent_app_cost_about_one_timeout";
    let _ = t;
    let silent = ws_support::SilentListener::start();
    let dead = free_port();
    let env = ports(silent.port, dead);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.args([
        "diagnose",
        "--timeout",
        "1s",
        "--format",
        "json",
        "--no-docker",
        "--project-dir",
    ])
    .arg(fixture());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let wall = started.elapsed();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("redis.connect"), "fail");
    assert_eq!(status("ws.http-reachable"), "fail");
    assert_eq!(out.status.code(), Some(1));
    // A guard against a hang, not a benchmark (benches/diagnose.rs measures).
    assert!(wall < Duration::from_secs(10), "{wall:?}");
}

#[test]
fn markdown_report_renders_for_a_github_issue() {
    let t = "markdown_report_renders_for_a_github_issue";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let mut env = ports(app.port, rport);
    env.push(("APP_REDIS_HOST", "beagle-redis".to_string()));
    let (_, md, _) = diagnose(&env, &[], "markdown");
    let html = {
        let parser = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES);
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, parser);
        html
    };
    assert!(html.contains("<h2>wsdoctor diagnose"), "{html}");
    assert!(html.contains("<table>"), "{html}");
    assert!(html.contains("<ol>"), "the ordered fix list: {html}");
    assert!(html.contains("<details>"), "{html}");
    assert!(html.contains("config.redis-url-host"), "{html}");
    assert!(!md.contains(PASSWORD));
}

/// The deployment's containers on the real Docker engine (busybox stand-ins with the labels,
/// environment and command compose would give them), next to the live servers: the docker
/// checks run in the same report, and a container not recreated after a change is found.
#[test]
fn docker_containers_join_the_report_and_drift_is_found() {
    let t = "docker_containers_join_the_report_and_drift_is_found";
    if !docker_support::engine_or_skip(t) {
        return;
    }
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let Some(app) = app(t, 1, "websocket", rport) else {
        return;
    };
    let mut lab = docker_support::Lab::new();
    let url = format!("redis://:{PASSWORD}@redis:6379/0");
    let app_spec = |redis_url: &str| {
        docker_support::Spec::new("open-webui")
            .env("WEBSOCKET_MANAGER", "redis")
            .env("REDIS_URL", redis_url)
            .env("UVICORN_WORKERS", "1")
            .env("ENABLE_WEBSOCKET_SUPPORT", "true")
    };
    assert!(lab.container(app_spec(&url)).is_none());
    assert!(
        lab.container(docker_support::Spec::new("redis").redis_server(&[
            "--requirepass",
            PASSWORD,
            "--timeout",
            "1800"
        ]),)
            .is_none()
    );
    let mut env = ports(app.port, rport);
    env.push(("COMPOSE_PROJECT_NAME", lab.project.clone()));
    let r = run(&env, &[]);
    for id in [
        "docker.engine",
        "docker.containers",
        "docker.network-shared",
        "docker.dns-alias",
        "docker.env-drift",
    ] {
        assert!(
            r.status(id).iter().all(|s| *s == "pass"),
            "{id}: {:?}\n{:#}",
            r.status(id),
            r.report
        );
    }
    assert_eq!(r.report["summary"]["verdict"], "pass", "{:#}", r.report);
    assert_no_secret_anywhere(&env, &[], &[PASSWORD]);

    // The files changed (a new Redis password); the running app still has the old URL.
    let mut env2 = env.clone();
    env2.push(("APP_REDIS_PASSWORD", "Rotated-Pw-2".to_string()));
    let r = run(&env2, &[]);
    assert!(
        r.status("docker.env-drift").contains(&"fail"),
        "{:#}",
        r.report
    );
    assert_no_secret_anywhere(&env2, &[], &[PASSWORD, "Rotated-Pw-2"]);
}

/// `redis --from-config` reaches the app's Redis the way diagnose does: the URL's host
/// (`redis`, a compose service) does not resolve here, so through the port it publishes.
#[test]
fn redis_from_config_reaches_the_published_port() {
    let t = "redis_from_config_reaches_the_published_port";
    let Some((_redis, rport)) = redis(t) else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args([
            "redis",
            "--from-config",
            "--format",
            "json",
            "--project-dir",
        ])
        .arg(fixture())
        .env_remove("REDIS_PASSWORD")
        .env_remove("COMPOSE_FILE")
        .env("REDIS_PORT", rport.to_string())
        .output()
        .expect("run wsdoctor");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}"));
    let check = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id}"))
    };
    assert_eq!(check("redis.connect")["status"], "pass", "{report:#}");
    assert_eq!(check("redis.auth")["status"], "pass", "{report:#}");
    assert!(
        check("redis.connect")["evidence"]["reached"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{rport}")),
        "{report:#}"
    );
    assert!(!stdout.contains(PASSWORD), "{stdout}");
}
