//! `wsdoctor diagnose`. OWNER: the diagnose helper.

use clap::Args;

use crate::commands::{CliError, RunContext};
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {}

pub fn run(_args: &DiagnoseArgs, _ctx: &RunContext) -> Result<Report, CliError> {
    Err(CliError::Usage(
        "wsdoctor diagnose is not built yet".to_string(),
    ))
}
