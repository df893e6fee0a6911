//! The `proxy.*` checks: the reverse proxy in front of the app (nginx, Caddy, HAProxy,
//! Traefik), read from its configuration files into [`crate::config::proxy`]'s model.
//!
//! Every check asks one question of the route that serves the app's socket.io path
//! ([`Served`]): found once here, the way the proxy itself would pick it.

pub mod affinity;
pub(crate) mod fixes;
pub mod path;
pub mod syntax;
pub mod timeout;
pub mod upgrade;
pub mod upstream;

use std::time::Duration;

use crate::apps::SocketIoApp;
use crate::catalogue::Rule;
use crate::checks::config::Facts;
use crate::config::proxy::{ProxyConfig, ProxyRoute, ProxySite, UpstreamGroup};
use crate::report::CheckResult;

/// Every `proxy.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &syntax::RULE,
    &upgrade::RULE,
    &path::RULE,
    &upstream::RULE,
    &timeout::RULE,
    &affinity::RULE,
];

/// The checks in report order (the order of RULES).
type Check = fn(&Facts, &Expectations) -> Vec<CheckResult>;
static CHECKS: &[Check] = &[
    |f, _| syntax::check(f),
    |f, _| upgrade::check(f),
    |f, _| path::check(f),
    |f, _| upstream::check(f),
    timeout::check,
    |f, _| affinity::check(f),
];

/// What the proxy checks judge against besides the files: the app's ping interval, the
/// Engine.IO default unless a live probe read the app's open packet (`diagnose`, filled by
/// `commands::expect::proxy_expectations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expectations {
    pub ping: PingInterval,
}

/// The app's pingInterval (and pingTimeout when read live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingInterval {
    pub interval: Duration,
    pub timeout: Option<Duration>,
    /// True when read from the open packet the live probe received.
    pub observed: bool,
}

impl Default for PingInterval {
    fn default() -> Self {
        PingInterval {
            interval: DEFAULT_PING_INTERVAL,
            timeout: None,
            observed: false,
        }
    }
}

impl PingInterval {
    /// Where the value comes from, for messages.
    pub fn source(&self) -> &'static str {
        if self.observed {
            "read live from the app's Engine.IO open packet"
        } else {
            "Engine.IO default; `diagnose` reads the app's own from its open packet"
        }
    }
}

/// Runs every proxy check on the deployment's proxy configurations, against the Engine.IO
/// defaults (`lint`: nothing live is known).
pub fn run(facts: &Facts) -> Vec<CheckResult> {
    run_with(facts, &Expectations::default())
}

/// Runs every proxy check, judging timeouts against `expect` (`diagnose`: what the live
/// probe read).
pub fn run_with(facts: &Facts, expect: &Expectations) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .flat_map(|check| check(facts, expect))
        .collect()
}

/// The Engine.IO server's default ping interval, the longest silence on a healthy
/// connection (the server pings every pingInterval; a long-poll is held at most that long):
/// python-engineio 4.x `Server(ping_interval=25)` (engineio/base_server.py), engine.io 6.x
/// `pingInterval: 25000` (lib/server.ts). The live probe reads the app's actual value from
/// the open packet.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(25);

/// The margin a proxy's idle timeout needs over the ping interval: the ping is sent by a
/// timer in the app's event loop, late under load, and the proxy's timer starts at the last
/// byte it saw.
pub const TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// The socket.io path requested when no app is recognised (the Socket.IO default).
pub const DEFAULT_SOCKETIO_PATH: &str = "/socket.io";

/// The route a proxy picks for the app's socket.io requests.
pub struct Served<'a> {
    pub config: &'a ProxyConfig,
    pub site: &'a ProxySite,
    /// None: no route of the site matches the path.
    pub route: Option<&'a ProxyRoute>,
    /// The app the path belongs to (None: no app recognised, the default path is used).
    pub app: Option<&'a SocketIoApp<'a>>,
    /// The path requested (`/ws/socket.io/`).
    pub path: String,
}

impl Served<'_> {
    /// `nginx.conf: location /ws/ (line 12)`-style subject for messages.
    pub fn subject(&self) -> String {
        match &self.app {
            Some(app) => format!("{} → {}", self.config.file, app.service.name),
            None => self.config.file.clone(),
        }
    }

    /// The group of servers the route sends to, if it names one.
    pub fn group(&self) -> Option<&UpstreamGroup> {
        self.route
            .and_then(|r| r.target.as_ref())
            .and_then(|t| self.config.group(t))
    }

    /// How the route is written, for messages: `location /ws/ at nginx.conf:12`.
    pub fn route_label(&self) -> String {
        match self.route {
            Some(r) => format!(
                "{} {} ({})",
                match self.config.kind {
                    crate::config::proxy::ProxyKind::Nginx => "location",
                    _ => "route",
                },
                r.path.describe(),
                line_of(&r.span)
            ),
            None => format!("no route (site at {})", line_of(&self.site.span)),
        }
    }
}

/// `line 12`, or `conf.d/x.conf:12` when the line is in an included file.
fn line_of(span: &crate::config::Span) -> String {
    format!("{}:{}", span.file, span.line)
}

/// The socket.io path an app's clients request, with its trailing slash
/// (`/ws/socket.io/?EIO=4…`).
fn request_path(app: Option<&SocketIoApp>) -> String {
    let base = app.map_or(DEFAULT_SOCKETIO_PATH, |a| a.socketio_path.as_str());
    format!("{}/", base.trim_end_matches('/'))
}

/// `/ws/socket.io/` from a route written `/ws/socket.io`, `^~ /socket.io/`, `~ ^/socket.io`.
fn socketio_prefix(described: &str) -> Option<String> {
    let at = described.find("/socket.io")?;
    let start = described[..at].rfind([' ', '^']).map_or(0, |i| i + 1);
    let prefix = &described[start..at];
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
    {
        return None;
    }
    Some(format!("{prefix}/socket.io/"))
}

/// Whether a route targets `app`'s service (directly or through its group's servers).
fn reaches(config: &ProxyConfig, route: &ProxyRoute, app: &SocketIoApp) -> bool {
    let names = app.service.dns_names();
    let Some(t) = &route.target else { return false };
    match config.group(t) {
        Some(g) => g.servers.iter().any(|s| names.contains(&s.host.as_str())),
        None => names.contains(&t.host.as_str()),
    }
}

fn all_routes(routes: &[ProxyRoute]) -> Vec<&ProxyRoute> {
    routes
        .iter()
        .flat_map(|r| std::iter::once(r).chain(all_routes(&r.nested)))
        .collect()
}

/// For each proxy configuration and app: the sites that proxy anything (those reaching the
/// app's service, when some do), and in each the route the proxy picks for the app's path.
pub fn served<'a>(facts: &'a Facts<'a>) -> Vec<Served<'a>> {
    let mut out = Vec::new();
    let apps: Vec<Option<&SocketIoApp>> = if facts.apps.is_empty() {
        vec![None]
    } else {
        facts.apps.iter().map(Some).collect()
    };
    for config in &facts.deployment.proxies {
        let proxying: Vec<&ProxySite> = config
            .sites
            .iter()
            .filter(|s| all_routes(&s.routes).iter().any(|r| r.target.is_some()))
            .collect();
        for app in &apps {
            // No app recognised: judge only what the file itself says is a socket.io route
            // (a location whose path names socket.io); other websocket apps use other paths.
            let named = facts.named_app.map(|p| p.socketio_path);
            let path = match (app, named) {
                (Some(_), _) => request_path(*app),
                (None, Some(p)) => format!("{}/", p.trim_end_matches('/')),
                (None, None) => match proxying
                    .iter()
                    .flat_map(|s| all_routes(&s.routes))
                    .find_map(|r| socketio_prefix(&r.path.describe()))
                {
                    Some(p) => p,
                    None => continue,
                },
            };
            let to_app: Vec<&ProxySite> = match app {
                Some(a) => proxying
                    .iter()
                    .copied()
                    .filter(|s| all_routes(&s.routes).iter().any(|r| reaches(config, r, a)))
                    .collect(),
                None => Vec::new(),
            };
            let sites = if to_app.is_empty() {
                &proxying
            } else {
                &to_app
            };
            for site in sites {
                out.push(Served {
                    config,
                    site,
                    route: config.route_for(site, &path),
                    app: *app,
                    path: path.clone(),
                });
            }
        }
    }
    out
}

/// The result for a rule when there is nothing to judge: no proxy configuration, or none
/// that proxies anything.
fn nothing_served(rule: &'static Rule, facts: &Facts) -> Vec<CheckResult> {
    if facts.deployment.proxies.is_empty() {
        return vec![rule.skip(
            "no proxy configuration read (none mounted into a proxy service's configuration \
             path; give --proxy-config FILE)",
        )];
    }
    if facts.apps.is_empty() {
        return vec![rule.skip(
            "no Socket.IO app recognised in the project and no route of the proxy names a \
             socket.io path: nothing to judge (give -f with the app's compose file, or --app \
             NAME for its socket.io path)",
        )];
    }
    vec![rule.skip(format!(
        "{}: no site proxies requests to an upstream",
        facts
            .deployment
            .proxies
            .iter()
            .map(|p| p.file.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))]
}

/// A duration as a person writes it: `25 s`, `10 min`, `1 h`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 && s < 10 {
        format!("{} ms", d.as_millis())
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}
