//! `kube.helm-chart-version`: the Helm values are for the chart version wsdoctor renders.

use crate::catalogue::{Rule, Severity};
use crate::checks::config::Facts;
use crate::config::helm::defaults::{CHART_MAJOR, CHART_VERSION};
use crate::config::kube::Cluster;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "kube.helm-chart-version",
    severity: Severity::Warning,
    title: "Helm values target the Open WebUI chart version wsdoctor renders",
    summary: "`--helm-values` are rendered with the templates of the official Open WebUI chart \
              16.0.0 (understood: 16.x). An input that pins another major version (a wrapper \
              Chart.yaml dependency, a Flux HelmRelease `chart.spec.version`, an Argo CD \
              `targetRevision`) is named here, and so is a value older charts read that 16.x \
              ignores (`redis-cluster:`).",
    why: "Chart majors change what values mean: chart 7.0.0 dropped the Bitnami redis-cluster \
          dependency (helm-charts commit 30194fc, \"BREAKING CHANGE: drop support for Bitnami \
          Postgres and Redis charts\"), so a values file written for chart 6 that sets \
          `redis-cluster.enabled` gets no Redis from chart 16 and no error either. What \
          wsdoctor reports is what chart 16 would deploy.",
    fix: "Upgrade the release to chart 16.x (`helm upgrade … --version 16.0.0`) and move the \
          Redis settings to `websocket.*`, or read the findings knowing they describe chart 16's \
          rendering of these values.",
};

/// The major version of a chart version or constraint (`v6.1.0`, `8.12.2`, `>=6.0.0`, `~16`).
fn major(version: &str) -> Option<u64> {
    let digits: String = version
        .trim()
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

pub fn check(facts: &Facts, cluster: &Cluster) -> Vec<CheckResult> {
    let _ = cluster;
    let Some(helm) = facts.deployment.helm.as_ref() else {
        return vec![RULE.skip("no --helm-values: no chart values read")];
    };
    let mut out = Vec::new();
    for input in helm.inputs.iter().filter(|i| !i.other_chart) {
        if let Some((version, span)) = &input.chart_version {
            let r = match major(version) {
                Some(m) if m == CHART_MAJOR => RULE.pass(format!(
                    "{} pins chart version {version}: rendered with chart {CHART_VERSION}'s templates",
                    input.file
                )),
                Some(m) => RULE
                    .warn(format!(
                        "{} pins open-webui chart {version} (major {m}); wsdoctor renders chart {CHART_VERSION}'s templates, so findings say what chart {CHART_VERSION} would deploy from these values",
                        input.file
                    ))
                    .hint(format!(
                        "upgrade to chart {CHART_MAJOR}.x, or check the findings against chart {m}'s templates"
                    )),
                None => RULE.warn(format!(
                    "{} names chart version '{version}', which wsdoctor cannot read as a version: rendered with chart {CHART_VERSION}'s templates",
                    input.file
                )),
            };
            out.push(
                r.at(Some(span.location()))
                    .evidence("chart_version", version.clone())
                    .evidence("rendered_as", CHART_VERSION),
            );
        }
        for removed in &input.removed_keys {
            out.push(
                RULE.warn(format!("{}: {}", input.file, removed.message))
                    .at(removed.span.as_ref().map(|s| s.location()))
                    .hint("configure the Redis for websockets with websocket.redis.* (the chart's own) or websocket.url (an external one)"),
            );
        }
    }
    if out.is_empty() {
        if helm.inputs.iter().all(|i| i.other_chart) {
            out.push(
                RULE.skip("the inputs are for another chart than open-webui: nothing rendered"),
            );
        } else {
            out.push(RULE.skip(format!(
                "no input names the chart version: rendered as chart {CHART_VERSION} (wsdoctor understands 16.x)"
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::major;

    #[test]
    fn majors_of_versions_and_constraints() {
        assert_eq!(major("16.0.0"), Some(16));
        assert_eq!(major("v6.1.0"), Some(6));
        assert_eq!(major(">=8.0.0 <9"), Some(8));
        assert_eq!(major("~16"), Some(16));
        assert_eq!(major("*"), None);
    }
}
