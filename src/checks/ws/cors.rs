//! `ws.cors`: does the server accept the browser's Origin (`--origin`).

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::{WsObservations, WsOutcome, open_packet_of};
use crate::report::CheckResult;

use super::{describe_answer, http_answered, http_evidence};

pub static CORS: Rule = Rule {
    id: "ws.cors",
    severity: Severity::Error,
    title: "The server accepts the browser's Origin",
    summary: "With --origin, repeats the polling and websocket handshakes with that Origin \
              header and compares them with the same handshakes without it.",
    why: "python-engineio refuses an origin missing from `cors_allowed_origins` with 400 \
          \"<origin> is not an accepted origin.\" on polling and a bare 403 on websocket, so \
          the app works from curl and fails in the browser. (Some clients send their own URL as \
          Origin by default; wsdoctor sends none unless asked.)",
    fix: "Add the site's origin (scheme://host[:port], exactly as the browser sends it) to the \
          server's allowed origins: python-socketio `cors_allowed_origins=[…]`, Open WebUI \
          `CORS_ALLOW_ORIGIN`, Node socket.io `cors: { origin: […] }`.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    let Some(origin) = &obs.origin else {
        return CORS.skip("no --origin given: pass the site's origin (e.g. --origin https://chat.example.com) to test it");
    };
    if !http_answered(obs) {
        return CORS.skip_because("ws.http-reachable");
    }
    let Some(c) = &obs.cors else {
        return CORS.skip("the CORS handshakes were not made");
    };
    let ev = |r: CheckResult| {
        r.evidence("origin", origin.clone())
            .evidence("polling", http_evidence(&c.polling))
            .evidence(
                "websocket",
                serde_json::to_value(&c.websocket).unwrap_or_default(),
            )
    };
    let polling_text = c
        .polling
        .as_ref()
        .map(|a| a.body_text())
        .unwrap_or_default();
    if polling_text.contains("not an accepted origin") {
        let a = c.polling.as_ref().ok();
        return ev(CORS.fire(format!(
            "the server refuses Origin {origin}: polling answered {}",
            a.map(describe_answer).unwrap_or_default()
        )))
        .hint(format!("add {origin} to the server's allowed origins"));
    }
    let ws_without = obs.websocket.as_ref().is_some_and(|w| w.outcome.upgraded());
    let polling_ok =
        matches!(&c.polling, Ok(a) if a.status == 200 && open_packet_of(&a.body).is_some());
    let polling_without = obs.polling_open().is_some();
    match &c.websocket {
        WsOutcome::Refused(a) if ws_without => {
            return ev(CORS
                .fire(format!(
                    "the websocket handshake with Origin {origin} was refused ({}) while the \
                     same handshake without Origin succeeds: the origin is not allowed",
                    describe_answer(a)
                ))
                .hint(format!("add {origin} to the server's allowed origins")));
        }
        _ => {}
    }
    let ws_ok = c.websocket.upgraded();
    if polling_ok || ws_ok {
        let acao = c
            .polling
            .as_ref()
            .ok()
            .and_then(|a| a.header("access-control-allow-origin").map(str::to_string));
        let mut parts = Vec::new();
        if polling_ok {
            parts.push(match &acao {
                Some(v) => format!("polling 200 with Access-Control-Allow-Origin: {v}"),
                None => "polling 200".to_string(),
            });
        }
        if ws_ok {
            parts.push("websocket 101".to_string());
        }
        return ev(CORS.pass(format!("Origin {origin} accepted: {}", parts.join(", "))));
    }
    if !polling_without && !ws_without {
        return ev(CORS.skip("no handshake succeeds even without Origin: nothing to compare"));
    }
    ev(CORS.fire(format!(
        "with Origin {origin} the handshakes fail ({}) while they succeed without it",
        c.polling
            .as_ref()
            .map_or_else(|e| e.describe(), describe_answer)
    )))
}
