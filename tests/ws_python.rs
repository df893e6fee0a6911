//! `wsdoctor ws` against python-socketio 5 under uvicorn (Open WebUI's stack), one worker, in
//! each transport / auth / CORS / path configuration. Expected answers: ../shared/ground-truth.md.

mod ws_support;

use ws_support::{Run, SioServer, T, run_ws};

const ALL_PASS: [(&str, &str); 10] = [
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
];

fn evidence<'a>(run: &'a Run, id: &str, key: &str) -> &'a serde_json::Value {
    &run.check(id)["evidence"][key]
}

#[test]
fn both_transports_one_worker_passes_every_check() {
    let s = need!(
        "both_transports_one_worker_passes_every_check",
        SioServer::start(1, &[])
    );
    let run = run_ws(T, &[&s.url()]);
    run.assert_statuses(&ALL_PASS);
    assert_eq!(run.code, 0);
    let open = evidence(&run, "ws.polling-handshake", "open_packet");
    assert!(open["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(open["pingInterval"], 25000);
    assert_eq!(open["pingTimeout"], 20000);
    assert_eq!(open["maxPayload"], 1_000_000);
    assert_eq!(
        evidence(&run, "ws.polling-handshake", "answer")["status"],
        200
    );
    assert_eq!(
        evidence(&run, "ws.websocket-handshake", "outcome")["status"],
        101
    );
    assert_eq!(
        evidence(&run, "ws.socketio-connect", "transport"),
        "websocket"
    );
    let packets = evidence(&run, "ws.socketio-connect", "packets").to_string();
    assert!(
        packets.contains(r#"> 40"#) && packets.contains(r#"< 40{\"sid\""#),
        "{packets}"
    );
    assert_eq!(evidence(&run, "ws.sticky-session", "ok"), 20);
    assert_eq!(evidence(&run, "ws.sticky-session", "lost_session"), 0);
    let upgrade = evidence(&run, "ws.upgrade", "upgrade");
    assert_eq!(upgrade["probe_answer"], "3probe");
    assert_eq!(upgrade["upgraded"], true);
    assert!(run.message("ws.path").contains("answers at /socket.io"));

    // A namespace the server does not register: python-socketio answers
    // `44/admin,"Unable to connect"`.
    let ns = run_ws(T, &[&s.url(), "--rounds", "0", "--namespace", "admin"]);
    assert_eq!(ns.status("ws.socketio-connect"), "fail");
    assert_eq!(
        ns.message("ws.socketio-connect"),
        "CONNECT_ERROR over websocket: \"Unable to connect\""
    );
    assert!(ns.hint("ws.socketio-connect").contains("namespace"));
    assert_eq!(evidence(&ns, "ws.socketio-connect", "namespace"), "/admin");
}

#[test]
fn polling_only_server_warns_that_websocket_is_refused() {
    let s = need!(
        "polling_only_server_warns_that_websocket_is_refused",
        SioServer::start(1, &["--transports", "polling"])
    );
    let run = run_ws(T, &[&s.url()]);
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
    assert_eq!(run.code, 0);
    // python-engineio refuses the websocket transport with a bare 403 (ground truth).
    let outcome = evidence(&run, "ws.websocket-handshake", "outcome");
    assert_eq!(outcome["result"], "refused");
    assert_eq!(outcome["status"], 403);
    assert_eq!(outcome["body_head"], "");
    assert!(
        run.message("ws.websocket-handshake")
            .contains("accepts polling only")
    );
    assert_eq!(
        evidence(&run, "ws.socketio-connect", "transport"),
        "polling"
    );
    assert!(run.message("ws.upgrade").contains("ws.websocket-handshake"));
}

#[test]
fn websocket_only_server_is_not_a_polling_failure() {
    let s = need!(
        "websocket_only_server_is_not_a_polling_failure",
        SioServer::start(1, &["--transports", "websocket"])
    );
    let run = run_ws(T, &[&s.url()]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "pass"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "pass"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "skip"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(run.code, 0);
    let answer = evidence(&run, "ws.polling-handshake", "answer");
    assert_eq!(answer["status"], 400);
    assert_eq!(answer["body_head"], "\"Invalid transport\"");
    assert!(
        run.message("ws.polling-handshake")
            .contains("websocket-only")
    );
    assert!(run.message("ws.sticky-session").contains("websocket only"));
    assert_eq!(
        evidence(&run, "ws.socketio-connect", "transport"),
        "websocket"
    );
}

const TOKEN: &str = "s3cret-t0ken-4711";

#[test]
fn auth_rejecting_connect_handler_shows_connect_error_verbatim() {
    let s = need!(
        "auth_rejecting_connect_handler_shows_connect_error_verbatim",
        SioServer::start(1, &["--auth-token", TOKEN])
    );
    let url = s.url();
    let run = run_ws(T, &[&url, "--rounds", "3"]);
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    assert_eq!(
        run.message("ws.socketio-connect"),
        "CONNECT_ERROR over websocket: \"authentication failed\""
    );
    assert_eq!(
        evidence(&run, "ws.socketio-connect", "connect_error"),
        &serde_json::json!({"message": "authentication failed"})
    );
    assert!(run.hint("ws.socketio-connect").contains("--token"));
    assert_eq!(run.code, 1);

    let bad = run_ws(T, &[&url, "--rounds", "3", "--token", "wrong-token-123"]);
    assert_eq!(bad.status("ws.socketio-connect"), "fail");
    assert!(
        bad.message("ws.socketio-connect")
            .contains("authentication failed")
    );

    let good = run_ws(T, &[&url, "--rounds", "3", "--token", TOKEN]);
    assert_eq!(
        good.status("ws.socketio-connect"),
        "pass",
        "{}",
        good.stdout
    );
    assert_eq!(evidence(&good, "ws.socketio-connect", "with_auth"), true);
    assert_eq!(good.code, 0);
    // The token is a secret: sent, but never printed.
    assert!(
        !good.stdout.contains(TOKEN),
        "token leaked: {}",
        good.stdout
    );
    assert!(
        good.stdout.contains(r#"40{\"token\":\"****\"}"#),
        "{}",
        good.stdout
    );
    let shown = run_ws(
        T,
        &[&url, "--rounds", "0", "--token", TOKEN, "--show-secrets"],
    );
    assert!(shown.stdout.contains(TOKEN));
}

#[test]
fn always_connect_server_that_takes_the_connection_back_fails() {
    let s = need!(
        "always_connect_server_that_takes_the_connection_back_fails",
        SioServer::start(1, &["--auth-token", TOKEN, "--always-connect"])
    );
    let run = run_ws(T, &[&s.url(), "--rounds", "0"]);
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    let msg = run.message("ws.socketio-connect");
    assert!(msg.contains("accepted CONNECT (40{"), "{msg}");
    assert!(msg.contains("took it back"), "{msg}");
    let good = run_ws(T, &[&s.url(), "--rounds", "0", "--token", TOKEN]);
    assert_eq!(
        good.status("ws.socketio-connect"),
        "pass",
        "{}",
        good.stdout
    );
}

#[test]
fn restricted_cors_refuses_the_wrong_origin_and_no_origin_is_sent_by_default() {
    let s = need!(
        "restricted_cors_refuses_the_wrong_origin_and_no_origin_is_sent_by_default",
        SioServer::start(1, &["--cors", "https://chat.example.com"])
    );
    // No --origin: no Origin header, so the CORS list does not get in the way.
    let plain = run_ws(T, &[&s.url(), "--rounds", "2"]);
    plain.assert_statuses(&ALL_PASS);

    let evil = run_ws(
        T,
        &[
            &s.url(),
            "--rounds",
            "0",
            "--origin",
            "https://evil.example",
        ],
    );
    assert_eq!(evil.status("ws.cors"), "fail");
    assert_eq!(
        evil.message("ws.cors"),
        "the server refuses Origin https://evil.example: polling answered HTTP 400 \
         \"https://evil.example is not an accepted origin.\" (Server: uvicorn)"
    );
    // Over websocket the same refusal is a bare 403 (ground truth).
    let ws = evidence(&evil, "ws.cors", "websocket");
    assert_eq!(ws["status"], 403);
    assert_eq!(ws["body_head"], "");
    assert_eq!(evil.status("ws.websocket-handshake"), "pass");
    assert_eq!(evil.code, 1);

    let good = run_ws(
        T,
        &[
            &s.url(),
            "--rounds",
            "0",
            "--origin",
            "https://chat.example.com",
        ],
    );
    assert_eq!(good.status("ws.cors"), "pass", "{}", good.stdout);
    assert!(
        good.message("ws.cors")
            .contains("Access-Control-Allow-Origin: https://chat.example.com")
    );
    assert!(good.message("ws.cors").contains("websocket 101"));
}

#[test]
fn socketio_under_ws_path_is_found_and_reported() {
    let s = need!(
        "socketio_under_ws_path_is_found_and_reported",
        SioServer::start(1, &["--path", "ws/socket.io"])
    );
    let run = run_ws(T, &[&s.url(), "--rounds", "2"]);
    run.assert_statuses(&ALL_PASS);
    assert_eq!(
        run.message("ws.path"),
        "socket.io lives at /ws/socket.io, not at /socket.io (/socket.io answered HTTP 404 Not \
         Found (Server: uvicorn))"
    );
    assert_eq!(evidence(&run, "ws.path", "socketio_path"), "/ws/socket.io");
    assert!(run.hint("ws.path").contains("--path /ws/socket.io"));
    assert_eq!(
        run.check("ws.path")["subject"],
        format!("{}/ws/socket.io", s.url())
    );

    // The user named the wrong path (issue 11 point 4): a client configured with it connects
    // nowhere, so ws.path fails, the fix names the path that works and the run exits 1.
    let explicit = run_ws(T, &[&s.url(), "--rounds", "0", "--path", "/socket.io"]);
    assert_eq!(explicit.status("ws.path"), "fail");
    assert!(
        explicit
            .message("ws.path")
            .contains("lives at /ws/socket.io"),
        "{}",
        explicit.message("ws.path")
    );
    assert!(explicit.hint("ws.path").contains("--path /ws/socket.io"));
    assert_eq!(explicit.code, 1, "{}", explicit.stdout);

    let right = run_ws(T, &[&format!("{}/ws/socket.io/", s.url()), "--rounds", "0"]);
    assert_eq!(right.status("ws.path"), "pass");
    assert_eq!(
        right.message("ws.path"),
        "socket.io answers at /ws/socket.io"
    );
}

#[test]
fn socketio_at_an_unknown_path_is_a_path_failure() {
    let s = need!(
        "socketio_at_an_unknown_path_is_a_path_failure",
        SioServer::start(1, &["--path", "custom.io"])
    );
    let run = run_ws(T, &[&s.url()]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "fail"),
        ("ws.eio-version", "skip"),
        ("ws.polling-handshake", "fail"),
        ("ws.websocket-handshake", "fail"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "skip"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "skip"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(
        run.message("ws.path"),
        "no socket.io found: /socket.io, /ws/socket.io all answered 404"
    );
    // python-socketio's ASGIApp answers a websocket at an unknown path with 500.
    assert_eq!(
        run.message("ws.websocket-handshake"),
        "the upgrade was answered HTTP 500 Internal Server Error, and polling at the same path \
         answered 404: wrong path (see ws.path)"
    );
    assert_eq!(
        run.message("ws.eio-version"),
        "skipped because ws.path did not pass"
    );
}

#[test]
fn heartbeat_survives_server_pings_when_held() {
    let s = need!(
        "heartbeat_survives_server_pings_when_held",
        SioServer::start(1, &["--ping-interval", "1", "--ping-timeout", "1"])
    );
    let run = run_ws(T, &[&s.url(), "--rounds", "0", "--hold", "2.5"]);
    assert_eq!(run.status("ws.heartbeat"), "pass", "{}", run.stdout);
    let hb = evidence(&run, "ws.heartbeat", "heartbeat");
    assert!(hb["pings"].as_u64().is_some_and(|p| p >= 1), "{hb}");
    assert_eq!(hb["closed"], serde_json::Value::Null);
    assert_eq!(hb["ping_interval_ms"], 1000);
    let packets = hb["packets"].to_string();
    assert!(
        packets.contains("< 2") && packets.contains("> 3"),
        "{packets}"
    );
}
