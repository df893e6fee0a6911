//! `wsdoctor redis` against real, standalone redis-server processes (Debian's package), one
//! scenario per test, each asserting the exact status of all 14 checks.

mod redis_support;

use std::time::Duration;

use redis_support::*;
use wsdoctor::probe::redis::COMMANDS_SENT;

const PW: &str = "Sup3r-s3cret-pw";

macro_rules! need_redis {
    ($name:expr) => {
        if !have(REDIS_SERVER, $name) || !have(REDIS_CLI, $name) {
            return;
        }
    };
}

#[test]
fn healthy_with_password_and_one_subscribed_worker() {
    need_redis!("healthy_with_password_and_one_subscribed_worker");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let _worker = Subscriber::start(&server, "SUBSCRIBE", &["socketio"]);
    server.wait_until("subscriber", Duration::from_secs(5), |s| {
        s.numsub("socketio") == 1
    });
    let before = server.client_count();

    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    let run = wsdoctor_json(&[&url, "--workers", "1", "--samples", "5"]);
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
    assert_eq!(run.code, 0);
    assert_eq!(
        run.evidence("redis.maxclients", "source"),
        "CONFIG GET maxclients"
    );
    assert_eq!(run.evidence("redis.maxclients", "maxclients"), 10000);
    assert_eq!(run.evidence("redis.pubsub", "subscribers"), 1);
    assert_eq!(run.evidence("redis.pubsub", "expected_workers"), 1);
    assert_eq!(run.evidence("redis.timeout", "timeout"), 300);
    assert_eq!(run.evidence("redis.latency", "samples"), 5);
    assert_eq!(run.evidence("redis.version", "server"), "Redis");
    assert_eq!(run.evidence("redis.client-list", "subscribers"), 1);
    assert_eq!(run.evidence("redis.client-list", "total"), 1);
    assert!(!run.stdout.contains(PW), "password leaked: {}", run.stdout);

    // One connection per probe, closed when done: the server's client count is back.
    server.wait_until("probe connection closed", Duration::from_secs(5), |s| {
        s.client_count() == before
    });
}

#[test]
fn wrong_password_is_wrongpass_and_never_printed() {
    need_redis!("wrong_password_is_wrongpass_and_never_printed");
    let server = RedisServer::start(&["--requirepass", PW]);
    let wrong = "Wr0ng-p4ssw0rd#x";
    let url = format!(
        "redis://:{}@127.0.0.1:{}/0",
        "Wr0ng-p4ssw0rd%23x", server.port
    );
    let run = wsdoctor_json(&[&url]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.auth", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.evidence("redis.auth", "error"), "wrong-pass");
    assert!(run.message("redis.auth").contains("WRONGPASS"));
    assert_eq!(run.evidence("redis.ping", "depends_on"), "redis.auth");
    for form in [wrong, "Wr0ng-p4ssw0rd%23x", PW] {
        assert!(
            !run.stdout.contains(form),
            "{form} leaked in JSON: {}",
            run.stdout
        );
        assert!(!run.stderr.contains(form), "{form} leaked on stderr");
    }
    let text = wsdoctor(&["redis", &url, "--format", "text"]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("WRONGPASS"), "{}", text.stdout);
    for form in [wrong, "Wr0ng-p4ssw0rd%23x"] {
        assert!(
            !text.stdout.contains(form),
            "{form} leaked in text: {}",
            text.stdout
        );
    }
}

#[test]
fn show_secrets_reveals_the_url_password_and_only_then() {
    need_redis!("show_secrets_reveals_the_url_password_and_only_then");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@127.0.0.1:{}/0", server.port);
    for format in ["json", "text", "markdown", "sarif"] {
        let hidden = wsdoctor(&["redis", &url, "--samples", "1", "--format", format]);
        assert!(!hidden.stdout.contains(PW), "{format}: {}", hidden.stdout);
        assert!(
            hidden.stdout.contains(":****@127.0.0.1"),
            "{format}: {}",
            hidden.stdout
        );
        let shown = wsdoctor(&[
            "redis",
            &url,
            "--samples",
            "1",
            "--format",
            format,
            "--show-secrets",
        ]);
        assert!(
            shown.stdout.contains(&format!(":{PW}@127.0.0.1")),
            "{format} --show-secrets: {}",
            shown.stdout
        );
    }
}

#[test]
fn no_password_given_is_noauth() {
    need_redis!("no_password_given_is_noauth");
    let server = RedisServer::start(&["--requirepass", PW]);
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.auth", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.auth", "error"), "no-auth");
    assert!(run.message("redis.auth").starts_with("NOAUTH"));
}

#[test]
fn password_given_to_a_server_without_one() {
    need_redis!("password_given_to_a_server_without_one");
    let server = RedisServer::start(&[]);
    let run = wsdoctor_json(&[&format!("redis://:{PW}@127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.auth", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.evidence("redis.auth", "error"),
        "no-password-configured"
    );
    assert!(run.message("redis.auth").contains("has none configured"));
}

#[test]
fn db_out_of_range() {
    need_redis!("db_out_of_range");
    let server = RedisServer::start(&["--requirepass", PW]);
    let run = wsdoctor_json(&[&format!("redis://:{PW}@127.0.0.1:{}/99", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "skip",
            &[
                ("redis.connect", "pass"),
                ("redis.auth", "pass"),
                ("redis.ping", "pass"),
                ("redis.db-select", "fail"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.message("redis.db-select")
            .contains("ERR DB index is out of range")
    );
    assert_eq!(run.evidence("redis.db-select", "db"), 99);
    // A db that exists passes.
    let ok = wsdoctor_json(&[&format!("redis://:{PW}@127.0.0.1:{}/15", server.port)]);
    assert_eq!(ok.statuses()["redis.db-select"], "pass");
}

#[test]
fn renamed_config_falls_back_to_info() {
    need_redis!("renamed_config_falls_back_to_info");
    let server = RedisServer::start(&["--rename-command", "CONFIG", ""]);
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.timeout", "skip"),
                ("redis.pubsub", "warn"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.evidence("redis.maxclients", "source"),
        "INFO clients (CONFIG not readable)"
    );
    assert_eq!(run.evidence("redis.maxclients", "maxclients"), 10000);
    assert!(
        run.message("redis.timeout").contains("renamed"),
        "{}",
        run.message("redis.timeout")
    );
    assert_eq!(run.code, 0);
}

/// The ACL rules that allow exactly [`COMMANDS_SENT`] (AUTH is always allowed).
fn acl_rules_for_commands_sent() -> Vec<String> {
    let mut rules = vec!["-@all".to_string()];
    for c in COMMANDS_SENT {
        let c = c.to_ascii_lowercase();
        if c == "auth" || c.starts_with("sentinel") {
            continue; // AUTH needs no permission; SENTINEL exists only on sentinels.
        }
        rules.push(format!("+{}", c.replace(' ', "|")));
    }
    rules
}

#[test]
fn acl_user_allowed_only_the_commands_sent() {
    need_redis!("acl_user_allowed_only_the_commands_sent");
    let mut args: Vec<String> = ["--timeout", "300", "--user", "probe", "on", ">probe-pw-123"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(acl_rules_for_commands_sent());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = RedisServer::start(&args);
    // The user really cannot write (or read keys).
    let denied = std::process::Command::new(REDIS_CLI)
        .args([
            "-p",
            &server.port.to_string(),
            "--user",
            "probe",
            "--pass",
            "probe-pw-123",
        ])
        .args(["--no-auth-warning", "SET", "k", "v"])
        .output()
        .expect("redis-cli");
    assert!(String::from_utf8_lossy(&denied.stdout).contains("NOPERM"));

    let run = wsdoctor_json(&[&format!(
        "redis://probe:probe-pw-123@127.0.0.1:{}/1",
        server.port
    )]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.pubsub", "warn"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.auth", "user"), "probe");
    assert_eq!(
        run.evidence("redis.auth", "acl_denied"),
        &serde_json::json!([])
    );
    assert_eq!(
        run.evidence("redis.maxclients", "source"),
        "CONFIG GET maxclients"
    );
}

#[test]
fn acl_user_with_ping_and_info_only_skips_with_reasons() {
    need_redis!("acl_user_with_ping_and_info_only_skips_with_reasons");
    let server = RedisServer::start(&[
        "--user",
        "mini",
        "on",
        ">mini-pw-123",
        "-@all",
        "+ping",
        "+info",
    ]);
    let run = wsdoctor_json(&[&format!(
        "redis://mini:mini-pw-123@127.0.0.1:{}",
        server.port
    )]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.timeout", "skip"),
                ("redis.client-list", "skip"),
                ("redis.pubsub", "skip"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.evidence("redis.auth", "acl_denied"),
        &serde_json::json!(["CONFIG GET", "CLIENT LIST", "PUBSUB"])
    );
    assert!(run.message("redis.client-list").contains("NOPERM"));
    assert!(run.message("redis.timeout").contains("not permitted"));
    assert_eq!(
        run.evidence("redis.maxclients", "source"),
        "INFO clients (CONFIG not readable)"
    );
}

#[test]
fn maxclients_50_with_45_idle_clients_warns() {
    need_redis!("maxclients_50_with_45_idle_clients_warns");
    let server = RedisServer::start(&["--maxclients", "50", "--timeout", "300"]);
    let _idle = idle_clients(&server, 45);
    server.wait_until("45 clients", Duration::from_secs(5), |s| {
        s.client_count() == 45
    });
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.maxclients", "warn"),
                ("redis.pubsub", "warn"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.maxclients", "maxclients"), 50);
    assert_eq!(run.evidence("redis.maxclients", "connected_clients"), 46);
    assert_eq!(run.evidence("redis.client-list", "total"), 45);
    assert_eq!(
        run.evidence("redis.client-list", "top_sources")[0]["source"],
        "127.0.0.1"
    );
}

#[test]
fn maxclients_reached_fails_and_auth_is_skipped() {
    need_redis!("maxclients_reached_fails_and_auth_is_skipped");
    let server = RedisServer::start(&["--maxclients", "10"]);
    let _idle = idle_clients(&server, 10);
    server.wait_until("the limit reached", Duration::from_secs(5), |s| {
        raw_command(s.port, "PING\r\n").is_some_and(|r| r.contains("max number of clients"))
    });
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "skip",
            &[("redis.connect", "pass"), ("redis.maxclients", "fail")]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.auth", "depends_on"), "redis.maxclients");
    assert!(
        run.message("redis.maxclients")
            .contains("max number of clients reached")
    );
}

#[test]
fn timeout_zero_warns() {
    need_redis!("timeout_zero_warns");
    let server = RedisServer::start(&["--timeout", "0"]);
    let _worker = Subscriber::start(&server, "SUBSCRIBE", &["socketio"]);
    server.wait_until("subscriber", Duration::from_secs(5), |s| {
        s.numsub("socketio") == 1
    });
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.timeout", "warn"),
                ("redis.sentinel", "skip"),
                ("redis.cluster", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.timeout", "timeout"), 0);
    assert!(
        run.check("redis.timeout")["hint"]
            .as_str()
            .unwrap_or("")
            .contains("timeout 1800")
    );
    assert_eq!(run.code, 0, "warnings alone exit 0");
    let strict = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port), "--strict"]);
    assert_eq!(strict.code, 1, "--strict: warnings fail");
}

#[test]
fn workers_compared_with_manager_subscribers() {
    need_redis!("workers_compared_with_manager_subscribers");
    let server = RedisServer::start(&["--timeout", "300"]);
    let _w1 = Subscriber::start(&server, "SUBSCRIBE", &["myapp"]);
    let _w2 = Subscriber::start(&server, "SUBSCRIBE", &["myapp"]);
    server.wait_until("2 subscribers", Duration::from_secs(5), |s| {
        s.numsub("myapp") == 2
    });
    let url = format!("redis://127.0.0.1:{}", server.port);
    let status = |workers: &str| {
        let run = wsdoctor_json(&[&url, "--channel", "myapp", "--workers", workers]);
        assert_eq!(run.evidence("redis.pubsub", "subscribers"), 2);
        run.statuses()["redis.pubsub"].clone()
    };
    assert_eq!(status("2"), "pass");
    assert_eq!(status("3"), "fail", "fewer subscribers than workers");
    assert_eq!(
        status("1"),
        "warn",
        "more subscribers than workers: shared channel"
    );
    // The default channel has no subscriber: the other channel is named in the message.
    let run = wsdoctor_json(&[&url]);
    assert_eq!(run.statuses()["redis.pubsub"], "warn");
    assert!(
        run.message("redis.pubsub").contains("myapp"),
        "{}",
        run.message("redis.pubsub")
    );
}

#[test]
fn node_adapter_channels_are_recognised() {
    need_redis!("node_adapter_channels_are_recognised");
    let server = RedisServer::start(&["--timeout", "300"]);
    // What @socket.io/redis-adapter 8.3 does per instance (dependency-notes E4c).
    let _p = Subscriber::start(&server, "PSUBSCRIBE", &["socket.io#/#*"]);
    let _s = Subscriber::start(
        &server,
        "SUBSCRIBE",
        &["socket.io-request#/#", "socket.io-response#/#"],
    );
    server.wait_until("adapter subscriptions", Duration::from_secs(5), |s| {
        s.numsub("socket.io-request#/#") == 1 && s.cli(&["PUBSUB", "NUMPAT"]).trim() == "1"
    });
    let run = wsdoctor_json(&[
        &format!("redis://127.0.0.1:{}", server.port),
        "--workers",
        "1",
    ]);
    assert_eq!(run.statuses()["redis.pubsub"], "pass", "{}", run.stdout);
    assert_eq!(run.evidence("redis.pubsub", "node_adapter_instances"), 1);
    assert_eq!(run.evidence("redis.pubsub", "numpat"), 1);
    assert_eq!(
        run.evidence("redis.pubsub", "pattern_subscriber_clients"),
        1
    );
    assert!(run.message("redis.pubsub").contains("Node"));
}

#[test]
fn nothing_listening_is_refused() {
    need_redis!("nothing_listening_is_refused");
    let port = free_port();
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{port}")]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.connect", "stage"), "refused");
    assert!(
        run.message("redis.connect")
            .starts_with("connection refused")
    );
    assert_eq!(run.code, 1);
}

#[test]
fn unresolvable_host_is_dns_and_host_override_reaches_the_server() {
    need_redis!("unresolvable_host_is_dns_and_host_override_reaches_the_server");
    let server = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let url = format!("redis://:{PW}@beagle-redis.invalid:6379/2");
    let run = wsdoctor_json(&[&url, "--timeout", "2s"]);
    assert_eq!(run.statuses()["redis.connect"], "fail", "{}", run.stdout);
    let stage = run.evidence("redis.connect", "stage");
    assert!(stage == "dns" || stage == "dns-timeout", "{stage}");

    let run = wsdoctor_json(&[&url, "--host", &server.addr()]);
    assert_eq!(run.statuses()["redis.connect"], "pass", "{}", run.stdout);
    assert_eq!(run.statuses()["redis.db-select"], "pass");
    assert_eq!(
        run.evidence("redis.connect", "url_address"),
        "beagle-redis.invalid:6379"
    );
    assert!(!run.stdout.contains(PW));
}

#[test]
fn usage_errors_exit_2() {
    let run = wsdoctor(&["redis"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = wsdoctor(&["redis", "redis://:p@ss#w0rd@redis:6379/0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("percent-encoded"), "{}", run.stderr);
    assert!(!run.stderr.contains("w0rd"), "{}", run.stderr);
    let run = wsdoctor(&["redis", "redis://h:6379", "--master", "mymaster"]);
    assert_eq!(run.code, 2);
}

#[test]
fn library_probe_closes_its_connection_while_the_process_lives() {
    need_redis!("library_probe_closes_its_connection_while_the_process_lives");
    use wsdoctor::probe::redis::{ProbeOptions, probe, target};
    let server = RedisServer::start(&["--requirepass", PW]);
    let before = server.client_count();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let t = target::parse_url(&format!("redis://:{PW}@127.0.0.1:{}/0", server.port)).expect("url");
    let obs = rt.block_on(probe(&t, &ProbeOptions::default()));
    assert!(obs.ready());
    assert_eq!(obs.commands_sent.first().map(String::as_str), Some("AUTH"));
    // Every command sent is one of the documented read-only commands.
    for c in &obs.commands_sent {
        assert!(
            COMMANDS_SENT.contains(&c.as_str()),
            "{c} is not in COMMANDS_SENT"
        );
    }
    // The runtime (and this process) is still alive: only the probe's own Drop closed it.
    server.wait_until("probe connection closed", Duration::from_secs(5), |s| {
        s.client_count() == before
    });
    drop(rt);
}
