//! `aca.ingress-transport`: the ingress transport lets the browser's WebSocket reach the app.
//!
//! What Azure documents (https://learn.microsoft.com/azure/container-apps/ingress-how-to,
//! "Ingress settings"): `transport` is "auto (default) detects HTTP/1 or HTTP/2, `http` for
//! HTTP/1, `http2` for HTTP/2, `tcp` for TCP"; and
//! (https://learn.microsoft.com/azure/container-apps/ingress-overview, "HTTP"): HTTP ingress
//! has "Support for WebSocket and gRPC". So `auto` and `http` are both documented to carry
//! WebSockets; the report this project started from (`http` gave 502 on `/ws/socket.io`,
//! `auto` plus a new revision fixed it) is not what the documentation says, and ingress
//! changes "don't generate new revisions" (same page): this check does not claim `http`
//! breaks anything. `http2` speaks HTTP/2 to the container: uvicorn (which serves Open WebUI
//! and Chainlit) "currently supports HTTP/1.1 and WebSockets" (uvicorn README, PyPI
//! description up to 0.34). `tcp` has none of the HTTP features (no TLS termination, no
//! session affinity; external TCP only with a custom VNET).

use super::AcaFacts;
use crate::apps::{AppId, command_words};
use crate::catalogue::{Rule, Severity};
use crate::checks::config::{app_evidence, no_apps};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "aca.ingress-transport",
    severity: Severity::Error,
    title: "Container Apps ingress transport carries the WebSocket",
    summary: "The ingress `transport` of a container app serving Socket.IO is `auto` (the \
              default) or `http`, which Azure documents as HTTP ingress with WebSocket support; \
              `http2` fails for an app served by uvicorn (Open WebUI, Chainlit), and `tcp` is \
              warned about (no TLS termination, no session affinity).",
    why: "Azure documents `auto` as detecting HTTP/1 or HTTP/2 and `http` as HTTP/1, and says \
          HTTP ingress supports WebSocket \
          (https://learn.microsoft.com/azure/container-apps/ingress-how-to, \
          https://learn.microsoft.com/azure/container-apps/ingress-overview). `http2` makes \
          the ingress speak HTTP/2 to the container, and uvicorn, which serves Open WebUI and \
          Chainlit, supports HTTP/1.1 and WebSockets only (uvicorn README), so requests to \
          the app fail at the ingress. `tcp` exposes a raw TCP port (FQDN:exposedPort, \
          external only in a custom VNET): no HTTPS on 443 and no session affinity. A report \
          that `http` gave 502 on /ws/socket.io until `auto` was set is not supported by the \
          documentation (microsoft/azure-container-apps#280 reported the opposite); look at \
          targetPort and the revision's replicas instead.",
    fix: "Set `properties.configuration.ingress.transport: auto` (or `http`): \
          `az containerapp ingress update -n APP -g RG --transport auto`.",
};

/// Whether the app's HTTP server is uvicorn: Open WebUI (backend/start.sh runs `uvicorn
/// open_webui.main:app`, 0.6.x) and Chainlit (`chainlit run` starts `uvicorn.Server`,
/// backend/chainlit/cli/__init__.py, 2.x), or uvicorn on the command line.
fn served_by_uvicorn(app: &crate::apps::SocketIoApp) -> bool {
    matches!(app.profile.id, AppId::OpenWebUi | AppId::Chainlit)
        || command_words(app.service)
            .iter()
            .any(|w| w.rsplit('/').next() == Some("uvicorn"))
}

pub fn check(facts: &AcaFacts) -> Vec<CheckResult> {
    if facts.config.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .config
        .apps
        .iter()
        .filter_map(|app| {
            let name = &app.service.name;
            // Sidecars are not behind the ingress.
            let ca = facts.ingress_app(name)?;
            let r = match &ca.ingress {
                None => RULE.skip(format!(
                    "{name}: no ingress: the app is not reachable over HTTP (nothing to judge)"
                )),
                Some(ingress) => {
                    let at = ingress
                        .transport
                        .as_ref()
                        .and_then(|t| t.location())
                        .or_else(|| ingress.span.as_ref().map(|s| s.location()));
                    let r = match ingress.transport_value() {
                        "auto" => RULE.pass(format!(
                            "{name}: transport {} (detects HTTP/1 or HTTP/2; HTTP ingress supports WebSocket)",
                            if ingress.transport.is_some() { "auto" } else { "auto (the default)" }
                        )),
                        "http" => RULE.pass(format!(
                            "{name}: transport http (HTTP/1, the protocol of the WebSocket upgrade; HTTP ingress supports WebSocket). Azure documents no 502 for it: if /ws/socket.io answers 502, check targetPort and the running revision"
                        )),
                        "http2" if served_by_uvicorn(app) => RULE
                            .fire(format!(
                                "{name}: transport http2 makes the ingress speak HTTP/2 to the container, but {} is served by uvicorn, which speaks HTTP/1.1 and WebSockets only",
                                app.profile.name
                            ))
                            .hint("set ingress.transport: auto (az containerapp ingress update --transport auto)"),
                        "http2" => RULE
                            .warn(format!(
                                "{name}: transport http2 sends HTTP/2 to the container; unless {} speaks HTTP/2 cleartext (h2c), requests fail at the ingress",
                                app.profile.name
                            ))
                            .hint("set ingress.transport: auto unless the server speaks h2c"),
                        "tcp" => RULE
                            .warn(format!(
                                "{name}: transport tcp: no HTTPS endpoint on 443, no TLS termination and no session affinity; browsers must reach the FQDN on exposedPort {}",
                                ingress
                                    .exposed_port
                                    .as_ref()
                                    .map_or("(unset)".to_string(), |p| p.value.to_string())
                            ))
                            .hint("use HTTP ingress (transport: auto) for a web app"),
                        other => RULE.skip(format!(
                            "{name}: transport '{other}' is not a documented value (reported by aca.yaml-syntax)"
                        )),
                    };
                    r.at(at).evidence("transport", ingress.transport_value())
                }
            };
            Some(app_evidence(r.subject(name.clone()), app))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::aca::test_support::*;

    fn run(text: &str) -> Vec<CheckResult> {
        let d = read(text);
        let aca = d.aca.as_ref().unwrap();
        check(&AcaFacts {
            config: crate::checks::config::Facts::new(&d, None),
            aca,
        })
    }

    #[test]
    fn http2_fails_for_chainlit_and_auto_http_pass() {
        let r = run(&chainlit(
            "      targetPort: 8000\n      transport: http2\n",
            "",
        ));
        assert_eq!(statuses(&r), ["fail"]);
        assert_eq!(r[0].location.as_ref().unwrap().line, Some(7));
        for t in ["auto", "http", "HTTP"] {
            let r = run(&chainlit(
                &format!("      targetPort: 8000\n      transport: {t}\n"),
                "",
            ));
            assert_eq!(statuses(&r), ["pass"], "{t}");
        }
        let r = run(&chainlit("      targetPort: 8000\n", ""));
        assert_eq!(statuses(&r), ["pass"]);
        let r = run(&chainlit(
            "      targetPort: 8000\n      transport: tcp\n",
            "",
        ));
        assert_eq!(statuses(&r), ["warn"]);
    }
}
