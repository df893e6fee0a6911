//! `redis.pubsub` against real python-socketio AsyncRedisManager processes (the manager
//! Open WebUI uses), and `wsdoctor redis --from-config` reading the URL from compose files.

mod redis_support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis_support::*;

const PW: &str = "Socketio-redis-pw";

macro_rules! need_redis {
    ($name:expr) => {
        if !have(REDIS_SERVER, $name) || !have(REDIS_CLI, $name) {
            return;
        }
    };
}

/// `$WSDOCTOR_PYTHON`, else /work/venv/bin/python, else python3: the first that imports
/// python-socketio and redis-py.
fn python_with_socketio(test: &str) -> Option<String> {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("WSDOCTOR_PYTHON") {
        candidates.push(p);
    }
    candidates.push("/work/venv/bin/python".to_string());
    candidates.push("python3".to_string());
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", "import socketio, redis"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(p);
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: no python with python-socketio and redis (pip install python-socketio redis; or set WSDOCTOR_PYTHON)"
        );
    }
    eprintln!("SKIPPED {test}: no python with python-socketio and redis-py (set WSDOCTOR_PYTHON)");
    None
}

/// One "worker": an AsyncServer with an AsyncRedisManager whose listener is started the
/// way python-socketio starts it on the first client connect (`manager.initialize()`).
const WORKER: &str = r#"
import asyncio, sys, socketio
async def main():
    mgr = socketio.AsyncRedisManager(sys.argv[1])
    sio = socketio.AsyncServer(client_manager=mgr, async_mode="asgi")
    sio.manager.initialize()
    await asyncio.sleep(3600)
asyncio.run(main())
"#;

struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(python: &str, url: &str) -> Worker {
    Worker(
        Command::new(python)
            .args(["-c", WORKER, url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn python worker"),
    )
}

#[test]
fn python_socketio_workers_are_counted_on_the_manager_channel() {
    need_redis!("python_socketio_workers_are_counted_on_the_manager_channel");
    let Some(python) =
        python_with_socketio("python_socketio_workers_are_counted_on_the_manager_channel")
    else {
        return;
    };
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let _workers = [worker(&python, &url), worker(&python, &url)];
    server.wait_until(
        "2 python-socketio listeners",
        Duration::from_secs(20),
        |s| s.numsub("socketio") == 2,
    );

    let run = wsdoctor_json(&[&url, "--workers", "2"]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip")
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.pubsub", "subscribers"), 2);
    assert_eq!(run.evidence("redis.client-list", "subscribers"), 2);

    // Four workers expected, two subscribed: some have no manager.
    let run = wsdoctor_json(&[&url, "--workers", "4"]);
    assert_eq!(run.statuses()["redis.pubsub"], "fail", "{}", run.stdout);
    assert!(run.message("redis.pubsub").contains("2 worker(s)"));
    assert_eq!(run.code, 1);
}

#[test]
fn from_config_reads_the_url_of_the_deployment() {
    need_redis!("from_config_reads_the_url_of_the_deployment");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  app:\n    image: ghcr.io/open-webui/open-webui:main\n    environment:\n      \
             WEBSOCKET_MANAGER: redis\n      WEBSOCKET_REDIS_URL: redis://:{PW}@redis:6379/1\n  \
             redis:\n    image: redis:7\n    command: redis-server --requirepass {PW}\n"
        ),
    )
    .expect("write compose.yaml");
    let project = dir.path().to_string_lossy().to_string();
    let run = wsdoctor(&[
        "redis",
        "--from-config",
        "--project-dir",
        &project,
        "--host",
        &server.addr(),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    let run = Run { json, ..run };
    assert_eq!(run.statuses()["redis.connect"], "pass", "{}", run.stdout);
    assert_eq!(run.statuses()["redis.auth"], "pass");
    assert_eq!(run.statuses()["redis.db-select"], "pass");
    assert_eq!(run.evidence("redis.connect", "url_address"), "redis:6379");
    // The files configure one Socket.IO process with the Redis manager: the subscriber
    // count is compared with it without --workers.
    assert_eq!(run.evidence("redis.pubsub", "expected_workers"), 1);
    assert!(!run.stdout.contains(PW));
}
