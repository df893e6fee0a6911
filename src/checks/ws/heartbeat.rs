//! `ws.heartbeat`: the connection survives a ping cycle (`--hold`).

use crate::catalogue::{Rule, Severity};
use crate::config::proxy::ProxyKind;
use crate::probe::engineio::{WsObservations, WsOutcome};
use crate::report::CheckResult;

use super::http_answered;

pub static HEARTBEAT: Rule = Rule {
    id: "ws.heartbeat",
    severity: Severity::Error,
    title: "The connection survives a ping cycle",
    summary: "With --hold SECONDS, stays connected over websocket answering the server's pings \
              and reports whether something closed the connection early.",
    why: "The server pings every pingInterval and the client answers at once; between a pong \
          and the next ping nothing crosses the connection for one pingInterval. A proxy or \
          load balancer whose idle timeout is not longer than that (nginx \
          proxy_read_timeout, HAProxy timeout tunnel, Caddy read_timeout, an ALB idle \
          timeout) cuts every idle connection, and clients reconnect in a loop.",
    fix: "Raise the idle timeout of the proxy in front above pingInterval (the hint names \
          the proxy when its Server header says which: nginx `proxy_read_timeout 3600s;` in \
          the socket.io location, Caddy: no `read_timeout` in `transport http`; HAProxy: \
          `timeout tunnel 1h`; AWS ALB: idle timeout ≥ 60 s), or lower the server's \
          pingInterval below it.",
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
        let need = format!(
            "{} s",
            h.ping_interval_ms.unwrap_or(25_000) / 1000
                + crate::checks::proxy::TIMEOUT_MARGIN.as_secs()
        );
        let hint = match proxy_in_front(obs) {
            Some((kind, server)) => format!(
                "{} (Server: {server}): {}",
                kind_name(kind),
                crate::checks::proxy::fixes::timeout(kind, "the socket.io route", &need)
            ),
            None => format!(
                "raise the idle timeout of the proxy or load balancer in front to at least \
                 {need} (nginx `proxy_read_timeout`, HAProxy `timeout tunnel`, Caddy \
                 `transport http {{ read_timeout }}`, an ALB's idle timeout); no Server \
                 header of the answers names it (HAProxy and Traefik add none)"
            ),
        };
        return ev(HEARTBEAT.fire(msg).hint(hint));
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

/// The proxy in front as its answers name it: nginx replaces the upstream's Server header
/// with its own (`nginx/1.22.1`; proxy_pass does not pass "Server" by default, nginx
/// ngx_http_proxy_module docs, proxy_hide_header), Caddy adds `Server: Caddy` beside the
/// upstream's (Caddy 2.6.2, measured in tests/caddy_live.rs). HAProxy and Traefik add no
/// Server header: then nothing here says which proxy it is.
fn proxy_in_front(obs: &WsObservations) -> Option<(ProxyKind, String)> {
    let http = obs
        .path_attempts
        .iter()
        .filter_map(|a| a.answer.as_ref().ok())
        .flat_map(|a| a.headers.iter());
    let upgrade = obs
        .websocket
        .iter()
        .filter_map(|w| match &w.outcome {
            WsOutcome::Upgraded(a) => Some(a.headers.iter()),
            _ => None,
        })
        .flatten();
    http.chain(upgrade)
        .filter(|(n, _)| n.eq_ignore_ascii_case("server"))
        .find_map(|(_, v)| {
            let product = v.split('/').next().unwrap_or("").trim();
            let kind = if product.eq_ignore_ascii_case("nginx") {
                ProxyKind::Nginx
            } else if product.eq_ignore_ascii_case("caddy") {
                ProxyKind::Caddy
            } else {
                return None;
            };
            Some((kind, v.clone()))
        })
}

fn kind_name(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Nginx => "nginx",
        ProxyKind::Haproxy => "HAProxy",
        ProxyKind::Caddy => "Caddy",
        ProxyKind::Traefik => "Traefik",
    }
}
