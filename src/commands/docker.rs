//! `wsdoctor docker`. OWNER: the docker helper.

use clap::Args;

use crate::commands::{CliError, RunContext};
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct DockerArgs {}

pub fn run(_args: &DockerArgs, _ctx: &RunContext) -> Result<Report, CliError> {
    Err(CliError::Usage(
        "wsdoctor docker is not built yet".to_string(),
    ))
}
