//! Checks: pure functions from gathered facts to [`CheckResult`](crate::report::CheckResult)s.
//! One family per source of facts; each rule is a `static Rule` beside its judging function.
//! No check does I/O and no check prints.

pub mod aca;
pub mod config;
pub mod docker;
pub mod kube;
pub mod proxy;
pub mod redis;
pub mod ws;

use crate::config::Deployment;
use crate::report::CheckResult;

/// Every check on the deployment files, as `lint` and `diagnose` both run them: `config.*`
/// (with `kube.*` on manifests and Helm values), `aca.*` on Container Apps YAML, then
/// `proxy.*` on the proxy in front. `service` and `app` are `--service` and `--app`.
pub fn file_checks(
    deployment: &Deployment,
    service: Option<&str>,
    app: Option<&str>,
) -> Vec<CheckResult> {
    let mut results = config::run_for(deployment, service, app);
    results.extend(aca::run(deployment, service, app));
    results.extend(proxy::run(&config::Facts::with_app(
        deployment, service, app,
    )));
    results
}
