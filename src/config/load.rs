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
    let opts = LoadOptions {
        project_dir,
        files: source.files.clone(),
        env_file: source.env_file.clone(),
        process_env: with_flags(std::env::vars().collect(), source),
    };
    let mut deployment = match compose::load(&opts) {
        Ok(d) => d,
        // `--proxy-config` alone is a deployment source: the proxy checks run on it without
        // a compose file (the checks that need the app's service then skip).
        Err(CliError::Input { message, .. })
            if !source.proxy_configs.is_empty()
                && source.files.is_empty()
                && message.starts_with("no compose file found") =>
        {
            let cwd = std::env::current_dir().unwrap_or_default();
            Deployment {
                project_dir: crate::config::compose::absolute(&cwd, &opts.project_dir),
                ..Deployment::default()
            }
        }
        Err(e) => return Err(e),
    };
    deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
    let cwd = std::env::current_dir().unwrap_or_default();
    let project_dir = deployment.project_dir.clone();
    let display = |p: &std::path::Path| crate::report::paths::shown(p, &cwd, &project_dir);
    deployment.proxies =
        crate::config::proxy::discover::discover(&deployment, &source.proxy_configs, &display)?;
    Ok(deployment)
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
