//! `wsdoctor docker`: the deployment's containers and networks, through the Docker Engine API.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use crate::checks::docker::{self as checks, DockerScope, command_line};
use crate::cli::ProjectArgs;
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::probe::docker::{self as probe, DockerObservations, Endpoint, Selection};
use crate::redact::{Secrets, is_secret_key};
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct DockerArgs {
    /// The compose project (label com.docker.compose.project), or the swarm stack (label
    /// com.docker.stack.namespace: the NAME of `docker stack deploy -c FILE NAME`). Default:
    /// the project name of the deployment files, else COMPOSE_PROJECT_NAME, else the
    /// directory name.
    #[arg(long = "project", value_name = "NAME")]
    pub project_name: Option<String>,
    /// A container started by hand, by name or id (repeatable); replaces the project lookup.
    #[arg(long = "container", value_name = "NAME")]
    pub containers: Vec<String>,
    /// The deployment files, read to compare the running environment with (docker.env-drift).
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// The compose file names compose looks for, in its order (compose-go `DefaultFileNames`).
const COMPOSE_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Compose's normalisation of a project name: lowercase, only `[a-z0-9_-]`, starting with a
/// letter or digit (compose-go `NormalizeProjectName`).
pub fn normalize_project_name(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Reads the deployment files when there are any: Err is the reason env-drift is skipped.
fn read_files(project: &ProjectArgs) -> Result<Deployment, String> {
    let dir = project
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let named = !project.files.is_empty() || std::env::var_os("COMPOSE_FILE").is_some();
    if !named && !COMPOSE_FILE_NAMES.iter().any(|f| dir.join(f).is_file()) {
        return Err(format!(
            "no compose file in {} (give --project-dir DIR or -f FILE to compare the running \
             environment with the files)",
            shown_dir(&dir)
        ));
    }
    crate::config::load_deployment(&project.source())
        .map_err(|e| format!("the deployment files could not be read: {e}"))
}

fn shown_dir(dir: &Path) -> String {
    if dir == Path::new(".") {
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| ".".to_string())
    } else {
        dir.display().to_string()
    }
}

/// The project to look for: --project, the files' project name, COMPOSE_PROJECT_NAME, the
/// directory's name.
fn project_name(args: &DockerArgs, files: Option<&Deployment>) -> String {
    if let Some(p) = &args.project_name {
        return p.clone();
    }
    // -p/--project-name, as compose reads it (normalized like the other sources).
    if let Some(p) = args.project.project_name.as_ref() {
        return normalize_project_name(p);
    }
    if let Some(d) = files.filter(|d| !d.project_name.is_empty()) {
        return d.project_name.clone();
    }
    if let Ok(p) = std::env::var("COMPOSE_PROJECT_NAME")
        && !p.trim().is_empty()
    {
        return normalize_project_name(&p);
    }
    let dir = args
        .project
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    dir.file_name()
        .map(|n| normalize_project_name(&n.to_string_lossy()))
        .unwrap_or_default()
}

/// Every secret the engine showed: secret-named env values, URL passwords, Redis passwords
/// on command lines, URL passwords in log lines.
pub fn secrets_of(obs: &DockerObservations) -> Secrets {
    let mut secrets = Secrets::new();
    for c in &obs.containers {
        for (key, value) in c.env() {
            if is_secret_key(&key) {
                secrets.add(&value);
            }
            secrets.add_url_passwords(&value);
        }
        let argv = command_line(c);
        for pair in argv.windows(2) {
            if pair[0] == "--requirepass" {
                secrets.add(&pair[1]);
            }
        }
        for arg in argv.iter().chain(c.inspect.args.iter().flatten()) {
            let mut words = arg.split_whitespace();
            while let Some(w) = words.next() {
                if w == "--requirepass"
                    && let Some(p) = words.next()
                {
                    secrets.add(p.trim_matches(['"', '\'']));
                }
            }
        }
        for line in c.log_tail.iter().flatten() {
            secrets.add_url_passwords(line);
        }
    }
    // A swarm stack's service specs carry the same env and command lines.
    for service in obs.swarm.iter().flat_map(|s| s.services.iter()) {
        let spec = crate::checks::docker::swarm_container_spec(service);
        for kv in spec.and_then(|c| c.env.as_deref()).unwrap_or(&[]) {
            let (key, value) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
            if is_secret_key(key) {
                secrets.add(value);
            }
            secrets.add_url_passwords(value);
        }
        let mut argv: Vec<String> = spec.and_then(|c| c.command.clone()).unwrap_or_default();
        argv.extend(spec.and_then(|c| c.args.clone()).unwrap_or_default());
        for pair in argv.windows(2) {
            if pair[0] == "--requirepass" {
                secrets.add(&pair[1]);
            }
        }
    }
    secrets
}

pub fn run(args: &DockerArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let files = read_files(&args.project);
    let project = project_name(args, files.as_ref().ok());
    let selection = if args.containers.is_empty() {
        if project.is_empty() {
            return Err(CliError::Usage(
                "cannot tell the compose project: give --project NAME or --container NAME"
                    .to_string(),
            ));
        }
        Selection::Project(project.clone())
    } else {
        Selection::Names(args.containers.clone())
    };
    let endpoint = Endpoint::from_env(
        std::env::var("DOCKER_HOST").ok().as_deref(),
        std::env::var("DOCKER_TLS_VERIFY").ok().as_deref(),
    );
    let rt = crate::commands::runtime()?;
    let obs = rt.block_on(probe::observe(&endpoint, selection, ctx.timeout));
    let scope = DockerScope {
        service: args.project.service.clone(),
        // `-p NAME` in the fix commands only when the name was given: otherwise compose
        // derives the same name in the project directory.
        project: args
            .project_name
            .clone()
            .or_else(|| args.project.project_name.clone()),
    };
    let results = checks::run(&obs, files.as_ref().map_err(Clone::clone), &scope);
    let mut secrets = secrets_of(&obs);
    let suppressions = match &files {
        Ok(d) => {
            secrets.merge(&d.secrets);
            crate::commands::lint::suppressions(d, ctx)
        }
        Err(_) => ctx.cli_suppressions(),
    };
    Ok(Report::finish(
        "docker",
        results,
        &suppressions,
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_from_env_command_lines_and_logs_are_registered() {
        use crate::probe::docker::ContainerFacts;
        let inspect: bollard::models::ContainerInspectResponse = serde_json::from_value(
            serde_json::json!({
                "Name": "/p-app-1",
                "Args": ["-c", "redis-server --requirepass inline-pass-1"],
                "Config": {
                    "Env": ["REDIS_URL=redis://:url-pass-2@redis:6379/0", "API_TOKEN=token-3", "PLAIN=visible"],
                    "Entrypoint": ["sh"],
                    "Cmd": ["-c", "exec sleep 1", "redis-server", "--requirepass", "argv-pass-4"]
                }
            }),
        )
        .expect("inspect");
        let obs = DockerObservations {
            containers: vec![ContainerFacts {
                inspect,
                image_env: None,
                log_tail: Some(vec!["using rediss://u:log-pass-5@cache:6380".into()]),
            }],
            ..DockerObservations::unreachable(
                String::new(),
                probe::EngineProblem::Timeout {
                    after: std::time::Duration::ZERO,
                },
                Selection::Names(Vec::new()),
            )
        };
        let secrets = secrets_of(&obs);
        let text = "url-pass-2 token-3 argv-pass-4 inline-pass-1 log-pass-5 visible";
        assert_eq!(secrets.redact(text), "**** **** **** **** **** visible");
    }

    #[test]
    fn project_names_are_normalized_like_compose() {
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("_beagle-Stack_1"), "beagle-stack_1");
        assert_eq!(normalize_project_name("..."), "");
    }
}
