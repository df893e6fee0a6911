//! Hostile Redis servers: the probe ends within its time budget, with bounded memory, and
//! the report names what happened: `redis.connect` for bytes that are not Redis, the first
//! command's check (`redis.ping` here: no password) for an answer that never completes.
//! Each server answers the probe's first command with the hostile bytes.

mod hostile_support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hostile_support::{HostileServer, read_request, run_wsdoctor};

/// Wall bound for a run with `--timeout 1s`: a guard against hangs, not a benchmark.
const WALL: Duration = Duration::from_secs(10);
/// Peak RSS bound, MiB.
const RSS_MIB: i64 = 200;

/// Writes `chunk` until the client goes away or the test ends.
fn stream_forever(s: &mut TcpStream, chunk: &[u8], stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        if s.write_all(chunk).is_err() {
            break;
        }
    }
}

fn probe(server: &HostileServer) -> hostile_support::Run {
    run_wsdoctor(&["--timeout", "1s", "redis", &server.url("redis")])
}

#[test]
fn oversize_bulk_string_is_cut_off_at_the_read_budget() {
    // `$2147483647` announces a 2 GiB bulk string, then the bytes keep coming.
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        let _ = s.write_all(b"$2147483647\r\n");
        stream_forever(&mut s, &[b'x'; 64 * 1024], stop);
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("redis.connect"), "fail", "{}", run.stdout);
    assert_eq!(run.check("redis.connect")["evidence"]["stage"], "not-redis");
    assert!(
        run.message("redis.connect")
            .contains("the answer to PING went past 16 MiB"),
        "{}",
        run.message("redis.connect")
    );
    assert_eq!(run.status("redis.ping"), "skip");
    assert_eq!(run.code, 1);
}

#[test]
fn oversize_bulk_string_header_alone_costs_one_budget() {
    // Only the header: a client that preallocated 2 GiB would die here.
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        let _ = s.write_all(b"$2147483647\r\n");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    // The TCP connection was made; PING is what never got its answer.
    assert_eq!(run.status("redis.connect"), "pass", "{}", run.stdout);
    assert_eq!(run.status("redis.ping"), "fail", "{}", run.stdout);
    assert_eq!(run.check("redis.ping")["evidence"]["stage"], "no-answer");
    assert!(
        run.message("redis.ping")
            .contains("no answer to PING within 1s"),
        "{}",
        run.message("redis.ping")
    );
}

#[test]
fn endless_array_is_bounded() {
    // `*2147483647` then integers for as long as the client reads.
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        let _ = s.write_all(b"*2147483647\r\n");
        stream_forever(&mut s, &b":1\r\n".repeat(16 * 1024), stop);
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    // Either the read limit (not Redis: redis.connect) or the time budget (PING got no
    // complete answer: redis.ping) ends it first, depending on the machine's speed.
    let read_limit = run.status("redis.connect") == "fail"
        && run.check("redis.connect")["evidence"]["stage"] == "not-redis";
    let time_budget = run.status("redis.connect") == "pass"
        && run.status("redis.ping") == "fail"
        && run.check("redis.ping")["evidence"]["stage"] == "no-answer";
    assert!(read_limit || time_budget, "{}", run.stdout);
}

#[test]
fn endlessly_nested_arrays_are_refused_not_recursed() {
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        stream_forever(&mut s, &b"*1\r\n".repeat(16 * 1024), stop);
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("redis.connect"), "fail", "{}", run.stdout);
    assert_eq!(run.check("redis.connect")["evidence"]["stage"], "not-redis");
    assert!(
        run.message("redis.connect")
            .contains("did not answer in RESP"),
        "{}",
        run.message("redis.connect")
    );
}

#[test]
fn garbage_bytes_are_not_redis() {
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        // Not RESP: the first byte is not a type marker.
        let garbage: Vec<u8> = (0..64 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80)
            .collect();
        stream_forever(&mut s, &garbage, stop);
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("redis.connect"), "fail", "{}", run.stdout);
    assert_eq!(run.check("redis.connect")["evidence"]["stage"], "not-redis");
    assert_eq!(run.code, 1);
}

#[test]
fn a_server_that_goes_silent_after_ping_costs_one_budget_not_one_per_command() {
    // Answers PING, then nothing: before the fix every later command (INFO, CONFIG GET,
    // CLIENT ID, CLIENT LIST, PUBSUB…, latency PINGs) waited its own deadline. Now they share
    // one budget, the PING answer is kept, and the checks not reached name the stage that
    // was waiting (INFO, the first command after PING).
    let server = HostileServer::spawn(|mut s, stop| {
        read_request(&mut s);
        let _ = s.write_all(b"+PONG\r\n");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            // Swallow what the client sends, answer nothing.
            let _ = s.set_read_timeout(Some(Duration::from_millis(10)));
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut s, &mut buf);
        }
    });
    let run = probe(&server);
    run.assert_bounded(Duration::from_secs(4), RSS_MIB);
    assert_eq!(run.status("redis.connect"), "pass", "{}", run.stdout);
    assert_eq!(run.status("redis.ping"), "pass");
    assert_eq!(
        run.check("redis.connect")["evidence"]["ran_out_while_waiting_for"],
        "INFO"
    );
    let version = run.message("redis.version");
    assert!(
        version.contains("the --timeout budget of 1s ran out while waiting for INFO"),
        "{version}"
    );
    let latency = run.message("redis.latency");
    assert!(
        latency.contains("ran out while waiting for INFO"),
        "{latency}"
    );
}
