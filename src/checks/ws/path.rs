//! `ws.path`: where socket.io actually answers.

use serde_json::json;

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::codec::is_engineio_answer;
use crate::report::CheckResult;

use super::{describe_answer, http_answered};

pub static PATH: Rule = Rule {
    id: "ws.path",
    severity: Severity::Error,
    title: "socket.io answers at the path",
    summary: "Asks for an Engine.IO handshake at the given path and, when that answers 404 or \
              a non-Engine.IO page, at /socket.io and /ws/socket.io; reports where socket.io \
              lives.",
    why: "Open WebUI and Chainlit serve socket.io under /ws/socket.io, most other apps under \
          /socket.io; a client with the wrong `path` gets 404 on every handshake (or the \
          frontend's HTML page from an SPA catch-all) and retries forever.",
    fix: "Set the client's `path` option (and any proxy `location`) to the path reported here, \
          e.g. `io(url, { path: '/ws/socket.io' })`, and pass it to wsdoctor with --path. A \
          path given with --path (or in the URL) that is not Engine.IO while another path is \
          fails: a client configured with it connects nowhere.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    if !http_answered(obs) {
        return PATH.skip_because("ws.http-reachable");
    }
    let attempts: Vec<_> = obs
        .path_attempts
        .iter()
        .map(|a| {
            json!({
                "path": a.path,
                "url": a.url,
                "status": a.answer.as_ref().ok().map(|x| x.status),
                "body_head": a.answer.as_ref().ok().map(|x| x.body_head.clone()),
                "error": a.answer.as_ref().err().map(|e| e.describe()),
            })
        })
        .collect();
    let found = obs
        .path_attempts
        .iter()
        .find(|a| matches!(&a.answer, Ok(x) if is_engineio_answer(x.status, &x.body)));
    let ws_here = obs.websocket.as_ref().is_some_and(|w| w.open.is_some());
    let given = &obs.target.path;
    let r = match found {
        Some(a) if &a.path == given => PATH.pass(format!("socket.io answers at {}", a.path)),
        Some(a) => {
            let msg = format!(
                "socket.io lives at {}, not at {given} ({given} answered {})",
                a.path,
                obs.path_attempts
                    .first()
                    .and_then(|f| f.answer.as_ref().ok())
                    .map_or_else(|| "an error".to_string(), describe_answer)
            );
            let hint = format!(
                "use --path {} (and `path: '{}'` in the client)",
                a.path, a.path
            );
            if obs.target.path_explicit {
                // The user named the path: a client configured with it connects nowhere.
                PATH.fire(msg).hint(hint)
            } else {
                PATH.pass(msg).hint(hint)
            }
        }
        None if ws_here => PATH.pass(format!(
            "socket.io answers at {} (websocket handshake)",
            obs.path
        )),
        None => {
            // "Nothing here": a 404, or an empty 200 — what Caddy answers for a path no
            // route handles (Caddy 2.6.2, measured in tests/caddy_live.rs: `Server: Caddy`,
            // `Content-Length: 0`); an Engine.IO server never answers its handshake so.
            let absent = |a: &crate::probe::engineio::PathAttempt| matches!(&a.answer, Ok(x) if x.status == 404 || (x.status == 200 && x.body.is_empty()));
            let all_absent = obs.path_attempts.iter().all(absent);
            let tried: Vec<&str> = obs.path_attempts.iter().map(|a| a.path.as_str()).collect();
            if all_absent {
                let answers: Vec<String> = obs
                    .path_attempts
                    .iter()
                    .map(|a| match &a.answer {
                        Ok(x) if x.status == 404 => format!("{} answered 404", a.path),
                        _ => format!(
                            "{} answered an empty 200 (a proxy with no route for it: Caddy \
                             answers so)",
                            a.path
                        ),
                    })
                    .collect();
                let all_404 = obs
                    .path_attempts
                    .iter()
                    .all(|a| matches!(&a.answer, Ok(x) if x.status == 404));
                PATH.fire(if all_404 {
                    format!("no socket.io found: {} all answered 404", tried.join(", "))
                } else {
                    format!("no socket.io found: {}", answers.join(", "))
                })
                .hint(
                    "find the path the app's client uses (Open WebUI, Chainlit: /ws/socket.io) \
                     and pass it with --path",
                )
            } else {
                let first = obs
                    .path_attempts
                    .first()
                    .and_then(|f| f.answer.as_ref().ok())
                    .map_or_else(|| "an error".to_string(), describe_answer);
                PATH.skip(format!(
                    "cannot tell where socket.io lives: none of {} answered like Engine.IO \
                     ({given} answered {first})",
                    tried.join(", ")
                ))
            }
        }
    };
    r.evidence("attempts", attempts)
        .evidence("socketio_path", obs.path.clone())
}
