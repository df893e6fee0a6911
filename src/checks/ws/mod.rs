//! The `ws.*` checks: pure judgements of what the Engine.IO probe
//! ([`crate::probe::engineio`]) observed. One file per rule, the rule beside its judge.

mod connect;
mod cors;
mod heartbeat;
mod path;
mod polling;
mod reachable;
mod sticky;
mod upgrade;
mod version;
mod websocket;

use serde_json::Value;

use crate::catalogue::Rule;
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::net::{HttpAnswer, HttpOutcome};
use crate::report::CheckResult;

pub use connect::SOCKETIO_CONNECT;
pub use cors::CORS;
pub use heartbeat::HEARTBEAT;
pub use path::PATH;
pub use polling::POLLING_HANDSHAKE;
pub use reachable::HTTP_REACHABLE;
pub use sticky::STICKY_SESSION;
pub use upgrade::UPGRADE;
pub use version::EIO_VERSION;
pub use websocket::WEBSOCKET_HANDSHAKE;

/// Every `ws.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &HTTP_REACHABLE,
    &PATH,
    &EIO_VERSION,
    &POLLING_HANDSHAKE,
    &WEBSOCKET_HANDSHAKE,
    &UPGRADE,
    &SOCKETIO_CONNECT,
    &CORS,
    &STICKY_SESSION,
    &HEARTBEAT,
];

/// Judges every `ws.*` rule; one result per rule, in catalogue order.
pub fn judge(obs: &WsObservations) -> Vec<CheckResult> {
    let subject = format!("{}{}", obs.target.base, obs.path);
    [
        reachable::judge(obs),
        path::judge(obs),
        version::judge(obs),
        polling::judge(obs),
        websocket::judge(obs),
        upgrade::judge(obs),
        connect::judge(obs),
        cors::judge(obs),
        sticky::judge(obs),
        heartbeat::judge(obs),
    ]
    .into_iter()
    .map(|r| r.subject(subject.clone()))
    .collect()
}

/// Whether the probe got any HTTP answer (the other checks depend on it).
fn http_answered(obs: &WsObservations) -> bool {
    obs.reach.error.is_none()
        && obs
            .path_attempts
            .first()
            .is_some_and(|a| a.answer.is_ok())
}

/// Evidence for an HTTP outcome: status, headers that matter, Set-Cookie names, first bytes.
fn http_evidence(outcome: &HttpOutcome) -> Value {
    serde_json::to_value(outcome).unwrap_or(Value::Null)
}

/// `HTTP 400 "Invalid transport" (Server: nginx/1.22.1)`.
fn describe_answer(a: &HttpAnswer) -> String {
    let body = a.body_head.trim();
    let mut s = format!("HTTP {}", a.status);
    if !body.is_empty() {
        let shown: String = body.chars().take(120).collect();
        s.push_str(&format!(" {shown}"));
    } else {
        s.push_str(" with an empty body");
    }
    if let Some(server) = a.server() {
        s.push_str(&format!(" (Server: {server})"));
    }
    s
}

/// The proxy named by a `Server` header, or a generic phrase.
fn proxy_name(a: &HttpAnswer) -> String {
    match a.server() {
        Some(s) => format!("the proxy ({s})"),
        None => "a proxy or load balancer".to_string(),
    }
}

/// The nginx lines that pass a websocket upgrade through.
pub const NGINX_UPGRADE_LINES: &str = "proxy_http_version 1.1;\n\
proxy_set_header Upgrade $http_upgrade;\n\
proxy_set_header Connection \"upgrade\";\n\
proxy_set_header Host $host;";

/// What to do about several workers without sticky sessions.
pub const STICKY_FIX: &str = "make the load balancer sticky (nginx: `ip_hash;` or \
`hash $remote_addr consistent;` in the upstream block; Traefik: `sticky.cookie`; Kubernetes: \
`sessionAffinity: ClientIP` or an ingress affinity cookie), or use the websocket transport \
only (client `transports: ['websocket']`; Open WebUI: ENABLE_WEBSOCKET_SUPPORT=true), or run \
one worker per instance. A Redis manager relays broadcasts between workers; it does not share \
Engine.IO sessions.";
