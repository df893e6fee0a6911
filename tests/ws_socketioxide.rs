//! `wsdoctor ws` against a second, independent implementation: socketioxide (Rust), built on
//! demand from test-servers/socketioxide. It batches a ping with the CONNECT ack over polling,
//! answers Node-style JSON errors and compares sids raw.

mod ws_support;

use ws_support::{Sioxide, T, run_ws};

#[test]
fn socketioxide_server_passes_every_check() {
    let s = need!(
        "socketioxide_server_passes_every_check",
        Sioxide::start(&[])
    );
    let run = run_ws(T, &[&s.url()]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "pass"),
        ("ws.upgrade", "pass"),
        ("ws.socketio-connect", "pass"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "pass"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(run.code, 0);
    let open = &run.check("ws.polling-handshake")["evidence"]["open_packet"];
    // socketioxide's default maxPayload differs from python-engineio's 1000000.
    assert_eq!(open["maxPayload"], 100_000);
    assert_eq!(run.check("ws.sticky-session")["evidence"]["ok"], 20);
}

#[test]
fn socketioxide_auth_rejection_is_shown_verbatim() {
    let s = need!(
        "socketioxide_auth_rejection_is_shown_verbatim",
        Sioxide::start(&["--auth-token", "sioxide-t0ken"])
    );
    let run = run_ws(T, &[&s.url(), "--rounds", "0"]);
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    assert_eq!(
        run.message("ws.socketio-connect"),
        "CONNECT_ERROR over websocket: \"authentication failed\""
    );
    let good = run_ws(T, &[&s.url(), "--rounds", "0", "--token", "sioxide-t0ken"]);
    assert_eq!(
        good.status("ws.socketio-connect"),
        "pass",
        "{}",
        good.stdout
    );
    assert_eq!(good.status("ws.upgrade"), "pass");
}

#[test]
fn socketioxide_polling_only_connects_over_polling_with_a_batched_ping() {
    let s = need!(
        "socketioxide_polling_only_connects_over_polling_with_a_batched_ping",
        Sioxide::start(&["--polling-only", "--auth-token", "sioxide-t0ken"])
    );
    let run = run_ws(T, &[&s.url(), "--rounds", "5", "--token", "sioxide-t0ken"]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "warn"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "pass"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "pass"),
        ("ws.heartbeat", "skip"),
    ]);
    let ws = &run.check("ws.websocket-handshake")["evidence"]["outcome"];
    assert_eq!(ws["status"], 400);
    assert_eq!(ws["body_head"], r#"{"code":"3","message":"Bad request"}"#);
    let connect = &run.check("ws.socketio-connect")["evidence"];
    assert_eq!(connect["transport"], "polling");
    // socketioxide batches a ping with the CONNECT answer: `2\x1e40{…}`, and the probe pongs.
    let packets = connect["packets"].to_string();
    assert!(packets.contains(r#"< GET 2\u001e40{\"sid\""#), "{packets}");
    assert!(packets.contains("> POST 3"), "{packets}");

    let rejected = run_ws(T, &[&s.url(), "--rounds", "0"]);
    assert_eq!(
        rejected.message("ws.socketio-connect"),
        "CONNECT_ERROR over polling: \"authentication failed\""
    );
}
