//! `proxy.upgrade`: the route serving the socket.io path forwards the WebSocket upgrade.

use super::{Facts, nothing_served, served};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.upgrade",
    severity: Severity::Error,
    title: "The proxy forwards the WebSocket upgrade on the socket.io path",
    summary: "The route that serves the app's socket.io path (nginx: the location nginx picks \
              for it, with the settings it inherits) passes `Upgrade: websocket` and \
              `Connection: upgrade` to the app over HTTP/1.1. nginx needs \
              `proxy_http_version 1.1` and both headers set again; Caddy, HAProxy and Traefik \
              forward the upgrade by default.",
    why: "`Upgrade` and `Connection` are hop-by-hop headers: nginx drops them and, before \
          1.30, talks HTTP/1.0 to the upstream (<https://nginx.org/en/docs/http/websocket.html>). \
          The app then sees a plain GET on `transport=websocket` and answers 400 \
          (python-engineio: \"Invalid websocket upgrade\"); the browser logs `WebSocket \
          connection to 'ws://…/socket.io/?EIO=4&transport=websocket' failed` and the client \
          stays on long-polling — slower, and broken as soon as there are several workers or \
          replicas. `proxy_set_header` in a location replaces (does not add to) the server's \
          list, so a location that sets only `Host` loses the server-level Upgrade headers.",
    fix: "In the location that serves the socket.io path:\n\n```nginx\nproxy_http_version \
          1.1;\nproxy_set_header Upgrade $http_upgrade;\nproxy_set_header Connection \
          \"upgrade\";\n```\n\n(or `$connection_upgrade` from `map $http_upgrade \
          $connection_upgrade { default upgrade; '' close; }` in `http {}`). When the location \
          sets other `proxy_set_header` lines, repeat every header it needs there.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let served = served(facts);
    if served.is_empty() {
        return nothing_served(&RULE, facts);
    }
    served
        .iter()
        .map(|s| {
            let Some(route) = s.route.filter(|r| r.target.is_some()) else {
                return RULE.skip_because("proxy.path").subject(s.subject());
            };
            let evidence: Vec<String> = route
                .upgrade
                .evidence
                .iter()
                .map(|e| match &e.span {
                    Some(sp) => format!("{}:{}: {}", sp.file, sp.line, e.value),
                    None => e.value.clone(),
                })
                .collect();
            let r = if route.upgrade.forwarded {
                RULE.pass(format!(
                    "{} serves {} and forwards the upgrade{}",
                    s.route_label(),
                    s.path,
                    if route.upgrade.by_default {
                        format!(" ({} does by default)", s.config.kind.name())
                    } else {
                        format!(" ({})", evidence.join("; "))
                    }
                ))
            } else {
                RULE.fire(format!(
                    "{} serves {} but does not forward the WebSocket upgrade: missing {}; the \
                     app answers the websocket transport 400 and clients stay on polling",
                    s.route_label(),
                    s.path,
                    route
                        .upgrade
                        .missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .hint(format!(
                    "add to {} ({}:{}): {}",
                    s.route_label(),
                    route.span.file,
                    route.span.line,
                    route
                        .upgrade
                        .missing
                        .iter()
                        .map(|m| m.split(" (").next().unwrap_or(m))
                        .collect::<Vec<_>>()
                        .join(" ")
                ))
            };
            r.at(Some(route.span.location()))
                .subject(s.subject())
                .evidence("path", s.path.clone())
                .evidence("directives", evidence)
                .evidence("missing", route.upgrade.missing.clone())
        })
        .collect()
}
