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

#[cfg(test)]
mod tests {
    //! The kube checks on small manifests read by the real reader.
    use crate::config::kube::{ReadManifests, deployment_from_manifests};
    use crate::report::CheckResult;

    fn run(text: &str) -> Vec<CheckResult> {
        let mut read = ReadManifests::default();
        read.add_text("m.yaml", text);
        let d = deployment_from_manifests(&read.manifests, std::path::Path::new("."));
        crate::checks::config::run(&d, None)
    }

    fn statuses(results: &[CheckResult], id: &str) -> Vec<&'static str> {
        results
            .iter()
            .filter(|r| r.id == id)
            .map(|r| r.status.as_str())
            .collect()
    }

    /// Open WebUI polling only, 3 replicas, Redis; `extra` objects appended.
    fn polling(extra: &str) -> String {
        format!(
            "\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: owui}}
spec:
  replicas: 3
  template:
    metadata: {{labels: {{app: owui}}}}
    spec:
      containers:
      - name: owui
        image: ghcr.io/open-webui/open-webui:0.6.5
        env:
        - {{name: ENABLE_WEBSOCKET_SUPPORT, value: \"false\"}}
        - {{name: WEBSOCKET_MANAGER, value: redis}}
        - {{name: WEBSOCKET_REDIS_URL, value: \"redis://redis:6379/0\"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: redis}}
spec:
  template:
    metadata: {{labels: {{app: redis}}}}
    spec:
      containers:
      - {{name: redis, image: \"redis:7\", args: [--timeout, \"1800\"], ports: [{{name: resp, containerPort: 6379}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: redis}}
spec:
  selector: {{app: redis}}
  ports: [{{port: 6379, targetPort: resp}}]
---
{extra}"
        )
    }

    const OWUI_SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: owui
  annotations: {traefik.ingress.kubernetes.io/service.sticky.cookie: \"true\"}
spec:
  selector: {app: owui}
  ports: [{port: 8080}]
";

    #[test]
    fn client_ip_affinity_counts_only_without_an_ingress() {
        let r = run(&polling(
            "apiVersion: v1\nkind: Service\nmetadata: {name: owui}\nspec:\n  selector: {app: owui}\n  sessionAffinity: ClientIP\n  ports: [{port: 8080}]\n",
        ));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["pass"]);
        let r = run(&polling(
            "apiVersion: v1\nkind: Service\nmetadata: {name: owui}\nspec:\n  selector: {app: owui}\n  ports: [{port: 8080}]\n",
        ));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["fail"]);
        // A named targetPort the Redis container declares.
        assert_eq!(statuses(&r, "kube.service-selector"), ["pass"]);
        assert_eq!(statuses(&r, "config.redis-url-port"), ["pass"]);
    }

    #[test]
    fn traefik_sticky_cookie_on_the_service_or_the_ingress_route() {
        let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: owui}\nspec:\n  ingressClassName: traefik\n  rules:\n  - http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend: {service: {name: owui, port: {number: 8080}}}\n";
        let r = run(&polling(&format!("{OWUI_SERVICE}---\n{ingress}")));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["pass"]);
        // Traefik's timeouts are not ingress-nginx's annotations.
        assert_eq!(statuses(&r, "kube.ingress-timeout"), ["skip"]);
        let plain = OWUI_SERVICE.replace("\"true\"", "\"false\"");
        let r = run(&polling(&format!("{plain}---\n{ingress}")));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["fail"]);
        let route = |sticky: &str| {
            format!(
                "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {{name: owui}}\nspec:\n  routes:\n  - match: Host(`x`)\n    services:\n    - name: owui\n      port: 8080\n{sticky}"
            )
        };
        let r = run(&polling(&format!(
            "{plain}---\n{}",
            route("      sticky: {cookie: {name: io}}\n")
        )));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["pass"]);
        let r = run(&polling(&format!("{plain}---\n{}", route(""))));
        assert_eq!(statuses(&r, "kube.session-affinity"), ["fail"]);
    }

    #[test]
    fn a_node_port_redis_without_password_is_exposed() {
        let r = run(&polling(""));
        assert_eq!(
            statuses(&r, "config.redis-exposed-without-password"),
            ["pass"]
        );
        let text = polling("").replace(
            "  selector: {app: redis}\n",
            "  type: NodePort\n  selector: {app: redis}\n",
        );
        let r = run(&text);
        assert_eq!(
            statuses(&r, "config.redis-exposed-without-password"),
            ["warn"]
        );
        let text = text.replace(
            "args: [--timeout, \"1800\"]",
            "args: [--requirepass, pw-123456]",
        );
        let r = run(&text);
        assert_eq!(
            statuses(&r, "config.redis-exposed-without-password"),
            ["pass"]
        );
    }

    #[test]
    fn external_name_and_missing_named_port() {
        let text = polling("").replace(
            "  selector: {app: redis}\n  ports: [{port: 6379, targetPort: resp}]",
            "  type: ExternalName\n  externalName: cache.example.net",
        );
        let r = run(&text);
        assert_eq!(statuses(&r, "config.redis-url-host"), ["pass"]);
        assert_eq!(statuses(&r, "kube.service-selector"), ["skip"]);
        let text = polling("").replace("targetPort: resp", "targetPort: redis");
        let r = run(&text);
        assert_eq!(statuses(&r, "kube.service-selector"), ["fail"]);
        assert_eq!(statuses(&r, "config.redis-url-port"), ["skip"]);
    }

    #[test]
    fn egress_policies_of_the_app_must_admit_redis() {
        let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: app-egress}\nspec:\n  podSelector: {matchLabels: {app: owui}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 53, protocol: UDP}]\n";
        let r = run(&polling(deny));
        assert_eq!(statuses(&r, "kube.network-policy"), ["fail"]);
        let allow = format!(
            "{deny}  - to: [{{podSelector: {{matchLabels: {{app: redis}}}}}}]\n    ports: [{{port: 6379}}]\n"
        );
        let r = run(&polling(&allow));
        assert_eq!(statuses(&r, "kube.network-policy"), ["pass"]);
        // An ingress policy on Redis naming the app's namespace by its automatic label.
        let ns = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: redis}\nspec:\n  podSelector: {matchLabels: {app: redis}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}}]\n";
        assert_eq!(
            statuses(&run(&polling(ns)), "kube.network-policy"),
            ["pass"]
        );
        let other = ns.replace("name: default", "name: elsewhere");
        assert_eq!(
            statuses(&run(&polling(&other)), "kube.network-policy"),
            ["fail"]
        );
    }
}
