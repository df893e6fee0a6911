//! `ws.polling-handshake`: `GET ?EIO=4&transport=polling` → open packet.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::codec::{is_transport_refusal, is_version_refusal};
use crate::report::CheckResult;

use super::{describe_answer, http_answered, http_evidence, proxy_name};

pub static POLLING_HANDSHAKE: Rule = Rule {
    id: "ws.polling-handshake",
    severity: Severity::Error,
    title: "Engine.IO polling handshake",
    summary: "Sends `GET <path>/?EIO=4&transport=polling` and parses the open packet \
              `0{sid, upgrades, pingInterval, pingTimeout, maxPayload}`.",
    why: "Socket.IO clients start with this request unless told to use websocket only. A \
          websocket-only server (Open WebUI's default) answers 400 \"Invalid transport\": \
          that is fine as long as the websocket transport works and the clients use \
          `transports: ['websocket']`.",
    fix: "Follow the answer: 404 → wrong path (see ws.path); 400 unsupported version → see \
          ws.eio-version; 502/503/504 → the proxy cannot reach the app; a 200 HTML page → \
          a frontend catch-all route is in front of socket.io.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return POLLING_HANDSHAKE.skip_because("ws.http-reachable");
    }
    let Some(polling) = obs.polling() else {
        return POLLING_HANDSHAKE.skip("no polling request was made");
    };
    let ev = http_evidence(&polling.answer);
    let took = |c: CheckResult| {
        let ms = polling.answer.as_ref().map_or(0, |a| a.elapsed_ms);
        c.evidence("url", polling.url.clone())
            .evidence("answer", ev.clone())
            .took(std::time::Duration::from_millis(ms))
    };
    let a = match &polling.answer {
        Ok(a) => a,
        Err(e) => return took(POLLING_HANDSHAKE.fire(format!("no answer: {}", e.describe()))),
    };
    if let Some(open) = obs.polling_open() {
        let upgrades = if open.upgrades.is_empty() {
            "none (polling only)".to_string()
        } else {
            open.upgrades.join(", ")
        };
        return took(
            POLLING_HANDSHAKE
                .pass(format!(
                    "open packet: sid {}, upgrades {upgrades}, pingInterval {} ms, pingTimeout \
                     {} ms, maxPayload {}",
                    open.sid,
                    fmt_opt(open.ping_interval_ms),
                    fmt_opt(open.ping_timeout_ms),
                    fmt_opt(open.max_payload),
                ))
                .evidence("open_packet", open.raw.clone()),
        );
    }
    let body = a.body_text();
    let ws_open = obs.websocket.as_ref().is_some_and(|w| w.open.is_some());
    let r = if is_transport_refusal(&body) {
        if ws_open {
            POLLING_HANDSHAKE.pass(format!(
                "polling refused with {}: a websocket-only server (as Open WebUI by default); \
                 the websocket transport works, so clients must use transports: ['websocket']",
                describe_answer(a)
            ))
        } else {
            // The server serves websocket only: polling is not what to fix; the websocket
            // handshake is, and it reports why (one finding, not two).
            POLLING_HANDSHAKE
                .skip(format!(
                    "skipped because ws.websocket-handshake did not pass: polling refused with \
                     {} (a websocket-only server), so the websocket transport is the one to fix",
                    describe_answer(a)
                ))
                .evidence("depends_on", "ws.websocket-handshake")
        }
    } else if is_version_refusal(&body) {
        POLLING_HANDSHAKE.fire(format!(
            "the server refuses Engine.IO v4: {} (see ws.eio-version)",
            describe_answer(a)
        ))
    } else {
        match a.status {
            301 | 302 | 303 | 307 | 308 => POLLING_HANDSHAKE
                .fire(format!(
                    "{} redirecting to {}: Socket.IO clients do not follow redirects",
                    describe_answer(a),
                    a.header("location").unwrap_or("(no Location header)")
                ))
                .hint("use the URL the redirect points to (often https://)"),
            404 => POLLING_HANDSHAKE.fire(format!(
                "{} at {}: wrong path (see ws.path)",
                describe_answer(a),
                polling.path
            )),
            502..=504 => POLLING_HANDSHAKE.fire(format!(
                "{}: {} cannot reach the app",
                describe_answer(a),
                proxy_name(a)
            )),
            200 => POLLING_HANDSHAKE.fire(format!(
                "{}: not an Engine.IO open packet (a frontend catch-all route or another app \
                 answers here)",
                describe_answer(a)
            )),
            _ => POLLING_HANDSHAKE.fire(describe_answer(a)),
        }
    };
    took(r)
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_string(), |v| v.to_string())
}
