//! `wsdoctor lint`: the deployment files only, no server touched.

use std::time::Instant;

use clap::Args;

use crate::cli::ProjectArgs;
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::redact::Secrets;
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

/// A run-stopping error with every secret the deployment registered masked (the exit-2 line
/// is an output too; only URL passwords are masked where it is printed).
pub fn redact_error(e: CliError, secrets: &Secrets, ctx: &RunContext) -> CliError {
    if ctx.show_secrets {
        return e;
    }
    match e {
        CliError::Usage(m) => CliError::Usage(secrets.redact(&m)),
        CliError::Input {
            file,
            line,
            column,
            message,
        } => CliError::Input {
            file: secrets.redact(&file),
            line,
            column,
            message: secrets.redact(&message),
        },
    }
}

pub fn run(args: &LintArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let deployment = crate::config::load_deployment(&args.project.source())?;
    run_on(args, ctx, &deployment).map_err(|e| redact_error(e, &deployment.secrets, ctx))
}

fn run_on(args: &LintArgs, ctx: &RunContext, deployment: &Deployment) -> Result<Report, CliError> {
    let started = Instant::now();
    // A file that did not parse has no services to choose from: its finding is the report.
    if let Some(name) = &args.project.service
        && deployment.service(name).is_none()
        && crate::config::compose::unparsed_files(deployment).is_empty()
        && deployment.kube.as_ref().is_none_or(|k| k.syntax.is_empty())
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
    let results = crate::checks::file_checks(
        deployment,
        args.project.service.as_deref(),
        args.project.app.as_deref(),
    );
    Ok(Report::finish(
        "lint",
        results,
        &suppressions(deployment, ctx),
        ctx.strict,
        started.elapsed(),
        deployment.secrets.clone(),
    ))
}
