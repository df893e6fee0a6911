//! https / wss: python-socketio under uvicorn with a certificate from a private CA. Trusted
//! through SSL_CERT_FILE every check passes; without it the TLS failure is named.

mod ws_support;

use ws_support::{SioServer, T, TestPki, run_ws_env};

#[test]
fn https_and_wss_with_a_private_ca() {
    let pki = need!("https_and_wss_with_a_private_ca", TestPki::new());
    let (cert, key) = (pki.cert(), pki.key());
    let s = need!(
        "https_and_wss_with_a_private_ca",
        SioServer::start(1, &["--ssl-certfile", &cert, "--ssl-keyfile", &key])
    );
    let url = format!("https://localhost:{}", s.port);
    let ca = pki.ca();
    let trusted = run_ws_env(
        T,
        &[&url, "--rounds", "3"],
        &[("SSL_CERT_FILE", ca.as_path())],
    );
    trusted.assert_statuses(&[
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
    assert_eq!(
        trusted.check("ws.http-reachable")["evidence"]["reachability"]["tls"],
        true
    );

    let wss = format!("wss://localhost:{}", s.port);
    let untrusted = run_ws_env(T, &[&wss, "--rounds", "0"], &[]);
    assert_eq!(
        untrusted.status("ws.http-reachable"),
        "fail",
        "{}",
        untrusted.stdout
    );
    assert_eq!(
        untrusted.check("ws.http-reachable")["evidence"]["error_kind"],
        "tls"
    );
    let msg = untrusted.message("ws.http-reachable");
    assert!(
        msg.starts_with("TLS handshake with localhost failed"),
        "{msg}"
    );
    assert!(msg.contains("UnknownIssuer"), "{msg}");
    assert!(
        untrusted
            .hint("ws.http-reachable")
            .contains("SSL_CERT_FILE")
    );
}
