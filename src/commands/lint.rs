//! `wsdoctor lint`: the deployment files only, no server touched.

use std::time::Instant;

use clap::Args;

use crate::cli::ProjectArgs;
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::config::compose::{self, LoadOptions};
use crate::report::{Report, Suppressions};

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// Reads the deployment the way every file-reading command does.
pub fn load_deployment(project: &ProjectArgs) -> Result<Deployment, CliError> {
    // Without --project-dir: the first -f file's directory (the loader decides, as compose
    // does, from an empty path), else the current directory.
    let project_dir = match (&project.project_dir, project.files.is_empty()) {
        (Some(dir), _) => dir.clone(),
        (None, false) => std::path::PathBuf::new(),
        (None, true) => std::path::PathBuf::from("."),
    };
    if !project_dir.as_os_str().is_empty() && !project_dir.is_dir() {
        return Err(CliError::input(
            project_dir.display().to_string(),
            "not a directory (give --project-dir the folder with your compose file)",
        ));
    }
    let opts = LoadOptions {
        project_dir,
        files: project.files.clone(),
        env_file: project.env_file.clone(),
        process_env: std::env::vars().collect(),
    };
    let mut deployment = compose::load(&opts)?;
    deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
    Ok(deployment)
}

/// The suppressions of a file-based run: `--ignore` plus inline comments.
pub fn suppressions(deployment: &Deployment, ctx: &RunContext) -> Suppressions {
    Suppressions {
        cli: ctx.ignore.clone(),
        inline: deployment.ignores.clone(),
    }
}

pub fn run(args: &LintArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let deployment = load_deployment(&args.project)?;
    if let Some(name) = &args.project.service
        && deployment.service(name).is_none()
    {
        let names: Vec<&str> = deployment
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        return Err(CliError::Usage(format!(
            "--service {name}: no such service (services: {})",
            names.join(", ")
        )));
    }
    let results = crate::checks::config::run_for(
        &deployment,
        args.project.service.as_deref(),
        args.project.app.as_deref(),
    );
    Ok(Report::finish(
        "lint",
        results,
        &suppressions(&deployment, ctx),
        ctx.strict,
        started.elapsed(),
        deployment.secrets.clone(),
    ))
}
