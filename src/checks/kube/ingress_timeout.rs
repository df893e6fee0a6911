//! `kube.ingress-timeout`: ingress-nginx's proxy timeouts outlast the longest silence of a
//! healthy Engine.IO connection.

use super::{Controller, controller, ingresses_to, services_of};
use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::kube::Cluster;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.ingress-timeout",
    severity: Severity::Error,
    title: "Ingress timeouts outlast the ping interval",
    summary: "An ingress-nginx Ingress in front of a Socket.IO app has \
              `nginx.ingress.kubernetes.io/proxy-read-timeout` and `proxy-send-timeout` longer \
              than the app's ping interval (default 60 s each; Engine.IO pings every 25 s).",
    why: "ingress-nginx closes a proxied connection when nothing was read from (or sent to) the \
          pod for `proxy-read-timeout` (`proxy-send-timeout`) seconds, websockets included \
          (<https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts>, \
          <https://kubernetes.github.io/ingress-nginx/user-guide/miscellaneous/#websockets>). \
          On a healthy Engine.IO connection the longest silence is the ping interval: the \
          server pings every `pingInterval` (25 s in python-engineio and the Node engine.io \
          server) and a long-poll request is held that long. A timeout at or below it cuts \
          idle connections: the client sees a disconnect and reconnects every few seconds.",
    fix: "Raise both annotations above the ping interval, e.g. \
          `nginx.ingress.kubernetes.io/proxy-read-timeout: \"3600\"` and \
          `nginx.ingress.kubernetes.io/proxy-send-timeout: \"3600\"` (values in seconds).",
};

/// Engine.IO's default ping interval in seconds: python-engineio `base_server.py`
/// (`ping_interval=25`), Node engine.io `server.ts` (`pingInterval: 25000`). The apps
/// wsdoctor knows keep that default unless their code says otherwise.
pub const DEFAULT_PING_INTERVAL_SECS: u64 = 25;

/// ingress-nginx's ConfigMap defaults for both timeouts (docs: user-guide/nginx-configuration/configmap).
const NGINX_DEFAULT_TIMEOUT_SECS: u64 = 60;

/// An annotation's timeout in seconds: ingress-nginx takes a number of seconds (a unit
/// suffix such as `60s` is not documented; read it all the same).
fn seconds(value: &str) -> Option<u64> {
    let v = value.trim();
    v.strip_suffix('s').unwrap_or(v).parse().ok()
}

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for app in &facts.apps {
        let name = &app.service.name;
        let services = services_of(facts, cluster, app.service);
        for ingress in ingresses_to(cluster, &services) {
            let iat = ingress.span.as_ref().map(|s| s.location());
            if controller(ingress) != Controller::IngressNginx {
                out.push(
                    RULE.skip(format!(
                        "{name}: Ingress {} is not ingress-nginx (class {}): its timeouts are the controller's",
                        ingress.name,
                        ingress.class.as_deref().unwrap_or("unset")
                    ))
                    .subject(name.clone())
                    .at(iat),
                );
                continue;
            }
            let ping = DEFAULT_PING_INTERVAL_SECS;
            let mut short = Vec::new();
            let mut first_span = None;
            let mut shown = Vec::new();
            for key in ["proxy-read-timeout", "proxy-send-timeout"] {
                let annotation = ingress
                    .annotations
                    .get(&format!("nginx.ingress.kubernetes.io/{key}"));
                let value = annotation
                    .and_then(|a| seconds(&a.value))
                    .unwrap_or(NGINX_DEFAULT_TIMEOUT_SECS);
                shown.push(format!(
                    "{key} {value}s{}",
                    if annotation.is_none() {
                        " (default)"
                    } else {
                        ""
                    }
                ));
                if value <= ping {
                    short.push(format!("{key} {value}s"));
                    if first_span.is_none() {
                        first_span = annotation.and_then(|a| a.span.clone());
                    }
                }
            }
            let r = if short.is_empty() {
                RULE.pass(format!(
                    "{name}: Ingress {}: {} outlast the {ping}s ping interval",
                    ingress.name,
                    shown.join(", ")
                ))
                .at(iat)
            } else {
                RULE.fire(format!(
                    "{name}: Ingress {}: {} is not longer than the {ping}s ping interval: ingress-nginx cuts healthy idle connections and clients reconnect",
                    ingress.name,
                    short.join(", ")
                ))
                .hint("set nginx.ingress.kubernetes.io/proxy-read-timeout and proxy-send-timeout to \"3600\"")
                .evidence("ping_interval", ping)
                .at(first_span.map(|s| s.location()).or(iat))
            };
            out.push(r.subject(name.clone()));
        }
    }
    if out.is_empty() {
        out.push(RULE.skip("no Ingress of the inputs routes to a Socket.IO app"));
    }
    out
}
