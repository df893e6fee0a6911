//! `ws.heartbeat`: the connection survives a ping cycle (`--hold`).

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::report::CheckResult;

use super::http_answered;

pub static HEARTBEAT: Rule = Rule {
    id: "ws.heartbeat",
    severity: Severity::Error,
    title: "The connection survives a ping cycle",
    summary: "With --hold SECONDS, stays connected over websocket answering the server's pings \
              and reports whether something closed the connection early.",
    why: "The server pings every pingInterval and waits pingTimeout for the pong; between \
          pings the connection is idle. A proxy or load balancer whose read/idle timeout is \
          shorter than pingInterval + pingTimeout (nginx proxy_read_timeout, an ALB idle \
          timeout) cuts every connection after that time, and clients reconnect in a loop.",
    fix: "Raise the proxy's idle timeout above pingInterval + pingTimeout (nginx: \
          `proxy_read_timeout 3600s; proxy_send_timeout 3600s;` in the socket.io location; AWS \
          ALB: idle timeout ≥ 60 s), or lower the server's pingInterval below it.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    let Some(hold) = obs.hold else {
        return HEARTBEAT.skip(
            "no --hold given: pass --hold SECONDS (at least pingInterval + pingTimeout, 45 with \
             python-socketio's defaults) to stay connected across a ping cycle",
        );
    };
    if !http_answered(obs) {
        return HEARTBEAT.skip_because("ws.http-reachable");
    }
    let Some(h) = &obs.heartbeat else {
        // The hold needs the websocket session the CONNECT was accepted on.
        let ws_opened = obs.websocket.as_ref().is_some_and(|w| w.open.is_some());
        let connect_failed = obs.connect.as_ref().is_some_and(|c| {
            c.transport == "websocket"
                && (c.error.is_some()
                    || c.taken_back.is_some()
                    || !matches!(
                        c.answer,
                        Some(crate::probe::engineio::codec::SioPacket::Connect { .. })
                    ))
        });
        if ws_opened && connect_failed {
            return HEARTBEAT.skip_because("ws.socketio-connect");
        }
        return HEARTBEAT.skip(format!(
            "no connected websocket session to hold for {}s (see ws.websocket-handshake and \
             ws.socketio-connect)",
            hold.as_secs_f64()
        ));
    };
    let cycle_ms = match (h.ping_interval_ms, h.ping_timeout_ms) {
        (Some(i), Some(t)) => Some(i + t),
        _ => None,
    };
    let ev = |r: CheckResult| {
        r.evidence("heartbeat", serde_json::to_value(h).unwrap_or_default())
            .took(std::time::Duration::from_millis(h.held_ms))
    };
    let secs = |ms: u64| format!("{:.1}s", ms as f64 / 1000.0);
    if let Some(e) = &h.closed {
        let before_ping = h.pings == 0 && cycle_ms.is_some_and(|c| h.held_ms < c);
        let msg = if before_ping {
            format!(
                "the connection was closed after {}, before the server's first ping \
                 (pingInterval {} + pingTimeout {} = {}): something in the path closes idle \
                 connections early, e.g. a proxy read timeout ({})",
                secs(h.held_ms),
                secs(h.ping_interval_ms.unwrap_or(0)),
                secs(h.ping_timeout_ms.unwrap_or(0)),
                secs(cycle_ms.unwrap_or(0)),
                e.detail
            )
        } else {
            format!(
                "the connection was closed after {} and {} ping(s): {}",
                secs(h.held_ms),
                h.pings,
                e.describe()
            )
        };
        return ev(HEARTBEAT
            .fire(msg)
            .hint("nginx: proxy_read_timeout 3600s; in the socket.io location (or raise the load balancer's idle timeout above pingInterval + pingTimeout)"));
    }
    if h.pings > 0 {
        return ev(HEARTBEAT.pass(format!(
            "held {} and answered {} ping(s); nothing closed the connection",
            secs(h.held_ms),
            h.pings
        )));
    }
    ev(HEARTBEAT.warn(format!(
        "held {} without a close, but no ping arrived (pingInterval {}): hold at least \
         pingInterval + pingTimeout ({}) to cover a whole cycle",
        secs(h.held_ms),
        secs(h.ping_interval_ms.unwrap_or(0)),
        secs(cycle_ms.unwrap_or(0))
    )))
}
