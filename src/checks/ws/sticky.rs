//! `ws.sticky-session`: do a session's requests reach the worker that holds it.

use serde_json::json;

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::report::CheckResult;

use super::{STICKY_FIX, http_answered};

pub static STICKY_SESSION: Rule = Rule {
    id: "ws.sticky-session",
    severity: Severity::Error,
    title: "Polling sessions stick to one worker",
    summary: "Runs N rounds (--rounds, default 20) of polling handshake, then `POST 3` (a \
              pong) and `POST 1` (close) with the sid, each request on a new TCP connection, \
              and reports how many rounds lost their session. Both POSTs are answered at once \
              with `ok` by a worker that knows the sid, so the test needs no Socket.IO answer \
              and a connect handler that hangs cannot hold it.",
    why: "An Engine.IO session lives in one worker's memory. With several uvicorn workers or \
          replicas, a polling request that lands on another worker gets 400 \"Invalid session \
          <sid>\" (python-engineio) or \"Session ID unknown\" (Node) and the client reconnects \
          in a loop. A Redis manager does not help: measured with 4 workers and \
          AsyncRedisManager, 13 of 20 rounds failed. Each request uses a new connection because \
          the kernel spreads connections, not requests, over workers: a reused keep-alive \
          connection always passes.",
    fix: STICKY_FIX,
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return STICKY_SESSION.skip_because("ws.http-reachable");
    }
    let Some(s) = &obs.sticky else {
        if obs.rounds == 0 {
            return STICKY_SESSION.skip("--rounds 0: the test was not asked for");
        }
        if obs.websocket.as_ref().is_some_and(|w| w.open.is_some()) {
            return STICKY_SESSION.skip(
                "the server refuses polling (websocket only): a websocket session lives on \
                 one connection, so it needs no sticky sessions",
            );
        }
        return STICKY_SESSION.skip_because("ws.polling-handshake");
    };
    let rate = if s.rounds_run == 0 {
        0.0
    } else {
        f64::from(s.lost_session) / f64::from(s.rounds_run)
    };
    let ev = |r: CheckResult| {
        r.evidence("rounds", s.rounds_run)
            .evidence("ok", s.ok)
            .evidence("lost_session", s.lost_session)
            .evidence("other_failures", s.other_failures)
            .evidence("failure_rate", json!((rate * 1000.0).round() / 1000.0))
            .evidence(
                "failures",
                serde_json::to_value(&s.failures).unwrap_or_default(),
            )
            .evidence("stopped", s.stopped.clone())
            .took(std::time::Duration::from_millis(s.elapsed_ms))
    };
    if s.lost_session > 0 {
        let sample = s
            .failures
            .iter()
            .find(|f| f.status.is_some())
            .map(|f| {
                format!(
                    " ({} → HTTP {} {})",
                    f.step,
                    f.status.unwrap_or(0),
                    f.body_head.trim()
                )
            })
            .unwrap_or_default();
        return ev(STICKY_SESSION
            .fire(format!(
                "{} of {} rounds lost their session{sample}: several workers or replicas behind \
                 this URL without sticky sessions",
                s.lost_session, s.rounds_run
            ))
            .hint(STICKY_FIX));
    }
    if s.other_failures > 0 {
        let first = s
            .failures
            .first()
            .map(|f| match (&f.error, f.status) {
                (Some(e), _) => format!("{}: {}", f.step, e.describe()),
                (None, Some(st)) => format!("{}: HTTP {st} {}", f.step, f.body_head.trim()),
                _ => f.step.to_string(),
            })
            .unwrap_or_default();
        return ev(STICKY_SESSION.warn(format!(
            "{} of {} rounds failed for another reason than a lost session (first: {first})",
            s.other_failures, s.rounds_run
        )));
    }
    if s.out_of_time {
        return ev(STICKY_SESSION
            .warn(format!(
                "{} of {} planned rounds ran before the probe's time budget ({} ms) ran out, and \
                 each kept its session: too few to rule out a load balancer without sticky \
                 sessions",
                s.ok, s.rounds_planned, obs.budget_ms
            ))
            .hint("raise --timeout (e.g. --timeout 10s) to run every round"));
    }
    if let Some(stopped) = &s.stopped {
        return ev(STICKY_SESSION.warn(format!(
            "{} of {} rounds kept their session, but the test stopped early: {stopped}",
            s.ok, s.rounds_planned
        )));
    }
    ev(STICKY_SESSION.pass(format!(
        "{} of {} rounds kept their session with a new TCP connection per request",
        s.ok, s.rounds_run
    )))
}
