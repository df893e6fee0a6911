//! Where the live probes aim, decided from the deployment files: the Redis the app's manager
//! uses (reached from here: through the port its service publishes when the service name only
//! resolves inside the compose network) and the address and socket.io path of the app.
//!
//! Shared by `diagnose` and `redis --from-config`, so both reach the same Redis the same way.

use std::time::Duration;

use crate::apps::{self, SocketIoApp};
use crate::config::{Deployment, PortMapping, Service};
use crate::probe::redis::target::{HostPort, RedisTarget, parse_url};
use crate::redact::Secrets;

/// Why a live probe is not run: its checks are all `skip` with this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// A check of the files already shows the probe would only repeat its failure.
    Because(&'static str),
    Reason(String),
}

/// The app the live probes are about: `--service`, else the first Socket.IO app; `app` is
/// `--app` (overrides recognition).
pub fn the_app<'a>(
    d: &'a Deployment,
    app: Option<&str>,
    service: Option<&str>,
) -> Option<SocketIoApp<'a>> {
    let all = apps::apps_with(d, app, service);
    match service {
        Some(name) => all.into_iter().find(|a| a.service.name == name),
        None => all.into_iter().next(),
    }
}

/// The published port of `service` that maps to `target` (or the first TCP one when `target`
/// is None), as a host:port reachable from here.
pub fn published(service: &Service, target: Option<u16>) -> Option<(String, u16)> {
    let tcp = |p: &&PortMapping| p.protocol.is_empty() || p.protocol == "tcp";
    let pick = service
        .ports
        .iter()
        .filter(tcp)
        .find(|p| {
            target.is_some_and(|t| p.target_port() == Some(t)) && p.published_port().is_some()
        })
        .or_else(|| {
            if target.is_some() {
                None
            } else {
                service
                    .ports
                    .iter()
                    .filter(tcp)
                    .find(|p| p.published_port().is_some())
            }
        })?;
    let host = match pick.host_ip.as_deref() {
        None | Some("") | Some("0.0.0.0") | Some("::") => "127.0.0.1".to_string(),
        Some(ip) => ip.to_string(),
    };
    Some((host, pick.published_port()?))
}

/// Whether `host` resolves from where wsdoctor runs (a compose service name usually does
/// not, outside the compose network).
pub async fn resolves_here(host: &str, deadline: Duration) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    match tokio::time::timeout(deadline, tokio::net::lookup_host((host, 0))).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some(),
        _ => false,
    }
}

/// The Redis the app's manager uses, as the probe should reach it.
#[derive(Debug, Clone)]
pub struct RedisPlan {
    pub target: RedisTarget,
    /// How the address was chosen, for the report (None: the URL's own address).
    pub note: Option<String>,
    /// The service whose URL it is, and the variable that sets it.
    pub service: String,
    pub variable: String,
}

/// Plans the Redis probe for `wanted` (a service name; None: the first app with a URL).
/// `redis_host` (`HOST:PORT`) overrides the address and keeps the credentials and db.
pub async fn plan_redis(
    d: &Deployment,
    app: Option<&str>,
    wanted: Option<&str>,
    redis_host: Option<&str>,
    deadline: Duration,
    secrets: &mut Secrets,
) -> Result<RedisPlan, NotRun> {
    let urls = apps::websocket_redis_urls_with(d, app, wanted);
    let Some(url) = urls.iter().find(|u| wanted.is_none_or(|w| w == u.service)) else {
        return Err(NotRun::Reason(match wanted {
            Some(w) => format!(
                "service {w} sets neither WEBSOCKET_REDIS_URL nor REDIS_URL: nothing to probe"
            ),
            None => {
                "no service sets WEBSOCKET_REDIS_URL or REDIS_URL: nothing to probe".to_string()
            }
        }));
    };
    secrets.add_url_passwords(&url.url);
    let mut target = parse_url(&url.url).map_err(|_| NotRun::Because("config.redis-url-syntax"))?;
    if let Some(p) = &target.password {
        secrets.add(p);
    }
    let plan = |target, note| RedisPlan {
        target,
        note,
        service: url.service.clone(),
        variable: url.variable.clone(),
    };
    if let Some(h) = redis_host {
        let (host, port) = h
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| NotRun::Reason(format!("--redis-host {h}: expected HOST:PORT")))?;
        target.overridden_from = Some(target.addr.clone());
        target.addr = HostPort { host, port };
        return Ok(plan(target, Some(format!("reached at {h} (--redis-host)"))));
    }
    // The manager goes through Sentinel (Open WebUI's WEBSOCKET_SENTINEL_HOSTS): the URL's
    // host is the master name; ask the sentinels, reached from here as any service is.
    let sentinel = apps::apps_with(d, app, wanted)
        .into_iter()
        .find(|a| a.service.name == url.service)
        .and_then(|a| a.sentinel);
    if target.sentinel.is_none()
        && let Some(s) = sentinel.filter(|s| !s.hosts.is_empty())
    {
        let mut sentinels = Vec::new();
        let mut notes = Vec::new();
        for host in &s.hosts {
            let addr = HostPort {
                host: host.clone(),
                port: s.port,
            };
            if resolves_here(host, deadline).await {
                sentinels.push(addr);
            } else if let Some((reached, note)) = published_redis(d, &addr) {
                sentinels.push(reached);
                notes.push(note);
            } else {
                return Err(NotRun::Reason(format!(
                    "the sentinel '{host}' ({}) does not resolve from here and publishes no \
                     port: run `wsdoctor redis --sentinel HOST:PORT --master {}` where it \
                     resolves",
                    s.source, target.addr.host
                )));
            }
        }
        let master = target.addr.host.clone();
        target.addr = sentinels[0].clone();
        target.sentinel = Some(crate::probe::redis::target::SentinelSpec { sentinels, master });
        let note = format!(
            "through Sentinel ({}){}",
            s.source,
            if notes.is_empty() {
                String::new()
            } else {
                format!(": {}", notes.join("; "))
            }
        );
        return Ok(plan(target, Some(note)));
    }
    if target.sentinel.is_some() || resolves_here(&target.addr.host, deadline).await {
        return Ok(plan(target, None));
    }
    match published_redis(d, &target.addr) {
        Some((addr, note)) => {
            target.overridden_from = Some(target.addr.clone());
            target.addr = addr;
            Ok(plan(target, Some(note)))
        }
        // Kubernetes: a cluster DNS name; kubectl port-forward brings the Service here.
        None if d.kube.is_some() => Err(NotRun::Reason(format!(
            "'{}' resolves only inside the cluster: run `kubectl port-forward svc/{} {}` \
             (with -n NAMESPACE) and give --redis-host 127.0.0.1",
            target.addr.host,
            target.addr.host.split('.').next().unwrap_or_default(),
            target.addr.port
        ))),
        None => Err(NotRun::Reason(
            match d
                .services
                .iter()
                .find(|s| s.dns_names().contains(&target.addr.host.as_str()))
            {
                Some(server) => format!(
                    "'{}' resolves only inside the compose network and {} publishes no port: \
                     run `wsdoctor redis` inside the network, publish 127.0.0.1:{}:{} or give \
                     --redis-host",
                    target.addr.host, server.name, target.addr.port, target.addr.port
                ),
                None => format!(
                    "'{}' does not resolve from here and is not a service of the files",
                    target.addr.host
                ),
            },
        )),
    }
}

/// A compose service's Redis address (`addr`, a service name that resolves only inside the
/// compose network) as reached from this host: the port that service publishes for it, with
/// a sentence for the report.
pub fn published_redis(d: &Deployment, addr: &HostPort) -> Option<(HostPort, String)> {
    let server = d
        .services
        .iter()
        .find(|s| s.dns_names().contains(&addr.host.as_str()))?;
    let (host, port) = published(server, Some(addr.port))?;
    let note = format!(
        "'{}' resolves only inside the compose network: reached through the port {} \
         publishes, {host}:{port}",
        addr.host, server.name
    );
    Some((HostPort { host, port }, note))
}

/// The app's address as the browser reaches it from here: its port published on this host
/// (the container port the app listens on, else the first published one).
pub fn app_url(app: &SocketIoApp<'_>) -> Result<String, NotRun> {
    match app
        .container_port
        .as_ref()
        .map(|p| p.value)
        .and_then(|p| published(app.service, Some(p)))
        .or_else(|| published(app.service, None))
    {
        Some((host, port)) => Ok(format!("http://{host}:{port}")),
        None => Err(NotRun::Reason(format!(
            "{} publishes no port: give --url (the address the browser uses)",
            app.service.name
        ))),
    }
}
