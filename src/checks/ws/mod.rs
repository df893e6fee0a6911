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
    obs.reach.error.is_none() && obs.path_attempts.first().is_some_and(|a| a.answer.is_ok())
}

/// Evidence for an HTTP outcome: status, headers that matter, Set-Cookie names, first bytes.
fn http_evidence(outcome: &HttpOutcome) -> Value {
    match outcome {
        Ok(a) => serde_json::to_value(a).unwrap_or(Value::Null),
        Err(e) => serde_json::json!({ "error": e }),
    }
}

/// `HTTP 400 "Invalid transport" (Server: nginx/1.22.1)`; an HTML page is shown by its
/// title, other bodies with whitespace collapsed.
fn describe_answer(a: &HttpAnswer) -> String {
    let mut s = format!("HTTP {}", a.status);
    let body = summarise_body(&a.body_head);
    if body.is_empty() {
        s.push_str(" with an empty body");
    } else {
        s.push(' ');
        s.push_str(&body);
    }
    if let Some(server) = a.server() {
        s.push_str(&format!(" (Server: {server})"));
    }
    s
}

/// A one-line summary of a body: an HTML page's `<title>`, or the text with whitespace
/// collapsed, at most 120 characters.
fn summarise_body(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
    {
        return format!("(HTML page \"{}\")", body[start + 7..end].trim());
    }
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(120).collect();
    if collapsed.chars().count() > 120 {
        out.push('…');
    }
    out
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
