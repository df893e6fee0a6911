//! `wsdoctor redis`. OWNER: the redis helper.

use clap::Args;

use crate::commands::{CliError, RunContext};
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct RedisArgs {}

pub fn run(_args: &RedisArgs, _ctx: &RunContext) -> Result<Report, CliError> {
    Err(CliError::Usage(
        "wsdoctor redis is not built yet".to_string(),
    ))
}
