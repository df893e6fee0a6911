//! The reverse proxy in front of the app, read from its own configuration files (nginx,
//! Caddyfile, HAProxy, Traefik) into one format-neutral model: [`ProxyConfig`].
//!
//! Every reader (one module per format: [`nginx`], and the Caddy, HAProxy and Traefik readers)
//! produces the same shape, so the `proxy.*` checks ask questions of the model and never of
//! a file format:
//!
//! - which [`ProxyRoute`] serves a request for `host` + `path` ([`ProxyConfig::route_for`]),
//! - whether that route forwards the WebSocket upgrade ([`UpgradeForwarding`]) and on which
//!   directive lines that rests,
//! - where it sends the request ([`ProxyTarget`], resolved to an [`UpstreamGroup`]) and with
//!   which path ([`PathRewrite`]),
//! - how long an idle connection may stay silent ([`ProxyTimeouts`]),
//! - whether several upstream servers are pinned per client ([`Affinity`]).
//!
//! Every value a check may report carries a [`Span`] into the user's file (the entry file or
//! an included one). Values the proxy takes by default (nginx `proxy_read_timeout 60s`) are
//! [`Located`] with `span: None`.
//!
//! A file the proxy itself would refuse (unbalanced braces, an unterminated directive, a
//! `proxy_pass` URI nginx forbids) does not stop the reader: the problem becomes a
//! [`ProxySyntaxProblem`] (reported by `proxy.syntax`), and whatever could be read is kept.
pub mod caddy;
pub mod discover;
pub mod formats;
pub mod haproxy;
pub mod nginx;
pub mod traefik;

use std::time::Duration;

use crate::config::{Located, Span};

/// Which proxy a configuration belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyKind {
    Nginx,
    Caddy,
    Haproxy,
    Traefik,
}

impl ProxyKind {
    /// The proxy's name as users write it (`nginx`, `Caddy`, `HAProxy`, `Traefik`).
    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Nginx => "nginx",
            ProxyKind::Caddy => "Caddy",
            ProxyKind::Haproxy => "HAProxy",
            ProxyKind::Traefik => "Traefik",
        }
    }
}

/// How wsdoctor came to read a proxy configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySource {
    /// Given on the command line: `--proxy-config FILE`.
    Flag,
    /// Mounted into a proxy container by a compose `volumes:` entry
    /// (`./nginx.conf:/etc/nginx/nginx.conf`).
    ComposeMount {
        /// The compose service that runs the proxy.
        service: String,
        /// Where the file or directory is seen inside the container.
        container_path: String,
        /// The `volumes:` entry.
        span: Option<Span>,
    },
    /// Traefik labels (`traefik.http.routers.…`) on compose services.
    Labels,
}

/// One proxy configuration: an entry file and everything it includes, read into sites and
/// routes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    pub kind: ProxyKind,
    /// The entry file, as shown to the user (relative to the project directory when inside it).
    pub file: String,
    /// Every file read for this configuration, entry file first, then includes in the order
    /// the proxy reads them.
    pub files: Vec<String>,
    pub source: ProxySource,
    /// Virtual hosts / frontends / Caddy site blocks / Traefik routers grouped by entrypoint,
    /// in file order.
    pub sites: Vec<ProxySite>,
    /// Named groups of upstream servers: nginx `upstream`, HAProxy `backend`, Traefik
    /// `services.*.loadBalancer`. Caddy's `reverse_proxy a b` makes an unnamed group (name
    /// empty) per directive.
    pub upstreams: Vec<UpstreamGroup>,
    /// Places the proxy would refuse (`nginx -t` fails), each with where and why.
    pub problems: Vec<ProxySyntaxProblem>,
    /// Includes that could not be followed (an absolute path inside the container with no
    /// mount that maps it, e.g. `/etc/nginx/mime.types`): not errors, but what the model
    /// may be missing. The value is the include argument as written.
    pub unread_includes: Vec<Located<String>>,
    /// Inline `# wsdoctor: ignore=…` comments of every file read (nginx, Caddy, HAProxy
    /// and YAML all use `#` comments).
    pub ignores: Vec<crate::report::InlineIgnore>,
}

/// A syntax or semantic error the proxy would refuse the file for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySyntaxProblem {
    pub span: Span,
    /// In the proxy's own words where possible (`unexpected "}"`,
    /// `directive "proxy_pass" is not terminated by ";"`).
    pub message: String,
}

/// A virtual host: nginx `server {}`, a Caddy site block, an HAProxy `frontend`/`listen`,
/// the routers of one Traefik entrypoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySite {
    /// The block's opening line (`server {`, `frontend www`, `example.com {`).
    pub span: Span,
    /// Host names it answers for (nginx `server_name`, Caddy site addresses, Traefik
    /// `Host()`). Empty: any host (the default server).
    pub hosts: Vec<Located<String>>,
    /// Listen addresses as written (`80`, `443 ssl`, `*:8080`, `:80`).
    pub listen: Vec<Located<String>>,
    /// The routes, top level only (nested nginx locations are in [`ProxyRoute::nested`]),
    /// in the order documented on [`ProxyConfig::route_for`].
    pub routes: Vec<ProxyRoute>,
}

/// How a route matches the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Any request path (a site-wide `reverse_proxy`, an HAProxy `default_backend`, a Traefik
    /// router without a path rule).
    Any,
    /// The path starts with this prefix (nginx `location /p`, Caddy `handle /p*`, Traefik
    /// `PathPrefix(`/p`)`, HAProxy `path_beg /p`).
    Prefix(String),
    /// nginx `location ^~ /p`: a prefix that, when it is the longest prefix match, stops the
    /// search for regular expressions.
    PrefixNoRegex(String),
    /// The path equals this (nginx `location = /p`, Traefik `Path(`/p`)`).
    Exact(String),
    /// A regular expression on the path (nginx `location ~ re` / `~* re`, Traefik
    /// `PathRegexp`, HAProxy `path_reg`). Matched with the `regex` crate; a pattern it cannot
    /// compile never matches (and is not a syntax problem: PCRE accepts more).
    Regex {
        pattern: String,
        case_insensitive: bool,
    },
    /// An nginx named location (`location @name`): reachable only by internal redirect.
    Named(String),
}

impl PathMatch {
    /// Whether a request path matches (regex: on the path without query, as nginx does).
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Any => true,
            PathMatch::Prefix(p) | PathMatch::PrefixNoRegex(p) => path.starts_with(p.as_str()),
            PathMatch::Exact(p) => path == p,
            PathMatch::Regex {
                pattern,
                case_insensitive,
            } => regex::RegexBuilder::new(pattern)
                .case_insensitive(*case_insensitive)
                .build()
                .is_ok_and(|re| re.is_match(path)),
            PathMatch::Named(_) => false,
        }
    }

    /// As the user would write it in nginx terms (`= /x`, `^~ /x`, `~* re`, `/x`, `@n`, `*`).
    pub fn describe(&self) -> String {
        match self {
            PathMatch::Any => "*".to_string(),
            PathMatch::Prefix(p) => p.clone(),
            PathMatch::PrefixNoRegex(p) => format!("^~ {p}"),
            PathMatch::Exact(p) => format!("= {p}"),
            PathMatch::Regex {
                pattern,
                case_insensitive: false,
            } => format!("~ {pattern}"),
            PathMatch::Regex {
                pattern,
                case_insensitive: true,
            } => format!("~* {pattern}"),
            PathMatch::Named(n) => n.clone(),
        }
    }
}

/// One route: what requests it takes, and what it does with them. nginx: a `location`
/// (with the settings it inherits from `server` and `http` already applied); Caddy: a
/// `handle`/`route`/matcher + `reverse_proxy`; HAProxy: a `use_backend` rule or the
/// `default_backend`; Traefik: a router.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyRoute {
    /// The line that defines the route (`location /ws/ {`, `handle /api/* {`,
    /// `use_backend be if is_ws`, the router's key).
    pub span: Span,
    pub path: PathMatch,
    /// Host names this route is limited to beyond its site's (Traefik `Host()` on the
    /// router, HAProxy `hdr(host)` ACLs). Empty: the site's hosts.
    pub hosts: Vec<Located<String>>,
    /// Where requests go. None: the route answers itself (static files, `return`,
    /// a redirect) — requests for the socket.io path never reach the app.
    pub target: Option<ProxyTarget>,
    pub upgrade: UpgradeForwarding,
    pub rewrite: PathRewrite,
    pub timeouts: ProxyTimeouts,
    /// nginx locations nested inside this one, searched after this one matched (nginx
    /// searches nested locations the same way, among themselves). Other readers leave this
    /// empty.
    pub nested: Vec<ProxyRoute>,
}

impl ProxyRoute {
    /// A route with nothing set but where it is and what it matches: defaults for a reader
    /// to fill in (upgrade not forwarded, path unchanged, no timeouts read).
    pub fn new(span: Span, path: PathMatch) -> Self {
        ProxyRoute {
            span,
            path,
            hosts: Vec::new(),
            target: None,
            upgrade: UpgradeForwarding::default(),
            rewrite: PathRewrite::Unchanged,
            timeouts: ProxyTimeouts::default(),
            nested: Vec::new(),
        }
    }
}

/// Where a route sends requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    /// As written (`http://backend/`, `open-webui:8080`, `be_app`), with its span.
    pub raw: Located<String>,
    /// `http`, `https`, `ws`, `wss`, or empty when the format has none (HAProxy).
    pub scheme: String,
    /// A host name, an IP address, or the name of an [`UpstreamGroup`] (see `group`).
    pub host: String,
    /// The port when written. None with `group` set: the group's servers carry the ports;
    /// None otherwise: the scheme's default (see [`ProxyTarget::effective_port`]).
    pub port: Option<u16>,
    /// The index in [`ProxyConfig::upstreams`] of the group `host` names, when it names one.
    pub group: Option<usize>,
    /// The target contains a variable (`proxy_pass http://$upstream`, Caddy placeholders):
    /// the host or path is decided at request time and cannot be judged from the file.
    pub dynamic: bool,
}

impl ProxyTarget {
    /// The port connected to when the target names a host directly (not a group).
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or(match self.scheme.as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        })
    }
}

/// A group of upstream servers with its balancing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamGroup {
    /// The group's name (nginx `upstream NAME`, HAProxy `backend NAME`, Traefik service);
    /// empty for an anonymous group (Caddy `reverse_proxy a b`).
    pub name: String,
    pub span: Span,
    pub servers: Vec<UpstreamServer>,
    /// How one client is kept on one server, if at all. None: requests are spread (round
    /// robin, least_conn, random…), each polling request of one session may land elsewhere.
    pub affinity: Option<Located<Affinity>>,
}

impl UpstreamGroup {
    /// Servers that take traffic (backups left out).
    pub fn active_servers(&self) -> impl Iterator<Item = &UpstreamServer> {
        self.servers.iter().filter(|s| !s.backup)
    }
}

/// One server of an upstream group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamServer {
    /// As written (`app:8000`, `unix:/tmp/app.sock`, `http://open-webui:8080`).
    pub raw: String,
    /// Host name or address; empty for a unix socket.
    pub host: String,
    /// The port when written or implied by the format (nginx: 80 when none).
    pub port: Option<u16>,
    /// `backup` (nginx, HAProxy): takes traffic only when the others are down.
    pub backup: bool,
    pub span: Span,
}

/// How requests of one client are kept on one upstream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affinity {
    /// nginx `ip_hash`, Caddy `lb_policy ip_hash`/`client_ip_hash`, HAProxy `balance source`.
    ClientAddress,
    /// nginx `hash KEY [consistent]`, Caddy `lb_policy header|query|uri_hash`, HAProxy
    /// `balance hdr(…)|url_param …`: pinned by whatever KEY is. The check decides whether
    /// KEY is stable across one client's polling requests (`$remote_addr` is, `$request_uri`
    /// is not: the `t=` query parameter changes on every request).
    Hash { key: String, consistent: bool },
    /// A cookie set by the proxy (nginx `sticky cookie`, HAProxy `cookie NAME insert`,
    /// Caddy `lb_policy cookie`, Traefik `sticky.cookie`), or an application cookie it
    /// follows (HAProxy `cookie io prefix`). The value is the cookie's name (may be empty).
    Cookie(String),
    /// Another form of stickiness the proxy documents (nginx `sticky route|learn`), as
    /// written.
    Other(String),
}

/// Whether a route passes the WebSocket upgrade (`Upgrade: websocket`, `Connection:
/// upgrade`) on to the upstream, and the lines that decide it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpgradeForwarding {
    /// The upstream receives the upgrade request as the client sent it.
    pub forwarded: bool,
    /// It is the proxy's default, no directive needed (Caddy `reverse_proxy`, HAProxy in
    /// `mode http`/`tcp`, Traefik). Such a route has no `missing` and maybe no `evidence`.
    pub by_default: bool,
    /// What is missing for the upgrade to reach the app, as the fix would write it
    /// (`proxy_http_version 1.1;`, `proxy_set_header Upgrade $http_upgrade;`,
    /// `proxy_set_header Connection "upgrade";`). Empty when `forwarded`.
    pub missing: Vec<String>,
    /// The directive lines the verdict rests on, each with its span (after nginx's
    /// inheritance: a `proxy_set_header` of the `server` or `http` level when the location
    /// defines none; the `map $http_upgrade $connection_upgrade` that gives the Connection
    /// header its value). Text as written, without the trailing `;`.
    pub evidence: Vec<Located<String>>,
}

/// How the request path is changed on its way to the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRewrite {
    /// The upstream sees the request's path (nginx `proxy_pass` without a URI, Caddy
    /// `handle`, Traefik without a strip middleware).
    Unchanged,
    /// The matched `prefix` is replaced by `with` (nginx `location /p/ { proxy_pass
    /// http://b/q/; }` sends `/p/x` as `/q/x`; Caddy `handle_path /p*` and Traefik
    /// `StripPrefix` have `with` = "" or "/"). `span`: the line that does it.
    ReplacePrefix {
        prefix: String,
        with: String,
        span: Option<Span>,
    },
    /// Every request goes to this one URI, whatever its path (nginx `proxy_pass` with a URI
    /// in an exact or regex location, or with variables).
    Fixed { uri: String, span: Option<Span> },
    /// Changed in a way the reader does not follow (`rewrite`, Caddy `uri`, Traefik
    /// `ReplacePathRegex`): the directive as written.
    Opaque {
        directive: String,
        span: Option<Span>,
    },
}

impl PathRewrite {
    /// The path the upstream receives for `path`, when the reader can tell.
    pub fn apply(&self, path: &str) -> Option<String> {
        match self {
            PathRewrite::Unchanged => Some(path.to_string()),
            PathRewrite::ReplacePrefix { prefix, with, .. } => path
                .strip_prefix(prefix.as_str())
                .map(|rest| format!("{with}{rest}")),
            PathRewrite::Fixed { uri, .. } => Some(uri.clone()),
            PathRewrite::Opaque { .. } => None,
        }
    }

    /// The line that rewrites, when there is one.
    pub fn span(&self) -> Option<&Span> {
        match self {
            PathRewrite::Unchanged => None,
            PathRewrite::ReplacePrefix { span, .. }
            | PathRewrite::Fixed { span, .. }
            | PathRewrite::Opaque { span, .. } => span.as_ref(),
        }
    }
}

/// The idle limits on a proxied connection. A value with `span: None` is the proxy's
/// documented default; `None` means the format has no such limit or the reader did not
/// find one (then the check says it cannot judge).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyTimeouts {
    /// How long the proxy waits for the upstream to send anything, on a plain request
    /// (one long-poll) and — unless `tunnel` is set — on an upgraded WebSocket
    /// (nginx `proxy_read_timeout`, default 60 s; HAProxy `timeout server`).
    pub read: Option<Located<Duration>>,
    /// How long the proxy waits for the upstream to accept data it writes (nginx
    /// `proxy_send_timeout`, default 60 s). Only bites when the upstream stops reading.
    pub send: Option<Located<Duration>>,
    /// The idle limit once the connection is upgraded, when the proxy has a separate one
    /// (HAProxy `timeout tunnel`, which replaces `timeout client`/`server` on a tunnel).
    pub tunnel: Option<Located<Duration>>,
    /// Set when no limit is configured on the route and the proxy's documented default is
    /// none at all: an idle websocket is never cut by the proxy (Caddy's `reverse_proxy`).
    pub unlimited: Option<NoIdleLimit>,
}

/// "This proxy sets no idle limit unless told to", with the documentation that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoIdleLimit {
    /// The sentence for messages: `Caddy's reverse_proxy has no read timeout by default`.
    pub why: &'static str,
    /// The documentation URL.
    pub source: &'static str,
}

impl ProxyTimeouts {
    /// The longest silence allowed on an upgraded WebSocket: `tunnel` when set, else `read`.
    pub fn websocket_idle(&self) -> Option<&Located<Duration>> {
        self.tunnel.as_ref().or(self.read.as_ref())
    }
}

impl ProxyConfig {
    /// A configuration with nothing read yet.
    pub fn new(kind: ProxyKind, file: impl Into<String>, source: ProxySource) -> Self {
        let file = file.into();
        ProxyConfig {
            kind,
            files: vec![file.clone()],
            file,
            source,
            sites: Vec::new(),
            upstreams: Vec::new(),
            problems: Vec::new(),
            unread_includes: Vec::new(),
            ignores: Vec::new(),
        }
    }

    /// The sites that answer for `host` (None: any host): those naming it, else the sites
    /// with no host names (the default server), else all sites.
    pub fn sites_for(&self, host: Option<&str>) -> Vec<&ProxySite> {
        let Some(host) = host else {
            return self.sites.iter().collect();
        };
        let named: Vec<&ProxySite> = self
            .sites
            .iter()
            .filter(|s| s.hosts.iter().any(|h| host_matches(&h.value, host)))
            .collect();
        if !named.is_empty() {
            return named;
        }
        let any: Vec<&ProxySite> = self.sites.iter().filter(|s| s.hosts.is_empty()).collect();
        if any.is_empty() {
            self.sites.iter().collect()
        } else {
            any
        }
    }

    /// The route of `site` that serves `path`, as the proxy picks it.
    ///
    /// nginx (the `ngx_http_core_find_location` order): an exact `=` match wins; else the
    /// longest prefix is remembered; if it is `^~` it wins; else the regex locations are
    /// tried in file order and the first that matches wins; else the longest prefix. Within
    /// the winning location, its nested locations are searched the same way.
    ///
    /// Other kinds: the first route in [`ProxySite::routes`] whose path matches — so their
    /// readers must list routes in the proxy's own evaluation order (Caddy: directive order
    /// and `handle` path specificity; HAProxy: `use_backend` lines in order, then
    /// `default_backend`; Traefik: router priority, by default the rule's length, longest
    /// first).
    pub fn route_for<'a>(&self, site: &'a ProxySite, path: &str) -> Option<&'a ProxyRoute> {
        match self.kind {
            ProxyKind::Nginx => nginx_find_location(&site.routes, path),
            _ => site.routes.iter().find(|r| r.path.matches(path)),
        }
    }

    /// The group a target names.
    pub fn group(&self, target: &ProxyTarget) -> Option<&UpstreamGroup> {
        target.group.and_then(|i| self.upstreams.get(i))
    }
}

/// A `server_name`-style host pattern against a host: exact, `*.example.com`,
/// `.example.com` (both the domain and its subdomains), `example.*`; `_` and regex names
/// (`~^…`) never match a given name here.
fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if pattern == host {
        return true;
    }
    if let Some(rest) = pattern.strip_prefix("*.") {
        return host.ends_with(&format!(".{rest}"));
    }
    if let Some(rest) = pattern.strip_prefix('.') {
        return host == rest || host.ends_with(&format!(".{rest}"));
    }
    if let Some(rest) = pattern.strip_suffix(".*") {
        return host.starts_with(&format!("{rest}."));
    }
    false
}

/// nginx's location search (see [`ProxyConfig::route_for`]). Source: nginx 1.26
/// `src/http/ngx_http_core_module.c` (`ngx_http_core_find_location`,
/// `ngx_http_core_find_static_location`) and the `location` directive's documentation,
/// <https://nginx.org/en/docs/http/ngx_http_core_module.html#location>.
fn nginx_find_location<'a>(routes: &'a [ProxyRoute], path: &str) -> Option<&'a ProxyRoute> {
    match nginx_search(routes, path) {
        Found::Final(r) | Found::Prefix(r) => Some(r),
        Found::Nothing => None,
    }
}

/// The outcome of one level of nginx's search: `Final` is `NGX_OK` (an exact or a regex
/// match: the search stops), `Prefix` is `NGX_AGAIN` (a prefix match that the regexes of
/// the enclosing levels may still override).
enum Found<'a> {
    Nothing,
    Prefix(&'a ProxyRoute),
    Final(&'a ProxyRoute),
}

fn nginx_search<'a>(routes: &'a [ProxyRoute], path: &str) -> Found<'a> {
    if let Some(exact) = routes
        .iter()
        .find(|r| matches!(&r.path, PathMatch::Exact(p) if p == path))
    {
        return Found::Final(exact);
    }
    let longest = routes
        .iter()
        .filter(|r| {
            matches!(&r.path, PathMatch::Prefix(p) | PathMatch::PrefixNoRegex(p)
                if path.starts_with(p.as_str()))
        })
        .max_by_key(|r| match &r.path {
            PathMatch::Prefix(p) | PathMatch::PrefixNoRegex(p) => p.len(),
            _ => 0,
        });
    let mut current = None;
    let mut noregex = false;
    if let Some(prefix) = longest {
        current = Some(prefix);
        noregex = matches!(prefix.path, PathMatch::PrefixNoRegex(_));
        // The prefix winner's nested locations are searched first; an exact or regex match
        // there ends the search, a nested prefix replaces the outer one.
        match nginx_search(&prefix.nested, path) {
            Found::Final(r) => return Found::Final(r),
            Found::Prefix(r) => current = Some(r),
            Found::Nothing => {}
        }
    }
    if !noregex
        && let Some(re) = routes
            .iter()
            .find(|r| matches!(r.path, PathMatch::Regex { .. }) && r.path.matches(path))
    {
        return match nginx_search(&re.nested, path) {
            Found::Final(r) | Found::Prefix(r) => Found::Final(r),
            Found::Nothing => Found::Final(re),
        };
    }
    current.map_or(Found::Nothing, Found::Prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(line: u32, path: PathMatch) -> ProxyRoute {
        ProxyRoute::new(Span::new("t.conf", line, 1), path)
    }

    #[test]
    fn nginx_location_order() {
        let routes = vec![
            route(1, PathMatch::Prefix("/".into())),
            route(2, PathMatch::Prefix("/ws/".into())),
            route(
                3,
                PathMatch::Regex {
                    pattern: r"\.(png|js)$".into(),
                    case_insensitive: true,
                },
            ),
            route(4, PathMatch::PrefixNoRegex("/static/".into())),
            route(5, PathMatch::Exact("/ws/x".into())),
        ];
        let line = |p: &str| nginx_find_location(&routes, p).map(|r| r.span.line);
        assert_eq!(line("/ws/socket.io/"), Some(2));
        assert_eq!(line("/ws/x"), Some(5), "exact wins");
        assert_eq!(line("/ws/a.JS"), Some(3), "regex beats a plain prefix");
        assert_eq!(line("/static/a.js"), Some(4), "^~ stops the regex search");
        assert_eq!(line("/other"), Some(1));
        assert_eq!(nginx_find_location(&routes[1..2], "/x"), None);
    }

    #[test]
    fn nested_locations_are_searched_inside_the_winner() {
        let mut outer = route(1, PathMatch::Prefix("/app/".into()));
        outer.nested = vec![route(2, PathMatch::Prefix("/app/socket.io/".into()))];
        let routes = vec![outer, route(3, PathMatch::Prefix("/".into()))];
        let found = nginx_find_location(&routes, "/app/socket.io/").unwrap();
        assert_eq!(found.span.line, 2);
    }

    #[test]
    fn rewrite_applies_prefix_replacement() {
        let r = PathRewrite::ReplacePrefix {
            prefix: "/api/".into(),
            with: "/".into(),
            span: None,
        };
        assert_eq!(r.apply("/api/socket.io/").as_deref(), Some("/socket.io/"));
        assert_eq!(r.apply("/other"), None);
    }

    #[test]
    fn server_name_patterns() {
        assert!(host_matches("*.example.com", "chat.example.com"));
        assert!(host_matches(".example.com", "example.com"));
        assert!(host_matches("example.*", "example.org"));
        assert!(!host_matches("_", "example.org"));
    }
}
