//! `ws.upgrade`: a polling session upgraded to websocket (`2probe` / `3probe` / `5`).

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::codec::is_unknown_session;
use crate::probe::engineio::net::NetErrorKind;
use crate::probe::engineio::{WsObservations, WsOutcome};
use crate::report::CheckResult;

use super::{STICKY_FIX, describe_answer, http_answered};

pub static UPGRADE: Rule = Rule {
    id: "ws.upgrade",
    severity: Severity::Warning,
    title: "Polling session upgrades to websocket",
    summary: "Opens a polling session, then a websocket with the same sid, sends `2probe`, \
              expects `3probe`, sends `5` and a CONNECT over the upgraded socket.",
    why: "socket.io-client starts on polling and upgrades when the server offers websocket. \
          The upgrade is a new TCP connection carrying the sid: behind several workers \
          without sticky sessions it lands on a worker that does not know the session \
          (400 \"Invalid session\"), and the client silently stays on slow long-polling.",
    fix: "Make the proxy pass websocket upgrades (ws.websocket-handshake) and route a session's \
          requests to one worker (sticky sessions), or have clients use websocket only.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return UPGRADE.skip_because("ws.http-reachable");
    }
    let ws_upgraded = obs.websocket.as_ref().is_some_and(|w| w.outcome.upgraded());
    if obs.upgrade.is_some() && !ws_upgraded {
        // The upgrade needs the websocket transport; its own check says why it fails.
        return UPGRADE.skip_because("ws.websocket-handshake").evidence(
            "upgrade",
            serde_json::to_value(&obs.upgrade).unwrap_or_default(),
        );
    }
    let Some(u) = &obs.upgrade else {
        return match obs.polling_open() {
            Some(o) if !o.offers_websocket() => {
                UPGRADE.skip("the server offers no upgrade (upgrades: []): it runs polling only")
            }
            Some(_) => UPGRADE.skip("the upgrade was not tried"),
            None if obs.websocket.as_ref().is_some_and(|w| w.open.is_some()) => UPGRADE.skip(
                "no polling session to upgrade: the server accepts websocket only, and clients \
                 connect with websocket directly",
            ),
            None => UPGRADE.skip_because("ws.polling-handshake"),
        };
    };
    let ev = |c: CheckResult| {
        c.evidence("upgrade", serde_json::to_value(u).unwrap_or_default())
            .took(std::time::Duration::from_millis(u.elapsed_ms))
    };
    if u.open.is_none() {
        let why = match &u.handshake {
            Some(Ok(a)) => describe_answer(a),
            Some(Err(e)) => e.describe(),
            None => "not made".to_string(),
        };
        return ev(UPGRADE.skip(format!(
            "the polling handshake for the upgrade failed: {why}"
        )));
    }
    match &u.websocket {
        Some(WsOutcome::Refused(a)) if is_unknown_session(&a.body_text()) => {
            return ev(UPGRADE
                .fire(format!(
                    "the upgrade request reached a worker that does not know the session \
                     ({}): several workers or replicas without sticky sessions",
                    describe_answer(a)
                ))
                .hint(STICKY_FIX));
        }
        // python-engineio answers every websocket refusal, an unknown sid included, with a
        // bare 403. The direct websocket (no sid) was accepted on the same path, so a 403 only
        // when the sid is carried means the answering worker does not know the session.
        Some(WsOutcome::Refused(a)) if a.status == 403 && a.body_head.trim().is_empty() => {
            return ev(UPGRADE
                .fire(format!(
                    "the websocket request carrying the polling sid was refused ({}) while a \
                     websocket without a sid is accepted: the worker that answered does not \
                     know the session; several workers or replicas without sticky sessions",
                    describe_answer(a)
                ))
                .hint(STICKY_FIX));
        }
        Some(WsOutcome::Refused(a)) => {
            return ev(UPGRADE.fire(format!(
                "the websocket request with the polling sid was answered {}",
                describe_answer(a)
            )));
        }
        Some(WsOutcome::Failed(e)) => {
            return ev(UPGRADE.fire(format!("the websocket request failed: {}", e.describe())));
        }
        _ => {}
    }
    match (&u.probe_answer, u.upgraded, &u.after_upgrade, &u.error) {
        (Some(_), true, Some(after), None) => ev(UPGRADE.pass(format!(
            "2probe → 3probe, 5 sent; the upgraded socket answered CONNECT with {}",
            super::connect::packet_text(after)
        ))),
        (Some(p), false, _, _) => ev(UPGRADE.fire(format!(
            "the server answered 2probe with {p:?} instead of 3probe"
        ))),
        // The upgrade itself worked; only the CONNECT sent over it went unanswered. When the
        // probe's own CONNECT got no answer either, that is ws.socketio-connect's finding, not
        // a second problem.
        (Some(_), true, None, Some(e))
            if e.kind == NetErrorKind::Timeout && connect_unanswered(obs) =>
        {
            ev(UPGRADE
                .skip(
                    "skipped because ws.socketio-connect did not pass: the upgrade itself \
                     worked (2probe → 3probe, 5 sent); the CONNECT sent over the upgraded \
                     socket got no answer, like the probe's own CONNECT",
                )
                .evidence("depends_on", "ws.socketio-connect"))
        }
        (Some(_), true, None, Some(e)) if e.kind == NetErrorKind::Timeout => {
            ev(UPGRADE.fire(format!(
                "the upgrade worked (2probe → 3probe, 5 sent), but the upgraded socket \
                 carried no answer to CONNECT while the direct session got one: {}",
                e.describe()
            )))
        }
        (_, _, _, Some(e)) if is_unknown_session(&e.detail) => ev(UPGRADE
            .fire(format!(
                "the upgraded socket lost the session: {}",
                e.describe()
            ))
            .hint(STICKY_FIX)),
        (_, _, _, Some(e)) => {
            ev(UPGRADE.fire(format!("the upgrade exchange failed: {}", e.describe())))
        }
        _ => ev(UPGRADE.fire("the upgrade exchange ended without an answer")),
    }
}

/// Whether the probe's own CONNECT went without an answer (timed out or never sent).
fn connect_unanswered(obs: &WsObservations) -> bool {
    obs.connect.as_ref().is_none_or(|c| c.answer.is_none())
}
