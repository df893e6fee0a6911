//! `wsdoctor lint`: the deployment files only, no server touched.

use std::time::Instant;

use clap::Args;

use crate::cli::ProjectArgs;
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::report::{Report, Suppressions};

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
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
    let deployment = crate::config::load_deployment(&args.project.source())?;
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
