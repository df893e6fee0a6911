//! The `docker.*` checks: pure judges of what the Engine API said about the deployment's
//! containers ([`DockerObservations`]), and, for `docker.env-drift`, of what the files would
//! give them today ([`Deployment`]).

mod containers;
mod dns_alias;
mod engine;
mod env_drift;
mod network_shared;
mod ports;
mod redis_command;
mod swarm;
mod swarm_env_drift;
mod swarm_network_shared;
mod swarm_replicas;

use std::collections::BTreeMap;

use crate::catalogue::Rule;
use crate::config::Deployment;
use crate::probe::docker::{ContainerFacts, DockerObservations};
use crate::report::CheckResult;

pub use containers::CONTAINERS;
pub use dns_alias::DNS_ALIAS;
pub use engine::ENGINE;
pub use env_drift::ENV_DRIFT;
pub use network_shared::NETWORK_SHARED;
pub use ports::PORTS;
pub use redis_command::REDIS_COMMAND;
pub use swarm::container_spec as swarm_container_spec;
pub use swarm_env_drift::SWARM_ENV_DRIFT;
pub use swarm_network_shared::SWARM_NETWORK_SHARED;
pub use swarm_replicas::SWARM_REPLICAS;

/// Every `docker.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &ENGINE,
    &CONTAINERS,
    &NETWORK_SHARED,
    &DNS_ALIAS,
    &ENV_DRIFT,
    &REDIS_COMMAND,
    &PORTS,
    &SWARM_REPLICAS,
    &SWARM_NETWORK_SHARED,
    &SWARM_ENV_DRIFT,
];

/// The checks of a compose project's containers (the rest are the swarm stack's).
const CONTAINER_RULES: std::ops::Range<usize> = 1..7;

/// The deployment files as read for env-drift: the model, or why there is none.
pub type DeploymentFacts<'a> = Result<&'a Deployment, String>;

/// What a run is about beyond the observations.
#[derive(Debug, Clone, Default)]
pub struct DockerScope {
    /// `--service`: only this service counts as the app.
    pub service: Option<String>,
    /// The compose project name, for the fix commands (`docker compose -p NAME …`).
    pub project: Option<String>,
}

/// Runs every docker check. When the engine is unusable, every other check is skipped
/// because of `docker.engine`.
pub fn run(
    obs: &DockerObservations,
    files: DeploymentFacts<'_>,
    scope: &DockerScope,
) -> Vec<CheckResult> {
    let mut results = vec![engine::judge(obs)];
    if obs.engine.is_err() {
        for rule in &RULES[1..] {
            results.push(rule.skip_because(ENGINE.id));
        }
        return results;
    }
    if let Some(stack) = stack_without_containers(obs) {
        // `--project NAME` is a swarm stack here: its containers are tasks, judged through
        // their services below, not as a compose project that is not there.
        for rule in &RULES[CONTAINER_RULES] {
            results.push(rule.skip(format!(
                "'{}' is a swarm stack on this engine ({stack} services), not a compose \
                 project: see the docker.swarm-* checks",
                obs.swarm.as_ref().map_or("", |s| s.namespace.as_str())
            )));
        }
    } else {
        let roles = Roles::of(obs, scope);
        results.extend(containers::judge(obs, &roles));
        results.extend(network_shared::judge(obs, &roles));
        results.extend(dns_alias::judge(&roles));
        results.extend(env_drift::judge(&roles, files.clone(), scope));
        results.extend(redis_command::judge(&roles));
        results.extend(ports::judge(obs, &roles));
    }
    results.extend(swarm_replicas::judge(obs, files.clone(), scope));
    results.extend(swarm_network_shared::judge(obs, scope));
    results.extend(swarm_env_drift::judge(obs, files, scope));
    results
}

/// How many services the selected stack has, when the selection found stack services and no
/// compose container.
pub fn stack_without_containers(obs: &DockerObservations) -> Option<usize> {
    let swarm = obs.swarm.as_ref()?;
    (obs.containers.is_empty() && obs.missing.is_empty() && !swarm.services.is_empty())
        .then_some(swarm.services.len())
}

/// Which container plays which part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    App,
    Redis,
    Other,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Redis => "redis",
            Role::Other => "other",
        }
    }
}

/// The selected containers sorted by role.
#[derive(Debug, Clone)]
pub struct Roles<'a> {
    pub all: Vec<(&'a ContainerFacts, Role)>,
    pub apps: Vec<&'a ContainerFacts>,
    pub redis: Vec<&'a ContainerFacts>,
    /// `--service` was given and matches no container.
    pub service_missing: Option<String>,
}

impl<'a> Roles<'a> {
    pub fn of(obs: &'a DockerObservations, scope: &DockerScope) -> Roles<'a> {
        let mut all = Vec::new();
        for c in &obs.containers {
            let role = if is_redis(c) {
                Role::Redis
            } else if is_app(c) {
                Role::App
            } else {
                Role::Other
            };
            // `--service` names the app even when nothing in its env says so.
            let role = match &scope.service {
                Some(s) if c.service() == Some(s.as_str()) && role != Role::Redis => Role::App,
                Some(_) if role == Role::App => Role::Other,
                _ => role,
            };
            all.push((c, role));
        }
        let pick = |r: Role| {
            all.iter()
                .filter(|(_, role)| *role == r)
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
        };
        let apps = pick(Role::App);
        let redis = pick(Role::Redis);
        let service_missing = scope.service.clone().filter(|s| {
            !obs.containers
                .iter()
                .any(|c| c.service() == Some(s.as_str()))
        });
        Roles {
            all,
            apps,
            redis,
            service_missing,
        }
    }

    pub fn role(&self, c: &ContainerFacts) -> Role {
        self.all
            .iter()
            .find(|(x, _)| std::ptr::eq(*x, c))
            .map_or(Role::Other, |(_, r)| *r)
    }
}

/// The image a container was created from, as the user named it (`redis:7-alpine`).
fn image_name(c: &ContainerFacts) -> &str {
    c.inspect
        .config
        .as_ref()
        .and_then(|cfg| cfg.image.as_deref())
        .unwrap_or("")
}

/// The repository part of an image reference, without registry, tag or digest:
/// `docker.io/bitnami/redis:7.2@sha256:…` → `redis`.
fn image_repo_leaf(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    let leaf = no_digest.rsplit('/').next().unwrap_or(no_digest);
    leaf.split(':').next().unwrap_or(leaf).to_ascii_lowercase()
}

/// Entrypoint + Cmd: the process the container runs.
pub fn command_line(c: &ContainerFacts) -> Vec<String> {
    let cfg = c.inspect.config.as_ref();
    let mut argv: Vec<String> = cfg.and_then(|c| c.entrypoint.clone()).unwrap_or_default();
    argv.extend(cfg.and_then(|c| c.cmd.clone()).unwrap_or_default());
    argv
}

/// Redis (or Valkey, its fork): the image is `redis`/`valkey` (any registry or namespace:
/// `bitnami/redis`, `valkey/valkey`), or the command runs redis-server/valkey-server.
pub fn is_redis(c: &ContainerFacts) -> bool {
    let leaf = image_repo_leaf(image_name(c));
    if matches!(
        leaf.as_str(),
        "redis" | "valkey" | "redis-stack-server" | "redis-stack"
    ) {
        return true;
    }
    command_line(c)
        .iter()
        .any(|a| a.contains("redis-server") || a.contains("valkey-server"))
}

/// The app: its env names a Redis for Socket.IO, or it is an Open WebUI / Chainlit image.
pub fn is_app(c: &ContainerFacts) -> bool {
    let env = c.env();
    if ["REDIS_URL", "WEBSOCKET_REDIS_URL", "WEBSOCKET_MANAGER"]
        .iter()
        .any(|k| env.contains_key(*k))
    {
        return true;
    }
    let image = image_name(c).to_ascii_lowercase();
    image.contains("open-webui") || image.contains("chainlit")
}

/// The env keys whose value is the Redis the app uses for Socket.IO, in the order the apps
/// read them (Open WebUI: WEBSOCKET_REDIS_URL, falling back to REDIS_URL).
pub const REDIS_URL_KEYS: [&str; 2] = ["REDIS_URL", "WEBSOCKET_REDIS_URL"];

/// The parts of a Redis URL these checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts {
    pub host: String,
    pub port: Option<u16>,
    /// Percent-decoded.
    pub password: Option<String>,
}

/// Host, port and password of a Redis URL, through the project's parser
/// ([`crate::config::redis_url`]). A password with an unencoded `@`/`#` is read the way the
/// user meant it (host after the last `@`): `config.redis-url-unencoded` reports the URL
/// itself; here the question is only which container it names. None for unix sockets and
/// text that is not a Redis URL.
pub fn parse_redis_url(url: &str) -> Option<UrlParts> {
    use crate::config::redis_url;
    if let Some(u) = redis_url::find_unencoded_password(url) {
        let (host, port) = match u.intended_host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, p.parse().ok()),
            _ => (u.intended_host.as_str(), None),
        };
        return Some(UrlParts {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port,
            password: Some(u.password).filter(|p| !p.is_empty()),
        });
    }
    let parsed = redis_url::parse(url).ok()?;
    if parsed.socket_path.is_some() || parsed.host.is_empty() {
        return None;
    }
    Some(UrlParts {
        host: parsed.host.to_ascii_lowercase(),
        port: parsed.port_given.then_some(parsed.port),
        password: parsed.password.filter(|p| !p.is_empty()),
    })
}

/// The Redis URLs an app container carries: `(key, value)`, REDIS_URL first.
pub fn redis_urls(c: &ContainerFacts) -> Vec<(&'static str, String)> {
    let env = c.env();
    REDIS_URL_KEYS
        .iter()
        .filter_map(|k| env.get(*k).map(|v| (*k, v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}

/// Networks a container is attached to, with its aliases on each.
pub fn networks(c: &ContainerFacts) -> BTreeMap<String, Vec<String>> {
    c.inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| {
            n.iter()
                .map(|(name, ep)| {
                    let mut names = ep.aliases.clone().unwrap_or_default();
                    names.extend(ep.dns_names.clone().unwrap_or_default());
                    (name.clone(), names)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `HostConfig.NetworkMode` (`default`, `bridge`, `host`, `none`, `container:ID`, a network).
pub fn network_mode(c: &ContainerFacts) -> &str {
    c.inspect
        .host_config
        .as_ref()
        .and_then(|h| h.network_mode.as_deref())
        .unwrap_or("")
}

/// The default bridge network has no embedded DNS: containers there find each other only
/// through legacy `--link`s (Docker docs, "Differences between user-defined bridges and the
/// default bridge").
pub const DEFAULT_BRIDGE: &str = "bridge";

/// The networks two containers share.
pub fn shared_networks(a: &ContainerFacts, b: &ContainerFacts) -> Vec<String> {
    let bn = networks(b);
    networks(a)
        .into_keys()
        .filter(|n| bn.contains_key(n))
        .collect()
}

/// Both run in the host's network namespace, or one joined the other's (`container:`):
/// then `localhost` reaches the other.
pub fn same_netns(a: &ContainerFacts, b: &ContainerFacts) -> bool {
    let (ma, mb) = (network_mode(a), network_mode(b));
    if ma == "host" && mb == "host" {
        return true;
    }
    let joined = |mode: &str, other: &ContainerFacts| {
        mode.strip_prefix("container:").is_some_and(|target| {
            other.name() == target
                || other
                    .inspect
                    .id
                    .as_deref()
                    .is_some_and(|id| id.starts_with(target))
        })
    };
    joined(ma, b) || joined(mb, a)
}

/// The Redis container an app's URL host names, else the only Redis there is.
pub fn redis_for<'a>(
    app: &ContainerFacts,
    redis: &[&'a ContainerFacts],
) -> Option<&'a ContainerFacts> {
    for (_, url) in redis_urls(app) {
        if let Some(parts) = parse_redis_url(&url)
            && let Some(r) = redis
                .iter()
                .find(|r| names_on_any_network(app, r).contains(&parts.host))
        {
            return Some(r);
        }
    }
    // No name matched: the one sharing a network with the app, else the only one.
    redis
        .iter()
        .find(|r| !shared_networks(app, r).is_empty())
        .or_else(|| {
            if redis.len() == 1 {
                redis.first()
            } else {
                None
            }
        })
        .copied()
}

/// Every name under which `target` is known on any network (container name, service name,
/// aliases): what a URL host may legitimately be.
pub fn names_on_any_network(_from: &ContainerFacts, target: &ContainerFacts) -> Vec<String> {
    let mut names = vec![target.name().to_ascii_lowercase()];
    if let Some(s) = target.service() {
        names.push(s.to_ascii_lowercase());
    }
    for aliases in networks(target).into_values() {
        names.extend(aliases.into_iter().map(|a| a.to_ascii_lowercase()));
    }
    names.sort();
    names.dedup();
    names
}

/// Compose's `up -d --force-recreate` for a service, with `-p` when the project is named.
pub fn recreate_command(project: Option<&str>, service: &str) -> String {
    match project {
        Some(p) => format!("docker compose -p {p} up -d --force-recreate {service}"),
        None => format!("docker compose up -d --force-recreate {service}"),
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_are_parsed_for_host_and_password() {
        let p = parse_redis_url("redis://:s3cret@beagle-redis:6379/0").unwrap();
        assert_eq!(p.host, "beagle-redis");
        assert_eq!(p.port, Some(6379));
        assert_eq!(p.password.as_deref(), Some("s3cret"));
        // An unencoded `@` in the password: the host is after the last `@`.
        let p = parse_redis_url("redis://default:p@ss@redis:6380").unwrap();
        assert_eq!(p.host, "redis");
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        let p = parse_redis_url("rediss://redis.example.com").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.password),
            ("redis.example.com", None, None)
        );
        let p = parse_redis_url("redis://:a%23b@[::1]:6379/1").unwrap();
        assert_eq!(p.host, "::1");
        assert_eq!(p.password.as_deref(), Some("a#b"));
        assert_eq!(parse_redis_url("unix:///run/redis.sock"), None);
        assert_eq!(parse_redis_url("not a url"), None);
    }

    #[test]
    fn image_leaf_ignores_registry_tag_and_digest() {
        assert_eq!(image_repo_leaf("docker.io/bitnami/redis:7.2"), "redis");
        assert_eq!(image_repo_leaf("valkey/valkey:8@sha256:abc"), "valkey");
        assert_eq!(image_repo_leaf("localhost:5000/redis"), "redis");
        assert_eq!(
            image_repo_leaf("ghcr.io/open-webui/open-webui:main"),
            "open-webui"
        );
    }
}
