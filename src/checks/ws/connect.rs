//! `ws.socketio-connect`: the Socket.IO CONNECT (`40`) and its answer.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::codec::{SioPacket, connect_error_message};
use crate::probe::engineio::net::NetErrorKind;
use crate::report::CheckResult;

use super::{AppExpectations, ConnectRule, http_answered};

pub static SOCKETIO_CONNECT: Rule = Rule {
    id: "ws.socketio-connect",
    severity: Severity::Error,
    title: "Socket.IO CONNECT is accepted",
    summary: "Sends CONNECT (`40`, with the --auth JSON payload, or `{\"token\": …}` for \
              --token) to the namespace and expects `40{\"sid\":…}`; shows a CONNECT_ERROR \
              (`44{\"message\":…}`) verbatim, and waits briefly for a server that accepts and \
              then takes it back. With --app it knows what the app's CONNECT needs: an app that \
              leaves a CONNECT without its client's auth unanswered by design (Chainlit) is a \
              skip naming --auth, not a failure; an app that accepts anonymous connects (Open \
              WebUI) is said to, and fails when such a CONNECT goes unanswered.",
    why: "The Engine.IO session can be healthy while the app's connect handler refuses the \
          client (authentication failed, unknown namespace). Servers with \
          `always_connect=True` (Open WebUI) answer `40{\"sid\"}` first and send `41` or `44` \
          when the handler then rejects the client, so an immediate `40` is not proof.",
    fix: "Read the CONNECT_ERROR message: for authentication errors pass a valid token \
          (--token) or the whole auth object the app's client sends (--auth JSON; Open WebUI: \
          the user's JWT as token; Chainlit: sessionId and clientType); for \"Invalid \
          namespace\" use a namespace the server registers. A CONNECT that is never \
          answered while the Engine.IO session opened is the app's connect handler hanging or \
          crashing: see the app's logs.",
};

pub(super) fn packet_text(p: &SioPacket) -> String {
    match p {
        SioPacket::Connect { data, .. } => format!("40{data}"),
        SioPacket::Disconnect { namespace } => format!("41 (disconnect from {namespace})"),
        SioPacket::ConnectError { data, .. } => format!("44{data}"),
        SioPacket::Other { text } => format!("4{text}"),
    }
}

pub(super) fn judge(obs: &WsObservations, expect: &AppExpectations) -> CheckResult {
    if !http_answered(obs) {
        return SOCKETIO_CONNECT.skip_because("ws.http-reachable");
    }
    let Some(c) = &obs.connect else {
        return SOCKETIO_CONNECT.skip(
            "skipped because no Engine.IO session opened (ws.polling-handshake and \
             ws.websocket-handshake did not pass)",
        );
    };
    let app = expect.app.as_deref().unwrap_or("the app");
    let timed_out = c
        .error
        .as_ref()
        .is_some_and(|e| e.kind == NetErrorKind::Timeout);
    // Read by the correlation rules (an app whose CONNECT waits for its Redis manager).
    let unanswered = c.answer.is_none() && timed_out;
    let ev = |r: CheckResult| {
        r.evidence("unanswered", unanswered)
            .evidence("transport", c.transport)
            .evidence("app", expect.app.clone())
            .evidence("connect_rule", rule_name(&expect.connect))
            .evidence("namespace", c.namespace.clone())
            .evidence("with_auth", c.with_auth)
            .evidence("packets", c.packets.clone())
            .took(std::time::Duration::from_millis(c.elapsed_ms))
    };
    let token_hint = if c.with_auth {
        "the token was refused: check that it is valid for this server"
    } else {
        "pass the token the browser sends with --token (or the whole auth object with --auth)"
    };
    // An app that needs its client's auth, probed without it: what it does then is by design,
    // not a fault; the transport under it is what this probe could test.
    if let ConnectRule::NeedsAuth {
        what,
        unanswered_without_it,
    } = &expect.connect
        && !c.with_auth
    {
        match (&c.answer, &c.taken_back) {
            (None, _) if timed_out && *unanswered_without_it => {
                return ev(SOCKETIO_CONNECT.skip(format!(
                    "not tested: the transport is healthy (an Engine.IO session opened over \
                     {}), and {app} leaves a CONNECT without its client's auth unanswered by \
                     design; it needs {what}: pass it with --auth JSON to test CONNECT",
                    c.transport
                )))
                .evidence("needs_auth", what.clone());
            }
            (Some(SioPacket::ConnectError { data, .. }), _)
            | (Some(SioPacket::Connect { .. }), Some(SioPacket::ConnectError { data, .. })) => {
                return ev(SOCKETIO_CONNECT.skip(format!(
                    "not tested: the transport is healthy, and {app} refuses a CONNECT without \
                     its client's auth (CONNECT_ERROR \"{}\"), as it should; it needs {what}: \
                     pass it with --auth JSON to test CONNECT",
                    connect_error_message(data)
                )))
                .evidence("needs_auth", what.clone());
            }
            _ => {}
        }
    }
    match (&c.answer, &c.taken_back, &c.error) {
        (Some(SioPacket::Connect { .. }), Some(back), _) => {
            let what = match back {
                SioPacket::ConnectError { data, .. } => {
                    format!("CONNECT_ERROR \"{}\"", connect_error_message(data))
                }
                other => packet_text(other),
            };
            ev(SOCKETIO_CONNECT
                .fire(format!(
                    "the server accepted CONNECT ({}) and then took it back with {what}: its \
                     connect handler rejected the client after always_connect let it in",
                    c.answer.as_ref().map(packet_text).unwrap_or_default()
                ))
                .hint(token_hint))
        }
        (Some(SioPacket::Connect { .. }), None, Some(e)) => ev(SOCKETIO_CONNECT.fire(format!(
            "the server accepted CONNECT, then the connection ended: {}",
            e.describe()
        ))),
        (Some(p @ SioPacket::Connect { .. }), None, None) => {
            let anonymous = if c.with_auth {
                ""
            } else if expect.connect == ConnectRule::Anonymous {
                // Worth saying: anyone who reaches the URL gets a Socket.IO connection.
                " without auth: the app accepts unauthenticated connects"
            } else {
                " without auth"
            };
            ev(SOCKETIO_CONNECT.pass(format!(
                "CONNECT to {} accepted over {} in {} ms{anonymous}: {}",
                c.namespace,
                c.transport,
                c.elapsed_ms,
                packet_text(p)
            )))
            .evidence("accepts_unauthenticated", !c.with_auth)
        }
        (Some(SioPacket::ConnectError { data, .. }), _, _) => {
            let message = connect_error_message(data);
            let lower = message.to_ascii_lowercase();
            // python-socketio answers a namespace it does not register with
            // `44/ns,"Unable to connect"`, Node socket.io with "Invalid namespace".
            let hint = if lower.contains("namespace")
                || (c.namespace != "/" && lower.contains("unable to connect"))
            {
                "the namespace may not be registered on the server: connect to one it \
                 registers (--namespace)"
            } else if lower.contains("auth")
                || lower.contains("token")
                || lower.contains("unauthor")
            {
                token_hint
            } else {
                "the server's connect handler refused the client: see its logs"
            };
            ev(SOCKETIO_CONNECT
                .fire(format!("CONNECT_ERROR over {}: \"{message}\"", c.transport))
                .hint(hint)
                .evidence("connect_error", data.clone()))
        }
        (Some(other), _, _) => ev(SOCKETIO_CONNECT.fire(format!(
            "the server answered CONNECT with {}",
            packet_text(other)
        ))),
        (None, _, Some(e)) if timed_out => {
            let waiting = if obs.waiting.is_empty() {
                String::new()
            } else {
                format!(
                    " (still waiting when the budget ran out: {})",
                    obs.waiting.join(", ")
                )
            };
            let transport_ok = format!(
                "the Engine.IO session over {} opened, so the server is up; the app's connect \
                 handler did not answer{waiting}",
                c.transport
            );
            match &expect.connect {
                ConnectRule::Anonymous => ev(SOCKETIO_CONNECT
                    .fire(format!(
                        "no answer to an anonymous CONNECT ({}), though {app} accepts one at \
                         once: {transport_ok}",
                        e.detail
                    ))
                    .hint(format!(
                        "see {app}'s logs: its connect handler waits on something that does \
                         not answer (a Redis manager it cannot reach, a database)"
                    ))),
                ConnectRule::NeedsAuth { what, .. } if c.with_auth => ev(SOCKETIO_CONNECT
                    .fire(format!(
                        "no answer to CONNECT with the auth given ({}): {transport_ok}",
                        e.detail
                    ))
                    .hint(format!(
                        "{app}'s connect handler did not finish with this payload: check that \
                         --auth carries {what}, and see {app}'s logs"
                    ))),
                _ => ev(SOCKETIO_CONNECT
                    .fire(format!(
                        "no answer to CONNECT over {} ({}): {transport_ok}",
                        c.transport, e.detail
                    ))
                    .hint(
                        "a connect handler that hangs (a slow auth backend? an app that needs \
                         its client's auth: pass it with --auth JSON, or name the app with \
                         --app) or a proxy that drops messages",
                    )),
            }
        }
        (None, _, Some(e)) => ev(SOCKETIO_CONNECT.fire(format!(
            "no answer to CONNECT over {}: {}",
            c.transport,
            e.describe()
        )))
        .hint("a connect handler that hangs (a slow auth backend?) or a proxy that drops messages"),
        (None, _, None) => ev(SOCKETIO_CONNECT.fire("no answer to CONNECT")),
    }
}

fn rule_name(r: &ConnectRule) -> &'static str {
    match r {
        ConnectRule::Anonymous => "anonymous",
        ConnectRule::NeedsAuth { .. } => "needs-auth",
        ConnectRule::Unknown => "unknown",
    }
}
