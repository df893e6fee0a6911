//! `lint` over the shared corpus of real Kubernetes manifests (`corpora/k8s`): every file and
//! every directory of them loads without a crash, and every finding that fires is listed
//! below with its reason (0 unexplained), as `lint_corpus.rs` does for compose.
//!
//! The corpus stores files flat; MANIFEST.json gives each one's repository and path, so the
//! test rebuilds the trees and lints each file alone and each directory as a whole (`-f DIR`,
//! where Services meet the workloads they select). The official Open WebUI kustomize base is
//! also rendered with `kubectl kustomize` (offline) and the output linted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wsdoctor::config::{DeploymentSource, load_deployment};
use wsdoctor::report::Status;

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if dir.join("k8s").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "no k8s corpus at {}: CI must have shared/ beside the checkout",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED kube_corpus: no k8s corpus at {} (set WSDOCTOR_CORPORA)",
        dir.display()
    );
    None
}

/// Writes every k8s corpus file at its upstream path under `root`; returns (name, path).
fn rebuild(corpus: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("MANIFEST.json")).unwrap())
            .unwrap();
    let mut files = Vec::new();
    for entry in manifest["files"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        if !file.starts_with("k8s/") {
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

/// Findings that are true, by (name prefix, check id, why). Anything else that fires is a
/// false alarm and fails the test.
const TRUE_FINDINGS: &[(&str, &str, &str)] = &[
    (
        "open-webui/open-webui/kubernetes/manifest/",
        "kube.manifest-syntax",
        "kustomization.yaml (base and gpu overlay) is kustomize input: the warning says to lint `kubectl kustomize DIR` instead",
    ),
    (
        "jsa4000/homelab-ops/clusters/",
        "kube.manifest-syntax",
        "ingress-patch.yaml is a kustomize JSON 6902 patch (`- op: replace`), kustomize input: the warning says to render it",
    ),
    (
        "tuxpeople/k8s-homelab/kubernetes/apps/ai/open-webui/app/values.yaml",
        "config.interpolation-unset",
        "a values file of the bjw-s app-template chart (no apiVersion/kind: not manifests), read as compose; its ${SECRET_DOMAIN} & co. are Flux postBuild substitutions, unset here",
    ),
];

fn lint(source: &DeploymentSource) -> Result<Vec<wsdoctor::report::CheckResult>, String> {
    let d = load_deployment(source).map_err(|e| e.to_string())?;
    Ok(wsdoctor::checks::config::run(&d, None))
}

#[test]
fn every_corpus_manifest_lints_without_false_alarms() {
    let Some(corpus) = corpora() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let files = rebuild(&corpus, tmp.path());
    assert!(
        files.len() >= 58,
        "expected the corpus' 58 k8s files, found {}",
        files.len()
    );
    // Each file alone, then each directory.
    let mut runs: Vec<(String, PathBuf)> = files.clone();
    let mut dirs: Vec<(String, PathBuf)> = files
        .iter()
        .map(|(n, p)| {
            (
                n.rsplit_once('/').unwrap().0.to_string() + "/",
                p.parent().unwrap().to_path_buf(),
            )
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    runs.extend(dirs);
    let mut fired: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut kube_runs = 0;
    for (name, path) in &runs {
        let source = DeploymentSource {
            files: vec![path.clone()],
            ..DeploymentSource::default()
        };
        let results = match lint(&source) {
            Ok(r) => r,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        if results.iter().any(|r| r.id.starts_with("kube.")) {
            kube_runs += 1;
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
    // All but the one values file are recognised as manifests by their content.
    assert!(
        kube_runs >= runs.len() - 2,
        "{kube_runs} of {} runs read as Kubernetes",
        runs.len()
    );
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
    // Every listed reason is still needed (a fixed false alarm leaves a stale entry).
    for (prefix, id, why) in TRUE_FINDINGS {
        assert!(
            fired.keys().any(|(f, i)| f.starts_with(prefix) && i == id),
            "stale entry {prefix} {id} ({why})"
        );
    }
}

/// The official Open WebUI kustomize base, rendered by kubectl (offline) and linted: the
/// objects kustomize builds read as one deployment with no finding.
#[test]
fn the_open_webui_kustomize_base_rendered_by_kubectl() {
    let Some(corpus) = corpora() else { return };
    let tmp = tempfile::tempdir().unwrap();
    rebuild(&corpus, tmp.path());
    let base = tmp
        .path()
        .join("open-webui/open-webui/kubernetes/manifest/base");
    let rendered = match std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&base)
        .output()
    {
        Ok(out) if out.status.success() => out.stdout,
        Ok(out) => panic!(
            "kubectl kustomize failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("kubectl is required in CI: {e}");
            }
            eprintln!(
                "SKIPPED the_open_webui_kustomize_base_rendered_by_kubectl: no kubectl ({e})"
            );
            return;
        }
    };
    let file = tmp.path().join("rendered.yaml");
    std::fs::write(&file, rendered).unwrap();
    let d = load_deployment(&DeploymentSource {
        files: vec![file],
        ..DeploymentSource::default()
    })
    .unwrap();
    // open-webui and ollama, in the namespace kustomize sets.
    let names: Vec<&str> = d.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["open-webui-deployment", "ollama"], "{names:?}");
    assert!(
        d.services
            .iter()
            .all(|s| s.kube.as_ref().is_some_and(|w| w.namespace == "open-webui"))
    );
    let results = wsdoctor::checks::config::run(&d, None);
    let bad: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Warn | Status::Fail))
        .map(|r| format!("{} {}", r.id, r.message))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(
        results
            .iter()
            .any(|r| r.id == "kube.manifest-syntax" && r.status == Status::Pass)
    );
}
