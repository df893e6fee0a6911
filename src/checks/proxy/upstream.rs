//! `proxy.upstream`: the route sends to the app's service, on the port the app listens on.

use super::{Facts, nothing_served, served};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.upstream",
    severity: Severity::Error,
    title: "The proxy's upstream is the app's service and port",
    summary: "The host the socket.io route proxies to (or each server of its upstream group) \
              is a service, container_name, hostname or alias of the project, and the port \
              is the one the app listens on inside the container (not a host-published one).",
    why: "nginx resolves the upstream name when it starts: a name that is not a service on a \
          shared network makes it refuse to start (`host not found in upstream`), and a \
          wrong port gives 502 Bad Gateway on every request (`connect() failed (111: \
          Connection refused) while connecting to upstream`). `localhost` inside the proxy's \
          container is the proxy itself.",
    fix: "Point the upstream at the app's compose service and its container port, e.g. \
          `proxy_pass http://open-webui:8080;` or `server open-webui:8080;` in the upstream \
          block.",
};

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
            let Some(app) = s.app else {
                return RULE
                    .skip("no Socket.IO app recognised in the project: no service and port to compare the upstream with")
                    .subject(s.subject());
            };
            if target.dynamic {
                return RULE
                    .skip(format!(
                        "{} proxies to `{}`, a variable decided per request",
                        s.route_label(),
                        target.raw.value
                    ))
                    .at(target.raw.location())
                    .subject(s.subject());
            }
            // (host, port, span) of each server the route may send to.
            let servers: Vec<(String, Option<u16>, Option<crate::config::Span>, String)> =
                match s.config.group(target) {
                    Some(g) => g
                        .active_servers()
                        .map(|sv| (sv.host.clone(), sv.port, Some(sv.span.clone()), sv.raw.clone()))
                        .collect(),
                    None => vec![(
                        target.host.clone(),
                        target.effective_port(),
                        target.raw.span.clone(),
                        target.raw.value.clone(),
                    )],
                };
            let names = app.service.dns_names();
            let want_port = app.container_port.as_ref().map(|p| p.value);
            let mut problems = Vec::new();
            for (host, port, span, raw) in &servers {
                let loc = span.as_ref().map(|sp| sp.location());
                if crate::config::redis_url::is_loopback(host) {
                    problems.push((
                        format!("`{raw}` is {host}: inside the proxy's container that is the proxy itself, not {}", app.service.name),
                        loc,
                        format!("use the service name: {}:{}", app.service.name, want_port.map_or("PORT".into(), |p| p.to_string())),
                    ));
                } else if !names.contains(&host.as_str()) {
                    let known = facts.deployment.services.iter().any(|sv| sv.dns_names().contains(&host.as_str()));
                    if known {
                        continue; // another service of the project: not this app's route
                    }
                    problems.push((
                        format!("`{raw}`: {host} is not a service, container_name or alias of the project (the app is {}); nginx refuses to start: host not found in upstream", app.service.name),
                        loc,
                        format!("use {}:{}", app.service.name, want_port.map_or("PORT".into(), |p| p.to_string())),
                    ));
                } else if let (Some(have), Some(want)) = (port, want_port)
                    && *have != want
                {
                    let published = app.service.ports.iter().any(|p| p.published_port() == Some(*have));
                    problems.push((
                        format!(
                            "`{raw}`: port {have}, but {} listens on {want} inside the container{}: 502 Bad Gateway",
                            app.service.name,
                            if published { format!(" ({have} is the host-published port)") } else { String::new() }
                        ),
                        loc,
                        format!("use {host}:{want}"),
                    ));
                }
            }
            let r = match problems.into_iter().next() {
                None => RULE
                    .pass(format!(
                        "{} proxies to {} ({}{})",
                        s.route_label(),
                        servers.iter().map(|s| s.3.as_str()).collect::<Vec<_>>().join(", "),
                        app.service.name,
                        want_port.map(|p| format!(", port {p}")).unwrap_or_default()
                    ))
                    .at(target.raw.location()),
                Some((msg, loc, hint)) => RULE
                    .fire(format!("{}: {msg}", s.route_label()))
                    .at(loc.or(target.raw.location()))
                    .hint(hint),
            };
            r.subject(s.subject())
        })
        .collect()
}
