//! `proxy.timeout`: the proxy's idle timeouts outlast the app's ping interval.

use super::{Expectations, Facts, TIMEOUT_MARGIN, human, nothing_served, served};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.timeout",
    severity: Severity::Error,
    title: "Proxy read and tunnel timeouts outlast the ping interval",
    summary: "The idle timeouts on the socket.io route (nginx `proxy_read_timeout`, default \
              60 s; HAProxy `timeout tunnel`, else `timeout server`; Caddy `read_timeout`, \
              none by default) are longer than the app's Engine.IO pingInterval (25 s by \
              default; `diagnose` uses the value of the live open packet) with a margin of 5 s.",
    why: "On a healthy idle Engine.IO websocket the server's ping and the client's pong \
          cross the connection once per pingInterval and nothing else does: the longest \
          silence, in both directions, is one pingInterval (a long-poll, too, is held at \
          most that long). On an upgraded connection nginx's proxy_read_timeout is an idle \
          timer over both directions: ngx_http_upstream_process_upgraded re-arms it after \
          any byte either way (nginx src/http/ngx_http_upstream.c), so it fires only after \
          that much silence. A timeout not longer than pingInterval therefore cuts every \
          idle websocket (the client reconnects and loses events sent meanwhile) and ends \
          long-polls with 504 — unless something else crosses the connection sooner: \
          uvicorn (0.54, ws_ping_interval) sends its own websocket ping frames every 20 s, \
          so in front of a uvicorn app only a timeout under 20 s is sure to cut; exactly \
          20 s is a race between two 20 s timers (measured with nginx 1.22: cut at 20.0 s, \
          held once). pingTimeout does not matter here: the pong follows the ping at once.",
    fix: "Raise the timeout in the socket.io location, e.g. `proxy_read_timeout 3600s;` \
          (nginx), `timeout tunnel 1h` (HAProxy); or lower the app's pingInterval below it.",
};

pub fn check(facts: &Facts, expect: &Expectations) -> Vec<CheckResult> {
    let served = served(facts);
    if served.is_empty() {
        return nothing_served(&RULE, facts);
    }
    let ping = expect.ping.interval;
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
            if limits.is_empty()
                && let Some(none) = &route.timeouts.unlimited
            {
                return RULE
                    .pass(format!(
                        "{}: no read timeout — {} ({}): an idle websocket is not cut by the \
                         proxy, whatever the pingInterval ({} — {})",
                        s.route_label(),
                        none.why,
                        none.source,
                        human(ping),
                        expect.ping.source()
                    ))
                    .at(Some(route.span.location()))
                    .subject(s.subject())
                    .evidence("ping_interval_ms", ping.as_millis() as u64)
                    .evidence("timeouts_ms", "unlimited");
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
                            "{}: {} — longer than pingInterval {} ({}) + {} margin",
                            s.route_label(),
                            limits
                                .iter()
                                .map(|(k, l)| format!("{k} timeout {}", describe(l)))
                                .collect::<Vec<_>>()
                                .join(", "),
                            human(ping),
                            expect.ping.source(),
                            human(TIMEOUT_MARGIN)
                        ))
                        .at(limits[0].1.location().or(Some(route.span.location()))),
                    Some((kind, l)) => {
                        let msg = format!(
                            "{}: {kind} timeout {} is {} the app's pingInterval {} ({}): \
                             between a pong and the next ping nothing crosses an idle \
                             websocket for one pingInterval, so the proxy cuts it {} — \
                             unless something else crosses sooner (uvicorn's own websocket \
                             pings, every 20 s by default)",
                            s.route_label(),
                            describe(l),
                            if l.value <= ping {
                                "not longer than"
                            } else {
                                "within the margin of"
                            },
                            human(ping),
                            expect.ping.source(),
                            if l.value <= ping {
                                "before the next ping"
                            } else {
                                "if the ping comes a little late (a busy event loop)"
                            }
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
                .evidence("ping_interval_observed", expect.ping.observed)
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
