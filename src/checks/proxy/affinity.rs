//! `proxy.affinity`: several upstream servers on the polling transport need stickiness.

use super::{Facts, nothing_served, served};
use crate::apps::Transports;
use crate::catalogue::{Rule, Severity};
use crate::config::proxy::Affinity;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.affinity",
    severity: Severity::Error,
    title: "Several upstream servers on polling are pinned per client",
    summary: "When the socket.io route balances over more than one server (servers of an \
              upstream group, or replicas behind one service name) and the app's clients \
              start on long-polling, the proxy keeps each client on one server: nginx \
              `ip_hash` or `hash $remote_addr consistent`, `sticky`, HAProxy `balance source` \
              or a cookie, Caddy `lb_policy cookie|ip_hash`, Traefik's sticky cookie.",
    why: "An Engine.IO session lives in the server process that opened it. Round-robin sends \
          the next poll of the same `sid` to another server, which answers 400 \"Session ID \
          unknown\" (python-engineio: \"Invalid session\"); clients reconnect in a loop. A \
          Redis manager relays broadcasts between servers; it does not share sessions \
          (<https://socket.io/docs/v4/using-multiple-nodes/>). A hash on `$request_uri` is \
          not affinity: the `t=` parameter changes on every request.",
    fix: "In the upstream block: `ip_hash;` (or `hash $remote_addr consistent;`); HAProxy: \
          `balance source` or `cookie SERVERID insert indirect nocache` with a cookie per \
          server; or make clients and server websocket-only.",
};

/// Hash keys that change between polling requests of one client.
fn unstable_key(key: &str) -> bool {
    [
        "$request_uri",
        "$uri",
        "$args",
        "$arg_t",
        "$request_id",
        "$msec",
        "$query_string",
    ]
    .iter()
    .any(|k| key.contains(k))
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let served = served(facts);
    if served.is_empty() {
        return nothing_served(&RULE, facts);
    }
    served
        .iter()
        .map(|s| {
            let Some(target) = s.route.and_then(|r| r.target.as_ref()) else {
                return RULE.skip_because("proxy.path").subject(s.subject());
            };
            let group = s.group();
            let servers = group.map_or(1, |g| g.active_servers().count());
            let replicas = s.app.map_or(1, |a| a.replicas.value);
            let spread = servers.max(1) as u32 * replicas.max(1);
            let at = group.map(|g| g.span.location()).or(target.raw.location());
            if spread <= 1 {
                return RULE
                    .pass(format!(
                        "{} sends to one server ({}): nothing to pin",
                        s.route_label(),
                        target.raw.value
                    ))
                    .at(at)
                    .subject(s.subject());
            }
            if let Some(app) = s.app
                && app.transports.value == Transports::WebsocketOnly
            {
                return RULE
                    .pass(format!(
                        "{}: {spread} servers, but {} is websocket-only: no polling session to pin",
                        s.route_label(),
                        app.service.name
                    ))
                    .at(at)
                    .subject(s.subject());
            }
            let how = if servers > 1 {
                format!("{servers} servers in upstream `{}`", group.map_or("", |g| g.name.as_str()))
            } else {
                format!(
                    "{replicas} replicas of {} behind one name",
                    s.app.map_or("the app", |a| a.service.name.as_str())
                )
            };
            let r = match group.and_then(|g| g.affinity.as_ref()) {
                Some(a) => match &a.value {
                    Affinity::Hash { key, .. } if unstable_key(key) => RULE
                        .fire(format!(
                            "{how}, hashed on `{key}`, which changes on every polling request (t=…): sessions land on other servers (400 \"Invalid session\"; Node: \"Session ID unknown\")"
                        ))
                        .at(a.location())
                        .hint("hash $remote_addr consistent; (or ip_hash;)"),
                    other => RULE
                        .pass(format!("{how}, pinned per client ({})", describe(other)))
                        .at(a.location()),
                },
                // Transports set in the app's code (Node, python-socketio, Flask-SocketIO):
                // clients start on polling unless told otherwise, so this is the warning
                // config.polling-multi-worker gives for the same reason, not a certainty.
                None if s.app.is_some_and(|a| a.transports.value == Transports::Both) => RULE
                    .warn(format!(
                        "{how} without affinity: Socket.IO clients start on polling unless the app's code makes them websocket-only, and a session's polls then land on other servers, which answer 400 \"Invalid session\" (Node: \"Session ID unknown\")"
                    ))
                    .at(at)
                    .hint(super::fixes::affinity(s.config.kind, group)),
                None => RULE
                    .fire(format!(
                        "{how} without affinity on the polling transport: a session's polls land on other servers, which answer 400 \"Invalid session\" (Node: \"Session ID unknown\")"
                    ))
                    .at(at)
                    .hint(super::fixes::affinity(s.config.kind, group)),
            };
            r.subject(s.subject())
                .evidence("servers", servers as u64)
                .evidence("replicas", u64::from(replicas))
        })
        .collect()
}

fn describe(a: &Affinity) -> String {
    match a {
        Affinity::ClientAddress => "client address".to_string(),
        Affinity::Hash { key, consistent } => {
            format!("hash {key}{}", if *consistent { " consistent" } else { "" })
        }
        Affinity::Cookie(name) => format!("cookie {name}"),
        Affinity::Other(text) => text.clone(),
    }
}
