//! `ws.websocket-handshake`: the direct `?EIO=4&transport=websocket` upgrade.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::codec::{is_transport_refusal, is_version_refusal};
use crate::probe::engineio::net::NetErrorKind;
use crate::probe::engineio::{WsObservations, WsOutcome};
use crate::report::CheckResult;

use super::{NGINX_UPGRADE_LINES, describe_answer, http_answered, proxy_name};

pub static WEBSOCKET_HANDSHAKE: Rule = Rule {
    id: "ws.websocket-handshake",
    severity: Severity::Error,
    title: "WebSocket handshake",
    summary: "Opens `<path>/?EIO=4&transport=websocket` directly (no Origin header unless \
              --origin) and expects 101 Switching Protocols and an Engine.IO open packet.",
    why: "This is the request behind `WebSocket connection to 'ws://…/socket.io/?EIO=4&\
          transport=websocket' failed`. A 400 \"Invalid websocket upgrade\" behind a proxy \
          means the proxy dropped the Upgrade/Connection headers and the app saw a plain GET; \
          502/503/504 come from a proxy that cannot reach the app; python-engineio refuses \
          websocket (CORS, wrong version, websocket transport disabled) with a bare 403 — only \
          the polling answer carries the reason.",
    fix: "Behind nginx, in the socket.io location: `proxy_http_version 1.1; proxy_set_header \
          Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";`. For 502/503/504 fix \
          the proxy's upstream (host, port, app running). For 403 see the polling answer \
          (ws.polling-handshake, ws.cors, ws.eio-version).",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return WEBSOCKET_HANDSHAKE.skip_because("ws.http-reachable");
    }
    let Some(ws) = &obs.websocket else {
        return WEBSOCKET_HANDSHAKE.skip("no websocket handshake was made");
    };
    let ev = |c: CheckResult| {
        c.evidence("url", ws.url.clone()).evidence(
            "outcome",
            serde_json::to_value(&ws.outcome).unwrap_or_default(),
        )
    };
    let polling_open = obs.polling_open();
    let polling_status = obs
        .polling()
        .and_then(|p| p.answer.as_ref().ok())
        .map(|a| a.status);
    let polling_body = obs
        .polling()
        .and_then(|p| p.answer.as_ref().ok())
        .map(|a| a.body_text())
        .unwrap_or_default();
    match &ws.outcome {
        WsOutcome::Upgraded(up) => match (&ws.open, &ws.open_error) {
            (Some(open), _) => ev(WEBSOCKET_HANDSHAKE
                .pass(format!(
                    "HTTP {} Switching Protocols in {} ms, then the open packet (sid {}, \
                     pingInterval {} ms)",
                    up.status,
                    up.elapsed_ms,
                    open.sid,
                    open.ping_interval_ms.unwrap_or(0)
                ))
                .evidence("open_packet", open.raw.clone()))
            .took(std::time::Duration::from_millis(up.elapsed_ms)),
            (None, e) => ev(WEBSOCKET_HANDSHAKE.fire(format!(
                "HTTP {} Switching Protocols, but no Engine.IO open packet followed: {}",
                up.status,
                e.as_ref()
                    .map_or_else(|| "unknown".to_string(), |e| e.describe())
            ))),
        },
        WsOutcome::Refused(a) => {
            let body = a.body_text();
            let r = if body.contains("Invalid websocket upgrade") {
                let who = if a
                    .server()
                    .is_some_and(|s| !s.to_ascii_lowercase().contains("uvicorn"))
                {
                    proxy_name(a)
                } else {
                    "a proxy in front of the app".to_string()
                };
                WEBSOCKET_HANDSHAKE
                    .fire(format!(
                        "{}: the app received a plain GET; {who} dropped the Upgrade and \
                         Connection headers",
                        describe_answer(a)
                    ))
                    .hint(format!(
                        "in the proxy's socket.io location add:\n{NGINX_UPGRADE_LINES}"
                    ))
            } else {
                match a.status {
                    502 => WEBSOCKET_HANDSHAKE
                        .fire(format!(
                            "{}: {} cannot reach the app (upstream down, wrong upstream host \
                             or port, or the app crashed)",
                            describe_answer(a),
                            proxy_name(a)
                        ))
                        .hint("check the proxy's upstream address and that the app runs"),
                    503 => WEBSOCKET_HANDSHAKE
                        .fire(format!(
                            "{}: {} has no healthy upstream (or is in maintenance)",
                            describe_answer(a),
                            proxy_name(a)
                        ))
                        .hint("check the upstream's health checks and that the app runs"),
                    504 => WEBSOCKET_HANDSHAKE
                        .fire(format!(
                            "{}: {} timed out waiting for the app",
                            describe_answer(a),
                            proxy_name(a)
                        ))
                        .hint("the app is overloaded or hung; check its logs"),
                    404 => WEBSOCKET_HANDSHAKE
                        .fire(format!("{}: wrong path (see ws.path)", describe_answer(a))),
                    // No Origin was sent and polling opened a v4 session, so neither CORS nor
                    // the version explains the refusal: the websocket transport is off.
                    // python-engineio 4.15 with transports=['polling'] still offers
                    // "upgrades":["websocket"] and refuses the websocket with a bare 403.
                    // socketioxide with polling only answers 400 {"code":"3","message":"Bad
                    // request"}, Node engine.io 400 "Transport unknown".
                    400 | 403 if polling_open.is_some() => WEBSOCKET_HANDSHAKE
                        .warn(format!(
                            "{}: the server accepts polling only (the polling handshake works, \
                             the websocket is refused); clients fall back to long-polling, \
                             which is slower and needs sticky sessions with several workers",
                            describe_answer(a)
                        ))
                        .hint(
                            "enable the websocket transport on the server (python-socketio: \
                             transports=['polling', 'websocket']; Open WebUI: \
                             ENABLE_WEBSOCKET_SUPPORT=true), and check that no proxy or WAF \
                             forbids websocket upgrades",
                        ),
                    403 if is_version_refusal(&polling_body) => WEBSOCKET_HANDSHAKE.fire(format!(
                        "{}: the server refuses this Engine.IO version (see \
                             ws.eio-version)",
                        describe_answer(a)
                    )),
                    403 => WEBSOCKET_HANDSHAKE.fire(format!(
                        "{}: refused; python-engineio answers websocket refusals (CORS origin, \
                         Engine.IO version, websocket transport disabled) with a bare 403, and \
                         the polling answer was: {}",
                        describe_answer(a),
                        if polling_body.is_empty() {
                            "none".to_string()
                        } else {
                            polling_body.chars().take(160).collect()
                        }
                    )),
                    400 if is_transport_refusal(&body) => WEBSOCKET_HANDSHAKE.fire(format!(
                        "{}: the server does not accept the websocket transport",
                        describe_answer(a)
                    )),
                    // python-socketio's ASGIApp answers a websocket at an unknown path with
                    // 500: the polling 404 at the same path is the real explanation.
                    _ if polling_status == Some(404) => WEBSOCKET_HANDSHAKE.fire(format!(
                        "the upgrade was answered {}, and polling at the same path answered \
                         404: wrong path (see ws.path)",
                        describe_answer(a)
                    )),
                    _ => WEBSOCKET_HANDSHAKE
                        .fire(format!("the upgrade was answered {}", describe_answer(a))),
                }
            };
            ev(r).took(std::time::Duration::from_millis(a.elapsed_ms))
        }
        WsOutcome::Failed(e) => {
            let msg = match e.kind {
                NetErrorKind::Timeout => format!(
                    "no answer to the websocket upgrade: {} ({})",
                    e.detail, e.stage
                ),
                NetErrorKind::Tls => format!("TLS error during the upgrade: {}", e.detail),
                NetErrorKind::Reset => format!(
                    "the connection was closed during the upgrade: {} (a proxy or firewall \
                     that does not pass websockets?)",
                    e.detail
                ),
                _ => format!("the upgrade failed: {}", e.describe()),
            };
            ev(WEBSOCKET_HANDSHAKE.fire(msg)).evidence("error_kind", e.kind.as_str())
        }
    }
}
