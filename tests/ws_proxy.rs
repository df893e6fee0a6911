//! `wsdoctor ws` through Debian's nginx in front of python-socketio: with the Upgrade headers
//! (101), without them (400 "Invalid websocket upgrade"), to a dead upstream (502), and with a
//! read timeout shorter than the ping cycle.

mod ws_support;

use ws_support::{Nginx, SioServer, T, UPGRADE_LINES, free_port, run_ws};

#[test]
fn nginx_with_upgrade_headers_passes() {
    let app = need!(
        "nginx_with_upgrade_headers_passes",
        SioServer::start(1, &[])
    );
    let proxy = need!(
        "nginx_with_upgrade_headers_passes",
        Nginx::start(app.port, UPGRADE_LINES)
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "5"]);
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
    let answer = &run.check("ws.polling-handshake")["evidence"]["answer"];
    assert!(
        answer["headers"].to_string().contains("nginx/1."),
        "the Server header names nginx: {answer}"
    );
    assert_eq!(
        run.check("ws.websocket-handshake")["evidence"]["outcome"]["status"],
        101
    );
}

#[test]
fn nginx_without_upgrade_headers_is_explained() {
    let app = need!(
        "nginx_without_upgrade_headers_is_explained",
        SioServer::start(1, &[])
    );
    let proxy = need!(
        "nginx_without_upgrade_headers_is_explained",
        Nginx::start(app.port, "")
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "5"]);
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "fail"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "pass"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "pass"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(run.code, 1);
    let msg = run.message("ws.websocket-handshake");
    assert!(
        msg.starts_with("HTTP 400 \"Invalid websocket upgrade\" (Server: nginx/1."),
        "{msg}"
    );
    assert!(
        msg.contains("dropped the Upgrade and Connection headers"),
        "{msg}"
    );
    let hint = run.hint("ws.websocket-handshake");
    assert!(hint.contains("proxy_http_version 1.1;"), "{hint}");
    assert!(
        hint.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{hint}"
    );
    assert!(
        hint.contains("proxy_set_header Connection \"upgrade\";"),
        "{hint}"
    );
    let outcome = &run.check("ws.websocket-handshake")["evidence"]["outcome"];
    assert_eq!(outcome["status"], 400);
    assert_eq!(outcome["body_head"], "\"Invalid websocket upgrade\"");
    // The app still works over polling through the same proxy.
    assert_eq!(
        run.check("ws.socketio-connect")["evidence"]["transport"],
        "polling"
    );
}

#[test]
fn nginx_with_a_dead_upstream_is_a_502_from_the_proxy() {
    // Issue 11 point 6: nginx's own 502 page is not the app answering HTTP, and no path
    // "answered like Engine.IO"; the first fix is an action on the app or the upstream.
    let dead = free_port();
    let proxy = need!(
        "nginx_with_a_dead_upstream_is_a_502_from_the_proxy",
        Nginx::start(dead, UPGRADE_LINES)
    );
    let run = run_ws(T, &[&proxy.url()]);
    run.assert_statuses(&[
        ("ws.http-reachable", "fail"),
        ("ws.path", "skip"),
        ("ws.eio-version", "skip"),
        ("ws.polling-handshake", "skip"),
        ("ws.websocket-handshake", "skip"),
        ("ws.upgrade", "skip"),
        ("ws.socketio-connect", "skip"),
        ("ws.cors", "skip"),
        ("ws.sticky-session", "skip"),
        ("ws.heartbeat", "skip"),
    ]);
    assert_eq!(run.code, 1);
    let msg = run.message("ws.http-reachable");
    assert!(msg.starts_with("the proxy (nginx/1."), "{msg}");
    assert!(
        msg.contains("answered HTTP 502 (HTML page \"502 Bad Gateway\")"),
        "{msg}"
    );
    assert!(msg.contains("not the app's"), "{msg}");
    let hint = run.hint("ws.http-reachable");
    assert!(
        hint.starts_with("start the app, or point the proxy (nginx/1."),
        "{hint}"
    );
    assert!(hint.contains("proxy_pass"), "{hint}");
    assert_eq!(
        run.check("ws.http-reachable")["evidence"]["proxy_error_page"],
        true
    );
    assert!(
        !run.message("ws.path").contains("answered like Engine.IO"),
        "{}",
        run.message("ws.path")
    );
    assert_eq!(
        run.check("ws.path")["evidence"]["depends_on"],
        "ws.http-reachable"
    );
    // The fix list leads with the action, not with the diagnosis sentence.
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["--timeout", T, "ws", &proxy.url()])
        .output()
        .expect("run wsdoctor");
    let text = String::from_utf8_lossy(&text.stdout);
    let first_fix = text
        .lines()
        .find(|l| l.trim_start().starts_with("1."))
        .unwrap_or_default();
    assert!(
        first_fix.contains("ws.http-reachable") && first_fix.contains("start the app"),
        "{text}"
    );
}

#[test]
fn nginx_read_timeout_shorter_than_the_ping_cycle_cuts_the_connection() {
    // pingInterval 5 s: the first ping comes after the proxy's 1 s read timeout has expired.
    let app = need!(
        "nginx_read_timeout_shorter_than_the_ping_cycle_cuts_the_connection",
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    let lines = format!("{UPGRADE_LINES}\n      proxy_read_timeout 1s;");
    let proxy = need!(
        "nginx_read_timeout_shorter_than_the_ping_cycle_cuts_the_connection",
        Nginx::start(app.port, &lines)
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "3"]);
    assert_eq!(run.status("ws.heartbeat"), "fail", "{}", run.stdout);
    let msg = run.message("ws.heartbeat");
    assert!(msg.contains("before the server's first ping"), "{msg}");
    assert!(
        msg.contains("pingInterval 5.0s + pingTimeout 5.0s = 10.0s"),
        "{msg}"
    );
    let hb = &run.check("ws.heartbeat")["evidence"]["heartbeat"];
    assert_eq!(hb["pings"], 0);
    assert!(hb["held_ms"].as_u64().is_some_and(|ms| ms < 3000), "{hb}");
    assert!(run.hint("ws.heartbeat").contains("proxy_read_timeout"));
    assert_eq!(run.code, 1);
}
