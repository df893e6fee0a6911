//! `ws.eio-version`: an Engine.IO v4 server, a v3 one, or a broken one.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::codec::{OpenPacket, decode_v3_payload, is_version_refusal};
use crate::probe::engineio::{WsObservations, codec::EioKind, open_packet_of};
use crate::report::CheckResult;

use super::{describe_answer, http_answered, http_evidence};

pub static EIO_VERSION: Rule = Rule {
    id: "ws.eio-version",
    severity: Severity::Error,
    title: "The server speaks Engine.IO v4",
    summary: "Checks that the server opens an Engine.IO v4 session; when it refuses EIO=4, \
              retries with EIO=3 to tell an old (v3) server apart from a broken one.",
    why: "Socket.IO v3/v4 clients (socket.io-client ≥ 3, python-socketio ≥ 5) speak Engine.IO \
          v4 and cannot talk to a v3 server (python-socketio 4.x, Node socket.io 2.x), and the \
          reverse. Both versions refuse the other with the same 400 \"The client is using an \
          unsupported version of the Socket.IO or Engine.IO protocols\" (the websocket answer \
          is a bare 403), so only a retry with EIO=3 tells a v3 server apart.",
    fix: "Upgrade the server to python-socketio 5 / Node socket.io 4 (or enable `allowEIO3` on \
          a Node server while old clients remain), or pin the clients to the v2 protocol \
          until the server is upgraded.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return EIO_VERSION.skip_because("ws.http-reachable");
    }
    let ws_open = obs.websocket.as_ref().and_then(|w| w.open.as_ref());
    let polling = obs.polling();
    if obs.polling_open().is_some() || ws_open.is_some() {
        let over = match (obs.polling_open().is_some(), ws_open.is_some()) {
            (true, true) => "polling and websocket",
            (true, false) => "polling",
            _ => "websocket",
        };
        return EIO_VERSION.pass(format!(
            "Engine.IO v4: the server opened an EIO=4 session over {over}"
        ));
    }
    let Some(polling) = polling else {
        return EIO_VERSION.skip("no polling answer to tell the version from");
    };
    if matches!(&polling.answer, Ok(a) if a.status == 404) {
        return EIO_VERSION.skip_because("ws.path");
    }
    let v4_body = match &polling.answer {
        Ok(a) => a.body_text(),
        Err(_) => String::new(),
    };
    let v4_refused = is_version_refusal(&v4_body);
    let Some(eio3) = &obs.eio3 else {
        return EIO_VERSION.skip("no Engine.IO session opened, and no EIO=3 retry was made");
    };
    let base = |c: CheckResult| {
        c.evidence("eio4_polling", http_evidence(&polling.answer))
            .evidence("eio3_polling", http_evidence(&eio3.answer))
    };
    match &eio3.answer {
        Ok(a) if a.status == 200 => {
            let v3 = decode_v3_payload(&a.body)
                .and_then(|p| p.into_iter().find(|p| p.kind == EioKind::Open))
                .and_then(|p| OpenPacket::parse(&p.data));
            let (framing, open) = match v3 {
                Some(o) => ("v3 (length-prefixed) framing", Some(o)),
                None => ("", open_packet_of(&a.body)),
            };
            let detail = open.as_ref().map_or_else(String::new, |o| {
                format!(
                    " (pingInterval {} ms, pingTimeout {} ms)",
                    o.ping_interval_ms.unwrap_or(0),
                    o.ping_timeout_ms.unwrap_or(0)
                )
            });
            let framing = if framing.is_empty() {
                String::new()
            } else {
                format!(" with {framing}")
            };
            base(EIO_VERSION.fire(format!(
                "Engine.IO v3 server: it refused EIO=4 ({}) and opened an EIO=3 session{framing}{detail}; \
                 Socket.IO v3/v4 clients cannot connect",
                polling
                    .answer
                    .as_ref()
                    .map_or_else(|e| e.describe(), describe_answer)
            )))
            .hint("upgrade the server to python-socketio 5 / socket.io 4, or use a v2 client")
        }
        Ok(a) if v4_refused && is_version_refusal(&a.body_text()) => {
            base(EIO_VERSION.fire(format!(
                "the server refuses both EIO=4 and EIO=3 ({}): not a working Engine.IO server, or \
             something in front rewrites the handshake",
                describe_answer(a)
            )))
        }
        _ if v4_refused => base(EIO_VERSION.fire(format!(
            "the server refuses Engine.IO v4 ({}) and the EIO=3 retry opened no session ({})",
            polling
                .answer
                .as_ref()
                .map_or_else(|e| e.describe(), describe_answer),
            eio3.answer
                .as_ref()
                .map_or_else(|e| e.describe(), describe_answer)
        ))),
        _ => base(EIO_VERSION.skip(format!(
            "cannot tell the Engine.IO version: no session opened and no version refusal \
             ({})",
            polling
                .answer
                .as_ref()
                .map_or_else(|e| e.describe(), describe_answer)
        ))),
    }
}
