//! Reading a whole deployment the way every file-reading command does: the compose files
//! (discovered or given), the project `.env`, and the Python requirements beside them.

use std::path::PathBuf;

use crate::config::Deployment;
use crate::config::compose::{self, LoadOptions};
use crate::error::CliError;

/// Which files make the deployment (the command line's `--project-dir`, `-f`, `--env-file`).
#[derive(Debug, Clone, Default)]
pub struct DeploymentSource {
    pub project_dir: Option<PathBuf>,
    pub files: Vec<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// `--profile` (repeatable): replaces COMPOSE_PROFILES, as in compose.
    pub profiles: Vec<String>,
    /// `-p/--project-name`: replaces COMPOSE_PROJECT_NAME, as in compose.
    pub project_name: Option<String>,
    /// `--helm-values` (repeatable, merged in order).
    pub helm_values: Vec<PathBuf>,
    /// `--proxy-config` (repeatable).
    pub proxy_configs: Vec<PathBuf>,
}

/// Reads the deployment. Without a project directory: the first `-f` file's directory (the
/// loader decides, as compose does, from an empty path), else the current directory.
pub fn load_deployment(source: &DeploymentSource) -> Result<Deployment, CliError> {
    // An empty path tells the loader no directory was given: compose then takes the first
    // compose file's directory (given, from COMPOSE_FILE, or found in a parent).
    let project_dir = source.project_dir.clone().unwrap_or_default();
    if !project_dir.as_os_str().is_empty() && !project_dir.is_dir() {
        return Err(CliError::input(
            project_dir.display().to_string(),
            "not a directory (give --project-dir the folder with your compose file)",
        ));
    }
    // Azure Container Apps YAML is recognised by its content (`type: Microsoft.App/…`,
    // `properties.template`), as the issue asks: `-f app.yaml` needs no other flag.
    if let Some(files) = container_app_files(&source.files)? {
        let mut deployment = crate::config::aca::load(&files, &project_dir)?;
        deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
        return Ok(deployment);
    }
    let opts = LoadOptions {
        project_dir,
        files: source.files.clone(),
        env_file: source.env_file.clone(),
        process_env: with_flags(std::env::vars().collect(), source),
    };
    let mut deployment = compose::load(&opts)?;
    deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
    Ok(deployment)
}

/// The `-f` files when every one is Container Apps YAML; None when none is (compose reads
/// them). Standard input and pipes are left to compose: they can be read only once.
fn container_app_files(files: &[PathBuf]) -> Result<Option<Vec<PathBuf>>, CliError> {
    let mut aca = Vec::new();
    let mut other = Vec::new();
    for f in files {
        let text = if f.as_os_str() == crate::config::compose::STDIN_PATH
            || f.starts_with("/dev")
            || f.starts_with("/proc")
            || !f.is_file()
        {
            None
        } else {
            // Unreadable or refused content: compose's reader reports it as before.
            crate::config::compose::read_text(f, &f.display().to_string())
                .ok()
                .and_then(Result::ok)
        };
        match text {
            Some(t) if crate::config::aca::is_container_app_text(&t) => aca.push(f.clone()),
            _ => other.push(f.clone()),
        }
    }
    match (aca.is_empty(), other.is_empty()) {
        (true, _) => Ok(None),
        (false, true) => Ok(Some(aca)),
        (false, false) => Err(CliError::Usage(format!(
            "-f {} is Azure Container Apps YAML and -f {} is not: lint them in separate runs",
            aca[0].display(),
            other[0].display()
        ))),
    }
}

/// The flags compose gives precedence over their variables, set as those variables: the
/// loader reads COMPOSE_PROFILES and COMPOSE_PROJECT_NAME from one place (docker/compose
/// `toProjectOptions`: `WithDefaultProfiles(o.Profiles...)`, `WithName(o.ProjectName)`).
fn with_flags(
    mut env: std::collections::BTreeMap<String, String>,
    source: &DeploymentSource,
) -> std::collections::BTreeMap<String, String> {
    if !source.profiles.is_empty() {
        env.insert("COMPOSE_PROFILES".to_string(), source.profiles.join(","));
    }
    if let Some(name) = source
        .project_name
        .as_ref()
        .filter(|n| !n.trim().is_empty())
    {
        env.insert("COMPOSE_PROJECT_NAME".to_string(), name.clone());
    }
    env
}
