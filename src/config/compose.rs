//! Loading compose files into the deployment model, as docker compose would.
//! OWNER: helper B. `load` is the contract with every command that reads files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::commands::CliError;
use crate::config::Deployment;

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub project_dir: PathBuf,
    /// Compose files given with -f, in order; empty: discover (or COMPOSE_FILE).
    pub files: Vec<PathBuf>,
    /// --env-file; default: project_dir/.env when it exists.
    pub env_file: Option<PathBuf>,
    /// The process environment (wins over .env for interpolation, as in compose).
    pub process_env: BTreeMap<String, String>,
}

/// Reads the deployment. Errors (exit 2): no compose file found, a file that cannot be read,
/// invalid YAML, a document that is not a mapping, YAML too large or too deeply aliased.
pub fn load(opts: &LoadOptions) -> Result<Deployment, CliError> {
    todo!("helper B: load {:?}", opts.project_dir)
}
