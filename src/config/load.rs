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
}

/// Reads the deployment. Without a project directory: the first `-f` file's directory (the
/// loader decides, as compose does, from an empty path), else the current directory.
pub fn load_deployment(source: &DeploymentSource) -> Result<Deployment, CliError> {
    let project_dir = match (&source.project_dir, source.files.is_empty()) {
        (Some(dir), _) => dir.clone(),
        (None, false) => PathBuf::new(),
        (None, true) => PathBuf::from("."),
    };
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
        process_env: std::env::vars().collect(),
    };
    let mut deployment = compose::load(&opts)?;
    deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
    Ok(deployment)
}
