//! The command line (a public contract: see DESIGN.md). Each command's own options live in
//! its file under `commands/`; this file holds the global options and the dispatch table.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "wsdoctor",
    version,
    about = "A doctor for Socket.IO / WebSocket deployments that use Redis",
    long_about = "wsdoctor reads a deployment (.env and compose files), probes its Redis, its \
                  Engine.IO endpoint and its Docker containers, and says whether the websocket \
                  layer will work and, if not, exactly why.\n\nExit codes: 0 no failing check \
                  (warnings allowed unless --strict); 1 at least one failing check; 2 usage \
                  error, a path that cannot be opened or an invalid wsdoctor config file.\n\n\
                  Configuration: wsdoctor.toml, .wsdoctor.toml or [tool.wsdoctor] in \
                  pyproject.toml, in the project directory or above it up to the repository \
                  root; command-line options win over the file."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Check the deployment files (.env and compose) without touching any server.
    Lint(commands::lint::LintArgs),
    /// Probe a live Redis, read-only.
    Redis(commands::redis::RedisArgs),
    /// Probe a live Engine.IO / Socket.IO endpoint.
    Ws(commands::ws::WsArgs),
    /// Inspect the deployment's containers and networks through the Docker Engine API.
    Docker(commands::docker::DockerArgs),
    /// Every check at once: files, Redis, Docker and the live app, in one report.
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// List every check: id, severity, summary.
    Checks,
    /// Explain a check: what it looks at, why it matters, how to fix it.
    Explain {
        /// A check id, e.g. config.redis-url-host.
        id: String,
    },
    /// Print a shell completion script, generated from this command line
    /// (e.g. `wsdoctor completions bash > /etc/bash_completion.d/wsdoctor`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from this command line
    /// (e.g. `wsdoctor man > ~/.local/share/man/man1/wsdoctor.1`).
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
    Github,
    /// GitLab Code Quality (artifacts:reports:codequality).
    Gitlab,
    /// One line per finding: `path:line:col: ID message`.
    Concise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Output format; repeat together with --output to write several formats in one run
    /// (the n-th --output receives the n-th --format; a format without an output goes to stdout).
    #[arg(long = "format", global = true, value_enum)]
    pub formats: Vec<Format>,
    /// Write the report to FILE instead of stdout (pairs with --format, in order).
    #[arg(short = 'o', long = "output", global = true, value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// When to colour text output (NO_COLOR and CLICOLOR_FORCE are honoured under auto).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Deadline for each network probe, e.g. 3s, 500ms (default 3s, or `timeout` in the
    /// config file; 0 is refused).
    #[arg(long, global = true, value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Warnings fail the run (exit 1).
    #[arg(long, global = true)]
    pub strict: bool,
    /// Text and Markdown show only warnings and failures (and the fix list); other formats
    /// keep every result.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// Print passwords and tokens instead of redacting them.
    #[arg(long, global = true)]
    pub show_secrets: bool,
    /// Suppress a check by id (repeatable); suppressed results stay visible as suppressed.
    #[arg(long = "ignore", global = true, value_name = "ID")]
    pub ignore: Vec<String>,
}

/// The default deadline of each network probe.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A probe deadline: a duration that is not zero (with 0 every probe would "time out" before
/// sending a byte, and the report would blame the servers).
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "'{s}' leaves no time for any probe; give a deadline such as 3s or 500ms"
        ));
    }
    Ok(d)
}

/// Parses `3s`, `500ms`, `1m30s`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("'{s}' is not a usable duration"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); try 3s or 500ms"))
}

/// The deployment files to read; shared by `lint`, `redis --from-config`, `docker` and
/// `diagnose`.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectArgs {
    /// The deployment directory (where .env and compose files are).
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// A compose file (repeatable; merged in order). Default: compose.yaml and friends,
    /// plus the matching *.override.* file, or COMPOSE_FILE.
    #[arg(short = 'f', long = "file", value_name = "COMPOSE")]
    pub files: Vec<PathBuf>,
    /// The env file used for interpolation (default: DIR/.env).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Only report on this service (and the Redis it uses).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Read the app as this one instead of recognising it: open-webui, chainlit,
    /// flask-socketio, python-socketio, node-socketio (another name: generic python-socketio
    /// rules, and the report says so). Applies to --service, else to every recognised app.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// Activate a compose profile (repeatable; `*` activates all). Default: COMPOSE_PROFILES.
    /// Services whose profiles are all inactive are not started, as compose does.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// The compose project name (default: COMPOSE_PROJECT_NAME, the files' `name:`, the
    /// directory name); the Docker lookup uses it.
    #[arg(
        id = "compose_project_name",
        short = 'p',
        long = "project-name",
        value_name = "NAME"
    )]
    pub project_name: Option<String>,
    /// A values file of the official Open WebUI Helm chart 16.x (repeatable; merged in order,
    /// as `helm -f a -f b`): read as the workload, Service, Ingress and Redis the chart renders.
    /// Also a Flux HelmRelease (spec.values), an Argo CD Application (helm.values,
    /// valuesObject) or a wrapper chart's Chart.yaml / values.yaml (values under `open-webui:`).
    /// `-` reads standard input (`helm get values RELEASE -o yaml | wsdoctor lint --helm-values -`).
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,
    /// A reverse-proxy configuration file (nginx, Caddyfile, HAProxy, Traefik; repeatable),
    /// besides the ones the compose file mounts into a proxy container.
    #[arg(long = "proxy-config", value_name = "FILE")]
    pub proxy_configs: Vec<PathBuf>,
}

impl ProjectArgs {
    /// The files these options name, for [`crate::config::load_deployment`].
    pub fn source(&self) -> crate::config::DeploymentSource {
        crate::config::DeploymentSource {
            project_dir: self.project_dir.clone(),
            files: self.files.clone(),
            env_file: self.env_file.clone(),
            profiles: self.profiles.clone(),
            project_name: self.project_name.clone(),
            helm_values: self.helm_values.clone(),
            proxy_configs: self.proxy_configs.clone(),
        }
    }
}
