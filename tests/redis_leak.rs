//! Connections that pile up under `timeout 0`, seen in every layer with one rule: the live
//! server (200 real idle connections to a real redis-server; `redis.client-list`,
//! `redis.timeout`) and the files (`config.redis-timeout`, `config.redis-maxclients` on the
//! redis-leak-* fixtures), with the same fix text in each, so a report lists it once.

mod redis_support;

use std::path::PathBuf;
use std::time::Duration;

use redis_support::*;
use serde_json::Value;

const PW: &str = "Leak-s3cret";

macro_rules! need_redis {
    ($name:expr) => {
        if !have(REDIS_SERVER, $name) || !have(REDIS_CLI, $name) {
            return;
        }
    };
}

/// Whether every client but the asking redis-cli has been idle at least `secs`.
fn all_idle_for(server: &RedisServer, secs: u64, at_least: usize) -> bool {
    let list = server.cli(&["CLIENT", "LIST"]);
    let idle: Vec<u64> = list
        .lines()
        .filter(|l| !l.contains("cmd=client|list"))
        .filter_map(|l| {
            l.split(' ')
                .find_map(|kv| kv.strip_prefix("idle="))
                .and_then(|v| v.parse().ok())
        })
        .collect();
    idle.len() >= at_least && idle.iter().all(|i| *i >= secs)
}

fn lint(fixture: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture);
    let run = wsdoctor(&[
        "lint",
        "--project-dir",
        &dir.to_string_lossy(),
        "--format",
        "json",
    ]);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{fixture}: not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

#[test]
fn two_hundred_idle_connections_under_timeout_zero_do_not_pass() {
    need_redis!("two_hundred_idle_connections_under_timeout_zero_do_not_pass");
    // The seed's settings (maxclients 1000, timeout 0) and a control with a timeout.
    let seed = RedisServer::start(&[
        "--requirepass",
        PW,
        "--maxclients",
        "1000",
        "--timeout",
        "0",
    ]);
    let control = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let _held = (idle_clients(&seed, 200), idle_clients(&control, 200));
    // CLIENT LIST counts idle time in whole seconds: wait until the 200 are unused (10 s).
    for s in [&seed, &control] {
        s.wait_until("200 connections idle 10 s", Duration::from_secs(30), |s| {
            all_idle_for(s, 10, 200)
        });
    }

    let run = wsdoctor_json(&[
        &format!("redis://:{PW}@127.0.0.1:{}/0", seed.port),
        "--samples",
        "2",
    ]);
    assert_eq!(
        run.statuses()["redis.client-list"],
        "warn",
        "{}",
        run.stdout
    );
    let message = run.message("redis.client-list");
    assert!(
        message.contains("200 connections from 127.0.0.1 unused for 10 s or more, 20% of maxclients 1000, under timeout 0"),
        "{message}"
    );
    assert_eq!(
        run.evidence("redis.client-list", "accumulating_source"),
        "127.0.0.1"
    );
    // redis.timeout names both settings, with the fix the files get.
    assert_eq!(run.statuses()["redis.timeout"], "warn");
    assert!(
        run.message("redis.timeout")
            .contains("timeout 0 with maxclients 1000"),
        "{}",
        run.message("redis.timeout")
    );
    let live_fix = run.check("redis.timeout")["hint"].clone();
    // 201 of 1000 in use: not yet near the limit.
    assert_eq!(run.statuses()["redis.maxclients"], "pass");

    // The same 200 connections with a timeout: they will be reaped; nothing piles up.
    let run = wsdoctor_json(&[
        &format!("redis://:{PW}@127.0.0.1:{}/0", control.port),
        "--samples",
        "2",
    ]);
    assert_eq!(
        run.statuses()["redis.client-list"],
        "pass",
        "{}",
        run.stdout
    );
    assert_eq!(run.statuses()["redis.timeout"], "pass");

    // The files with the seed's settings: one finding naming both, the same fix.
    let report = lint("redis-leak-seed");
    let timeout = check(&report, "config.redis-timeout");
    assert_eq!(timeout["status"], "warn", "{timeout}");
    assert!(
        timeout["message"]
            .as_str()
            .unwrap()
            .contains("timeout 0 with maxclients 1000"),
        "{timeout}"
    );
    assert_eq!(timeout["hint"], live_fix, "one fix text in every layer");
    let maxclients = check(&report, "config.redis-maxclients");
    assert_eq!(maxclients["status"], "pass", "{maxclients}");
    assert_eq!(
        maxclients["evidence"]["explained_by"],
        "config.redis-timeout"
    );
    assert_eq!(report["summary"]["warn"], 1, "flagged once: {report:#}");
}

#[test]
fn the_fixed_files_pass() {
    let report = lint("redis-leak-fixed");
    assert_eq!(check(&report, "config.redis-timeout")["status"], "pass");
    assert_eq!(check(&report, "config.redis-maxclients")["status"], "pass");
    assert_eq!(report["summary"]["verdict"], "pass", "{report:#}");
}
