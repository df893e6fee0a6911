//! Sticky sessions: python-socketio under uvicorn with 4 workers (with and without the Redis
//! manager) loses polling sessions across new connections; one worker never does.
//! Ground truth: 4 workers + AsyncRedisManager, 20 rounds → 13 failed with
//! 400 "Invalid session <sid>"; 1 worker → 20/20 ok.

mod ws_support;

use ws_support::{Redis, Run, SioServer, T, run_ws};

fn assert_lost_sessions(run: &Run) {
    assert_eq!(run.status("ws.sticky-session"), "fail", "{}", run.stdout);
    let ev = &run.check("ws.sticky-session")["evidence"];
    assert_eq!(ev["rounds"], 20);
    let lost = ev["lost_session"].as_u64().unwrap_or(0);
    assert!(lost > 0, "some of 20 rounds must lose their session: {ev}");
    let msg = run.message("ws.sticky-session");
    assert!(
        msg.contains("several workers or replicas behind this URL without sticky sessions"),
        "{msg}"
    );
    assert!(msg.contains("HTTP 400 \"Invalid session "), "{msg}");
    assert!(run.hint("ws.sticky-session").contains("sticky"));
    assert!(
        run.hint("ws.sticky-session")
            .contains("transports: ['websocket']")
    );
    // Single-connection steps do not depend on which worker answers.
    assert_eq!(run.status("ws.polling-handshake"), "pass");
    assert_eq!(run.status("ws.websocket-handshake"), "pass");
    assert_eq!(run.status("ws.socketio-connect"), "pass");
    // The upgrade is a new connection carrying the sid: it may or may not reach the worker
    // that holds the session, and either outcome is reported for what it is.
    let upgrade = run.status("ws.upgrade");
    assert!(
        upgrade == "pass" || upgrade == "warn",
        "{}",
        run.message("ws.upgrade")
    );
    if upgrade == "warn" {
        assert!(
            run.message("ws.upgrade")
                .contains("does not know the session")
        );
    }
    assert_eq!(run.code, 1);
}

#[test]
fn four_workers_with_redis_manager_lose_polling_sessions() {
    let redis = need!(
        "four_workers_with_redis_manager_lose_polling_sessions",
        Redis::start()
    );
    let app = need!(
        "four_workers_with_redis_manager_lose_polling_sessions",
        SioServer::start(4, &["--redis-url", &redis.url()])
    );
    let run = run_ws(T, &[&app.url(), "--rounds", "20"]);
    assert_lost_sessions(&run);
}

#[test]
fn four_workers_without_redis_lose_polling_sessions() {
    let app = need!(
        "four_workers_without_redis_lose_polling_sessions",
        SioServer::start(4, &[])
    );
    let run = run_ws(T, &[&app.url()]);
    assert_lost_sessions(&run);
}

#[test]
fn one_worker_with_redis_manager_keeps_every_session() {
    let redis = need!(
        "one_worker_with_redis_manager_keeps_every_session",
        Redis::start()
    );
    let app = need!(
        "one_worker_with_redis_manager_keeps_every_session",
        SioServer::start(1, &["--redis-url", &redis.url()])
    );
    let run = run_ws(T, &[&app.url(), "--rounds", "20"]);
    assert_eq!(run.status("ws.sticky-session"), "pass", "{}", run.stdout);
    let ev = &run.check("ws.sticky-session")["evidence"];
    assert_eq!(ev["ok"], 20);
    assert_eq!(ev["lost_session"], 0);
    assert_eq!(
        run.message("ws.sticky-session"),
        "20 of 20 rounds kept their session with a new TCP connection per request"
    );
    assert_eq!(run.code, 0);
}
