//! The Redis probe's one time budget (`--timeout`), against real redis-server processes:
//! a server that accepts the TCP connection and never answers passes `redis.connect` and
//! fails the first command (AUTH, or PING without a password) within the budget; a budget
//! that runs out in the middle of the probe keeps every answer gathered before and names the
//! stage that was waiting. Wall times here are guards against hangs, not benchmarks
//! (benches/redis.rs measures the cost).

mod redis_support;

use std::net::TcpListener;

use redis_support::*;

const PW: &str = "Budget-s3cret-pw";

macro_rules! need_redis {
    ($name:expr) => {
        if !have(REDIS_SERVER, $name) || !have(REDIS_CLI, $name) {
            return;
        }
    };
}

/// Every check but `redis.connect` (pass) and the first command's check (fail) skips, each
/// naming why.
fn assert_first_command_unanswered(run: &Run, first: &str, command: &str) {
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), (first, "fail")]),
        "{}",
        run.stdout
    );
    let message = run.message(first);
    assert!(
        message.contains(&format!("no answer to {command} within")),
        "{message}"
    );
    assert!(message.contains("never answered"), "{message}");
    assert_eq!(run.evidence(first, "stage"), "no-answer");
    assert_eq!(run.evidence(first, "command"), command);
    assert_eq!(
        run.evidence("redis.connect", "ran_out_while_waiting_for"),
        command
    );
    // The checks after it skip because of it (not because of redis.connect).
    for id in [
        "redis.db-select",
        "redis.maxclients",
        "redis.timeout",
        "redis.client-list",
        "redis.pubsub",
        "redis.latency",
        "redis.memory",
        "redis.version",
    ] {
        assert_eq!(
            run.evidence(id, "depends_on"),
            first,
            "{id}: {}",
            run.stdout
        );
    }
    assert_eq!(run.code, 1);
}

#[test]
fn paused_server_with_password_fails_auth_not_connect() {
    need_redis!("paused_server_with_password_fails_auth_not_connect");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    // CLIENT PAUSE ALL: the real server accepts connections and answers no command (AUTH
    // included) for 20 s.
    assert_eq!(
        server.cli(&["CLIENT", "PAUSE", "20000", "ALL"]).trim(),
        "OK"
    );
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let run = wsdoctor_json(&[&url, "--timeout", "1s"]);
    assert_first_command_unanswered(&run, "redis.auth", "AUTH");
    assert_eq!(run.evidence("redis.ping", "depends_on"), "redis.auth");
    assert!(!run.stdout.contains(PW));
}

#[test]
fn paused_server_without_password_fails_ping_not_connect() {
    need_redis!("paused_server_without_password_fails_ping_not_connect");
    let server = RedisServer::start(&["--timeout", "300"]);
    assert_eq!(
        server.cli(&["CLIENT", "PAUSE", "20000", "ALL"]).trim(),
        "OK"
    );
    let run = wsdoctor_json(&[
        &format!("redis://127.0.0.1:{}/0", server.port),
        "--timeout",
        "1s",
    ]);
    assert_first_command_unanswered(&run, "redis.ping", "PING");
    assert_eq!(run.evidence("redis.auth", "depends_on"), "redis.ping");
}

#[test]
fn listener_that_never_accepts_fails_the_first_command() {
    // The kernel completes the TCP handshake for a listener that never accepts or answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let run = wsdoctor_json(&[
        &format!("redis://:{PW}@127.0.0.1:{port}/0"),
        "--timeout",
        "500ms",
    ]);
    assert_first_command_unanswered(&run, "redis.auth", "AUTH");
    assert!(
        run.message("redis.auth").contains("500ms"),
        "the wait is named: {}",
        run.message("redis.auth")
    );
    drop(silent);
}

#[test]
fn budget_running_out_mid_probe_keeps_the_answers_gathered() {
    need_redis!("budget_running_out_mid_probe_keeps_the_answers_gathered");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    // 10 000 PINGs one after another cannot fit in 300 ms: the budget runs out in the
    // latency stage, after every other question was answered.
    let run = wsdoctor_json(&[&url, "--timeout", "300ms", "--samples", "10000"]);
    let waiting = run
        .evidence("redis.connect", "ran_out_while_waiting_for")
        .as_str()
        .unwrap_or_else(|| panic!("the budget ran out somewhere: {}", run.stdout))
        .to_string();
    for id in ["redis.connect", "redis.auth", "redis.ping"] {
        assert_eq!(run.statuses()[id], "pass", "{id}: {}", run.stdout);
    }
    if waiting.starts_with("latency PING") {
        // Every stage before the latency PINGs answered: their results are all there.
        for id in [
            "redis.maxclients",
            "redis.timeout",
            "redis.client-list",
            "redis.memory",
            "redis.version",
        ] {
            assert_eq!(run.statuses()[id], "pass", "{id}: {}", run.stdout);
        }
        // The samples timed before the budget ran out are reported, and say so.
        assert_eq!(run.statuses()["redis.latency"], "pass", "{}", run.stdout);
        let samples = run.evidence("redis.latency", "samples").as_u64().unwrap();
        assert!(samples > 0 && samples < 10_000, "{samples}");
        assert!(
            run.message("redis.latency")
                .contains("the --timeout budget of 300ms ran out while waiting for latency PING"),
            "{}",
            run.message("redis.latency")
        );
    } else {
        // A loaded machine spent the 300 ms earlier: the stage that was waiting is named by
        // the checks that were not reached.
        eprintln!("budget ran out early, while waiting for {waiting}");
        assert!(
            run.stdout
                .contains(&format!("ran out while waiting for {waiting}")),
            "{}",
            run.stdout
        );
    }
    let spent = run.evidence("redis.connect", "spent_ms").as_u64().unwrap();
    assert!(spent >= 300, "{spent}");
    assert_eq!(run.evidence("redis.connect", "budget_ms"), 300);
}
