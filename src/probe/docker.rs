//! Live Docker probe: what the engine says about the deployment's containers, through the
//! Engine API (bollard). Read-only: it lists, inspects and reads logs; it never execs into,
//! starts or changes a container. Every request runs in what is left of the probe's one
//! budget ([`Budget`]).

use crate::probe::budget::Budget;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::{ListContainersOptionsBuilder, LogsOptionsBuilder};
use futures_util::StreamExt;

use super::swarm::SwarmFacts;

/// The socket docker uses when DOCKER_HOST is unset.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The compose labels that say which project and service a container belongs to
/// (compose-go `api.ProjectLabel` / `api.ServiceLabel`).
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";

/// How many log lines to keep for a container that is failing.
pub const LOG_TAIL: usize = 20;

/// Where the engine listens, from DOCKER_HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `tcp://host:port` or `http://host:port`, as given.
    Tcp {
        url: String,
        host: String,
        port: u16,
    },
    /// A scheme this build cannot speak (ssh://, https://, npipe://, or tcp:// with
    /// DOCKER_TLS_VERIFY): the reason says which.
    Unsupported {
        url: String,
        reason: String,
    },
}

impl Endpoint {
    /// The engine the docker CLI would talk to: `DOCKER_HOST` (and `DOCKER_TLS_VERIFY`) when
    /// set, else the context named by `DOCKER_CONTEXT`, else the current context of
    /// `docker context use` (config.json `currentContext`), else the default socket. The
    /// order is docker/cli's `resolveContextName` (cli/command/cli.go, 28.x): DOCKER_HOST
    /// selects the `default` context, which is DOCKER_HOST itself.
    pub fn from_env(docker_host: Option<&str>, tls_verify: Option<&str>) -> Endpoint {
        if docker_host.is_some_and(|h| !h.trim().is_empty()) {
            return Endpoint::from_host(docker_host, tls_verify);
        }
        let context = std::env::var("DOCKER_CONTEXT").ok();
        match docker_config_dir() {
            Some(dir) => Endpoint::from_context(context.as_deref(), &dir)
                .unwrap_or_else(|| Endpoint::from_host(None, None)),
            None => Endpoint::from_host(None, None),
        }
    }

    /// The endpoint of the selected context in docker config directory `config_dir`; None
    /// when the `default` context is selected (DOCKER_HOST unset: the default socket).
    /// A named context that does not exist is Unsupported: the docker CLI refuses to run
    /// then, and silently using the default socket would probe another engine.
    pub fn from_context(docker_context: Option<&str>, config_dir: &Path) -> Option<Endpoint> {
        let name = match docker_context.map(str::trim).filter(|c| !c.is_empty()) {
            Some(name) => name.to_string(),
            None => current_context(config_dir)?,
        };
        if name == "default" {
            return None;
        }
        // docker/cli `store.contextdirOf`: the directory is the SHA-256 of the name, in hex.
        let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
        let id: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let meta = config_dir
            .join("contexts")
            .join("meta")
            .join(&id)
            .join("meta.json");
        let host = std::fs::read(&meta)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| {
                v.pointer("/Endpoints/docker/Host")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            });
        let Some(host) = host else {
            return Some(Endpoint::Unsupported {
                url: format!("context {name}"),
                reason: format!(
                    "docker context '{name}' not found (no Endpoints.docker.Host in {}): the \
                     docker CLI refuses it too; `docker context ls` lists the contexts",
                    meta.display()
                ),
            });
        };
        // A context with TLS material talks TLS to a tcp:// engine (docker/cli
        // `context/docker/load.go`), as DOCKER_TLS_VERIFY does.
        let tls = config_dir
            .join("contexts")
            .join("tls")
            .join(&id)
            .join("docker")
            .is_dir();
        Some(Endpoint::from_host(Some(&host), tls.then_some("1")))
    }

    /// Reads a DOCKER_HOST value (and DOCKER_TLS_VERIFY) the way the docker CLI does; the
    /// default socket when unset or empty.
    pub fn from_host(docker_host: Option<&str>, tls_verify: Option<&str>) -> Endpoint {
        let host = docker_host.map(str::trim).filter(|h| !h.is_empty());
        let Some(host) = host else {
            return Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET));
        };
        if let Some(path) = host.strip_prefix("unix://") {
            return Endpoint::Unix(PathBuf::from(path));
        }
        let tcp = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"));
        if let Some(rest) = tcp {
            // The CLI turns on TLS for tcp:// when DOCKER_TLS_VERIFY is set to anything
            // non-empty; speaking plain HTTP to a TLS port would only give a confusing error.
            if tls_verify.is_some_and(|v| !v.is_empty()) {
                return Endpoint::Unsupported {
                    url: host.to_string(),
                    reason: "DOCKER_TLS_VERIFY is set: TLS to the engine is not supported by \
                             this build of wsdoctor"
                        .to_string(),
                };
            }
            let authority = rest.split('/').next().unwrap_or(rest);
            let (h, p) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().ok()),
                None => (authority, Some(2375)),
            };
            let h = h.trim_start_matches('[').trim_end_matches(']');
            return match p {
                Some(port) if !h.is_empty() => Endpoint::Tcp {
                    url: host.to_string(),
                    host: h.to_string(),
                    port,
                },
                _ => Endpoint::Unsupported {
                    url: host.to_string(),
                    reason: "DOCKER_HOST has no usable host:port".to_string(),
                },
            };
        }
        let scheme = host.split("://").next().unwrap_or(host);
        Endpoint::Unsupported {
            url: host.to_string(),
            reason: format!(
                "DOCKER_HOST scheme '{scheme}://' is not supported (use unix:// or tcp://; \
                 for ssh:// forward the socket with `ssh -L`)"
            ),
        }
    }

    /// As the user would write it in DOCKER_HOST.
    pub fn display(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp { url, .. } | Endpoint::Unsupported { url, .. } => url.clone(),
        }
    }
}

/// The docker CLI's configuration directory: DOCKER_CONFIG, else ~/.docker.
fn docker_config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
}

/// `currentContext` of config.json (set by `docker context use`); None when unset or empty.
fn current_context(config_dir: &Path) -> Option<String> {
    let bytes = std::fs::read(config_dir.join("config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    config
        .get("currentContext")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// Why the engine could not be used. Each has its own fix, so they are kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineProblem {
    /// The socket exists but this user may not open it (EACCES): not in the `docker` group.
    PermissionDenied { message: String },
    /// The unix socket does not exist: no engine running (or DOCKER_HOST points elsewhere).
    NoSocket { message: String },
    /// Nothing listens: connection refused (a stale socket file or a stopped tcp engine).
    Refused { message: String },
    /// Connected (or trying to) but no answer within the deadline.
    Timeout { after: Duration },
    /// DOCKER_HOST names something this build cannot talk to.
    Unsupported { reason: String },
    /// Connected, but the engine's answer was an error or not the Engine API.
    Api { message: String },
}

/// What `/version` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineFacts {
    pub version: String,
    pub api_version: String,
    pub min_api_version: String,
    pub os: String,
    pub arch: String,
}

/// One container of the deployment, as the engine describes it.
#[derive(Debug, Clone, Default)]
pub struct ContainerFacts {
    pub inspect: ContainerInspectResponse,
    /// `Config.Env` of the image (to tell variables the image sets from ones the files set);
    /// None when the image could not be inspected.
    pub image_env: Option<Vec<String>>,
    /// The last log lines, fetched only for a container that is failing (not running,
    /// restarting, restarted, unhealthy). Unredacted: the report redacts them.
    pub log_tail: Option<Vec<String>>,
}

impl ContainerFacts {
    /// The container's name without the leading `/`.
    pub fn name(&self) -> &str {
        container_name(&self.inspect)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.inspect
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(key))
            .map(String::as_str)
    }

    /// The compose service, from its label.
    pub fn service(&self) -> Option<&str> {
        self.label(SERVICE_LABEL)
    }

    /// `Config.Env` as a map (the last definition of a key wins, as in the kernel's view).
    pub fn env(&self) -> BTreeMap<String, String> {
        env_map(
            self.inspect
                .config
                .as_ref()
                .and_then(|c| c.env.as_deref())
                .unwrap_or(&[]),
        )
    }
}

/// `Name` without its leading `/`.
pub fn container_name(inspect: &ContainerInspectResponse) -> &str {
    inspect
        .name
        .as_deref()
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or("")
}

/// `["K=V", …]` as a map; an entry without `=` has an empty value.
pub fn env_map(env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        })
        .collect()
}

/// How containers were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// By the compose project label.
    Project(String),
    /// By `--container NAME` (containers started by hand).
    Names(Vec<String>),
}

/// Everything the docker checks judge.
#[derive(Debug, Clone)]
pub struct DockerObservations {
    /// DOCKER_HOST as the user would write it.
    pub endpoint: String,
    pub engine: Result<EngineFacts, EngineProblem>,
    pub selection: Selection,
    /// The selected containers, inspected.
    pub containers: Vec<ContainerFacts>,
    /// Every container on the engine (for host ports held by others and project names seen).
    pub all_containers: Vec<ContainerSummary>,
    /// `--container` names the engine does not know.
    pub missing: Vec<String>,
    /// Requests that failed after the engine answered (an inspect that timed out, …).
    pub errors: Vec<String>,
    /// When the facts were gathered (seconds since the epoch), to age `StartedAt`.
    pub observed_at: i64,
    /// The swarm stack of the same name (`--project` is the stack namespace too); None when
    /// containers were chosen by name or the engine could not say.
    pub swarm: Option<SwarmFacts>,
}

impl DockerObservations {
    /// Observations of an engine that could not be used.
    pub fn unreachable(endpoint: String, problem: EngineProblem, selection: Selection) -> Self {
        DockerObservations {
            endpoint,
            engine: Err(problem),
            selection,
            containers: Vec::new(),
            all_containers: Vec::new(),
            missing: Vec::new(),
            errors: Vec::new(),
            observed_at: now_secs(),
            swarm: None,
        }
    }
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Classifies a failed connect by the OS error, which is what tells the fixes apart.
pub fn classify_io(err: &std::io::Error, endpoint: &str) -> EngineProblem {
    use std::io::ErrorKind;
    let message = format!("{endpoint}: {err}");
    match err.kind() {
        ErrorKind::PermissionDenied => EngineProblem::PermissionDenied { message },
        ErrorKind::NotFound => EngineProblem::NoSocket { message },
        ErrorKind::ConnectionRefused => EngineProblem::Refused { message },
        ErrorKind::TimedOut => EngineProblem::Timeout {
            after: Duration::ZERO,
        },
        // ENOTSOCK, ECONNRESET, …: something answers that is not the engine.
        _ => EngineProblem::Api { message },
    }
}

/// Runs `fut` in what is left of the probe's budget, mapping an expiry to
/// `EngineProblem::Timeout` (naming the whole budget: that is what the user set).
pub(crate) async fn within<T, E: std::fmt::Display>(
    budget: &Budget,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, EngineProblem> {
    match budget.run(fut).await {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(EngineProblem::Api {
            message: e.to_string(),
        }),
        None => Err(EngineProblem::Timeout {
            after: budget.total(),
        }),
    }
}

/// Opens a raw connection first: bollard folds every connect error into one hyper error,
/// and the OS error is what separates "not in the docker group" from "no engine".
async fn preflight(endpoint: &Endpoint, budget: &Budget) -> Result<(), EngineProblem> {
    let deadline = budget.total();
    let shown = endpoint.display();
    let connect = async {
        match endpoint {
            Endpoint::Unix(path) => tokio::net::UnixStream::connect(path).await.map(drop),
            Endpoint::Tcp { host, port, .. } => {
                tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map(drop)
            }
            Endpoint::Unsupported { .. } => Ok(()),
        }
    };
    match budget.run(connect).await {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(match classify_io(&e, &shown) {
            EngineProblem::Timeout { .. } => EngineProblem::Timeout { after: deadline },
            p => p,
        }),
        None => Err(EngineProblem::Timeout { after: deadline }),
    }
}

/// Connects, negotiates the API version (an engine older than bollard's default, e.g. 20.10 at
/// API 1.41, refuses newer versions) and reads `/version`.
pub async fn connect(
    endpoint: &Endpoint,
    budget: &Budget,
) -> Result<(Docker, EngineFacts), EngineProblem> {
    if let Endpoint::Unsupported { reason, .. } = endpoint {
        return Err(EngineProblem::Unsupported {
            reason: reason.clone(),
        });
    }
    preflight(endpoint, budget).await?;
    // bollard's own timeout is whole seconds; the budget (below) is the real bound.
    let secs = budget.total().as_secs().max(1);
    let docker = match endpoint {
        Endpoint::Unix(path) => {
            Docker::connect_with_unix(&path.to_string_lossy(), secs, bollard::API_DEFAULT_VERSION)
        }
        Endpoint::Tcp { url, .. } => {
            Docker::connect_with_http(url, secs, bollard::API_DEFAULT_VERSION)
        }
        Endpoint::Unsupported { .. } => unreachable_endpoint(),
    }
    .map_err(|e| EngineProblem::Api {
        message: e.to_string(),
    })?;
    let docker = within(budget, docker.negotiate_version()).await?;
    let v = within(budget, docker.version()).await?;
    let facts = EngineFacts {
        version: v.version.unwrap_or_default(),
        api_version: v.api_version.unwrap_or_default(),
        min_api_version: v.min_api_version.unwrap_or_default(),
        os: v.os.unwrap_or_default(),
        arch: v.arch.unwrap_or_default(),
    };
    Ok((docker, facts))
}

// Kept out of line so `connect` reads straight: the Unsupported case returned above.
fn unreachable_endpoint() -> Result<Docker, bollard::errors::Error> {
    Err(bollard::errors::Error::UnsupportedURISchemeError { uri: String::new() })
}

/// Whether a container's recent history is worth its logs.
fn is_troubled(c: &ContainerInspectResponse) -> bool {
    use bollard::models::{ContainerStateStatusEnum as S, HealthStatusEnum as H};
    let restarts = c.restart_count.unwrap_or(0) > 0;
    let Some(state) = &c.state else {
        return restarts;
    };
    let unhealthy = matches!(
        state.health.as_ref().and_then(|h| h.status),
        Some(H::UNHEALTHY)
    );
    let bad_state = match state.status {
        Some(S::RUNNING) => false,
        Some(S::EXITED) => state.exit_code.unwrap_or(0) != 0,
        Some(S::CREATED) => false,
        _ => true,
    };
    restarts || unhealthy || bad_state
}

async fn log_tail(docker: &Docker, id: &str, budget: &Budget) -> Option<Vec<String>> {
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&LOG_TAIL.to_string())
        .build();
    let collect = async {
        let mut text = String::new();
        let mut stream = docker.logs(id, Some(opts));
        while let Some(item) = stream.next().await {
            match item {
                Ok(out) => text.push_str(&String::from_utf8_lossy(&out.into_bytes())),
                Err(_) => break,
            }
        }
        text
    };
    let text = budget.run(collect).await?;
    // Control characters (colour codes, cursor moves) from the container's output must not
    // reach the user's terminal through the report.
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let skip = lines.len().saturating_sub(LOG_TAIL);
    Some(lines.into_iter().skip(skip).collect())
}

/// Gathers the facts: engine, the selected containers (inspected), their images' env, the
/// logs of failing ones, and every container's summary.
pub async fn observe(
    endpoint: &Endpoint,
    selection: Selection,
    deadline: Duration,
) -> DockerObservations {
    // One budget for the whole probe: a silent engine costs `deadline` once, not once per
    // request (connect, version, swarm, list, inspect, images, logs).
    let budget = &Budget::start(deadline);
    let shown = endpoint.display();
    let (docker, facts) = match connect(endpoint, budget).await {
        Ok(ok) => ok,
        Err(p) => return DockerObservations::unreachable(shown, p, selection),
    };
    let mut obs = DockerObservations {
        endpoint: shown,
        engine: Ok(facts),
        selection: selection.clone(),
        containers: Vec::new(),
        all_containers: Vec::new(),
        missing: Vec::new(),
        errors: Vec::new(),
        observed_at: now_secs(),
        swarm: None,
    };
    if let Selection::Project(namespace) = &selection {
        match super::swarm::observe(&docker, namespace, budget).await {
            Ok(facts) => obs.swarm = Some(facts),
            Err(p) => obs
                .errors
                .push(format!("reading the swarm state: {}", problem_text(&p))),
        }
    }
    let list_opts = ListContainersOptionsBuilder::default().all(true).build();
    match within(budget, docker.list_containers(Some(list_opts))).await {
        Ok(list) => obs.all_containers = list,
        Err(p) => {
            obs.errors
                .push(format!("listing containers: {}", problem_text(&p)));
            if let EngineProblem::Timeout { .. } = p {
                return obs;
            }
        }
    }
    let wanted: Vec<String> = match &selection {
        Selection::Project(project) => {
            let mut ids: Vec<(String, String)> = obs
                .all_containers
                .iter()
                .filter(|c| {
                    c.labels
                        .as_ref()
                        .and_then(|l| l.get(PROJECT_LABEL))
                        .is_some_and(|p| p == project)
                })
                .filter_map(|c| {
                    let id = c.id.clone()?;
                    let name = c
                        .names
                        .as_ref()
                        .and_then(|n| n.first())
                        .cloned()
                        .unwrap_or_default();
                    Some((name, id))
                })
                .collect();
            ids.sort();
            ids.into_iter().map(|(_, id)| id).collect()
        }
        Selection::Names(names) => names.clone(),
    };
    let inspections = futures_util::future::join_all(
        wanted
            .iter()
            .map(|id| budget.run(docker.inspect_container(id, None))),
    )
    .await;
    for (id, result) in wanted.iter().zip(inspections) {
        match result {
            Some(Ok(inspect)) => obs.containers.push(ContainerFacts {
                inspect,
                image_env: None,
                log_tail: None,
            }),
            Some(Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            })) => obs.missing.push(id.clone()),
            Some(Err(e)) => obs.errors.push(format!("inspecting {id}: {e}")),
            None => obs.errors.push(format!(
                "inspecting {id}: no answer within {}",
                humantime::format_duration(deadline)
            )),
        }
    }
    // Image env, once per image.
    let mut image_env: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    for c in &obs.containers {
        if let Some(image) = &c.inspect.image {
            image_env.entry(image.clone()).or_default();
        }
    }
    let images: Vec<String> = image_env.keys().cloned().collect();
    let answers = futures_util::future::join_all(
        images
            .iter()
            .map(|i| within(budget, docker.inspect_image(i))),
    )
    .await;
    for (image, answer) in images.iter().zip(answers) {
        if let Ok(info) = answer {
            image_env.insert(
                image.clone(),
                Some(info.config.and_then(|c| c.env).unwrap_or_default()),
            );
        }
    }
    let logs = futures_util::future::join_all(obs.containers.iter().map(|c| {
        let docker = &docker;
        let id = c.inspect.id.clone().unwrap_or_default();
        let troubled = is_troubled(&c.inspect);
        async move {
            if troubled && !id.is_empty() {
                log_tail(docker, &id, budget).await
            } else {
                None
            }
        }
    }))
    .await;
    for (c, tail) in obs.containers.iter_mut().zip(logs) {
        c.log_tail = tail;
        if let Some(image) = &c.inspect.image {
            c.image_env = image_env.get(image).cloned().flatten();
        }
    }
    obs
}

/// A short text for an engine problem (for `errors`).
pub fn problem_text(p: &EngineProblem) -> String {
    match p {
        EngineProblem::PermissionDenied { message }
        | EngineProblem::NoSocket { message }
        | EngineProblem::Refused { message }
        | EngineProblem::Api { message } => message.clone(),
        EngineProblem::Timeout { after } => {
            format!("no answer within {}", humantime::format_duration(*after))
        }
        EngineProblem::Unsupported { reason } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    /// Writes a context as `docker context create` lays it out (hand-written meta.json).
    fn write_context(config_dir: &Path, name: &str, host: &str) {
        let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
        let id: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let dir = config_dir.join("contexts/meta").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        });
        std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    }

    #[test]
    fn contexts_from_docker_context_and_current_context() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path();
        // No config.json, no DOCKER_CONTEXT: the default context.
        assert_eq!(Endpoint::from_context(None, config), None);
        write_context(
            config,
            "colima",
            "unix:///home/me/.colima/default/docker.sock",
        );
        write_context(config, "remote", "tcp://127.0.0.1:2375");
        std::fs::write(
            config.join("config.json"),
            r#"{"auths": {}, "currentContext": "colima"}"#,
        )
        .unwrap();
        assert_eq!(
            Endpoint::from_context(None, config),
            Some(Endpoint::Unix(PathBuf::from(
                "/home/me/.colima/default/docker.sock"
            )))
        );
        // DOCKER_CONTEXT wins over currentContext; `default` is the default socket.
        assert_eq!(
            Endpoint::from_context(Some("remote"), config),
            Some(Endpoint::Tcp {
                url: "tcp://127.0.0.1:2375".into(),
                host: "127.0.0.1".into(),
                port: 2375
            })
        );
        assert_eq!(Endpoint::from_context(Some("default"), config), None);
        // A context that does not exist is not silently replaced by another engine.
        let Some(Endpoint::Unsupported { url, reason }) =
            Endpoint::from_context(Some("gone"), config)
        else {
            panic!("a missing context must be reported");
        };
        assert_eq!(url, "context gone");
        assert!(
            reason.starts_with("docker context 'gone' not found"),
            "{reason}"
        );
        // TLS material makes a tcp:// context a TLS one, which this build does not speak.
        let digest = ring::digest::digest(&ring::digest::SHA256, b"remote");
        let id: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(config.join("contexts/tls").join(id).join("docker")).unwrap();
        assert!(matches!(
            Endpoint::from_context(Some("remote"), config),
            Some(Endpoint::Unsupported { .. })
        ));
    }

    use super::*;

    #[test]
    fn docker_host_schemes() {
        assert_eq!(
            Endpoint::from_host(None, None),
            Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
        );
        assert_eq!(
            Endpoint::from_host(Some("unix:///run/user/1000/docker.sock"), None),
            Endpoint::Unix(PathBuf::from("/run/user/1000/docker.sock"))
        );
        assert_eq!(
            Endpoint::from_host(Some("tcp://127.0.0.1:2375"), None),
            Endpoint::Tcp {
                url: "tcp://127.0.0.1:2375".into(),
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert!(matches!(
            Endpoint::from_host(Some("tcp://10.0.0.1:2376"), Some("1")),
            Endpoint::Unsupported { .. }
        ));
        assert!(matches!(
            Endpoint::from_host(Some("ssh://me@host"), None),
            Endpoint::Unsupported { .. }
        ));
        assert_eq!(
            Endpoint::from_host(Some(""), None),
            Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
        );
    }

    #[test]
    fn io_errors_are_told_apart() {
        use std::io::{Error, ErrorKind};
        let e = |k| classify_io(&Error::from(k), "unix:///x");
        assert!(matches!(
            e(ErrorKind::PermissionDenied),
            EngineProblem::PermissionDenied { .. }
        ));
        assert!(matches!(
            e(ErrorKind::NotFound),
            EngineProblem::NoSocket { .. }
        ));
        assert!(matches!(
            e(ErrorKind::ConnectionRefused),
            EngineProblem::Refused { .. }
        ));
    }

    #[test]
    fn env_map_splits_at_the_first_equals() {
        let m = env_map(&[
            "A=b=c".to_string(),
            "EMPTY=".to_string(),
            "BARE".to_string(),
        ]);
        assert_eq!(m["A"], "b=c");
        assert_eq!(m["EMPTY"], "");
        assert_eq!(m["BARE"], "");
    }
}
