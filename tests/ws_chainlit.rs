//! The real Chainlit 2.12 (issue 10, issue 11 points 1–2): its connect handler reads the
//! frontend's auth (chainlit/socket.py `connect`: `auth.get("threadId")`, `auth["sessionId"]`,
//! `auth["clientType"]`) and raises on an anonymous CONNECT, so python-socketio never answers
//! it. The transport under it is healthy, and with the frontend's auth CONNECT is accepted.

mod ws_support;

use ws_support::{Chainlit, run_ws};

#[test]
fn chainlit_is_healthy_without_auth_and_connects_with_it() {
    let app = need!(
        "chainlit_is_healthy_without_auth_and_connects_with_it",
        Chainlit::start()
    );
    // No path given: discovery finds /ws/socket.io behind the frontend's catch-all page.
    let run = run_ws("3s", &[&app.url(), "--app", "chainlit"]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "pass"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "skip"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "pass"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.check("ws.path")["evidence"]["socketio_path"],
        "/ws/socket.io"
    );
    let msg = run.message("ws.socketio-connect");
    assert!(msg.contains("Chainlit leaves a CONNECT without"), "{msg}");
    assert!(msg.contains("--auth JSON"), "{msg}");
    assert!(
        app.proc.stderr_count("AttributeError") >= 1,
        "the anonymous CONNECT crashed the handler, as in the real app: {}",
        app.proc.stderr_text()
    );

    // Without --app: still no dead server; the CONNECT failure says the server is up.
    let run = run_ws("3s", &[&app.url(), "--rounds", "3"]);
    assert_eq!(run.status("ws.http-reachable"), "pass");
    assert_eq!(run.status("ws.upgrade"), "skip");
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    assert!(
        run.message("ws.socketio-connect")
            .contains("so the server is up")
    );

    // With the auth Chainlit's frontend sends, CONNECT and the upgrade pass.
    let auth = r#"{"sessionId": "wsd-chainlit-session-81", "clientType": "webapp"}"#;
    let run = run_ws(
        "3s",
        &[
            &app.url(),
            "--app",
            "chainlit",
            "--auth",
            auth,
            "--rounds",
            "3",
        ],
    );
    assert_eq!(run.status("ws.socketio-connect"), "pass", "{}", run.stdout);
    assert_eq!(run.status("ws.upgrade"), "pass", "{}", run.stdout);
    assert!(!run.stdout.contains("wsd-chainlit-session-81"));
    assert_eq!(run.code, 0);
}
