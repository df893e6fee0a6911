//! The deployment model: what docker compose would run, read from .env and compose files,
//! with the file, line and column of every value a check may report on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::redact::Secrets;
use crate::report::{InlineIgnore, Location};

/// A place in one of the user's files. `file` is the path as shown to the user (relative to
/// the project directory when inside it). Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Self {
        Span {
            file: file.into(),
            line,
            column,
        }
    }

    pub fn location(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: Some(self.line),
            column: Some(self.column),
        }
    }
}

/// A value and where it was written (None for values the tool derived, e.g. defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Option<Span>,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Option<Span>) -> Self {
        Located { value, span }
    }

    pub fn location(&self) -> Option<Location> {
        self.span.as_ref().map(Span::location)
    }
}

/// How a .env value was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    None,
    Single,
    Double,
}

/// One `KEY=value` line of a .env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    /// The value after unquoting, unescaping and interpolation. `None` for a bare `KEY` line
    /// whose name is not set in the process environment, and for a value whose interpolation
    /// failed (`${VAR:?msg}` unset, malformed `${`: see `EnvFile::interpolation`; compose
    /// refuses such a file).
    pub value: Option<String>,
    /// The value as written (between the quotes, if any, escapes not applied), before
    /// interpolation. Empty for a bare `KEY`.
    pub raw_value: String,
    pub key_span: Span,
    pub value_span: Span,
    pub quote: Quote,
    pub exported: bool,
}

/// A line the .env parser could not read (compose refuses the file; python-dotenv skips the
/// line): reported by `config.env-syntax`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSyntaxError {
    pub span: Span,
    pub message: String,
}

/// A `${VAR}` in a .env value with no value and no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariable {
    pub name: String,
    pub span: Span,
}

/// A parsed .env file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    /// As shown to the user.
    pub path: String,
    /// Every entry in file order, duplicates included (the last one wins).
    pub entries: Vec<EnvEntry>,
    pub errors: Vec<EnvSyntaxError>,
    /// Interpolation problems (`${VAR}` unset, `${VAR:?msg}` missing) found in values, each with
    /// the span of the value (of the `$` for a malformed template). For `Invalid`, `variable`
    /// is the entry's key.
    pub interpolation: Vec<InterpolationFinding>,
}

impl EnvFile {
    /// The effective value of `key` (last definition wins), if defined with a value.
    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// The effective map (last definition wins); bare keys without a value are left out.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            match &e.value {
                Some(v) => {
                    m.insert(e.key.clone(), v.clone());
                }
                None => {
                    m.remove(&e.key);
                }
            }
        }
        m
    }
}

/// Where a container's environment variable comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// The service's `environment:` (map or list form).
    Environment,
    /// A file named in the service's `env_file:` (path as shown to the user).
    EnvFile(String),
}

/// One variable of a service's effective environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The value the container gets, after interpolation. `None`: a bare `KEY` whose value
    /// is not set where compose would look it up.
    pub value: Option<String>,
    /// The value as written in the file, before interpolation (e.g. `${REDIS_URL}`).
    pub raw: Option<String>,
    pub span: Option<Span>,
    pub source: EnvSource,
    /// Earlier definitions this one overrides (env_file entries under `environment:`, an
    /// earlier compose file under a later one), oldest first.
    pub shadowed: Vec<EnvVar>,
}

/// One network a service joins, with its aliases there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNetwork {
    /// The compose key (`default` when the service lists none).
    pub name: String,
    pub aliases: Vec<String>,
    pub span: Option<Span>,
}

/// A `ports:` entry, short or long syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: Option<String>,
    /// Host port or range as written (`6379`, `8000-8010`); None when only a target is given.
    pub published: Option<String>,
    /// Container port or range as written.
    pub target: String,
    pub protocol: String,
    pub span: Option<Span>,
}

impl PortMapping {
    pub fn target_port(&self) -> Option<u16> {
        self.target.parse().ok()
    }

    pub fn published_port(&self) -> Option<u16> {
        self.published.as_deref().and_then(|p| p.parse().ok())
    }
}

/// A `depends_on:` entry (list or map form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsOn {
    pub service: String,
    /// `service_started`, `service_healthy`, `service_completed_successfully`; None in the
    /// list form.
    pub condition: Option<String>,
    pub span: Option<Span>,
}

/// One service after merging every compose file, `extends` and anchors, and interpolation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    pub name: String,
    /// Where the service's key is (in the first file that defines it).
    pub span: Option<Span>,
    pub image: Option<Located<String>>,
    /// The service has a `build:` section.
    pub build: bool,
    pub container_name: Option<Located<String>>,
    pub hostname: Option<Located<String>>,
    /// `command:` as arguments (a string form is split the way compose splits it).
    pub command: Option<Located<Vec<String>>>,
    pub entrypoint: Option<Located<Vec<String>>>,
    /// The effective environment: `env_file:` entries, then `environment:` over them.
    pub environment: BTreeMap<String, EnvVar>,
    /// The files named in `env_file:`, as shown to the user, with where each is named.
    pub env_files: Vec<Located<String>>,
    /// The networks joined; `[default]` when the service names none and has no network_mode.
    pub networks: Vec<ServiceNetwork>,
    pub network_mode: Option<Located<String>>,
    pub ports: Vec<PortMapping>,
    /// `deploy.replicas` (or the legacy `scale`).
    pub replicas: Option<Located<u32>>,
    pub depends_on: Vec<DependsOn>,
    /// Where the `healthcheck:` is, when the service has one that is not disabled.
    pub healthcheck: Option<Span>,
    pub labels: BTreeMap<String, Located<String>>,
    pub profiles: Vec<String>,
    /// `volumes:` entries that bind a host path (short `./a:/b[:ro]` or long `type: bind`
    /// syntax); named volumes and tmpfs are left out.
    pub volumes: Vec<BindMount>,
}

/// A host file or directory bound into a container (`./nginx.conf:/etc/nginx/nginx.conf:ro`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// The host path, absolute (relative paths resolved against the project directory).
    pub source: PathBuf,
    /// The path inside the container, as written.
    pub target: String,
    /// The `volumes:` entry.
    pub span: Option<Span>,
}

impl Service {
    /// The value of an environment variable the container gets.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.environment.get(key).and_then(|v| v.value.as_deref())
    }

    /// Every name another container can reach this service by on a shared network: the
    /// service name, `container_name`, `hostname` and network aliases.
    pub fn dns_names(&self) -> Vec<&str> {
        let mut names = vec![self.name.as_str()];
        if let Some(c) = &self.container_name {
            names.push(&c.value);
        }
        if let Some(h) = &self.hostname {
            names.push(&h.value);
        }
        for n in &self.networks {
            names.extend(n.aliases.iter().map(String::as_str));
        }
        names
    }

    /// Where to point at this service: its key, or failing that its image.
    pub fn location(&self) -> Option<Location> {
        self.span.as_ref().map(Span::location)
    }
}

/// A top-level `networks:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub key: String,
    pub external: bool,
    /// `name:` when set (the engine-level name).
    pub name: Option<String>,
    pub span: Option<Span>,
}

/// A `${VAR}` that compose would complain about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpolationFinding {
    pub variable: String,
    pub kind: InterpolationProblem,
    pub span: Option<Span>,
    /// The service the value belongs to, when inside one.
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationProblem {
    /// `${VAR}` / `$VAR` with no value and no default: compose substitutes "" and warns.
    Unset,
    /// `${VAR:?message}` / `${VAR?message}` unset: compose refuses to start.
    Required(String),
    /// The template itself is malformed (`${VAR`, `${}`): compose refuses the file.
    Invalid(String),
}

/// An `env_file:` that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingEnvFile {
    pub service: String,
    pub path: String,
    /// `required: false` (compose then skips it silently).
    pub required: bool,
    pub span: Option<Span>,
}

/// A compose value of the wrong shape (e.g. `ports` as a number): compose would refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureProblem {
    pub message: String,
    pub span: Option<Span>,
}

/// Everything read from the files of one deployment.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    pub project_dir: PathBuf,
    /// The compose project name (`name:`, COMPOSE_PROJECT_NAME, or the directory name).
    pub project_name: String,
    /// The compose files read, in merge order, as shown to the user.
    pub compose_files: Vec<String>,
    /// The project .env (or --env-file): used for interpolation, not passed to containers.
    pub dotenv: Option<EnvFile>,
    /// Every file named by a service's `env_file:` that exists, parsed.
    pub env_files: Vec<EnvFile>,
    /// The services compose starts: those without `profiles:`, and those with an active
    /// profile (compose-go `Project.WithProfiles`).
    pub services: Vec<Service>,
    /// Services left out because none of their profiles is active: compose neither starts
    /// them nor gives them a DNS name. Kept to explain a URL that names one.
    pub inactive_services: Vec<Service>,
    /// The active profiles (`--profile`, else COMPOSE_PROFILES; `*` activates all).
    pub active_profiles: Vec<String>,
    pub networks: Vec<Network>,
    pub interpolation: Vec<InterpolationFinding>,
    pub missing_env_files: Vec<MissingEnvFile>,
    pub structure: Vec<StructureProblem>,
    /// Inline `# wsdoctor: ignore=…` comments of every file read.
    pub ignores: Vec<InlineIgnore>,
    /// Secret values seen in the files (for redaction).
    pub secrets: Secrets,
    /// Python requirement files found in the project directory (for dependency checks).
    pub python_requirements: Vec<RequirementsFile>,
    /// Reverse proxy configurations: mounted into a proxy service, or `--proxy-config`.
    pub proxies: Vec<crate::config::proxy::ProxyConfig>,
}

/// A requirements*.txt or pyproject.toml with the packages it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementsFile {
    pub path: String,
    pub packages: Vec<Requirement>,
}

/// One package requirement: `redis>=4.2`, `aioredis==1.3.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Normalised: lowercase, `_` and `.` as `-`.
    pub name: String,
    /// The version specifier as written (`>=4.2`, or empty).
    pub spec: String,
    pub span: Span,
}

impl Requirement {
    /// Whether the specifier only allows versions below `major.minor` (`==4.1.0`, `<4.2`,
    /// `~=3.5`, `<=4.0`).
    pub fn pins_below(&self, major: u64, minor: u64) -> bool {
        let spec = self.spec.split(',').map(str::trim);
        spec.into_iter().any(|clause| {
            let (op, version) = ["==", "~=", "<=", "<"]
                .iter()
                .find_map(|op| clause.strip_prefix(op).map(|v| (*op, v.trim())))
                .unwrap_or(("", ""));
            let mut parts = version
                .split('.')
                .map(|p| p.trim_end_matches('*').parse::<u64>().ok());
            let (Some(Some(ma)), mi) = (parts.next(), parts.next().flatten()) else {
                return false;
            };
            let v = (ma, mi.unwrap_or(0));
            match op {
                "==" | "~=" | "<=" => v < (major, minor),
                "<" => v <= (major, minor),
                _ => false,
            }
        })
    }
}

impl Deployment {
    /// The project .env and every env_file, each file once.
    pub fn all_env_files(&self) -> Vec<&EnvFile> {
        let mut files: Vec<&EnvFile> = Vec::new();
        for f in self.dotenv.iter().chain(self.env_files.iter()) {
            if !files.iter().any(|g| g.path == f.path) {
                files.push(f);
            }
        }
        files
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}
