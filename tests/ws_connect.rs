//! A CONNECT that is never answered (issue 11 points 1, 2, 9; issue 10's CONNECT/auth part),
//! against python-socketio 5.18 under uvicorn whose connect handler does what the real apps
//! do: `--connect needs-session` raises on an anonymous CONNECT like Chainlit 2.12.0's
//! (chainlit/socket.py `connect` reads `auth["sessionId"]`), `--connect hangs` waits forever
//! like Open WebUI 0.12.4's while its Redis manager cannot reach Redis. python-socketio then
//! never answers the CONNECT; the Engine.IO transport under it stays healthy.

mod ws_support;

use ws_support::{Run, SioServer, run_ws};

/// The probe's budget in these tests: the unanswered CONNECT runs until it.
const BUDGET: &str = "2s";

/// Every check but CONNECT holds on a server whose CONNECT is never answered.
fn assert_transport_healthy(run: &Run) {
    run.assert_statuses(&[
        ("ws.http-reachable", "pass"),
        ("ws.path", "pass"),
        ("ws.eio-version", "pass"),
        ("ws.polling-handshake", "pass"),
        ("ws.websocket-handshake", "pass"),
        // The upgrade worked; the CONNECT after it is what hung: a consequence, not a finding.
        ("ws.upgrade", "skip"),
        ("ws.cors", "skip"),
        // Needs no Socket.IO answer: runs to its end while CONNECT waits.
        ("ws.sticky-session", "pass"),
        ("ws.heartbeat", "skip"),
    ]);
    let upgrade = run.check("ws.upgrade");
    assert_eq!(upgrade["evidence"]["depends_on"], "ws.socketio-connect");
    assert_eq!(upgrade["evidence"]["upgrade"]["upgraded"], true);
    assert!(
        run.message("ws.upgrade")
            .contains("the upgrade itself worked"),
        "{}",
        run.message("ws.upgrade")
    );
    let sticky = &run.check("ws.sticky-session")["evidence"];
    assert_eq!(sticky["rounds"], 20, "{sticky}");
    assert_eq!(sticky["ok"], 20, "{sticky}");
    assert!(
        !run.stdout.contains("stopped answering"),
        "no dead-server wording: {}",
        run.stdout
    );
}

#[test]
fn unanswered_connect_keeps_the_transport_evidence_and_names_the_waiting_stage() {
    let s = need!(
        "unanswered_connect_keeps_the_transport_evidence_and_names_the_waiting_stage",
        SioServer::start(1, &["--connect", "needs-session"])
    );
    // No --app: the app's rule is unknown, the CONNECT finding stays a failure, but it says
    // the server is up and which stage was still waiting.
    let run = run_ws(BUDGET, &[&s.url()]);
    assert_transport_healthy(&run);
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    let msg = run.message("ws.socketio-connect");
    assert!(msg.contains("so the server is up"), "{msg}");
    assert!(
        msg.contains("still waiting when the budget ran out: socketio-connect"),
        "{msg}"
    );
    assert!(run.hint("ws.socketio-connect").contains("--auth"));
    assert_eq!(run.code, 1);
    let reach = &run.check("ws.http-reachable")["evidence"];
    assert_eq!(reach["probe_budget_ms"], 2000);
    let waiting = reach["stages_waiting_at_deadline"].to_string();
    assert!(waiting.contains("socketio-connect"), "{waiting}");
    assert!(!waiting.contains("sticky"), "{waiting}");

    // --hold needs the connected session: skipped, naming the CONNECT as the cause.
    let held = run_ws(BUDGET, &[&s.url(), "--rounds", "2", "--hold", "1"]);
    assert_eq!(held.status("ws.heartbeat"), "skip");
    assert_eq!(
        held.check("ws.heartbeat")["evidence"]["depends_on"],
        "ws.socketio-connect"
    );
}

#[test]
fn an_app_that_needs_its_clients_auth_is_not_a_failure_without_it() {
    let s = need!(
        "an_app_that_needs_its_clients_auth_is_not_a_failure_without_it",
        SioServer::start(1, &["--connect", "needs-session"])
    );
    let run = run_ws(BUDGET, &[&s.url(), "--app", "chainlit"]);
    assert_transport_healthy(&run);
    assert_eq!(run.status("ws.socketio-connect"), "skip");
    let msg = run.message("ws.socketio-connect");
    assert!(msg.contains("the transport is healthy"), "{msg}");
    assert!(msg.contains("pass it with --auth JSON"), "{msg}");
    // What to send comes from the Chainlit profile (src/apps/chainlit.rs).
    assert!(
        msg.contains("sessionId") && msg.contains("clientType"),
        "{msg}"
    );
    assert_eq!(run.code, 0, "{}", run.stdout);

    // With the auth the app's client sends, CONNECT is answered, and the payload (a secret)
    // appears nowhere in the report, not even in the packets sent.
    let session = "wsd-session-5f3a9c";
    let auth = format!(r#"{{"sessionId": "{session}", "clientType": "webapp"}}"#);
    let run = run_ws(BUDGET, &[&s.url(), "--app", "chainlit", "--auth", &auth]);
    assert_eq!(run.status("ws.socketio-connect"), "pass", "{}", run.stdout);
    assert_eq!(run.status("ws.upgrade"), "pass", "{}", run.stdout);
    assert_eq!(
        run.check("ws.socketio-connect")["evidence"]["with_auth"],
        true
    );
    assert!(!run.stdout.contains(session), "{}", run.stdout);
    assert!(!run.stdout.contains("webapp"), "{}", run.stdout);
    assert_eq!(run.code, 0);

    // Not JSON: a usage error that does not echo the secret.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["ws", &s.url(), "--auth", "{sessionId: wsd-secret-77}"])
        .output()
        .expect("run wsdoctor");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--auth is not JSON"), "{stderr}");
    assert!(!stderr.contains("wsd-secret-77"), "{stderr}");
}

#[test]
fn an_app_that_accepts_anonymous_connects_says_so_and_fails_when_it_hangs() {
    let healthy = need!(
        "an_app_that_accepts_anonymous_connects_says_so_and_fails_when_it_hangs",
        SioServer::start(1, &[])
    );
    let run = run_ws(
        BUDGET,
        &[&healthy.url(), "--app", "open-webui", "--rounds", "2"],
    );
    assert_eq!(run.status("ws.socketio-connect"), "pass");
    assert!(
        run.message("ws.socketio-connect")
            .contains("without auth: the app accepts unauthenticated connects"),
        "{}",
        run.message("ws.socketio-connect")
    );
    assert_eq!(
        run.check("ws.socketio-connect")["evidence"]["accepts_unauthenticated"],
        true
    );

    // The same app whose CONNECT hangs (Open WebUI waiting for its Redis manager): a failure,
    // since that app answers an anonymous CONNECT at once.
    let hung = need!(
        "an_app_that_accepts_anonymous_connects_says_so_and_fails_when_it_hangs",
        SioServer::start(1, &["--connect", "hangs"])
    );
    let run = run_ws(BUDGET, &[&hung.url(), "--app", "open-webui"]);
    assert_transport_healthy(&run);
    assert_eq!(run.status("ws.socketio-connect"), "fail");
    let msg = run.message("ws.socketio-connect");
    assert!(
        msg.starts_with("no answer to an anonymous CONNECT"),
        "{msg}"
    );
    assert!(
        msg.contains("though Open WebUI accepts one at once"),
        "{msg}"
    );
    assert!(run.hint("ws.socketio-connect").contains("Redis manager"));
}
