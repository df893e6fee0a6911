//! Refusal bodies from Flask-SocketIO 5.7.0 under gunicorn (issue 11 point 5). Werkzeug and
//! gunicorn write the body after the headers, chunked, in a later write: a client that takes
//! the bytes of the first read as the body saw `""` about one run in eight. Each refusal is
//! asked for 30 times here, on a new connection each time, and must carry its text every time.

mod ws_support;

use std::time::Duration;

use ws_support::{FlaskSocketio, T, run_ws};
use wsdoctor::probe::engineio::net;
use wsdoctor::probe::engineio::websocket::{self, WsOpen};

const REPEATS: usize = 30;

#[test]
fn refusal_bodies_are_read_to_their_end_every_time() {
    let app = need!(
        "refusal_bodies_are_read_to_their_end_every_time",
        FlaskSocketio::start()
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = format!("ws://127.0.0.1:{}/socket.io/", app.port);
    let timeout = Duration::from_secs(5);
    let refusal = |url: String, origin: Option<&'static str>| {
        rt.block_on(async {
            match websocket::open(&url, origin, None, timeout).await {
                WsOpen::Refused(a) => a,
                WsOpen::Upgraded(..) => panic!("{url}: upgraded, expected a refusal"),
                WsOpen::Failed(e) => panic!("{url}: {}", e.describe()),
            }
        })
    };
    let mut seen = Vec::new();
    for _ in 0..REPEATS {
        // engineio/base_server.py (python-engineio 4.15): an Origin outside
        // cors_allowed_origins gets 400 "Not an accepted origin.".
        let a = refusal(
            format!("{base}?EIO=4&transport=websocket"),
            Some("http://evil.example"),
        );
        assert_eq!(a.status, 400);
        assert_eq!(a.body_text(), "\"Not an accepted origin.\"");
        assert!(a.body_incomplete.is_none());
        // A websocket carrying a sid the server does not know: 400 "Invalid session <sid>".
        let a = refusal(
            format!("{base}?EIO=4&transport=websocket&sid=wsdoctor-unknown"),
            None,
        );
        assert_eq!(a.status, 400);
        assert_eq!(a.body_text(), "\"Invalid session wsdoctor-unknown\"");
        seen.push(a.server().unwrap_or("").to_string());
    }
    assert!(seen.iter().all(|s| s == "gunicorn"), "{seen:?}");

    // The polling side, through the HTTP client: the same bodies, every time.
    let client = net::http_client(None, true).expect("client");
    let polling = format!(
        "http://127.0.0.1:{}/socket.io/?EIO=4&transport=polling",
        app.port
    );
    for _ in 0..REPEATS {
        let a = rt
            .block_on(net::send(
                client
                    .get(format!("{polling}&sid=wsdoctor-unknown"))
                    .header("origin", "http://evil.example"),
                timeout,
            ))
            .expect("answer");
        assert_eq!(a.status, 400);
        assert_eq!(a.body_text(), "\"Not an accepted origin.\"");
    }

    // And the report built on them quotes the text, never "an empty body".
    for _ in 0..3 {
        let run = run_ws(
            T,
            &[
                &app.url(),
                "--origin",
                "http://evil.example",
                "--rounds",
                "2",
            ],
        );
        assert_eq!(run.status("ws.cors"), "fail", "{}", run.stdout);
        assert!(
            run.message("ws.cors").contains("Not an accepted origin."),
            "{}",
            run.message("ws.cors")
        );
        assert!(!run.stdout.contains("empty body"), "{}", run.stdout);
    }
    let ok = run_ws(
        T,
        &[&app.url(), "--origin", &app.allowed_origin, "--rounds", "2"],
    );
    assert_eq!(ok.status("ws.cors"), "pass", "{}", ok.stdout);
}
