//! `wsdoctor ws`. OWNER: the ws helper.

use clap::Args;

use crate::commands::{CliError, RunContext};
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct WsArgs {}

pub fn run(_args: &WsArgs, _ctx: &RunContext) -> Result<Report, CliError> {
    Err(CliError::Usage("wsdoctor ws is not built yet".to_string()))
}
