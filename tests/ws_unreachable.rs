//! `ws.http-reachable` tells DNS failures, refused ports, silent listeners and TLS errors
//! apart, and a silent server costs no more than the deadline.

mod ws_support;

use std::io::{Read, Write};
use std::net::TcpListener;

use ws_support::{SilentListener, free_port, run_ws};

fn assert_only_reachability_fails(run: &ws_support::Run, kind: &str) {
    assert_eq!(run.status("ws.http-reachable"), "fail", "{}", run.stdout);
    assert_eq!(
        run.check("ws.http-reachable")["evidence"]["error_kind"],
        kind
    );
    for id in [
        "ws.path",
        "ws.eio-version",
        "ws.polling-handshake",
        "ws.websocket-handshake",
        "ws.upgrade",
        "ws.socketio-connect",
        "ws.sticky-session",
    ] {
        assert_eq!(run.status(id), "skip", "{id}: {}", run.message(id));
        assert_eq!(
            run.message(id),
            "skipped because ws.http-reachable did not pass"
        );
    }
    assert_eq!(run.code, 1);
}

#[test]
fn silent_listener_ends_at_the_deadline_with_a_clear_finding() {
    let silent = SilentListener::start();
    let run = run_ws(
        "1s",
        &[&format!("http://127.0.0.1:{}", silent.port), "--hold", "30"],
    );
    assert_only_reachability_fails(&run, "timeout");
    let msg = run.message("ws.http-reachable");
    assert!(
        msg.contains("opened, but no HTTP answer came within the deadline"),
        "{msg}"
    );
    assert!(msg.contains("silent listener"), "{msg}");
    // Bounded by the deadline (1 s), not by --hold 30 or the 20 sticky rounds; the margin is
    // for a loaded machine, the point is that it ends.
    assert!(run.elapsed.as_secs() < 10, "took {:?}", run.elapsed);
}

#[test]
fn refused_port_is_told_apart() {
    let port = free_port();
    let run = run_ws("2s", &[&format!("ws://127.0.0.1:{port}")]);
    assert_only_reachability_fails(&run, "refused");
    assert!(
        run.message("ws.http-reachable")
            .contains("connection refused")
    );
}

#[test]
fn unresolvable_host_is_a_dns_failure() {
    let run = run_ws("2s", &["http://wsdoctor-no-such-host.invalid:8080"]);
    assert_only_reachability_fails(&run, "dns");
    assert!(
        run.message("ws.http-reachable")
            .starts_with("wsdoctor-no-such-host.invalid does not resolve")
    );
}

#[test]
fn tls_spoken_to_a_plain_http_port_is_a_tls_failure() {
    // A plain HTTP responder: the TLS ClientHello gets an HTTP answer back.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten().take(4) {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let run = run_ws("2s", &[&format!("https://127.0.0.1:{port}")]);
    assert_only_reachability_fails(&run, "tls");
    assert!(
        run.message("ws.http-reachable")
            .starts_with("TLS handshake with 127.0.0.1 failed")
    );
    assert!(run.hint("ws.http-reachable").contains("http://"));
}

#[test]
fn bad_urls_are_usage_errors() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["ws", "redis://localhost:6379"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not http, https, ws or wss"));
}
