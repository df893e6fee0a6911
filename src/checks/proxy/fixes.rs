//! The fix, as each proxy writes it: the `proxy.*` checks judge the format-neutral model,
//! but the line to add is in the proxy's own language.
//!
//! Sources: HAProxy 2.6 configuration manual §4.2 (`timeout tunnel`, `balance source`,
//! `cookie`), <https://docs.haproxy.org/2.6/configuration.html>; Caddy `reverse_proxy`
//! (`lb_policy`, `transport http { read_timeout }`),
//! <https://caddyserver.com/docs/caddyfile/directives/reverse_proxy>; Traefik services
//! (`sticky.cookie`), <https://doc.traefik.io/traefik/routing/services/>.

use crate::config::proxy::{ProxyKind, UpstreamGroup};

/// The line that raises the idle limit of `route` to at least `need`.
pub fn timeout(kind: ProxyKind, route: &str, need: &str) -> String {
    match kind {
        ProxyKind::Nginx => format!("set `proxy_read_timeout 3600s;` in {route} (at least {need})"),
        ProxyKind::Haproxy => format!(
            "set `timeout tunnel 1h` (WebSocket) and `timeout server` of at least {need} \
             (long-polling) in the backend or defaults of {route}"
        ),
        ProxyKind::Caddy => format!(
            "remove `read_timeout` from `transport http` of {route}, or set it to at least {need}"
        ),
        ProxyKind::Traefik => format!("raise the timeout of {route} to at least {need}"),
    }
}

/// The line that pins one client to one server of `group`.
pub fn affinity(kind: ProxyKind, group: Option<&UpstreamGroup>) -> String {
    let at = group
        .map(|g| {
            let name = if g.name.is_empty() {
                String::new()
            } else {
                format!(" {}", g.name)
            };
            format!("{name} ({}:{})", g.span.file, g.span.line)
        })
        .unwrap_or_default();
    match (kind, group) {
        (ProxyKind::Nginx, Some(g)) => {
            format!(
                "add `ip_hash;` to upstream {} ({}:{})",
                g.name, g.span.file, g.span.line
            )
        }
        (ProxyKind::Nginx, None) => {
            "balance through an upstream block with `ip_hash;`, one server per replica".to_string()
        }
        (ProxyKind::Haproxy, _) => format!(
            "add `balance source` (or `cookie SERVERID insert indirect nocache` with a `cookie` \
             value on each server) to backend{at}"
        ),
        (ProxyKind::Caddy, _) => {
            format!("add `lb_policy ip_hash` (or `lb_policy cookie`) to reverse_proxy{at}")
        }
        (ProxyKind::Traefik, _) => format!(
            "add `sticky: {{cookie: {{}}}}` to the loadBalancer of service{at} (label \
             `traefik.http.services.NAME.loadbalancer.sticky.cookie=true`)"
        ),
    }
}
