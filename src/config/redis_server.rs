//! What a Redis (or Valkey) service in the compose files is configured to do, read from its
//! image, `command:` and environment: port, password, timeout, maxclients, databases.
//!
//! Command-line flags override a config file, so a flag is always authoritative; a setting
//! neither on the command line nor in a known image variable is unknown when the server
//! reads a config file, and the Redis default otherwise.

use crate::config::{Service, Span};

/// Redis' defaults (redis.conf of 7.x).
pub const DEFAULT_TIMEOUT: u64 = 0;
pub const DEFAULT_MAXCLIENTS: u32 = 10_000;
pub const DEFAULT_DATABASES: u32 = 16;

/// Where a setting comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `--flag value` in the service's command (or in REDIS_ARGS for redis-stack images).
    Command,
    /// An image variable such as bitnami's REDIS_PASSWORD.
    Env(String),
    /// Not set: Redis' default applies.
    Default,
    /// Not set on the command line, and the server reads a config file we cannot see.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: Option<T>,
    pub origin: Origin,
    pub span: Option<Span>,
}

impl<T: Clone> Setting<T> {
    fn default_of(value: T, config_file: bool) -> Self {
        if config_file {
            Setting {
                value: None,
                origin: Origin::Unknown,
                span: None,
            }
        } else {
            Setting {
                value: Some(value),
                origin: Origin::Default,
                span: None,
            }
        }
    }
}

/// A Redis-compatible server defined in the compose files.
#[derive(Debug, Clone)]
pub struct RedisServer<'a> {
    pub service: &'a Service,
    /// `redis` or `valkey` (or the image's name for other compatible servers).
    pub flavor: String,
    pub port: Setting<u16>,
    /// The password clients must give; `Some(None)`-like states are expressed by
    /// `value: None` with `origin: Default` (no password).
    pub password: Setting<String>,
    pub timeout: Setting<u64>,
    pub maxclients: Setting<u32>,
    pub databases: Setting<u32>,
    /// `redis-server /path/redis.conf`.
    pub config_file: Option<String>,
    /// Variables users set believing they configure the server, that this image ignores
    /// (the official `redis` image has no REDIS_PASSWORD).
    pub ignored_password_env: Option<String>,
}

/// The repository part of an image reference, lowercased, without registry, tag or digest:
/// `docker.io/bitnami/redis:7.2` → `bitnami/redis`.
pub fn image_repo(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    let no_tag = match no_digest[last_slash..].find(':') {
        Some(c) => &no_digest[..last_slash + c],
        None => no_digest,
    };
    let mut parts: Vec<&str> = no_tag.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        parts.remove(0);
    }
    parts.join("/").to_ascii_lowercase()
}

fn image_name(repo: &str) -> &str {
    repo.rsplit('/').next().unwrap_or(repo)
}

const SERVER_NAMES: [&str; 6] = [
    "redis",
    "valkey",
    "redis-stack",
    "redis-stack-server",
    "keydb",
    "dragonfly",
];

fn is_server_binary(arg: &str) -> bool {
    let base = arg.rsplit('/').next().unwrap_or(arg);
    matches!(base, "redis-server" | "valkey-server" | "keydb-server")
}

/// The server arguments in a command: after `redis-server`, also inside `sh -c '…'`.
fn server_args(command: &[String]) -> Option<Vec<String>> {
    if let Some(pos) = command.iter().position(|a| is_server_binary(a)) {
        return Some(command[pos + 1..].to_vec());
    }
    // `sh -c "redis-server --requirepass $$REDIS_PASSWORD"`: split the script like a shell.
    if command.len() >= 3
        && matches!(
            command[0].rsplit('/').next().unwrap_or(""),
            "sh" | "bash" | "ash" | "dash"
        )
        && command[1] == "-c"
    {
        let words = shell_words::split(&command[2]).ok()?;
        let pos = words.iter().position(|a| is_server_binary(a))?;
        let end = words[pos..]
            .iter()
            .position(|w| matches!(w.as_str(), "&&" | ";" | "||" | "|"))
            .map_or(words.len(), |e| pos + e);
        return Some(words[pos + 1..end].to_vec());
    }
    None
}

/// Resolves `$VAR` / `${VAR}` (the container's shell expands them) from the service env.
fn resolve_shell_var(value: &str, service: &Service) -> Option<String> {
    let name = value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| value.strip_prefix('$'))?;
    let name = name.split([':', '-']).next().unwrap_or(name);
    service.env(name).map(str::to_string)
}

/// `--name value` flags of a server command line (also `--name=value`).
fn flags(args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(flag) = args[i].strip_prefix("--") {
            if let Some((k, v)) = flag.split_once('=') {
                out.push((k.to_ascii_lowercase(), v.to_string()));
            } else if let Some(v) = args.get(i + 1).filter(|v| !v.starts_with("--")) {
                out.push((flag.to_ascii_lowercase(), v.clone()));
                i += 1;
            } else {
                out.push((flag.to_ascii_lowercase(), String::new()));
            }
        }
        i += 1;
    }
    out
}

/// Reads a service as a Redis server, if it is one.
pub fn detect(service: &Service) -> Option<RedisServer<'_>> {
    let repo = service
        .image
        .as_ref()
        .map(|i| image_repo(&i.value))
        .unwrap_or_default();
    let name = image_name(&repo).to_string();
    let command = service.command.as_ref();
    let entrypoint = service.entrypoint.as_ref();
    let mut args = command.and_then(|c| server_args(&c.value));
    if args.is_none()
        && let Some(e) = entrypoint
        && let Some(mut a) = server_args(&e.value)
    {
        a.extend(command.map(|c| c.value.clone()).unwrap_or_default());
        args = Some(a);
    }
    let by_image = SERVER_NAMES.contains(&name.as_str());
    // The official images' docker-entrypoint.sh prepends `redis-server` when the first
    // argument is a flag or a `.conf` file (docker-library/redis docker-entrypoint.sh:
    // `if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"`),
    // so `command: ["--requirepass", "x"]` (Kubernetes `args:`) configures the server.
    if args.is_none()
        && by_image
        && entrypoint.is_none()
        && let Some(c) = command
        && c.value
            .first()
            .is_some_and(|a| a.starts_with('-') || a.ends_with(".conf"))
    {
        args = Some(c.value.clone());
    }
    if !by_image && args.is_none() {
        return None;
    }
    let bitnami = repo.starts_with("bitnami/");
    let stack = name.starts_with("redis-stack");
    let flavor = if name.contains("valkey")
        || args.is_none() && command.is_some_and(|c| c.value.iter().any(|a| a.contains("valkey")))
    {
        "valkey".to_string()
    } else if by_image {
        name.clone()
    } else {
        "redis".to_string()
    };
    // redis-stack images take server flags from REDIS_ARGS.
    let mut all_args = args.clone().unwrap_or_default();
    if stack && let Some(extra) = service.env("REDIS_ARGS") {
        all_args.extend(shell_words::split(extra).unwrap_or_default());
    }
    // redis-server reads its first argument as a config file unless it starts with `-`
    // (redis src/server.c main(): `if (argv[1][0] != '-')`), whatever its name:
    // `redis-server /conf` or `/etc/redis/redis.conf` alike.
    let config_file = all_args.first().filter(|a| !a.starts_with('-')).cloned();
    let command_span = command.and_then(|c| c.span.clone());
    let flag_list = flags(&all_args);
    let flag = |name: &str| -> Option<String> {
        flag_list
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let has_config = config_file.is_some();
    // A numeric flag from the command line, else Redis' default (unknown under a config file).
    fn numeric<T: TryFrom<u64> + Clone>(
        value: Option<String>,
        default: T,
        has_config: bool,
        span: &Option<Span>,
    ) -> Setting<T> {
        match value
            .and_then(|v| v.parse::<u64>().ok())
            .and_then(|v| T::try_from(v).ok())
        {
            Some(v) => Setting {
                value: Some(v),
                origin: Origin::Command,
                span: span.clone(),
            },
            None => Setting::default_of(default, has_config),
        }
    }
    let port = numeric::<u16>(flag("port"), 6379, has_config, &command_span);
    let timeout = numeric::<u64>(flag("timeout"), DEFAULT_TIMEOUT, has_config, &command_span);
    let maxclients = numeric::<u32>(
        flag("maxclients"),
        DEFAULT_MAXCLIENTS,
        has_config,
        &command_span,
    );
    let databases = numeric::<u32>(
        flag("databases"),
        DEFAULT_DATABASES,
        has_config,
        &command_span,
    );

    let env_span = |key: &str| service.environment.get(key).and_then(|v| v.span.clone());
    let mut ignored_password_env = None;
    let password = if let Some(p) = flag("requirepass") {
        let resolved = if p.starts_with('$') {
            resolve_shell_var(&p, service)
        } else {
            Some(p)
        };
        match resolved {
            Some(v) => Setting {
                value: Some(v),
                origin: Origin::Command,
                span: command_span.clone(),
            },
            // `--requirepass $REDIS_PASSWORD` with the variable not in the container env:
            // the shell expands it to nothing. Unknown rather than guessed.
            None => Setting {
                value: None,
                origin: Origin::Unknown,
                span: command_span.clone(),
            },
        }
    } else if bitnami {
        let var = if name.contains("valkey") {
            "VALKEY_PASSWORD"
        } else {
            "REDIS_PASSWORD"
        };
        match service.env(var) {
            Some(v) if !v.is_empty() => Setting {
                value: Some(v.to_string()),
                origin: Origin::Env(var.to_string()),
                span: env_span(var),
            },
            _ => Setting {
                value: None,
                origin: Origin::Default,
                span: None,
            },
        }
    } else {
        if service.env("REDIS_PASSWORD").is_some() && by_image && !stack {
            ignored_password_env = Some("REDIS_PASSWORD".to_string());
        }
        if has_config {
            Setting {
                value: None,
                origin: Origin::Unknown,
                span: None,
            }
        } else {
            Setting {
                value: None,
                origin: Origin::Default,
                span: None,
            }
        }
    };
    Some(RedisServer {
        service,
        flavor,
        port,
        password,
        timeout,
        maxclients,
        databases,
        config_file,
        ignored_password_env,
    })
}

impl RedisServer<'_> {
    /// The port the server listens on inside the network (6379 unless `--port`).
    pub fn listen_port(&self) -> Option<u16> {
        self.port.value
    }

    /// Published ports of this service that map to its listening port.
    pub fn published_ports(&self) -> Vec<&crate::config::PortMapping> {
        let listen = self.listen_port().unwrap_or(6379);
        self.service
            .ports
            .iter()
            .filter(|p| p.target_port() == Some(listen))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvSource, EnvVar, Located};

    fn service(image: &str, command: &[&str], env: &[(&str, &str)]) -> Service {
        let mut s = Service {
            name: "redis".into(),
            image: Some(Located::new(image.into(), None)),
            ..Service::default()
        };
        if !command.is_empty() {
            s.command = Some(Located::new(
                command.iter().map(|c| c.to_string()).collect(),
                Some(Span::new("compose.yaml", 5, 14)),
            ));
        }
        for (k, v) in env {
            s.environment.insert(
                k.to_string(),
                EnvVar {
                    value: Some(v.to_string()),
                    raw: Some(v.to_string()),
                    span: None,
                    source: EnvSource::Environment,
                    shadowed: vec![],
                },
            );
        }
        s
    }

    #[test]
    fn image_repos() {
        assert_eq!(image_repo("redis:7-alpine"), "redis");
        assert_eq!(image_repo("docker.io/bitnami/redis:7.2"), "bitnami/redis");
        assert_eq!(image_repo("valkey/valkey:8"), "valkey/valkey");
        assert_eq!(
            image_repo("ghcr.io/open-webui/open-webui:main"),
            "open-webui/open-webui"
        );
        assert_eq!(image_repo("localhost:5000/redis@sha256:abc"), "redis");
    }

    #[test]
    fn reads_flags_from_the_command() {
        let s = service(
            "redis:7",
            &[
                "redis-server",
                "--requirepass",
                "s3cret",
                "--maxclients",
                "50",
                "--timeout",
                "300",
            ],
            &[],
        );
        let r = detect(&s).unwrap();
        assert_eq!(r.password.value.as_deref(), Some("s3cret"));
        assert_eq!(r.maxclients.value, Some(50));
        assert_eq!(r.timeout.value, Some(300));
        assert_eq!(r.port.value, Some(6379));
        assert_eq!(r.timeout.origin, Origin::Command);
    }

    #[test]
    fn reads_flags_inside_sh_c_and_resolves_variables() {
        let s = service(
            "redis:7",
            &[
                "sh",
                "-c",
                "redis-server --requirepass \"$REDIS_PASSWORD\" --port 6380",
            ],
            &[("REDIS_PASSWORD", "pw123")],
        );
        let r = detect(&s).unwrap();
        assert_eq!(r.password.value.as_deref(), Some("pw123"));
        assert_eq!(r.port.value, Some(6380));
    }

    #[test]
    fn official_image_ignores_redis_password() {
        let s = service("redis:7", &[], &[("REDIS_PASSWORD", "pw123")]);
        let r = detect(&s).unwrap();
        assert_eq!(r.password.value, None);
        assert_eq!(r.password.origin, Origin::Default);
        assert_eq!(r.ignored_password_env.as_deref(), Some("REDIS_PASSWORD"));
        let b = service("bitnami/redis:7.2", &[], &[("REDIS_PASSWORD", "pw123")]);
        assert_eq!(detect(&b).unwrap().password.value.as_deref(), Some("pw123"));
    }

    #[test]
    fn config_file_makes_unset_settings_unknown() {
        let s = service(
            "redis:7",
            &["redis-server", "/usr/local/etc/redis/redis.conf"],
            &[],
        );
        let r = detect(&s).unwrap();
        assert_eq!(
            r.config_file.as_deref(),
            Some("/usr/local/etc/redis/redis.conf")
        );
        assert_eq!(r.timeout.origin, Origin::Unknown);
        assert_eq!(r.password.origin, Origin::Unknown);
    }

    #[test]
    fn not_redis() {
        assert!(detect(&service("rediscommander/redis-commander", &[], &[])).is_none());
        assert!(detect(&service("oliver006/redis_exporter", &[], &[])).is_none());
        assert!(detect(&service("postgres:16", &[], &[])).is_none());
        assert!(
            detect(&service(
                "alpine",
                &["valkey-server", "--port", "7000"],
                &[]
            ))
            .is_some()
        );
    }

    #[test]
    fn a_config_file_argument_makes_the_settings_unknown_and_image_args_count() {
        use crate::config::test_support::*;
        // `redis-server /conf` (a ConfigMap mounted as a file): whatever its name.
        let s = with_command(service("redis", "redis:7", 1), &["redis-server", "/conf"]);
        let r = detect(&s).unwrap();
        assert_eq!(r.config_file.as_deref(), Some("/conf"));
        assert_eq!(r.timeout.value, None);
        // The official image's entrypoint runs `redis-server "$@"` for flag arguments.
        let s = with_command(
            service("redis", "redis:7", 1),
            &["--requirepass", "pw-789", "--timeout", "30"],
        );
        let r = detect(&s).unwrap();
        assert_eq!(r.password.value.as_deref(), Some("pw-789"));
        assert_eq!(r.timeout.value, Some(30));
    }
}
