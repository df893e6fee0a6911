//! Open WebUI 0.12.4 from PyPI, run for real (issue 10, "Tests against the real apps"): one
//! instance per case, started as the image's start.sh starts it, offline, on loopback, with a
//! real redis-server (and redis-sentinel), and with the environment of a fixture compose file
//! (fixtures/real-openwebui*/) that describes the same deployment. `wsdoctor lint` and
//! `wsdoctor diagnose --timeout 3s` then run against that fixture, the ports coming in through
//! ${APP_PORT}, ${REDIS_PORT} and ${SENTINEL_PORT}.
//!
//! Each test first asserts what the real app does (Redis subscribers, the answer to a Socket.IO
//! CONNECT, whether it listens), so that an upgrade of the app that changes it is seen before
//! wsdoctor's verdicts are blamed; then every expectation about the reports is checked and the
//! failed ones are reported together.
//!
//! The venv comes from scripts/real-apps.sh (tests/real_apps/requirements-openwebui.txt);
//! without it each test prints a loud SKIPPED line, and fails under CI=true. Each boot takes
//! 35-95 s on 2 busy cores; the tests run in parallel as the harness allows.

#[path = "real_support/openwebui.rs"]
mod openwebui;
mod real_support;

use std::path::PathBuf;
use std::time::Duration;

use openwebui::{Connect, Expect, Fixture, OpenWebUi, Report, run_wsdoctor, socketio_connect};
use real_support::{Redis, Sentinel, Stopwatch, http, missing};

/// The probe budget of every diagnose run.
const TIMEOUT: &str = "3s";

/// How long a CONNECT is given to be answered before it counts as never answered (a healthy
/// instance answers in ~20 ms).
const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// A case running: the app, its Redis (and Sentinel), and the variables that point the
/// fixture's published ports at them.
struct Live {
    fixture: Fixture,
    py: PathBuf,
    redis: Redis,
    sentinel: Option<Sentinel>,
    app: OpenWebUi,
    clock: Stopwatch,
}

impl Live {
    /// Starts a redis-server as the fixture's `beagle-redis` command says (its password, and
    /// `--timeout 1800`), a Sentinel monitoring it as `mymaster` when `sentinel`, and Open WebUI
    /// with the fixture's environment. One redis-server per case: PUBSUB counts are per server,
    /// not per db, and the cases run in parallel. None when a component is missing (reported).
    fn start(test: &'static str, fixture: &str, sentinel: bool) -> Option<Live> {
        let clock = Stopwatch::start(test);
        let fixture = Fixture::load(fixture);
        let py = match openwebui::python() {
            Ok(py) => py,
            Err(e) => {
                missing(test, &e);
                return None;
            }
        };
        let password = fixture.dotenv("REDIS_PASSWORD").to_string();
        let redis = match Redis::start(Some(&password), &["--timeout", "1800"]) {
            Ok(r) => r,
            Err(e) => {
                missing(test, &e);
                return None;
            }
        };
        let sentinel = if sentinel {
            match Sentinel::start(redis.port, "mymaster", Some(&password)) {
                Ok(s) => Some(s),
                Err(e) => {
                    missing(test, &e);
                    return None;
                }
            }
        } else {
            None
        };
        let env = fixture.app_env_on_loopback(Some(redis.port), sentinel.as_ref().map(|s| s.port));
        let app = OpenWebUi::spawn(&py, &env).unwrap_or_else(|e| panic!("{test}: {e}"));
        Some(Live {
            fixture,
            py,
            redis,
            sentinel,
            app,
            clock,
        })
    }

    fn serving(&mut self, test: &str) {
        if let Err(e) = self.app.wait_serving() {
            panic!("{test}: {e}");
        }
        self.clock.lap("Open WebUI serving");
    }

    /// The variables `${APP_PORT}`, `${REDIS_PORT}`, `${SENTINEL_PORT}` of the fixture.
    fn ports(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("APP_PORT", self.app.port.to_string()),
            ("REDIS_PORT", self.redis.port.to_string()),
        ];
        if let Some(s) = &self.sentinel {
            env.push(("SENTINEL_PORT", s.port.to_string()));
        }
        env
    }

    /// `wsdoctor lint` on the fixture; its outputs never show a secret of the fixture.
    fn lint(&self, expect: &mut Expect) -> Report {
        let r = run_wsdoctor("lint", &self.fixture, &[], &self.ports());
        expect.no_secret("lint", &r, &self.fixture.secrets());
        r
    }

    /// `wsdoctor diagnose --timeout 3s` on the fixture, the same way.
    fn diagnose(&self, expect: &mut Expect) -> Report {
        let r = run_wsdoctor(
            "diagnose",
            &self.fixture,
            &["--timeout", TIMEOUT],
            &self.ports(),
        );
        self.clock.lap(&format!(
            "lint + diagnose (diagnose {} ms)",
            r.run.elapsed.as_millis()
        ));
        expect.no_secret("diagnose", &r, &self.fixture.secrets());
        r
    }

    fn connect(&self) -> Connect {
        socketio_connect(&self.py, self.app.port, CONNECT_WAIT)
    }

    /// Whether the websocket CONNECT got its `40{"sid":…}`.
    fn connect_accepted(&self) -> (bool, Connect) {
        let c = self.connect();
        (
            matches!(&c, Connect::Answered(a) if a.starts_with("40{")),
            c,
        )
    }
}

/// Healthy: 2 workers, the Redis manager, a password. Workers subscribe at startup (Open WebUI's
/// lifespan initialises the manager, open_webui/main.py:424-428 in 0.12.4), so NUMSUB socketio
/// equals the workers before any client; an anonymous CONNECT is accepted.
#[test]
fn healthy_two_workers_with_password() {
    const TEST: &str = "healthy_two_workers_with_password";
    let Some(mut live) = Live::start(TEST, "real-openwebui", false) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    let subscribers = live
        .redis
        .wait_numsub("socketio", 2, Duration::from_secs(30));
    expect.that(
        subscribers == 2 && live.app.server_processes() == 2,
        &format!(
            "the app: 2 worker processes subscribed to 'socketio' before any client; got {subscribers} subscribers, {} processes",
            live.app.server_processes()
        ),
        || live.redis.cli(&["PUBSUB", "CHANNELS", "*"]),
    );

    // Right after start, no client yet: the subscribers are already all there.
    let lint = live.lint(&mut expect);
    expect.no_fail("lint", &lint);
    expect.status("lint", &lint, "config.websocket-manager", &["pass"]);
    let diagnose = live.diagnose(&mut expect);
    expect.no_fail("diagnose", &diagnose);
    expect.status("diagnose", &diagnose, "redis.auth", &["pass"]);
    expect.status("diagnose", &diagnose, "redis.pubsub", &["pass"]);
    expect.status("diagnose", &diagnose, "ws.socketio-connect", &["pass"]);

    let (accepted, answer) = live.connect_accepted();
    expect.that(
        accepted,
        &format!("the app: an anonymous CONNECT gets 40{{sid}}; got {answer:?}"),
        String::new,
    );
    expect.finish();
}

/// WEB_CONCURRENCY=4 with UVICORN_WORKERS unset, polling only: the image runs ONE worker, so
/// neither polling without sticky sessions nor 1 subscriber is a fault (issue 10: two false
/// failures contradicting the passing live sticky-session test).
#[test]
fn web_concurrency_is_not_the_worker_count() {
    const TEST: &str = "web_concurrency_is_not_the_worker_count";
    let Some(mut live) = Live::start(TEST, "real-openwebui-web-concurrency", false) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    // uvicorn's supervisor spawns all its workers at once: had it been told 4, 4 worker
    // processes would be running by the time one serves.
    let subscribers = live.redis.numsub("socketio");
    expect.that(
        live.app.server_processes() == 1 && subscribers == 1,
        &format!(
            "the app: one server process, one subscriber; got {} processes, {subscribers} subscribers",
            live.app.server_processes()
        ),
        || live.app.proc.log_tail(20),
    );
    let polling = http(
        live.app.port,
        "GET",
        "/ws/socket.io/?EIO=4&transport=polling",
        &[],
        "",
        Duration::from_secs(5),
    );
    expect.that(
        polling
            .as_ref()
            .is_ok_and(|a| a.status == 200 && a.body.starts_with("0{")),
        "the app: the polling handshake is served (ENABLE_WEBSOCKET_SUPPORT=false)",
        || format!("{polling:?}"),
    );

    let lint = live.lint(&mut expect);
    expect.no_fail("lint", &lint);
    expect.status(
        "lint",
        &lint,
        "config.polling-multi-worker",
        &["pass", "skip"],
    );
    expect.status("lint", &lint, "config.websocket-manager", &["pass", "skip"]);
    let diagnose = live.diagnose(&mut expect);
    expect.no_fail("diagnose", &diagnose);
    expect.status(
        "diagnose",
        &diagnose,
        "config.polling-multi-worker",
        &["pass", "skip"],
    );
    expect.status("diagnose", &diagnose, "ws.sticky-session", &["pass"]);
    expect.status("diagnose", &diagnose, "redis.pubsub", &["pass"]);
    expect.finish();
}

/// The seed bug: WEBSOCKET_REDIS_URL names host `redis`, the service is `beagle-redis`. The app
/// serves pages and the websocket handshake, and never answers a CONNECT.
#[test]
fn seed_wrong_host() {
    const TEST: &str = "seed_wrong_host";
    let Some(mut live) = Live::start(TEST, "real-openwebui-seed-wrong-host", false) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    let connect = live.connect();
    expect.that(
        connect == Connect::Unanswered && live.redis.numsub("socketio") == 0,
        &format!("the app: CONNECT never answered, no subscriber; got {connect:?}"),
        || live.app.proc.log_tail(20),
    );

    let reports = [
        ("lint", live.lint(&mut expect)),
        ("diagnose", live.diagnose(&mut expect)),
    ];
    for (case, r) in reports {
        expect.status(case, &r, "config.redis-url-host", &["fail"]);
        expect.first_fix(case, &r, "config.redis-url-host", "beagle-redis");
        if case == "diagnose" {
            // The live symptom is there and is put down to the files' cause.
            expect.status(case, &r, "ws.socketio-connect", &["fail", "skip"]);
            expect.that(
                r.names_cause("ws.socketio-connect", "redis"),
                "diagnose: ws.socketio-connect names the Redis cause (message or caused_by)",
                || r.dump(),
            );
        }
    }
    expect.finish();
}

/// The app's REDIS_URL has a stale password: Redis answers WRONGPASS, the app serves pages and
/// the websocket handshake but never answers a CONNECT.
#[test]
fn wrong_password() {
    const TEST: &str = "wrong_password";
    let Some(mut live) = Live::start(TEST, "real-openwebui-wrong-password", false) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    let connect = live.connect();
    let wrongpass = live.redis.cli(&["INFO", "errorstats"]);
    expect.that(
        connect == Connect::Unanswered && wrongpass.contains("errorstat_WRONGPASS"),
        &format!("the app: CONNECT never answered, Redis counted WRONGPASS; got {connect:?}"),
        || wrongpass.clone(),
    );

    let lint = live.lint(&mut expect);
    expect.status("lint", &lint, "config.redis-url-password", &["fail"]);
    expect.first_fix("lint", &lint, "config.redis-url-password", "");
    let diagnose = live.diagnose(&mut expect);
    expect.status(
        "diagnose",
        &diagnose,
        "config.redis-url-password",
        &["fail"],
    );
    expect.first_fix("diagnose", &diagnose, "config.redis-url-password", "");
    expect.status("diagnose", &diagnose, "redis.auth", &["fail"]);
    expect.that(
        diagnose.run.message("redis.auth").contains("WRONGPASS"),
        "diagnose: redis.auth says WRONGPASS",
        || diagnose.dump(),
    );
    expect.status(
        "diagnose",
        &diagnose,
        "ws.socketio-connect",
        &["fail", "skip"],
    );
    expect.that(
        diagnose.names_cause("ws.socketio-connect", "redis"),
        "diagnose: ws.socketio-connect names the Redis cause (message or caused_by)",
        || diagnose.dump(),
    );
    expect.finish();
}

/// Sentinel done right: WEBSOCKET_SENTINEL_HOSTS for the socket manager, REDIS_SENTINEL_HOSTS for
/// REDIS_URL's client, `redis://:pw@mymaster/0` (the host is the master name). Healthy; today's
/// "use the name of the Redis service" would break it.
#[test]
fn websocket_sentinel_hosts_work() {
    const TEST: &str = "websocket_sentinel_hosts_work";
    let Some(mut live) = Live::start(TEST, "real-openwebui-sentinel", true) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    let subscribers = live
        .redis
        .wait_numsub("socketio", 1, Duration::from_secs(30));
    expect.that(
        subscribers == 1,
        &format!(
            "the app: subscribed through the Sentinel at startup; got {subscribers} subscribers"
        ),
        || live.app.proc.log_tail(20),
    );

    let lint = live.lint(&mut expect);
    expect.no_fail("lint", &lint);
    expect.status("lint", &lint, "config.redis-url-host", &["pass", "skip"]);
    let diagnose = live.diagnose(&mut expect);
    expect.no_fail("diagnose", &diagnose);
    expect.status("diagnose", &diagnose, "ws.socketio-connect", &["pass"]);
    // The Redis probe went through the Sentinel, as the socket manager does, and found the
    // manager's subscriber there.
    // (A warning: one sentinel cannot fail over; this test runs one.)
    expect.status("diagnose", &diagnose, "redis.sentinel", &["pass", "warn"]);
    expect.status("diagnose", &diagnose, "redis.pubsub", &["pass"]);

    let (accepted, answer) = live.connect_accepted();
    expect.that(
        accepted,
        &format!("the app: an anonymous CONNECT gets 40{{sid}}; got {answer:?}"),
        || live.app.proc.log_tail(20),
    );
    expect.finish();
}

/// Only REDIS_SENTINEL_HOSTS: the socket manager ignores it and dials `mymaster` directly; 0
/// subscribers, CONNECT never answered, while REDIS_URL's own client works through the Sentinel.
#[test]
fn redis_sentinel_hosts_alone_do_not_reach_the_socket_manager() {
    const TEST: &str = "redis_sentinel_hosts_alone_do_not_reach_the_socket_manager";
    let Some(mut live) = Live::start(TEST, "real-openwebui-redis-sentinel-only", true) else {
        return;
    };
    live.serving(TEST);
    let mut expect = Expect::new(TEST);
    let connect = live.connect();
    expect.that(
        connect == Connect::Unanswered && live.redis.numsub("socketio") == 0,
        &format!("the app: CONNECT never answered, no socketio subscriber; got {connect:?}"),
        || live.app.proc.log_tail(20),
    );

    let reports = [
        ("lint", live.lint(&mut expect)),
        ("diagnose", live.diagnose(&mut expect)),
    ];
    for (case, r) in reports {
        expect.that(
            r.run.code == 1 && r.fail_mentions("WEBSOCKET_SENTINEL_HOSTS"),
            &format!("{case}: a failing check names WEBSOCKET_SENTINEL_HOSTS"),
            || r.dump(),
        );
        let first = r.first_fix();
        expect.that(
            first
                .as_ref()
                .is_some_and(|(_, what)| what.contains("WEBSOCKET_SENTINEL_HOSTS")),
            &format!("{case}: the first fix sets WEBSOCKET_SENTINEL_HOSTS; got {first:?}"),
            || r.dump(),
        );
    }
    expect.finish();
}

/// WEBSOCKET_REDIS_URL set but empty: the socket manager loops on `Unsupported Redis URL
/// scheme` and the app never listens.
#[test]
fn empty_websocket_redis_url() {
    const TEST: &str = "empty_websocket_redis_url";
    let Some(mut live) = Live::start(TEST, "real-openwebui-empty-websocket-url", false) else {
        return;
    };
    if let Err(e) = live.app.wait_log("Unsupported Redis URL scheme") {
        panic!("{TEST}: {e}");
    }
    live.clock.lap("Open WebUI looping on the empty URL");
    let mut expect = Expect::new(TEST);
    let health = http(
        live.app.port,
        "GET",
        "/health",
        &[],
        "",
        Duration::from_secs(2),
    );
    expect.that(
        health.is_err(),
        &format!("the app: never listens; got {health:?}"),
        String::new,
    );

    let reports = [
        ("lint", live.lint(&mut expect)),
        ("diagnose", live.diagnose(&mut expect)),
    ];
    for (case, r) in reports {
        expect.status(case, &r, "config.websocket-redis-url", &["fail"]);
        expect.first_fix(case, &r, "config.websocket-redis-url", "");
    }
    // The loop writes ~5 MB of log a second and keeps a core busy: stop it now.
    drop(live);
    expect.finish();
}
