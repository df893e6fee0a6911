//! `proxy.timeout`: the proxy's idle timeouts outlast the app's ping interval.

use super::{DEFAULT_PING_INTERVAL, Facts, TIMEOUT_MARGIN, human, nothing_served, served};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.timeout",
    severity: Severity::Error,
    title: "Proxy read and tunnel timeouts outlast the ping interval",
    summary: "The idle timeouts on the socket.io route (nginx `proxy_read_timeout`, default \
              60 s; HAProxy `timeout tunnel`, else `timeout server`) are longer than the \
              app's Engine.IO pingInterval (25 s by default) with a margin of 5 s.",
    why: "On a healthy Engine.IO connection the longest silence from the app is one \
          pingInterval: the server pings every pingInterval, and holds a long-poll at most \
          that long before answering. A proxy that closes an upstream connection silent for \
          less than that cuts every idle websocket (the client sees a close, reconnects, and \
          loses events sent meanwhile) and ends long-polls with 504.",
    fix: "Raise the timeout in the socket.io location, e.g. `proxy_read_timeout 3600s;` \
          (nginx), `timeout tunnel 1h` (HAProxy); or lower the app's pingInterval below it.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let served = served(facts);
    if served.is_empty() {
        return nothing_served(&RULE, facts);
    }
    let ping = DEFAULT_PING_INTERVAL;
    let need = ping + TIMEOUT_MARGIN;
    served
        .iter()
        .map(|s| {
            let Some(route) = s.route.filter(|r| r.target.is_some()) else {
                return RULE.skip_because("proxy.path").subject(s.subject());
            };
            let mut limits = Vec::new();
            if let Some(r) = &route.timeouts.read {
                limits.push(("read (long-poll)", r));
            }
            if let Some(t) = route.timeouts.tunnel.as_ref() {
                limits.push(("tunnel (websocket)", t));
            }
            if limits.is_empty() {
                return RULE
                    .skip(format!(
                        "{}: no idle timeout read from the file",
                        s.route_label()
                    ))
                    .subject(s.subject());
            }
            let short = limits.iter().find(|(_, l)| l.value < need);
            let describe = |l: &crate::config::Located<std::time::Duration>| match &l.span {
                Some(sp) => format!("{} at {}:{}", human(l.value), sp.file, sp.line),
                None => format!("{} (the default)", human(l.value)),
            };
            let r =
                match short {
                    None => RULE
                        .pass(format!(
                            "{}: {} — longer than pingInterval {} + {} margin",
                            s.route_label(),
                            limits
                                .iter()
                                .map(|(k, l)| format!("{k} timeout {}", describe(l)))
                                .collect::<Vec<_>>()
                                .join(", "),
                            human(ping),
                            human(TIMEOUT_MARGIN)
                        ))
                        .at(limits[0].1.location().or(Some(route.span.location()))),
                    Some((kind, l)) => {
                        let msg = format!(
                            "{}: {kind} timeout {} is {} the app's pingInterval {}{}: idle \
                         connections are cut before the next ping",
                            s.route_label(),
                            describe(l),
                            if l.value <= ping {
                                "not longer than"
                            } else {
                                "within the margin of"
                            },
                            human(ping),
                            " (Engine.IO default)"
                        );
                        let r = if l.value <= ping {
                            RULE.fire(msg)
                        } else {
                            RULE.warn(msg)
                        };
                        r.at(l.location().or(Some(route.span.location()))).hint(
                            super::fixes::timeout(s.config.kind, &s.route_label(), &human(need)),
                        )
                    }
                };
            r.subject(s.subject())
                .evidence("ping_interval_ms", ping.as_millis() as u64)
                .evidence(
                    "timeouts_ms",
                    limits
                        .iter()
                        .map(|(_, l)| l.value.as_millis() as u64)
                        .collect::<Vec<_>>(),
                )
        })
        .collect()
}
