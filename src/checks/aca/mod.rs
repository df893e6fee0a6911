//! The `aca.*` checks: static, from Azure Container Apps YAML (`az containerapp show -o yaml`,
//! `az containerapp create --yaml`): what the platform's ingress, scale and revisions mean for
//! a Socket.IO app. Every rule says only what Azure documents, with the page in its text.

mod ingress_transport;
mod sticky_sessions;
mod target_port;
mod yaml_syntax;

use crate::catalogue::Rule;
use crate::checks::config::Facts;
use crate::config::Deployment;
use crate::config::aca::{ContainerApp, ContainerApps};
use crate::report::CheckResult;

/// Every `aca.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &yaml_syntax::RULE,
    &ingress_transport::RULE,
    &target_port::RULE,
    &sticky_sessions::RULE,
];

type Check = fn(&AcaFacts) -> Vec<CheckResult>;

const CHECKS: &[Check] = &[
    yaml_syntax::check,
    ingress_transport::check,
    target_port::check,
    sticky_sessions::check,
];

/// What the `aca.*` checks share: the config facts (apps read through their profiles) and
/// the Container Apps part of the model.
pub struct AcaFacts<'a> {
    pub config: Facts<'a>,
    pub aca: &'a ContainerApps,
}

impl AcaFacts<'_> {
    /// The container app whose first container is `service` (the one ingress reaches).
    pub fn ingress_app(&self, service: &str) -> Option<&ContainerApp> {
        self.aca
            .apps
            .iter()
            .find(|a| a.services.first().is_some_and(|s| s == service))
    }
}

/// Runs every `aca.*` check; nothing when the deployment is not Container Apps YAML.
pub fn run(deployment: &Deployment, service: Option<&str>, app: Option<&str>) -> Vec<CheckResult> {
    let Some(aca) = deployment.aca.as_ref() else {
        return Vec::new();
    };
    let facts = AcaFacts {
        config: Facts::with_app(deployment, service, app),
        aca,
    };
    CHECKS.iter().flat_map(|check| check(&facts)).collect()
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::config::Deployment;

    /// A deployment read from one Container Apps YAML text.
    pub fn read(text: &str) -> Deployment {
        crate::config::aca::from_texts(&[("app.yaml".to_string(), Ok(text.to_string()))])
    }

    pub fn statuses(results: &[crate::report::CheckResult]) -> Vec<&'static str> {
        results.iter().map(|r| r.status.as_str()).collect()
    }

    /// A Chainlit container app with the given ingress and scale lines (indented for
    /// `configuration:` / `template:`).
    pub fn chainlit(ingress: &str, scale: &str) -> String {
        format!(
            "name: chat\ntype: Microsoft.App/containerApps\nproperties:\n  configuration:\n    ingress:\n{ingress}  template:\n    containers:\n    - image: ghcr.io/acme/chat:1\n      name: chat\n      command: [chainlit, run, app.py, --host, 0.0.0.0]\n{scale}"
        )
    }
}
