//! `redis.pubsub` against real managers: python-socketio AsyncRedisManager processes and
//! `uvicorn --workers 4` (subscribing with each worker's first client), Flask-SocketIO's
//! message queue (`flask-socketio` channel), Open WebUI's own room-channel manager
//! (subscribing at startup); and `wsdoctor redis --from-config` reading the URL from compose
//! files.

mod redis_support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis_support::*;
use wsdoctor::checks::redis::{Expectations, ManagerExpectation, SubscribeTiming, reread_can_help};
use wsdoctor::probe::redis::{ProbeOptions, RedisObservations};
use wsdoctor::report::{CheckResult, Status};

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

/// A python with `imports`: the first of `$<env>/bin/python`, `<cache>/<venv>/bin/python`
/// (`$WSDOCTOR_CACHE`, else ~/.cache/wsdoctor, else /var/cache/wsdoctor), then
/// `$WSDOCTOR_PYTHON`. Without one: fails under CI, else one loud SKIPPED line.
fn venv_python(test: &str, env: &str, venv: &str, imports: &str) -> Option<String> {
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(dir) = std::env::var(env) {
        candidates.push(format!("{dir}/bin/python"));
    }
    if let Ok(cache) = std::env::var("WSDOCTOR_CACHE") {
        candidates.push(format!("{cache}/{venv}/bin/python"));
    }
    if let Ok(home) = std::env::var("HOME") {
        candidates.push(format!("{home}/.cache/wsdoctor/{venv}/bin/python"));
    }
    candidates.push(format!("/var/cache/wsdoctor/{venv}/bin/python"));
    if let Ok(p) = std::env::var("WSDOCTOR_PYTHON") {
        candidates.push(p);
    }
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", &format!("import {imports}")])
            .current_dir(std::env::temp_dir())
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
            "{test}: no python that imports {imports} (scripts/real-apps.sh installs it; or set {env})"
        );
    }
    eprintln!("SKIPPED {test}: no python that imports {imports} (set {env})");
    None
}

/// Sends one Engine.IO polling handshake (what a browser's first request is) and reads the
/// answer: python-socketio initialises its manager (subscribes) on the first Engine.IO
/// connect of a worker.
fn engineio_handshake(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(
        format!(
            "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Probes with the library and judges with `expect`, as diagnose does.
fn pubsub_judged(url: &str, expect: &Expectations) -> (RedisObservations, CheckResult) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let target = wsdoctor::probe::redis::target::parse_url(url).expect("url");
    let opts = ProbeOptions {
        latency_samples: 0,
        channel: expect
            .manager
            .as_ref()
            .and_then(|m| m.channels.first().cloned())
            .unwrap_or_else(|| "socketio".to_string()),
        ..ProbeOptions::default()
    };
    let obs = rt.block_on(wsdoctor::probe::redis::probe(&target, &opts));
    let r = wsdoctor::checks::redis::run(&obs, expect)
        .into_iter()
        .find(|r| r.id == "redis.pubsub")
        .expect("redis.pubsub");
    (obs, r)
}

fn expecting(timing: SubscribeTiming, channel: &str, processes: u32, clients: u32) -> Expectations {
    Expectations {
        workers: None,
        manager: Some(ManagerExpectation {
            app: "python-socketio".to_string(),
            channels: vec![channel.to_string()],
            patterns: Vec::new(),
            timing,
            processes,
            clients_connected: clients,
        }),
    }
}

/// A python-socketio ASGI app with an AsyncRedisManager, served by `uvicorn --workers N`.
const UVICORN_APP: &str = r#"
import os, socketio
sio = socketio.AsyncServer(
    client_manager=socketio.AsyncRedisManager(os.environ["REDIS_URL"]), async_mode="asgi")
app = socketio.ASGIApp(sio)
"#;

#[test]
fn four_uvicorn_workers_subscribe_with_their_first_client() {
    need_redis!("four_uvicorn_workers_subscribe_with_their_first_client");
    let Some(python) = venv_python(
        "four_uvicorn_workers_subscribe_with_their_first_client",
        "WSDOCTOR_APPS_VENV",
        "apps",
        "socketio, redis, uvicorn",
    ) else {
        return;
    };
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sioapp.py"), UVICORN_APP).expect("write app");
    let port = free_port();
    let _uvicorn = Worker(
        Command::new(&python)
            .args([
                "-m",
                "uvicorn",
                "sioapp:app",
                "--workers",
                "4",
                "--host",
                "127.0.0.1",
            ])
            .args(["--port", &port.to_string(), "--log-level", "warning"])
            .current_dir(dir.path())
            .env("REDIS_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn uvicorn"),
    );
    // Wait until the workers serve (uvicorn starts 4 processes), without a Socket.IO client.
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "uvicorn did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));

    // Healthy right after start, no client yet: 0 subscribers says nothing.
    assert_eq!(server.numsub("socketio"), 0);
    let (_, r) = pubsub_judged(
        &url,
        &expecting(SubscribeTiming::FirstClient, "socketio", 4, 0),
    );
    assert_eq!(r.status, Status::Skip, "{}", r.message);
    assert!(reread_can_help(&r));

    // One client: exactly the worker that took it subscribes.
    let answer = engineio_handshake(port);
    assert!(answer.contains("\"sid\""), "{answer}");
    server.wait_until(
        "the first worker subscribed",
        Duration::from_secs(10),
        |s| s.numsub("socketio") >= 1,
    );
    let (obs, r) = pubsub_judged(
        &url,
        &expecting(SubscribeTiming::FirstClient, "socketio", 4, 1),
    );
    assert_eq!(r.evidence["subscribers"], 1, "{}", r.message);
    assert_eq!(
        r.status,
        Status::Pass,
        "healthy, a lower bound: {}",
        r.message
    );
    assert!(r.message.contains("lower bound"), "{}", r.message);
    assert!(reread_can_help(&r));
    // The same count under Startup timing (Open WebUI) would be a fault: 1 of 4.
    let startup =
        wsdoctor::checks::redis::run(&obs, &expecting(SubscribeTiming::Startup, "socketio", 4, 1))
            .into_iter()
            .find(|r| r.id == "redis.pubsub")
            .expect("redis.pubsub");
    assert_eq!(startup.status, Status::Fail, "{}", startup.message);
    assert!(startup.message.contains("1 of 4"), "{}", startup.message);
    assert!(!reread_can_help(&startup));
}

/// A Flask-SocketIO process with a Redis message queue (default channel `flask-socketio`),
/// its listener started as its first client would start it.
const FLASK_WORKER: &str = r#"
import sys, time
from flask import Flask
from flask_socketio import SocketIO
app = Flask(__name__)
sio = SocketIO(app, message_queue=sys.argv[1], async_mode="threading")
sio.server.manager.initialize()
time.sleep(3600)
"#;

#[test]
fn flask_socketio_message_queue_channel_is_counted() {
    need_redis!("flask_socketio_message_queue_channel_is_counted");
    let Some(python) = venv_python(
        "flask_socketio_message_queue_channel_is_counted",
        "WSDOCTOR_APPS_VENV",
        "apps",
        "flask_socketio, redis",
    ) else {
        return;
    };
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let spawn = || {
        Worker(
            Command::new(&python)
                .args(["-c", FLASK_WORKER, &url])
                .current_dir(std::env::temp_dir())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn flask worker"),
        )
    };
    let _workers = [spawn(), spawn()];
    server.wait_until("2 Flask-SocketIO listeners", Duration::from_secs(20), |s| {
        s.numsub("flask-socketio") == 2
    });
    // `wsdoctor redis --workers 2` without --channel: Flask-SocketIO's channel is found.
    let run = wsdoctor_json(&[&url, "--workers", "2"]);
    assert_eq!(run.statuses()["redis.pubsub"], "pass", "{}", run.stdout);
    assert_eq!(run.evidence("redis.pubsub", "channel"), "flask-socketio");
    assert_eq!(run.evidence("redis.pubsub", "subscribers"), 2);
    // With the app's expectation (channel and first-client timing), as diagnose passes it.
    let (_, r) = pubsub_judged(
        &url,
        &expecting(SubscribeTiming::FirstClient, "flask-socketio", 2, 2),
    );
    assert_eq!(r.status, Status::Pass, "{}", r.message);
    // More subscribers than processes: another deployment shares the channel.
    let (_, r) = pubsub_judged(
        &url,
        &expecting(SubscribeTiming::FirstClient, "flask-socketio", 1, 1),
    );
    assert_eq!(r.status, Status::Warn, "{}", r.message);
    assert!(!reread_can_help(&r), "a re-read cannot change a surplus");
}

/// Open WebUI's own room-channel manager (open_webui/socket/redis_room_channels.py, 0.12.4),
/// initialised at startup as its lifespan does (main.py:424-428); one client connected and in
/// its user room (a room channel for its sid and one for the room).
const OPEN_WEBUI_WORKER: &str = r#"
import asyncio, sys, socketio
from open_webui.socket.redis_room_channels import AsyncRedisRoomChannelManager
async def main():
    mgr = AsyncRedisRoomChannelManager(sys.argv[1])
    sio = socketio.AsyncServer(client_manager=mgr, async_mode="asgi")
    sio.manager_initialized = True
    sio.manager.initialize()
    # A client connected and joined its user room, as Open WebUI's connect handler does.
    sid = await mgr.connect("eio-" + sys.argv[2], "/")
    await mgr.enter_room(sid, "/", "user:" + sys.argv[2])
    await asyncio.sleep(3600)
asyncio.run(main())
"#;

#[test]
fn open_webui_room_channel_manager_subscribes_at_startup() {
    need_redis!("open_webui_room_channel_manager_subscribes_at_startup");
    let Some(python) = venv_python(
        "open_webui_room_channel_manager_subscribes_at_startup",
        "WSDOCTOR_OWUI_VENV",
        "owui",
        "open_webui.socket.redis_room_channels",
    ) else {
        return;
    };
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let spawn = |n: &str| {
        Worker(
            Command::new(&python)
                .args(["-c", OPEN_WEBUI_WORKER, &url, n])
                .current_dir(std::env::temp_dir())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn Open WebUI manager"),
        )
    };
    let first = spawn("1");
    server.wait_until("a room channel", Duration::from_secs(30), |s| {
        s.numsub("socketio") == 1 && s.numsub("socketio#/#user:1") == 1
    });
    let open_webui = |processes| Expectations {
        workers: None,
        manager: Some(ManagerExpectation {
            app: "Open WebUI 0.12".to_string(),
            channels: vec!["socketio".to_string()],
            patterns: Vec::new(),
            timing: SubscribeTiming::Startup,
            processes,
            clients_connected: 0,
        }),
    };
    // Two workers configured, one running: a fault at once (it subscribes at startup).
    let (_, r) = pubsub_judged(&url, &open_webui(2));
    assert_eq!(r.status, Status::Fail, "{}", r.message);
    assert!(r.message.contains("1 of 2"), "{}", r.message);
    // Room channels (the client's sid room and its user room) are the manager's own, not
    // "other channels".
    assert_eq!(r.evidence["room_channels"], 2, "{}", r.message);
    assert_eq!(r.evidence["other_channels"], serde_json::json!([]));

    let _second = spawn("2");
    server.wait_until("2 subscribers", Duration::from_secs(30), |s| {
        s.numsub("socketio") == 2
    });
    let (_, r) = pubsub_judged(&url, &open_webui(2));
    assert_eq!(r.status, Status::Pass, "{}", r.message);
    assert_eq!(r.evidence["room_channels"], 4);

    // No worker connected at all: the manager is not connected.
    drop(first);
    drop(_second);
    server.wait_until("no subscriber", Duration::from_secs(10), |s| {
        s.numsub("socketio") == 0
    });
    let (_, r) = pubsub_judged(&url, &open_webui(2));
    assert_eq!(r.status, Status::Fail, "{}", r.message);
    assert!(r.message.contains("not connected"), "{}", r.message);
}
