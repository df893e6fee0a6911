//! `ws.http-reachable`: is there an HTTP server at the URL, and if not, why not.

use crate::catalogue::{Rule, Severity};
use crate::probe::engineio::WsObservations;
use crate::probe::engineio::net::NetErrorKind;
use crate::report::CheckResult;

use super::{describe_answer, http_evidence};

pub static HTTP_REACHABLE: Rule = Rule {
    id: "ws.http-reachable",
    severity: Severity::Error,
    title: "The app answers HTTP",
    summary: "Resolves the host, opens TCP (and TLS for https/wss) and waits for an HTTP \
              answer, telling DNS failures, refused ports, timeouts, TLS errors and silent \
              listeners apart.",
    why: "Each failure has a different cause: a name that does not resolve (a compose service \
          name used outside the compose network), a refused port (app down or port not \
          published), a timeout (firewall, wrong host), a TLS error (certificate, or TLS \
          spoken to a plain port), or a listener that accepts TCP and never answers (wrong \
          port, hung app). A proxy's own 502/503/504 page is the proxy answering for an app it \
          cannot reach, not the app.",
    fix: "For a proxy's 502/503/504 page: start the app, or point the proxy's upstream at \
          the address the app listens on. Otherwise use the host and port a browser uses to \
          reach the app (the published port, or the proxy's). From inside a container use the service name; from the host, localhost \
          and the published port. For TLS errors check the certificate chain (SSL_CERT_FILE \
          for a private CA) or use http:// on a plain port.",
};

pub(super) fn judge(obs: &WsObservations) -> CheckResult {
    let r = &obs.reach;
    let reach_evidence = serde_json::to_value(r).unwrap_or_default();
    if let Some(e) = &r.error {
        let msg = match e.kind {
            NetErrorKind::Dns => format!("{} does not resolve: {}", r.host, e.detail),
            NetErrorKind::Refused => format!(
                "connection refused at {}:{}: nothing listens there ({})",
                r.host, r.port, e.detail
            ),
            NetErrorKind::Timeout => format!(
                "{} timed out ({}): a firewall drops the packets, or the host is wrong",
                e.stage, e.detail
            ),
            NetErrorKind::Tls => format!("TLS handshake with {} failed: {}", r.host, e.detail),
            _ => format!("cannot reach {}:{}: {}", r.host, r.port, e.describe()),
        };
        let hint = match e.kind {
            NetErrorKind::Dns => {
                "a compose service name resolves only inside the compose network; from the \
                 host use localhost and the published port"
            }
            NetErrorKind::Refused => {
                "start the app, or use the port it listens on (docker compose ps shows the \
                 published ports); an app that was just started may still be booting (Open \
                 WebUI: 20-120 s before it listens): wsdoctor diagnose --wait 120s waits for it"
            }
            NetErrorKind::Tls => {
                "check the certificate (a private CA needs SSL_CERT_FILE), or use http:// if \
                 the port speaks plain HTTP"
            }
            _ => "check the host and port",
        };
        return HTTP_REACHABLE
            .fire(msg)
            .hint(hint)
            .evidence("reachability", serde_json::to_value(r).unwrap_or_default())
            .evidence("error_kind", e.kind.as_str())
            .took(std::time::Duration::from_millis(r.elapsed_ms));
    }
    let Some(first) = obs.path_attempts.first() else {
        return HTTP_REACHABLE.skip("no HTTP request was made");
    };
    let took = std::time::Duration::from_millis(r.elapsed_ms);
    match &first.answer {
        Ok(a) if super::is_proxy_error_page(a) => {
            let proxy = super::proxy_name(a);
            let what = match a.status {
                502 => {
                    "could not get an answer from the app behind it (no app listens at its \
                        upstream address, or the app closed the connection)"
                }
                503 => "has no app to send the request to (no upstream server is available)",
                _ => "waited for the app behind it and got no answer in time",
            };
            let upstream = upstream_named(a);
            let hint = match &upstream {
                Some(u) => format!(
                    "start the app so it listens at {u}, or point {proxy}'s upstream at the \
                     address the app listens on"
                ),
                None => format!(
                    "start the app, or point {proxy}'s upstream (nginx: proxy_pass) at the \
                     address and port the app listens on (from the proxy's container: the \
                     compose service name and the app's container port)"
                ),
            };
            HTTP_REACHABLE
                .fire(format!(
                    "{proxy} answered {} in {} ms: the proxy is up but {what}; this page is \
                     the proxy's, not the app's",
                    describe_answer(a),
                    a.elapsed_ms
                ))
                .hint(hint)
                .evidence("reachability", reach_evidence)
                .evidence("first_answer", http_evidence(&first.answer))
                .evidence("proxy_error_page", true)
                .evidence("upstream", upstream)
                .took(took)
        }
        Ok(a) => HTTP_REACHABLE
            .pass(format!(
                "{} answered {} in {} ms",
                first.url,
                describe_answer(a),
                a.elapsed_ms
            ))
            .evidence("reachability", reach_evidence)
            .evidence("first_answer", http_evidence(&first.answer))
            .took(took),
        Err(e) if e.kind == NetErrorKind::Timeout => HTTP_REACHABLE
            .fire(format!(
                "TCP connection to {} opened, but no HTTP answer came within the deadline \
                 ({}): a silent listener (wrong port, a non-HTTP service, or a hung app)",
                r.connected.as_deref().unwrap_or(&r.host),
                e.detail
            ))
            .hint("check that this port serves the app over HTTP (curl -v the URL)")
            .evidence("reachability", serde_json::to_value(r).unwrap_or_default())
            .evidence("error", serde_json::to_value(e).unwrap_or_default())
            .evidence("error_kind", e.kind.as_str())
            .took(took),
        Err(e) => HTTP_REACHABLE
            .fire(format!(
                "connected to {}, but the HTTP request failed: {}",
                r.connected.as_deref().unwrap_or(&r.host),
                e.describe()
            ))
            .hint("the port may speak TLS (use https://) or not speak HTTP at all")
            .evidence("reachability", serde_json::to_value(r).unwrap_or_default())
            .evidence("error", serde_json::to_value(e).unwrap_or_default())
            .evidence("error_kind", e.kind.as_str())
            .took(took),
    }
}

/// An upstream address a proxy's error page names (Traefik, Envoy and custom pages
/// sometimes do: "dial tcp 172.18.0.5:8080: connect: connection refused"); nginx's stock
/// page names none.
fn upstream_named(a: &crate::probe::engineio::net::HttpAnswer) -> Option<String> {
    let text = a.body_text();
    for word in text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"') {
        let w = word.trim_matches(|c: char| c == ',' || c == ';' || c == ')' || c == '(');
        let w = w
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches(':')
            .trim_end_matches('/');
        if let Some((host, port)) = w.rsplit_once(':')
            && !host.is_empty()
            && port.len() <= 5
            && port.parse::<u16>().is_ok()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        {
            return Some(w.to_string());
        }
    }
    None
}
