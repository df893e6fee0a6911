//! `wsdoctor lint` on Docker Swarm stack files, through the binary: the fixtures (each swarm
//! semantic fails on one and passes on the other, in every format, with file:line into the
//! stack file) and the real stack files of the shared corpus (0 unexplained findings; each
//! fired finding listed with its reason).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `wsdoctor lint -f FILE ARGS --format FORMAT` in `dir`: (exit code, stdout).
fn lint_in(dir: &Path, file: &str, format: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .current_dir(dir)
        .args(["lint", "--format", format, "--color", "never", "-f", file])
        .args(extra)
        .env_remove("COMPOSE_FILE")
        .env_remove("REDIS_PASSWORD")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(dir: &Path, file: &str, extra: &[&str]) -> (i32, Value) {
    let (code, text) = lint_in(dir, file, "json", extra);
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

fn checks<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

fn statuses(report: &Value, id: &str) -> Vec<String> {
    checks(report, id)
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_stack_with_sticky_deploy_labels_and_service_names_passes() {
    let dir = fixture("swarm-stack");
    let (code, report) = json(&dir, "docker-compose.yml", &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report, "config.polling-multi-worker"), ["pass"]);
    let polling = checks(&report, "config.polling-multi-worker")[0];
    assert_eq!(
        polling["message"],
        "open-webui: polling with 3 replicas behind a sticky-session label (deploy.labels \
         traefik.http.services.owui.loadbalancer.sticky.cookie)"
    );
    // The sticky label in deploy.labels, at its line.
    // Paths are from the repository root.
    assert_eq!(
        polling["location"]["file"],
        "fixtures/swarm-stack/docker-compose.yml"
    );
    assert_eq!(polling["location"]["line"], 21);
    assert_eq!(polling["evidence"]["swarm_stack"], true);
    assert_eq!(
        statuses(&report, "config.redis-url-host"),
        ["pass", "pass"],
        "{report:#}"
    );
    assert_eq!(statuses(&report, "config.network-shared"), ["pass", "pass"]);
    // depends_on is in the file, and a swarm ignores it: said, not judged.
    let dep = checks(&report, "config.depends-on-redis");
    assert_eq!(dep.len(), 1);
    assert_eq!(dep[0]["status"], "skip");
    assert_eq!(
        dep[0]["message"],
        "swarm ignores depends_on: the files are a Docker Swarm stack (deploy.labels of service \
         open-webui at fixtures/swarm-stack/docker-compose.yml:18), and docker stack deploy starts every service at once"
    );
    assert_eq!(statuses(&report, "config.websocket-manager"), ["pass"]);
}

#[test]
fn a_stack_written_for_compose_fails_where_swarm_differs() {
    let dir = fixture("swarm-polling");
    let (code, report) = json(&dir, "docker-compose.yml", &[]);
    assert_eq!(code, 1);
    let polling = checks(&report, "config.polling-multi-worker");
    assert_eq!(polling.len(), 1);
    assert_eq!(polling[0]["status"], "fail");
    assert_eq!(
        polling[0]["message"],
        "open-webui: polling only with 2 replicas in a swarm stack and no sticky proxy: \
         traefik.docker.lbswarm=true hands balancing to the service VIP, which has no session \
         affinity (a sticky label is then void), so requests of one session land on other \
         replicas (400 \"Invalid session\")"
    );
    assert_eq!(polling[0]["location"]["line"], 8);
    // container_name is no DNS name in a stack.
    let hosts = checks(&report, "config.redis-url-host");
    assert_eq!(
        hosts.iter().map(|c| &c["status"]).collect::<Vec<_>>(),
        ["fail", "fail"]
    );
    let url = hosts
        .iter()
        .find(|c| c["message"].as_str().unwrap().contains(" REDIS_URL:"))
        .unwrap();
    assert_eq!(
        url["message"],
        "open-webui REDIS_URL: host 'owui-redis' is the container_name of service redis, but \
         this is a swarm stack (deploy.endpoint_mode of service open-webui at \
         fixtures/swarm-polling/docker-compose.yml:17): \
         docker stack deploy ignores container_name, so no task answers to 'owui-redis'"
    );
    assert_eq!(url["location"]["line"], 11);
    assert_eq!(url["hint"], "use the service name: host 'redis'");
}

#[test]
fn without_sticky_labels_the_routing_mesh_is_named_and_compose_is_unchanged() {
    // The same services with no Traefik labels: as a stack the routing mesh is the reason,
    // as a compose file (no swarm-only key) the message stays the compose one.
    let dir = tempfile::tempdir().unwrap();
    let stack = "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n    \
                 environment:\n      ENABLE_WEBSOCKET_SUPPORT: \"false\"\n      \
                 WEBSOCKET_MANAGER: redis\n      WEBSOCKET_REDIS_URL: redis://redis:6379/0\n    \
                 deploy:\n      replicas: 2\n      MODE\n  redis:\n    image: redis:7\n";
    std::fs::write(
        dir.path().join("stack.yml"),
        stack.replace("MODE", "endpoint_mode: dnsrr"),
    )
    .unwrap();
    let (_, report) = json(dir.path(), "stack.yml", &[]);
    let polling = checks(&report, "config.polling-multi-worker")[0];
    assert_eq!(polling["status"], "fail");
    assert!(
        polling["message"].as_str().unwrap().contains(
            "endpoint_mode dnsrr: each lookup of the service name returns the tasks in turn, \
             with no session affinity"
        ),
        "{polling:#}"
    );
    std::fs::write(
        dir.path().join("stack.yml"),
        stack.replace("MODE", "restart_policy: {condition: any}"),
    )
    .unwrap();
    let (_, report) = json(dir.path(), "stack.yml", &[]);
    let polling = checks(&report, "config.polling-multi-worker")[0];
    assert_eq!(
        polling["message"],
        "open-webui: polling only with 2 replicas and no sticky sessions in sight: 400 \
         \"Invalid session\" loops unless the load balancer pins each client"
    );
    assert!(polling["evidence"].get("swarm_stack").is_none());
}

#[test]
fn a_variable_only_dotenv_sets_reaches_a_stack_empty() {
    // docker stack deploy does not read .env (measured with docker CLI 28.2.2: `FOO: ${FOO}`
    // with FOO only in .env deployed as `FOO=`); docker compose does.
    let dir = tempfile::tempdir().unwrap();
    let file = "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n    \
                environment:\n      WEBSOCKET_MANAGER: redis\n      \
                WEBSOCKET_REDIS_URL: redis://:${REDIS_PASSWORD}@redis:6379/0\n    \
                networks: [backend]\n  redis:\n    image: redis:7\n    \
                command: redis-server --requirepass ${REDIS_PASSWORD} --timeout 1800\n    \
                networks: [backend]\nnetworks:\n  backend:\n    DRIVER\n";
    std::fs::write(dir.path().join(".env"), "REDIS_PASSWORD=Only-In-Dotenv-1\n").unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        file.replace("DRIVER", "driver: overlay"),
    )
    .unwrap();
    let (code, text) = lint_in(dir.path(), "docker-compose.yml", "json", &[]);
    assert!(!text.contains("Only-In-Dotenv-1"), "secret leaked: {text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    let unset = checks(&report, "config.interpolation-unset");
    assert_eq!(unset.len(), 1, "{report:#}");
    assert_eq!(unset[0]["status"], "warn");
    assert_eq!(
        unset[0]["message"],
        "${REDIS_PASSWORD} (open-webui WEBSOCKET_REDIS_URL) is set only in the project .env, \
         which docker stack deploy does not read: this swarm stack (networks.backend.driver: \
         overlay at docker-compose.yml:13) gets an empty value"
    );
    assert_eq!(unset[0]["location"]["line"], 6);
    assert_eq!(code, 0);
    // The same file for compose (a bridge network): .env is read, nothing to say.
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        file.replace("DRIVER", "driver: bridge"),
    )
    .unwrap();
    let (_, report) = json(dir.path(), "docker-compose.yml", &[]);
    assert_eq!(statuses(&report, "config.interpolation-unset"), ["pass"]);
}

#[test]
fn every_format_points_into_the_stack_file() {
    let dir = fixture("swarm-polling");
    for format in [
        "text", "json", "markdown", "sarif", "junit", "github", "gitlab", "concise",
    ] {
        let (code, out) = lint_in(&dir, "docker-compose.yml", format, &[]);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(
            out.contains("config.polling-multi-worker") && out.contains("docker-compose.yml"),
            "{format}: {out}"
        );
        assert!(
            out.contains("owui-redis"),
            "{format} does not carry the redis-url-host finding: {out}"
        );
    }
}

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if dir.join("swarm").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("no swarm corpus at {}: CI must have shared/", dir.display());
    }
    eprintln!(
        "SKIPPED lint_swarm corpus: no corpora at {} (set WSDOCTOR_CORPORA)",
        dir.display()
    );
    None
}

/// Findings on the swarm corpus that are true, with the reason: (file, check id, why).
/// Anything else that warns or fails is a false alarm and fails the test; each listed one
/// must fire.
const TRUE_FINDINGS: &[(&str, &str, &str)] = &[
    (
        "sw360cab-traefik-docker-swarm__docker-compose.yml",
        "config.websocket-manager",
        "2 replicas of a Node socket.io app and no Redis URL in the stack file at all: the app's \
         code would have to name one (the repository's app uses no adapter)",
    ),
    (
        "sw360cab-traefik-docker-swarm__docker-compose.yml",
        "config.polling-multi-worker",
        "2 replicas behind Traefik's swarm provider with no sticky cookie in deploy.labels: \
         polling sessions cross replicas (socket.io clients start on polling)",
    ),
    (
        "sw360cab-websockets-scaling__stack__docker-compose.yml",
        "config.websocket-manager",
        "the app reads REDIS_HOST in its own code (createAdapter), a variable no profile knows: \
         wsdoctor cannot see the adapter, and says so",
    ),
    (
        "sw360cab-traefik-docker-swarm__docker-compose.yml",
        "proxy.affinity",
        "Traefik's swarm provider (deploy.labels, lbswarm unset) balances over the 2 tasks with \
         no sticky cookie: the same lost polling sessions config.polling-multi-worker warns \
         about, seen at the proxy (a warning: the Node app's transports are in its code)",
    ),
    (
        "sw360cab-websockets-scaling__stack__docker-compose.yml",
        "proxy.path",
        "read with --app node-socketio, whose path is socket.io's default /socket.io/ (a Node \
         app sets another in its code, which wsdoctor does not read): the only Traefik router \
         matches PathPrefix(`/wsk`) and its replacepath middleware sends every request to `/`, \
         so /socket.io/ reaches the app by no route",
    ),
];

/// The app of each corpus file, as a user names it (the images are built from the
/// repositories' Node socket.io apps, which wsdoctor cannot recognise from an image name).
const APPS: &[(&str, &str)] = &[
    ("sw360cab-traefik-docker-swarm__docker-compose.yml", "app"),
    (
        "sw360cab-websockets-scaling__stack__docker-compose.yml",
        "socket-server",
    ),
];

#[test]
fn the_swarm_corpus_has_no_unexplained_findings() {
    let Some(corpora) = corpora() else {
        return;
    };
    let dir = corpora.join("swarm");
    let mut fired: Vec<(String, String)> = Vec::new();
    for (file, service) in APPS {
        let (code, report) = json(
            &dir,
            file,
            &["--app", "node-socketio", "--service", service],
        );
        assert!(code == 0 || code == 1, "{file}: exit {code}");
        // Both are read as stacks.
        let polling = checks(&report, "config.polling-multi-worker");
        assert_eq!(polling[0]["evidence"]["swarm_stack"], true, "{file}");
        for c in report["checks"].as_array().unwrap() {
            let status = c["status"].as_str().unwrap();
            if status != "warn" && status != "fail" {
                continue;
            }
            let id = c["id"].as_str().unwrap();
            assert!(
                TRUE_FINDINGS.iter().any(|(f, i, _)| f == file && *i == id),
                "false alarm on {file}: {c:#}"
            );
            fired.push((file.to_string(), id.to_string()));
        }
    }
    for (file, id, why) in TRUE_FINDINGS {
        assert!(
            fired.iter().any(|(f, i)| f == file && i == id),
            "{file}: {id} is listed ({why}) but did not fire"
        );
    }
    // The websockets-scaling stack keeps Traefik's sticky cookie in container labels, which
    // Traefik's docker provider without swarm mode (its command sets no swarmMode) reads.
    let (_, report) = json(
        &dir,
        "sw360cab-websockets-scaling__stack__docker-compose.yml",
        &["--app", "node-socketio", "--service", "socket-server"],
    );
    let polling = checks(&report, "config.polling-multi-worker")[0];
    assert_eq!(polling["status"], "pass");
    assert!(
        polling["message"]
            .as_str()
            .unwrap()
            .contains("in swarm mode Traefik reads deploy.labels"),
        "{polling:#}"
    );
}
