//! The `kube.*` checks: static, from Kubernetes manifests and the Open WebUI Helm chart's values,
//! where Kubernetes has a meaning compose does not (Services, Ingress, affinity, NetworkPolicy).

use crate::catalogue::Rule;

/// Every `kube.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
