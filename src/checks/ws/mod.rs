//! The `ws.*` checks: pure judgements of what the Engine.IO probe
//! ([`crate::probe::engineio`]) observed. One file per rule, the rule beside its judge.

mod connect;
mod cors;
mod heartbeat;
mod path;
mod polling;
mod reachable;
mod sticky;
mod upgrade;
mod version;
mod websocket;

use serde_json::Value;

use crate::catalogue::Rule;
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::net::{HttpAnswer, HttpOutcome};
use crate::report::CheckResult;

pub use connect::SOCKETIO_CONNECT;
pub use cors::CORS;
pub use heartbeat::HEARTBEAT;
pub use path::PATH;
pub use polling::POLLING_HANDSHAKE;
pub use reachable::HTTP_REACHABLE;
pub use sticky::STICKY_SESSION;
pub use upgrade::UPGRADE;
pub use version::EIO_VERSION;
pub use websocket::WEBSOCKET_HANDSHAKE;

/// Every `ws.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &HTTP_REACHABLE,
    &PATH,
    &EIO_VERSION,
    &POLLING_HANDSHAKE,
    &WEBSOCKET_HANDSHAKE,
    &UPGRADE,
    &SOCKETIO_CONNECT,
    &CORS,
    &STICKY_SESSION,
    &HEARTBEAT,
];

/// What the app behind the URL needs for its Socket.IO CONNECT, built by the command layer
/// from the app's profile (`--app`, or the app recognised in the files); the judges never
/// look at profiles themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppExpectations {
    /// The app's name as the report shows it ("Chainlit"), when known.
    pub app: Option<String>,
    pub connect: ConnectRule,
    /// Whether the app serves the websocket transport only, when known.
    pub websocket_only: Option<bool>,
}

/// What the app does with a CONNECT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConnectRule {
    /// Accepts a CONNECT without auth (Open WebUI).
    Anonymous,
    /// Needs the auth its own client sends (`what` says which, e.g. "Chainlit's frontend
    /// session auth (sessionId, clientType…)"); `unanswered_without_it`: without it the
    /// app never answers the CONNECT (its handler raises) instead of refusing it.
    NeedsAuth {
        what: String,
        unanswered_without_it: bool,
    },
    /// Nothing known about the app's connect handler.
    #[default]
    Unknown,
}

/// Judges every `ws.*` rule; one result per rule, in catalogue order.
pub fn judge(obs: &WsObservations, expect: &AppExpectations) -> Vec<CheckResult> {
    let subject = format!("{}{}", obs.target.base, obs.path);
    [
        reachable::judge(obs),
        path::judge(obs),
        version::judge(obs),
        polling::judge(obs),
        websocket::judge(obs),
        upgrade::judge(obs),
        connect::judge(obs, expect),
        cors::judge(obs),
        sticky::judge(obs),
        heartbeat::judge(obs),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, r)| {
        let r = r.subject(subject.clone());
        // The time model's record, once, on the first check: the one budget and the stages
        // still waiting when it ran out.
        if i == 0 {
            r.evidence("probe_budget_ms", obs.budget_ms)
                .evidence("stages_waiting_at_deadline", obs.waiting.clone())
        } else {
            r
        }
    })
    .collect()
}

/// Whether the probe got an HTTP answer from the app (the other checks depend on it): a
/// proxy's own error page for an upstream it cannot reach is not the app's answer.
fn http_answered(obs: &WsObservations) -> bool {
    obs.reach.error.is_none()
        && obs
            .path_attempts
            .first()
            .is_some_and(|a| matches!(&a.answer, Ok(x) if !is_proxy_error_page(x)))
}

/// A proxy's answer for an upstream it cannot reach or that timed out: any 502 or 504 (nginx:
/// `<title>502 Bad Gateway</title>` … `<center>nginx/1.22.1</center>`, Server: nginx), and a
/// 503 with an HTML body, a proxy's Server header or haproxy's text. An Engine.IO server
/// answers its handshake with 200, or refuses it with 400/403 text or JSON, never so.
pub fn is_proxy_error_page(a: &HttpAnswer) -> bool {
    // 502 and 504 are gateway statuses: an app server answering for itself never sends them
    // (Traefik's "Bad Gateway" is text/plain without a Server header).
    if matches!(a.status, 502 | 504) {
        return true;
    }
    if a.status != 503 {
        return false;
    }
    // haproxy: "503 Service Unavailable … No server is available to handle this request."
    if a.body_head
        .to_ascii_lowercase()
        .contains("no server is available")
    {
        return true;
    }
    let html = a.header("content-type").is_some_and(|c| c.contains("html"))
        || a.body_head
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("<html")
        || a.body_head.to_ascii_lowercase().contains("<title>");
    let proxy_server = a.server().is_some_and(|s| {
        let s = s.to_ascii_lowercase();
        [
            "nginx",
            "haproxy",
            "caddy",
            "traefik",
            "envoy",
            "apache",
            "cloudflare",
            "awselb",
        ]
        .iter()
        .any(|p| s.contains(p))
    });
    html || proxy_server
}

/// Evidence for an HTTP outcome: status, headers that matter, Set-Cookie names, first bytes.
fn http_evidence(outcome: &HttpOutcome) -> Value {
    match outcome {
        Ok(a) => serde_json::to_value(a).unwrap_or(Value::Null),
        Err(e) => serde_json::json!({ "error": e }),
    }
}

/// `HTTP 400 "Invalid transport" (Server: nginx/1.22.1)`; an HTML page is shown by its
/// title, other bodies with whitespace collapsed.
fn describe_answer(a: &HttpAnswer) -> String {
    let mut s = format!("HTTP {}", a.status);
    let body = summarise_body(&a.body_head);
    match (&a.body_incomplete, body.is_empty()) {
        // A body cut short is never called empty: the server may have been about to say why.
        (Some(why), true) => s.push_str(&format!(" (no body read: {why})")),
        (None, true) => s.push_str(" with an empty body"),
        (Some(why), false) => s.push_str(&format!(" {body} (body incomplete: {why})")),
        (None, false) => {
            s.push(' ');
            s.push_str(&body);
        }
    }
    if let Some(server) = a.server() {
        s.push_str(&format!(" (Server: {server})"));
    }
    s
}

/// A one-line summary of a body: an HTML page's `<title>`, or the text with whitespace
/// collapsed, at most 120 characters.
fn summarise_body(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
    {
        return format!("(HTML page \"{}\")", body[start + 7..end].trim());
    }
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(120).collect();
    if collapsed.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// The proxy named by a `Server` header, or a generic phrase.
fn proxy_name(a: &HttpAnswer) -> String {
    match a.server() {
        Some(s) => format!("the proxy ({s})"),
        None => "a proxy or load balancer".to_string(),
    }
}

/// The nginx lines that pass a websocket upgrade through.
pub const NGINX_UPGRADE_LINES: &str = "proxy_http_version 1.1;\n\
proxy_set_header Upgrade $http_upgrade;\n\
proxy_set_header Connection \"upgrade\";\n\
proxy_set_header Host $host;";

/// What to do about several workers without sticky sessions.
pub const STICKY_FIX: &str = "make the load balancer sticky (nginx: `ip_hash;` or \
`hash $remote_addr consistent;` in the upstream block; Traefik: `sticky.cookie`; Kubernetes: \
`sessionAffinity: ClientIP` or an ingress affinity cookie), or use the websocket transport \
only (client `transports: ['websocket']`; Open WebUI: ENABLE_WEBSOCKET_SUPPORT=true), or run \
one worker per instance. A Redis manager relays broadcasts between workers; it does not share \
Engine.IO sessions.";

#[cfg(test)]
mod tests {
    //! Judgements from observations built out of the answers real servers gave
    //! (../shared/ground-truth.md); the live scenarios are in tests/ws_*.rs.

    use reqwest::header::HeaderMap;

    use super::*;
    use crate::probe::engineio::net::{HttpAnswer, NetError, NetErrorKind, Reachability};
    use crate::probe::engineio::{PathAttempt, Target, WsHandshake, WsObservations, WsOutcome};
    use crate::report::Status;

    fn answer(status: u16, body: &[u8]) -> HttpAnswer {
        HttpAnswer::new(status, &HeaderMap::new(), body.to_vec(), false)
    }

    fn observations(
        polling: HttpAnswer,
        ws: WsOutcome,
        eio3: Option<HttpAnswer>,
    ) -> WsObservations {
        let target = Target::parse("http://127.0.0.1:5000", None).expect("target");
        let attempt = |a: HttpAnswer, q: &str| PathAttempt {
            path: "/socket.io".into(),
            url: format!("http://127.0.0.1:5000/socket.io/?{q}"),
            answer: Ok(a),
        };
        WsObservations {
            target: target.clone(),
            namespace: "/".into(),
            reach: Reachability {
                host: "127.0.0.1".into(),
                port: 5000,
                tls: false,
                addresses: vec!["127.0.0.1:5000".into()],
                connected: Some("127.0.0.1:5000".into()),
                error: None,
                elapsed_ms: 0,
            },
            path_attempts: vec![attempt(polling, "EIO=4&transport=polling")],
            path: "/socket.io".into(),
            websocket: Some(WsHandshake {
                url: "ws://127.0.0.1:5000/socket.io/?EIO=4&transport=websocket".into(),
                outcome: ws,
                open: None,
                open_error: None,
            }),
            eio3: eio3.map(|a| attempt(a, "EIO=3&transport=polling")),
            connect: None,
            upgrade: None,
            cors: None,
            sticky: None,
            heartbeat: None,
            stopped: None,
            hold: None,
            rounds: 20,
            origin: None,
            budget_ms: 3000,
            waiting: Vec::new(),
            elapsed_ms: 0,
        }
    }

    const UNSUPPORTED: &[u8] =
        b"\"The client is using an unsupported version of the Socket.IO or Engine.IO protocols\"";

    fn result(obs: &WsObservations, id: &str) -> CheckResult {
        judge(obs, &AppExpectations::default())
            .into_iter()
            .find(|r| r.id == id)
            .expect("every rule is judged")
    }

    #[test]
    fn engineio_v3_server_is_told_apart_by_the_eio3_retry() {
        // python-socketio 4.x: EIO=4 polling 400 unsupported, websocket 403, EIO=3 polling 200
        // with length-prefixed framing and pingTimeout 60000.
        let open =
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}"#;
        let v3 = format!("{}:{open}2:40", open.len());
        let obs = observations(
            answer(400, UNSUPPORTED),
            WsOutcome::Refused(answer(403, b"")),
            Some(answer(200, v3.as_bytes())),
        );
        let r = result(&obs, "ws.eio-version");
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.message.starts_with("Engine.IO v3 server"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("v3 (length-prefixed) framing"),
            "{}",
            r.message
        );
        assert!(r.message.contains("pingTimeout 60000 ms"), "{}", r.message);
        let ws = result(&obs, "ws.websocket-handshake");
        assert_eq!(ws.status, Status::Fail);
        assert!(
            ws.message.contains("refuses this Engine.IO version"),
            "{}",
            ws.message
        );
        assert_eq!(result(&obs, "ws.polling-handshake").status, Status::Fail);
        assert_eq!(result(&obs, "ws.path").status, Status::Pass);
    }

    #[test]
    fn a_server_refusing_both_versions_is_broken_not_old() {
        let obs = observations(
            answer(400, UNSUPPORTED),
            WsOutcome::Refused(answer(403, b"")),
            Some(answer(400, UNSUPPORTED)),
        );
        let r = result(&obs, "ws.eio-version");
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.message
                .starts_with("the server refuses both EIO=4 and EIO=3"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_websocket_refusal_with_a_polling_reason_points_at_it() {
        // A 403 websocket with an unexplained polling refusal: the report quotes the polling
        // body, the only place the reason is written.
        let obs = observations(
            answer(400, b"\"Bad request\""),
            WsOutcome::Refused(answer(403, b"")),
            Some(answer(400, b"\"Bad request\"")),
        );
        let ws = result(&obs, "ws.websocket-handshake");
        assert_eq!(ws.status, Status::Fail);
        assert!(
            ws.message
                .contains("the polling answer was: \"Bad request\""),
            "{}",
            ws.message
        );
        assert_eq!(result(&obs, "ws.eio-version").status, Status::Skip);
    }

    #[test]
    fn proxy_timeouts_and_tls_errors_are_named() {
        let obs = observations(
            answer(
                504,
                b"<html><head><title>504 Gateway Time-out</title></head></html>",
            ),
            WsOutcome::Failed(NetError::new(
                NetErrorKind::Tls,
                "tls handshake",
                "invalid peer certificate: UnknownIssuer",
            )),
            None,
        );
        // A proxy's 504 page is the proxy talking, not the app (issue 11 point 6).
        let r = result(&obs, "ws.http-reachable");
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.message.starts_with(
                "a proxy or load balancer answered HTTP 504 (HTML page \"504 Gateway Time-out\")"
            ),
            "{}",
            r.message
        );
        assert!(r.message.contains("not the app's"), "{}", r.message);
        assert!(
            r.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("start the app"))
        );
        for dependent in ["ws.polling-handshake", "ws.path"] {
            assert_eq!(result(&obs, dependent).status, Status::Skip, "{dependent}");
        }
        let ws = result(&obs, "ws.websocket-handshake");
        assert_eq!(ws.status, Status::Skip, "{}", ws.message);
        let obs = observations(
            answer(400, b"\"Bad request\""),
            WsOutcome::Failed(NetError::new(
                NetErrorKind::Tls,
                "tls handshake",
                "invalid peer certificate: UnknownIssuer",
            )),
            None,
        );
        let ws = result(&obs, "ws.websocket-handshake");
        assert_eq!(
            ws.message,
            "TLS error during the upgrade: invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(ws.evidence["error_kind"], "tls");
    }

    #[test]
    fn an_unanswered_connect_is_judged_by_what_the_app_needs() {
        use crate::probe::engineio::ConnectObs;
        let open =
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
        let mut obs = observations(
            answer(200, open.as_bytes()),
            WsOutcome::Refused(answer(400, b"")),
            None,
        );
        obs.connect = Some(ConnectObs {
            transport: "polling",
            namespace: "/".into(),
            with_auth: false,
            answer: None,
            taken_back: None,
            error: Some(NetError::timeout(
                "waiting for the CONNECT answer",
                std::time::Duration::from_secs(3),
            )),
            packets: vec!["> POST 40".into()],
            elapsed_ms: 3000,
        });
        obs.waiting = vec!["socketio-connect (waiting for the CONNECT answer)".into()];
        let connect_of = |obs: &WsObservations, expect: &AppExpectations| {
            judge(obs, expect)
                .into_iter()
                .find(|r| r.id == "ws.socketio-connect")
                .expect("judged")
        };
        let connect = |expect: &AppExpectations| connect_of(&obs, expect);
        let needs_auth = AppExpectations {
            app: Some("Chainlit".into()),
            connect: ConnectRule::NeedsAuth {
                what: "sessionId and clientType".into(),
                unanswered_without_it: true,
            },
            websocket_only: None,
        };
        let r = connect(&needs_auth);
        assert_eq!(r.status, Status::Skip, "{}", r.message);
        assert!(r.message.contains("--auth JSON"), "{}", r.message);
        let anonymous = AppExpectations {
            app: Some("Open WebUI".into()),
            connect: ConnectRule::Anonymous,
            websocket_only: None,
        };
        let r = connect(&anonymous);
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.message.starts_with("no answer to an anonymous CONNECT"),
            "{}",
            r.message
        );
        let r = connect(&AppExpectations::default());
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.contains("so the server is up"), "{}", r.message);
        assert!(
            r.message.contains("budget ran out: socketio-connect"),
            "{}",
            r.message
        );
        // With the auth given, an app that needs it and does not answer is a failure.
        let mut with_auth = obs.clone();
        with_auth.connect.as_mut().expect("connect").with_auth = true;
        assert_eq!(connect_of(&with_auth, &needs_auth).status, Status::Fail);
    }

    #[test]
    fn every_rule_is_listed_once_in_catalogue_order() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "ws.http-reachable",
                "ws.path",
                "ws.eio-version",
                "ws.polling-handshake",
                "ws.websocket-handshake",
                "ws.upgrade",
                "ws.socketio-connect",
                "ws.cors",
                "ws.sticky-session",
                "ws.heartbeat",
            ]
        );
        let obs = observations(
            answer(404, b"Not Found"),
            WsOutcome::Refused(answer(404, b"")),
            None,
        );
        let judged: Vec<&str> = judge(&obs, &AppExpectations::default())
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(judged, ids);
    }
}
