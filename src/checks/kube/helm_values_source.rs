//! `kube.helm-values-source`: every value the Helm release uses is among the inputs, and the
//! chart renders from them.

use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::helm::defaults::CHART_VERSION;
use crate::config::kube::Cluster;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.helm-values-source",
    severity: Severity::Error,
    title: "Helm values are read in full and the chart renders",
    summary: "The `--helm-values` inputs (values files, a Flux HelmRelease's `spec.values`, an \
              Argo CD Application's `helm.values`/`valuesObject`, a wrapper chart's \
              `open-webui:` values) hold every value of the release, and the Open WebUI chart \
              renders them (a `fail` in its templates stops `helm install`).",
    why: "Values that live elsewhere (HelmRelease `spec.valuesFrom` ConfigMaps and Secrets, Argo \
          CD `helm.valueFiles`) are merged in by the cluster's controller: a REDIS_URL or \
          replicaCount set there is not checked here. A values file for another chart (bjw-s \
          app-template) does not describe the Open WebUI chart's objects. A values file the \
          chart refuses (`workload.kind: DaemonSet`) deploys nothing.",
    fix: "Give the other values files with --helm-values in the order Helm merges them; lint a \
          valuesFrom Secret's content as its own values file; for app-template releases lint the \
          rendered manifests (`helm template … | wsdoctor lint -f -`).",
};

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let _ = cluster;
    let Some(helm) = facts.deployment.helm.as_ref() else {
        return vec![RULE.skip("no --helm-values: no chart values read")];
    };
    let mut out = Vec::new();
    if !helm.unparsed.is_empty() {
        out.push(RULE.skip(format!(
            "not rendered: {} does not parse (see kube.manifest-syntax), so the values the chart gets are unknown",
            helm.unparsed.join(", ")
        )));
    }
    if let Some(f) = &helm.render_failure {
        out.push(
            RULE.fail(f.message.clone())
                .at(f.span.as_ref().map(|s| s.location()))
                .hint("workload.kind must be Deployment, StatefulSet or empty"),
        );
    }
    for input in &helm.inputs {
        for note in &input.unread {
            let r = if input.other_chart {
                RULE.skip(format!("{}: {}", input.file, note.message))
            } else {
                RULE.warn(format!("{}: {}", input.file, note.message))
                    .hint("give those values with --helm-values too, in the order Helm merges them")
            };
            out.push(r.at(note.span.as_ref().map(|s| s.location())));
        }
    }
    if !out.iter().any(|r| r.status != crate::report::Status::Skip) && !helm.rendered.is_empty() {
        let read: Vec<String> = helm
            .inputs
            .iter()
            .filter(|i| !i.other_chart)
            .map(|i| format!("{} ({})", i.file, i.read_as.join(", ")))
            .collect();
        out.push(
            RULE.pass(format!(
                "{} over chart {CHART_VERSION}'s defaults; release '{}' in namespace '{}' ({}); rendered {}",
                read.join(", "),
                helm.release.name,
                helm.release.namespace,
                helm.release_from,
                helm.rendered.join(", ")
            ))
            .evidence("rendered", helm.rendered.clone()),
        );
    }
    out
}
