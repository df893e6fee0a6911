//! `ws.socketio-connect`: the Socket.IO CONNECT (`40`) and its answer.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::codec::{SioPacket, connect_error_message};
use crate::report::CheckResult;

use super::http_answered;

pub static SOCKETIO_CONNECT: Rule = Rule {
    id: "ws.socketio-connect",
    severity: Severity::Error,
    title: "Socket.IO CONNECT is accepted",
    summary: "Sends CONNECT (`40`, with `{\"token\": …}` as auth when --token is given) to the \
              namespace and expects `40{\"sid\":…}`; shows a CONNECT_ERROR (`44{\"message\":…}`) \
              verbatim, and waits briefly for a server that accepts and then takes it back.",
    why: "The Engine.IO session can be healthy while the app's connect handler refuses the \
          client (authentication failed, unknown namespace). Servers with \
          `always_connect=True` (Open WebUI) answer `40{\"sid\"}` first and send `41` or `44` \
          when the handler then rejects the client, so an immediate `40` is not proof.",
    fix: "Read the CONNECT_ERROR message: for authentication errors pass a valid token \
          (--token) the way the browser does (Open WebUI: the user's JWT); for \"Invalid \
          namespace\" use a namespace the server registers.",
};

pub(super) fn packet_text(p: &SioPacket) -> String {
    match p {
        SioPacket::Connect { data, .. } => format!("40{data}"),
        SioPacket::Disconnect { namespace } => format!("41 (disconnect from {namespace})"),
        SioPacket::ConnectError { data, .. } => format!("44{data}"),
        SioPacket::Other { text } => format!("4{text}"),
    }
}

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return SOCKETIO_CONNECT.skip_because("ws.http-reachable");
    }
    let Some(c) = &obs.connect else {
        return SOCKETIO_CONNECT.skip(
            "skipped because no Engine.IO session opened (ws.polling-handshake and \
             ws.websocket-handshake did not pass)",
        );
    };
    let ev = |r: CheckResult| {
        r.evidence("transport", c.transport)
            .evidence("namespace", c.namespace.clone())
            .evidence("with_auth", c.with_auth)
            .evidence("packets", c.packets.clone())
            .took(std::time::Duration::from_millis(c.elapsed_ms))
    };
    let token_hint = if c.with_auth {
        "the token was refused: check that it is valid for this server"
    } else {
        "pass the token the browser sends with --token"
    };
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
        (Some(p @ SioPacket::Connect { .. }), None, None) => ev(SOCKETIO_CONNECT.pass(format!(
            "CONNECT to {} accepted over {} in {} ms: {}",
            c.namespace,
            c.transport,
            c.elapsed_ms,
            packet_text(p)
        ))),
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
        (None, _, Some(e)) => ev(SOCKETIO_CONNECT.fire(format!(
            "no answer to CONNECT over {}: {}",
            c.transport,
            e.describe()
        )))
        .hint("a connect handler that hangs (a slow auth backend?) or a proxy that drops messages"),
        (None, _, None) => ev(SOCKETIO_CONNECT.fire("no answer to CONNECT")),
    }
}
