//! The `kube.*` checks: static, from Kubernetes manifests and the Open WebUI Helm chart's values,
//! where Kubernetes has a meaning compose does not (Services, Ingress, affinity, NetworkPolicy).
//! They judge the same [`Facts`] as the `config.*` checks (which container is an app, where
//! each Redis URL leads) and run only on a Kubernetes deployment.

mod helm_chart_version;
mod helm_values_source;
mod ingress_timeout;
mod manifest_syntax;
mod network_policy;
mod service_selector;
mod session_affinity;

use crate::catalogue::Rule;
use crate::checks::config::Facts;
use crate::config::Service;
use crate::config::kube::resolve;
use crate::config::kube::{Cluster, Ingress, KubeService};
use crate::report::CheckResult;

/// Every `kube.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &manifest_syntax::RULE,
    &service_selector::RULE,
    &session_affinity::RULE,
    &ingress_timeout::RULE,
    &network_policy::RULE,
    &helm_values_source::RULE,
    &helm_chart_version::RULE,
];

type Check = fn(&Facts, &Cluster) -> Vec<CheckResult>;

const CHECKS: &[Check] = &[
    manifest_syntax::check,
    service_selector::check,
    session_affinity::check,
    ingress_timeout::check,
    network_policy::check,
    helm_values_source::check,
    helm_chart_version::check,
];

/// Runs every kube check; nothing for a deployment that is not Kubernetes.
pub fn run(facts: &Facts) -> Vec<CheckResult> {
    let Some(cluster) = facts.deployment.kube.as_ref() else {
        return Vec::new();
    };
    CHECKS.iter().flat_map(|c| c(facts, cluster)).collect()
}

/// The Services of the inputs that select `app`'s pods.
fn services_of<'c>(facts: &Facts, cluster: &'c Cluster, app: &Service) -> Vec<&'c KubeService> {
    cluster
        .services
        .iter()
        .filter(|s| {
            resolve::selected(facts.deployment, s)
                .iter()
                .any(|b| b.name == app.name)
        })
        .collect()
}

/// The Ingresses with a backend that is one of `services`.
fn ingresses_to<'c>(cluster: &'c Cluster, services: &[&KubeService]) -> Vec<&'c Ingress> {
    cluster
        .ingresses
        .iter()
        .filter(|i| {
            i.backends.iter().any(|b| {
                services
                    .iter()
                    .any(|s| s.name == b.service && s.namespace == i.namespace)
            })
        })
        .collect()
}

/// Which controller serves an Ingress, as far as its class and annotations tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    IngressNginx,
    Traefik,
    Other,
}

fn controller(ingress: &Ingress) -> Controller {
    let class = ingress
        .class
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let annotated = |prefix: &str| ingress.annotations.keys().any(|k| k.starts_with(prefix));
    if class.contains("nginx") || (class.is_empty() && annotated("nginx.ingress.kubernetes.io/")) {
        Controller::IngressNginx
    } else if class.contains("traefik")
        || (class.is_empty() && annotated("traefik.ingress.kubernetes.io/"))
    {
        Controller::Traefik
    } else {
        Controller::Other
    }
}
