//! `kube.manifest-syntax`: every document of the manifests is a Kubernetes object.

use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::kube::Cluster;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.manifest-syntax",
    severity: Severity::Error,
    title: "Manifests parse as Kubernetes objects",
    summary: "Each YAML document of the manifests parses and is an object with `apiVersion` and \
              `kind` (a `kind: List` is unfolded); a kustomize input (`kustomization.yaml`) is \
              rendered first.",
    why: "`kubectl apply` refuses a file whose YAML does not parse, and a document without \
          `apiVersion` or `kind` (\"Object 'Kind' is missing\"): nothing in the file reaches the \
          cluster. A `kustomization.yaml` is not a cluster object: kustomize builds the objects \
          from it (patches, name prefixes, namespaces, generated ConfigMaps and Secrets), so the \
          files beside it are not what runs. \
          <https://kubernetes.io/docs/tasks/manage-kubernetes-objects/kustomization/>",
    fix: "Fix the YAML at the reported line. For kustomize: lint what it renders, \
          `kubectl kustomize DIR | wsdoctor lint -f -` (works offline).",
};

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let _ = facts;
    let mut out = Vec::new();
    for p in &cluster.syntax {
        out.push(
            RULE.fire(p.message.clone())
                .at(p.span.as_ref().map(|s| s.location()))
                .hint("fix the YAML there: kubectl refuses the whole file"),
        );
    }
    for k in &cluster.kustomizations {
        let dir = std::path::Path::new(&k.file)
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| ".".to_string());
        out.push(
            RULE.warn(format!(
                "{} is a kustomize input, not a cluster object: the objects that run are what kustomize renders from it",
                k.file
            ))
            .hint(format!("kubectl kustomize {dir} | wsdoctor lint -f -"))
            .at(Some(k.location())),
        );
    }
    for w in &cluster.skipped_workloads {
        out.push(
            RULE.warn(w.message.clone())
                .at(w.span.as_ref().map(|s| s.location())),
        );
    }
    if out.is_empty() {
        let objects = facts.deployment.services.len();
        let mut message = format!(
            "{} container(s) of workloads, {} Service(s), {} Ingress object(s), {} NetworkPolicy object(s) read",
            objects,
            cluster.services.len(),
            cluster.ingresses.len() + cluster.ingress_routes.len(),
            cluster.network_policies.len()
        );
        if !cluster.ignored.is_empty() {
            let kinds: Vec<String> = cluster
                .ignored
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect();
            message.push_str(&format!(
                "; not read (no Socket.IO or Redis meaning): {}",
                kinds.join(", ")
            ));
        }
        out.push(RULE.pass(message));
    }
    out
}
