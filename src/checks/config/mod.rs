//! The `config.*` checks: static, from the deployment files. Each check is one file holding
//! its rule and its judging function; [`Facts`] is what they share, derived once from the
//! deployment model (which service is an app, which is Redis, where each REDIS_URL points).

mod aioredis_conflict;
mod app_listen_host;
mod compose_syntax;
mod cors_origin;
mod depends_on_redis;
mod env_duplicate_key;
mod env_file_missing;
mod env_syntax;
pub mod ignore_unknown_id;
mod interpolation_unset;
mod network_shared;
mod polling_multi_worker;
mod redis_exposed_without_password;
mod redis_maxclients;
mod redis_timeout;
mod redis_url_db;
mod redis_url_host;
mod redis_url_loopback;
mod redis_url_missing;
mod redis_url_override;
mod redis_url_password;
mod redis_url_port;
mod redis_url_syntax;
mod redis_url_unencoded;
mod sentinel_timeout;
pub mod unused_suppression;
mod websocket_manager;
mod websocket_redis_url;

use crate::apps::{self, REDIS_URL_VARIABLES, SocketIoApp};
use crate::catalogue::Rule;
use crate::config::kube::resolve::{self, PortRoute, Resolved};
use crate::config::kube::{Cluster, KubeService};
use crate::config::redis_server::{self, RedisServer};
use crate::config::redis_url::{self, RedisUrl, RedisUrlError, UnencodedPassword};
use crate::config::{Deployment, EnvVar, Platform, Service};
use crate::report::{CheckResult, Location};

/// Every `config.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &env_syntax::RULE,
    &env_duplicate_key::RULE,
    &compose_syntax::RULE,
    &interpolation_unset::RULE,
    &env_file_missing::RULE,
    &redis_url_missing::RULE,
    &redis_url_syntax::RULE,
    &redis_url_unencoded::RULE,
    &redis_url_host::RULE,
    &redis_url_loopback::RULE,
    &redis_url_port::RULE,
    &redis_url_password::RULE,
    &redis_url_db::RULE,
    &redis_url_override::RULE,
    &websocket_redis_url::RULE,
    &websocket_manager::RULE,
    &polling_multi_worker::RULE,
    &app_listen_host::RULE,
    &cors_origin::RULE,
    &sentinel_timeout::RULE,
    &redis_timeout::RULE,
    &redis_maxclients::RULE,
    &network_shared::RULE,
    &depends_on_redis::RULE,
    &redis_exposed_without_password::RULE,
    &aioredis_conflict::RULE,
    // Judged on the suppressions of the run, in Report::finish (not a file check).
    &unused_suppression::RULE,
    &ignore_unknown_id::RULE,
];

type Check = fn(&Facts) -> Vec<CheckResult>;

/// The checks in report order (the order of RULES).
const CHECKS: &[Check] = &[
    env_syntax::check,
    env_duplicate_key::check,
    compose_syntax::check,
    interpolation_unset::check,
    env_file_missing::check,
    redis_url_missing::check,
    redis_url_syntax::check,
    redis_url_unencoded::check,
    redis_url_host::check,
    redis_url_loopback::check,
    redis_url_port::check,
    redis_url_password::check,
    redis_url_db::check,
    redis_url_override::check,
    websocket_redis_url::check,
    websocket_manager::check,
    polling_multi_worker::check,
    app_listen_host::check,
    cors_origin::check,
    sentinel_timeout::check,
    redis_timeout::check,
    redis_maxclients::check,
    network_shared::check,
    depends_on_redis::check,
    redis_exposed_without_password::check,
    aioredis_conflict::check,
];

/// Where a REDIS_URL's host leads inside the compose project.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// A service of the project, reached by one of its DNS names.
    Service {
        service: &'a Service,
        /// How the host matched: "service name", "container_name", "hostname", "alias".
        via: &'static str,
    },
    /// localhost / 127.0.0.1 / ::1: the app's own container.
    Loopback,
    /// An IP address or dotted name: outside the project.
    External,
    /// A single-label name no service answers to.
    Unknown,
    /// A unix socket.
    Socket,
    /// With Sentinel hosts set for every client reading the URL, the host is the Sentinel
    /// master *name*, not a DNS name.
    SentinelMaster,
    /// The host is a master name for one client of the app (Sentinel hosts set for it) while
    /// another client reading the same URL has no Sentinel hosts and dials it as a host.
    MasterNameDialed {
        /// Who dials it directly: "the Socket.IO manager".
        reader: &'static str,
        /// The variable that would give that reader the Sentinels.
        missing_var: &'static str,
        /// The Sentinel variable that is set (for the other reader).
        set_var: String,
        /// Whether the app's Socket.IO breaks (the manager) or only another feature.
        socketio_breaks: bool,
    },
    /// The URL does not parse, or its password breaks it.
    Unusable,
    /// Kubernetes: the host is a Service of the inputs that selects no pod (or no selector):
    /// the name resolves, but nothing answers (see `kube.service-selector`).
    EmptyService,
}

/// Kubernetes: how a URL's host and port reach a pod (cluster DNS, the Service's selector,
/// its port → targetPort → container port).
#[derive(Debug, Clone)]
pub struct KubeUrl<'a> {
    pub service: &'a KubeService,
    /// The name as the pod's resolver completes it.
    pub fqdn: String,
    /// A pod name of a headless Service (`redis-0.redis`).
    pub pod: Option<String>,
    /// The containers of the pods the Service selects.
    pub backends: Vec<&'a Service>,
    pub route: PortRoute<'a>,
}

/// One Redis URL given to one service.
#[derive(Debug, Clone)]
pub struct UrlUse<'a> {
    pub service: &'a Service,
    pub variable: &'static str,
    pub var: &'a EnvVar,
    /// The URL as the container gets it.
    pub text: String,
    pub parsed: Result<RedisUrl, RedisUrlError>,
    pub unencoded: Option<UnencodedPassword>,
    pub target: Target<'a>,
    /// Kubernetes: the Service the host names, and where its port leads.
    pub kube: Option<KubeUrl<'a>>,
}

impl<'a> UrlUse<'a> {
    pub fn location(&self) -> Option<Location> {
        self.var
            .span
            .as_ref()
            .map(crate::config::Span::location)
            .or_else(|| self.service.location())
    }

    /// The Redis service this URL reaches, if it is one of the project's.
    pub fn redis_service(&self) -> Option<&'a Service> {
        match &self.target {
            Target::Service { service, .. } => Some(service),
            _ => None,
        }
    }

    /// A short label for messages: `open-webui REDIS_URL`.
    pub fn label(&self) -> String {
        format!("{} {}", self.service.name, self.variable)
    }

    /// The URL as written (the report is redacted before rendering).
    pub fn shown(&self) -> String {
        self.text.clone()
    }

    /// Why there is no Redis service of the project to compare this URL with: a failed
    /// prerequisite (named, so the report correlates instead of repeating), or a plain reason.
    pub fn skip_without_server(&self, rule: &'static Rule) -> CheckResult {
        match &self.target {
            Target::Unknown => rule.skip_because("config.redis-url-host"),
            Target::Loopback => rule.skip_because("config.redis-url-loopback"),
            Target::Unusable if self.unencoded.as_ref().is_some_and(|x| !x.only_at) => {
                rule.skip_because("config.redis-url-unencoded")
            }
            Target::Unusable => rule.skip_because("config.redis-url-syntax"),
            Target::MasterNameDialed { .. } => rule.skip_because("config.redis-url-host"),
            Target::SentinelMaster => rule.skip(format!(
                "{}: the host is a Sentinel master name, resolved at run time",
                self.label()
            )),
            Target::Socket => rule.skip(format!("{} is a unix socket", self.label())),
            Target::EmptyService => rule.skip_because("kube.service-selector"),
            Target::External => {
                rule.skip(format!("{}: Redis is outside this project", self.label()))
            }
            Target::Service { service, .. } => rule.skip(format!(
                "{}: {} is not a Redis service wsdoctor recognises",
                self.label(),
                service.name
            )),
        }
    }

    /// The URL can be used as written (parses, and no reserved character breaks it).
    pub fn usable(&self) -> Option<&RedisUrl> {
        match (&self.parsed, &self.unencoded) {
            (Ok(u), None) => Some(u),
            (Ok(u), Some(un)) if un.only_at => Some(u),
            _ => None,
        }
    }
}

/// What the config checks share, derived once.
pub struct Facts<'a> {
    pub deployment: &'a Deployment,
    pub apps: Vec<SocketIoApp<'a>>,
    pub redis: Vec<RedisServer<'a>>,
    pub urls: Vec<UrlUse<'a>>,
    /// The app named with `--app`, whether or not a service of the project runs it: the
    /// proxy checks take its socket.io path when only a proxy file is given.
    pub named_app: Option<&'static crate::apps::AppProfile>,
}

fn resolve_target<'a>(
    deployment: &'a Deployment,
    parsed: &Result<RedisUrl, RedisUrlError>,
    unencoded: &Option<UnencodedPassword>,
) -> Target<'a> {
    let url = match (parsed, unencoded) {
        (Ok(u), None) => u,
        (Ok(u), Some(un)) if un.only_at => u,
        _ => return Target::Unusable,
    };
    if url.scheme == redis_url::Scheme::Unix {
        return Target::Socket;
    }
    let host = url.host.as_str();
    if redis_url::is_loopback(host) {
        return Target::Loopback;
    }
    for service in &deployment.services {
        let found = if service.name == host {
            Some("service name")
        } else if service
            .container_name
            .as_ref()
            .is_some_and(|c| c.value == host)
        {
            Some("container_name")
        } else if service.hostname.as_ref().is_some_and(|h| h.value == host) {
            Some("hostname")
        } else if service
            .networks
            .iter()
            .any(|n| n.aliases.iter().any(|a| a == host))
        {
            Some("network alias")
        } else {
            None
        };
        if let Some(via) = found {
            return Target::Service { service, via };
        }
    }
    if redis_url::looks_external(host) {
        Target::External
    } else {
        Target::Unknown
    }
}

/// Where a URL's host leads from the pods of `client` (Kubernetes DNS and Services).
fn resolve_kube_target<'a>(
    deployment: &'a Deployment,
    cluster: &'a Cluster,
    client: &Service,
    parsed: &Result<RedisUrl, RedisUrlError>,
    unencoded: &Option<UnencodedPassword>,
) -> (Target<'a>, Option<KubeUrl<'a>>) {
    let url = match (parsed, unencoded) {
        (Ok(u), None) => u,
        (Ok(u), Some(un)) if un.only_at => u,
        _ => return (Target::Unusable, None),
    };
    if url.scheme == redis_url::Scheme::Unix {
        return (Target::Socket, None);
    }
    if redis_url::is_loopback(&url.host) {
        return (Target::Loopback, None);
    }
    let namespace = client
        .kube
        .as_ref()
        .map_or(crate::config::kube::DEFAULT_NAMESPACE, |w| {
            w.namespace.as_str()
        });
    match resolve::resolve_host(cluster, &url.host, namespace) {
        Resolved::Service { service, pod, fqdn } => {
            let backends = resolve::selected(deployment, service);
            let route = resolve::route_port(service, url.port, &backends);
            let target = if service.external_name.is_some() {
                Target::External
            } else {
                // Among the selected containers, the Redis server (a sidecar may share the pod).
                let redis = backends
                    .iter()
                    .find(|b| redis_server::detect(b).is_some())
                    .or(backends.first());
                match redis {
                    Some(r) => Target::Service {
                        service: r,
                        via: "Kubernetes Service",
                    },
                    None => Target::EmptyService,
                }
            };
            let kube = KubeUrl {
                service,
                fqdn,
                pod,
                backends,
                route,
            };
            (target, Some(kube))
        }
        Resolved::Missing { .. } => (Target::Unknown, None),
        Resolved::Outside => (Target::External, None),
    }
}

impl<'a> Facts<'a> {
    pub fn new(deployment: &'a Deployment, only: Option<&str>) -> Self {
        Facts::with_app(deployment, only, None)
    }

    /// The facts with `--app` applied (`app`: the name given; see [`apps::apps_with`]).
    pub fn with_app(deployment: &'a Deployment, only: Option<&str>, app: Option<&str>) -> Self {
        let in_scope = |s: &Service| only.is_none_or(|o| o == s.name);
        let apps: Vec<SocketIoApp<'a>> = apps::apps_with(deployment, app, only)
            .into_iter()
            .filter(|a| in_scope(a.service))
            .collect();
        let mut urls = Vec::new();
        for service in deployment.services.iter().filter(|s| in_scope(s)) {
            let app = apps.iter().find(|a| a.service.name == service.name);
            for variable in REDIS_URL_VARIABLES {
                let Some(var) = service.environment.get(variable) else {
                    continue;
                };
                let Some(text) = var.value.clone().filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                // MESSAGE_QUEUE & co. are a convention of the apps whose manager URL is in
                // their code; a queue that is not Redis (amqp://) is not ours to judge.
                let classic = matches!(variable, "REDIS_URL" | "WEBSOCKET_REDIS_URL");
                if !classic
                    && (app.is_none_or(|a| {
                        !a.profile
                            .manager
                            .url_vars
                            .iter()
                            .any(|u| u.name == variable)
                    }) || !text.trim_start().starts_with("redis"))
                {
                    continue;
                }
                let parsed = redis_url::parse(&text);
                let unencoded = redis_url::find_unencoded_password(&text);
                let (resolved, kube) = match &deployment.kube {
                    Some(cluster) => {
                        resolve_kube_target(deployment, cluster, service, &parsed, &unencoded)
                    }
                    None => (resolve_target(deployment, &parsed, &unencoded), None),
                };
                let target = sentinel_target(service, app, variable, resolved);
                urls.push(UrlUse {
                    service,
                    variable,
                    var,
                    text,
                    parsed,
                    unencoded,
                    target,
                    kube,
                });
            }
        }
        let used: Vec<&str> = urls
            .iter()
            .filter_map(|u| u.redis_service().map(|s| s.name.as_str()))
            .collect();
        let redis = deployment
            .services
            .iter()
            .filter(|s| only.is_none() || used.contains(&s.name.as_str()))
            .filter_map(redis_server::detect)
            .collect();
        Facts {
            named_app: app
                .and_then(apps::AppId::from_cli)
                .map(apps::AppId::profile),
            deployment,
            apps,
            redis,
            urls,
        }
    }

    /// The URL uses that reach `server`.
    pub fn clients_of(&self, server: &Service) -> Vec<&UrlUse<'a>> {
        self.urls
            .iter()
            .filter(|u| u.redis_service().is_some_and(|s| s.name == server.name))
            .collect()
    }

    /// Whether any Socket.IO app's manager URL reaches `server`.
    pub fn used_by_socketio(&self, server: &Service) -> bool {
        self.clients_of(server).iter().any(|u| {
            self.apps.iter().any(|a| {
                a.service.name == u.service.name
                    && a.redis_url.as_ref().is_some_and(|r| r.source == u.variable)
            })
        })
    }

    /// The server the URL reaches, when it is a Redis service of the project.
    pub fn server_for(&self, url: &UrlUse) -> Option<&RedisServer<'a>> {
        let target = url.redis_service()?;
        self.redis.iter().find(|r| r.service.name == target.name)
    }
}

/// Runs every config check on the deployment (only for `service` and what it uses, if given).
pub fn run(deployment: &Deployment, service: Option<&str>) -> Vec<CheckResult> {
    run_for(deployment, service, None)
}

/// [`run`] with `--app NAME` overriding app recognition.
pub fn run_for(
    deployment: &Deployment,
    service: Option<&str>,
    app: Option<&str>,
) -> Vec<CheckResult> {
    let facts = Facts::with_app(deployment, service, app);
    // RULES lists the file checks in CHECKS order (the suppression rules follow them).
    let mut results: Vec<CheckResult> = CHECKS
        .iter()
        .zip(RULES.iter())
        .flat_map(|(check, rule)| {
            if deployment.aca.is_some() && COMPOSE_ONLY.contains(&rule.id) {
                vec![rule.skip(
                    "Azure Container Apps YAML: no compose file, .env interpolation or depends_on \
                     (the file itself is judged by aca.yaml-syntax)",
                )]
            } else {
                check(&facts)
            }
        })
        .collect();
    // Kubernetes manifests: the kube.* checks judge the same facts.
    results.extend(crate::checks::kube::run(&facts));
    results
}

/// Checks about compose's own mechanics, which a Container Apps deployment does not have.
const COMPOSE_ONLY: &[&str] = &[
    "config.compose-syntax",
    "config.interpolation-unset",
    "config.env-file-missing",
    "config.redis-url-override",
    "config.depends-on-redis",
];

/// Who reads `variable` of `service` and whether each reader goes through Sentinel: the
/// host is then a master name (or, when only some readers use Sentinel, a name another
/// reader dials as a host).
fn sentinel_target<'a>(
    service: &Service,
    app: Option<&SocketIoApp>,
    variable: &str,
    resolved: Target<'a>,
) -> Target<'a> {
    let name_like = matches!(
        resolved,
        Target::Unknown | Target::Service { .. } | Target::External
    );
    let Some(app) = app.filter(|a| {
        a.profile.manager.sentinel.is_some() || !a.profile.manager.other_sentinel_vars.is_empty()
    }) else {
        // Not an app with Sentinel variables of its own: REDIS_SENTINEL_HOSTS is the common
        // convention for the client of REDIS_URL.
        let sentinel = service
            .env("REDIS_SENTINEL_HOSTS")
            .is_some_and(|h| !h.trim().is_empty());
        return if sentinel && name_like {
            Target::SentinelMaster
        } else {
            resolved
        };
    };
    let m = &app.profile.manager;
    // (reader, uses Sentinel, the variable that gives it Sentinels, Socket.IO breaks)
    let mut readers: Vec<(&'static str, bool, &'static str, bool)> = Vec::new();
    let manager_reads =
        app.manager_enabled && app.redis_url.as_ref().is_some_and(|u| u.source == variable);
    if manager_reads && let Some(sv) = &m.sentinel {
        readers.push((
            "the Socket.IO manager",
            app.sentinel.is_some(),
            sv.hosts,
            true,
        ));
    }
    if variable == "REDIS_URL"
        && let Some(other) = m.other_sentinel_vars.first()
    {
        readers.push((
            "the app's REDIS_URL client",
            app.other_sentinel.is_some(),
            other,
            false,
        ));
    }
    let any = readers.iter().any(|r| r.1);
    if !any || !name_like {
        return resolved;
    }
    if readers.iter().all(|r| r.1) {
        return Target::SentinelMaster;
    }
    if matches!(resolved, Target::Service { .. }) {
        // A direct reader reaches a real service; the Sentinel reader asks for a master of
        // that name. Nothing to say about the host.
        return resolved;
    }
    let direct = readers
        .iter()
        .find(|r| !r.1)
        .expect("some reader is direct");
    let set = readers
        .iter()
        .find(|r| r.1)
        .expect("some reader uses Sentinel");
    Target::MasterNameDialed {
        reader: direct.0,
        missing_var: direct.2,
        set_var: set.2.to_string(),
        socketio_breaks: direct.3,
    }
}

/// For checks that judge each REDIS_URL: one skip when there is none.
fn no_urls(rule: &'static Rule) -> Vec<CheckResult> {
    vec![rule.skip("no service sets REDIS_URL or WEBSOCKET_REDIS_URL")]
}

/// For checks that judge each Socket.IO app: one skip when there is none.
pub(crate) fn no_apps(rule: &'static Rule) -> Vec<CheckResult> {
    vec![rule.skip(
        "no Socket.IO app found (Open WebUI by its image or WEBSOCKET_* variables; Chainlit, \
         Flask-SocketIO, python-socketio or Node socket.io by command or the requirements / \
         package.json of the build context); name it with --app and --service",
    )]
}

/// "myapp (Open WebUI 0.12.4, image ghcr.io/…)": which profile judged the service, and why.
pub(crate) fn app_evidence(r: CheckResult, app: &SocketIoApp) -> CheckResult {
    let r = r
        .evidence("app", app.app_label())
        .evidence("recognised_by", app.recognised.by.clone());
    match &app.recognised.fallback {
        Some(note) => r.evidence("fallback", note.clone()),
        None => r,
    }
}

/// For checks that judge each Redis service: one skip when there is none.
fn no_redis(rule: &'static Rule) -> Vec<CheckResult> {
    vec![rule.skip("no Redis or Valkey service in the deployment files")]
}

/// For checks whose meaning belongs to compose: one skip with the reason on Kubernetes.
fn compose_only(rule: &'static Rule, facts: &Facts, why: &str) -> Option<Vec<CheckResult>> {
    (facts.deployment.platform == Platform::Kubernetes)
        .then(|| vec![rule.skip(format!("Kubernetes manifests: {why}"))])
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for the checks' unit tests: the deployment builders of
    //! `config::test_support`, and a reader of statuses.
    pub use crate::config::test_support::*;

    /// The statuses the check produced, in order.
    pub fn statuses(results: &[crate::report::CheckResult]) -> Vec<&'static str> {
        results.iter().map(|r| r.status.as_str()).collect()
    }
}
