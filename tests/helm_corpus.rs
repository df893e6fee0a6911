//! `lint --helm-values` over the shared corpus of real Open WebUI chart values
//! (`corpora/helm/values`: values files, wrapper charts, a Flux HelmRelease, Argo CD
//! Applications) and the Flux HelmReleases of `corpora/k8s`: every file reads without a crash
//! or a refusal, and every finding that fires is listed below with its reason (0 unexplained).
//!
//! The corpus stores files flat; MANIFEST.json gives each one's repository and path, so the
//! test rebuilds the trees (a wrapper chart's values.yaml meets its Chart.yaml again) and lints
//! each file alone, then the Argo CD Applications after the values file they name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wsdoctor::config::{DeploymentSource, load_deployment};
use wsdoctor::report::Status;

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if dir.join("helm/values").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "no helm corpus at {}: CI must have shared/ beside the checkout",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED helm_corpus: no helm corpus at {} (set WSDOCTOR_CORPORA)",
        dir.display()
    );
    None
}

/// Writes every helm values file and k8s HelmRelease at its upstream path under `root`.
fn rebuild(corpus: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("MANIFEST.json")).unwrap())
            .unwrap();
    let mut files = Vec::new();
    for entry in manifest["files"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        if !(file.starts_with("helm/values/")
            || (file.starts_with("k8s/") && file.ends_with("helmrelease.yaml")))
        {
            continue;
        }
        let name = format!(
            "{}/{}",
            entry["repo"].as_str().unwrap(),
            entry["path"].as_str().unwrap()
        );
        let dest = root.join(&name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, std::fs::read(corpus.join(file)).unwrap()).unwrap();
        files.push((name, dest));
    }
    files.sort();
    files
}

const RUNS_CHART_REDIS: &str = "the chart's own Redis (templates/websocket-redis.yaml) runs redis-server with no flags unless websocket.redis.args sets them (values.yaml:117 `args: []`): timeout 0, true for every values file that keeps websocket.redis.enabled";

/// Findings that are true, by (run name prefix, check id, why). Anything else that fires is a
/// false alarm and fails the test.
const TRUE_FINDINGS: &[(&str, &str, &str)] = &[
    (
        "Daniel-Boluda/homelab/apps/open-webui/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "Reed-Schimmel/enterprise-ai-platform/apps/open-webui/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "SaulSantana94/homelab/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "amasolov/home-ops/kubernetes/apps/ai/open-webui/app/helmrelease.yaml",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "brimdor/homelab/archived/apps/open-webui/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "celesrenata/nixos-k3s-configs/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "cookew/iaas-cyclops/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "jsa4000/homelab-ops/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "loncarales/minikube-ollama-lab/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "open-webui/helm-charts/charts/open-webui/values-minikube.yaml",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    ("pando85/homelab/", "config.redis-timeout", RUNS_CHART_REDIS),
    (
        "takanao14/homelab/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "tryrocket-cloud/home-ops/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "yo0x/devops-smarthome/",
        "config.redis-timeout",
        RUNS_CHART_REDIS,
    ),
    (
        "Daniel-Boluda/homelab/apps/open-webui/",
        "kube.helm-chart-version",
        "the wrapper Chart.yaml pins open-webui 8.12.2: rendered as 16.0.0, said so",
    ),
    (
        "Reed-Schimmel/enterprise-ai-platform/apps/open-webui/",
        "kube.helm-chart-version",
        "the wrapper Chart.yaml pins open-webui 12.10.0: rendered as 16.0.0, said so",
    ),
    (
        "amasolov/home-ops/kubernetes/apps/ai/open-webui/app/helmrelease.yaml",
        "kube.helm-chart-version",
        "the HelmRelease pins chart.spec.version 6.22.0",
    ),
    (
        "brimdor/homelab/archived/apps/open-webui/OLDChart.yaml",
        "kube.helm-chart-version",
        "the (archived) wrapper Chart.yaml pins open-webui 6.22.0",
    ),
    (
        "tryrocket-cloud/home-ops/k8s/open-webui/application.yaml",
        "kube.helm-chart-version",
        "the Argo CD Application's targetRevision is v6.1.0",
    ),
    (
        "yo0x/devops-smarthome/root/argo-cd/apps/openui.yaml",
        "kube.helm-chart-version",
        "the Argo CD Application's targetRevision is 5.1.0",
    ),
    (
        "tryrocket-cloud/home-ops/k8s/open-webui/application.yaml",
        "kube.helm-values-source",
        "alone, its helm.valueFiles ($values/k8s/open-webui/values.yaml) is not among the inputs: said so (the run after values.yaml resolves it)",
    ),
    (
        "yo0x/devops-smarthome/root/argo-cd/apps/openui.yaml",
        "kube.helm-values-source",
        "alone, its helm.valueFiles (a raw.githubusercontent.com URL) is not among the inputs: said so (the run after the values file resolves it)",
    ),
];

/// Argo CD Applications after the values file their `helm.valueFiles` names, as Argo CD merges
/// them (valueFiles, then the Application's own values).
const PAIRS: &[(&str, &str)] = &[
    (
        "tryrocket-cloud/home-ops/k8s/open-webui/values.yaml",
        "tryrocket-cloud/home-ops/k8s/open-webui/application.yaml",
    ),
    (
        "yo0x/devops-smarthome/root/environments/open-webui-values.yaml",
        "yo0x/devops-smarthome/root/argo-cd/apps/openui.yaml",
    ),
];

fn lint(values: Vec<PathBuf>) -> Result<Vec<wsdoctor::report::CheckResult>, String> {
    let d = load_deployment(&DeploymentSource {
        helm_values: values,
        ..DeploymentSource::default()
    })
    .map_err(|e| e.to_string())?;
    Ok(wsdoctor::checks::config::run(&d, None))
}

#[test]
fn every_corpus_values_file_lints_without_false_alarms() {
    let Some(corpus) = corpora() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let files = rebuild(&corpus, tmp.path());
    assert!(
        files.len() >= 47,
        "expected the corpus' 24 helm values files and 23 HelmReleases, found {}",
        files.len()
    );
    let mut runs: Vec<(String, Vec<PathBuf>)> = files
        .iter()
        .map(|(n, p)| (n.clone(), vec![p.clone()]))
        .collect();
    for (values, app) in PAIRS {
        runs.push((
            format!("{app} after {values}"),
            vec![tmp.path().join(values), tmp.path().join(app)],
        ));
    }
    let mut fired: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut rendered = 0;
    for (name, paths) in &runs {
        let results = match lint(paths.clone()) {
            Ok(r) => r,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let source_passed = results
            .iter()
            .any(|r| r.id == "kube.helm-values-source" && r.status == Status::Pass);
        if source_passed {
            rendered += 1;
        }
        // An Application after the values file it names reads in full.
        if paths.len() == 2 {
            assert!(source_passed, "{name}: valueFiles not resolved");
        }
        for r in results {
            if matches!(r.status, Status::Warn | Status::Fail) {
                fired.entry((name.clone(), r.id)).or_default().push(format!(
                    "{} {}",
                    r.status.as_str(),
                    r.message
                ));
            }
        }
    }
    assert!(refused.is_empty(), "refused: {refused:#?}");
    // The 23 k8s HelmReleases are bjw-s app-template releases, the ApplicationSet is a
    // template, the HelmRepository is no values and the two Applications alone miss their
    // valueFiles: the other 20 files and the 2 pairs render the chart in full.
    eprintln!("{rendered} of {} runs rendered the chart", runs.len());
    assert!(rendered >= 22, "{rendered} of {} runs rendered", runs.len());
    let mut unexplained = Vec::new();
    for ((file, id), messages) in &fired {
        let known = TRUE_FINDINGS
            .iter()
            .any(|(prefix, i, _)| file.starts_with(prefix) && i == id);
        for m in messages {
            eprintln!(
                "  {}\t{file}\t{id}\t{m}",
                if known { "true " } else { "FALSE" }
            );
        }
        if !known {
            unexplained.push(format!("{file} {id}: {}", messages.join(" | ")));
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained findings:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    for (prefix, id, why) in TRUE_FINDINGS {
        assert!(
            fired.keys().any(|(f, i)| f.starts_with(prefix) && i == id),
            "stale entry {prefix} {id} ({why})"
        );
    }
}
