//! The `config.*` checks: static, from the deployment files.

use crate::catalogue::Rule;

/// Every `config.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];

use crate::config::Deployment;
use crate::report::CheckResult;

/// Runs every config check on the deployment (only for `service` and what it uses, if given).
pub fn run(deployment: &Deployment, service: Option<&str>) -> Vec<CheckResult> {
    let _ = (deployment, service);
    Vec::new()
}
