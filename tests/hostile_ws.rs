//! Hostile HTTP and WebSocket servers: `wsdoctor ws` ends within its deadline, with bounded
//! memory, and names what happened in the exact check.

mod hostile_support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hostile_support::{HostileServer, read_http_head, run_wsdoctor};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Wall bound for a run with `--timeout 1s`: a guard against hangs, not a benchmark.
const WALL: Duration = Duration::from_secs(10);
/// Peak RSS bound, MiB.
const RSS_MIB: i64 = 200;

const OPEN: &str = r#"0{"sid":"hostile","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn probe(server: &HostileServer) -> hostile_support::Run {
    run_wsdoctor(&[
        "--timeout",
        "1s",
        "ws",
        &server.url("http"),
        "--rounds",
        "2",
    ])
}

fn sleep_until_stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `Sec-WebSocket-Key` of a request head.
fn websocket_key(head: &[u8]) -> Option<String> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_string())
    })
}

/// Answers polling with a healthy open packet and accepts the websocket upgrade, then runs
/// `after_upgrade` on the socket.
fn engineio_then<F>(after_upgrade: F) -> HostileServer
where
    F: Fn(&mut TcpStream, &AtomicBool) + Send + Sync + 'static,
{
    HostileServer::spawn(move |mut s, stop| {
        let head = read_http_head(&mut s);
        match websocket_key(&head) {
            Some(key) => {
                let accept = derive_accept_key(key.as_bytes());
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                after_upgrade(&mut s, stop);
            }
            None => {
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{OPEN}",
                        OPEN.len()
                    )
                    .as_bytes(),
                );
            }
        }
    })
}

/// A text frame header announcing `len` payload bytes (server frames are not masked).
fn frame_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x81, 127];
    h.extend_from_slice(&len.to_be_bytes());
    h
}

#[test]
fn websocket_frame_of_100_mb_is_refused_at_the_frame_limit() {
    let server = engineio_then(|s, stop| {
        let _ = s.write_all(&frame_header(100 * 1024 * 1024));
        let chunk = [b'x'; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(
        run.status("ws.polling-handshake"),
        "pass",
        "{}",
        run.summary()
    );
    assert_eq!(
        run.status("ws.websocket-handshake"),
        "fail",
        "{}",
        run.summary()
    );
    let m = run.message("ws.websocket-handshake");
    assert!(m.contains("Message too long: 104857600 > 1048576"), "{m}");
    assert_eq!(run.code, 1);
}

#[test]
fn websocket_frame_header_announcing_100_mb_alone_is_refused() {
    let server = engineio_then(|s, stop| {
        let _ = s.write_all(&frame_header(100 * 1024 * 1024));
        sleep_until_stopped(stop);
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(
        run.status("ws.websocket-handshake"),
        "fail",
        "{}",
        run.summary()
    );
    let m = run.message("ws.websocket-handshake");
    assert!(m.contains("Message too long: 104857600 > 1048576"), "{m}");
}

#[test]
fn endless_body_is_capped() {
    let server = HostileServer::spawn(|mut s, stop| {
        read_http_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        let chunk = [b'x'; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("ws.http-reachable"), "pass", "{}", run.summary());
    assert_eq!(run.status("ws.polling-handshake"), "fail");
    let answer = &run.check("ws.polling-handshake")["evidence"]["answer"];
    assert_eq!(answer["body_truncated"], true);
    assert_eq!(run.code, 1);
}

#[test]
fn headers_that_never_end_cost_one_deadline() {
    // A status line, then one more header line every 100 ms, forever.
    let server = HostileServer::spawn(|mut s, stop| {
        read_http_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(format!("X-Pad-{i}: y\r\n").as_bytes()).is_err() {
                break;
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("ws.http-reachable"), "fail", "{}", run.summary());
    let m = run.message("ws.http-reachable");
    assert!(m.contains("no HTTP answer came within the deadline"), "{m}");
    assert_eq!(run.status("ws.polling-handshake"), "skip");
    assert_eq!(run.code, 1);
}

#[test]
fn a_flood_of_header_lines_is_refused_by_the_header_limit() {
    let server = HostileServer::spawn(|mut s, stop| {
        read_http_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        let line =
            b"X-Flood: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".repeat(1024);
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(&line).is_err() {
                break;
            }
        }
    });
    let run = probe(&server);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(run.status("ws.http-reachable"), "fail", "{}", run.summary());
    let m = run.message("ws.http-reachable");
    assert!(m.contains("message head is too large"), "{m}");
    assert_eq!(run.code, 1);
}
