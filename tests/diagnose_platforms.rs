//! `wsdoctor diagnose --no-docker` runs every file check `lint` runs, on each platform's files:
//! Kubernetes manifests (kube.*), Helm values (kube.* on the rendered chart), a Swarm stack and
//! Azure Container Apps YAML (aca.*). Through the binary, on failing fixtures: the failing
//! file-check ids of both reports are the same.

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn report(command: &str, source: &[&str]) -> (i32, Value) {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(root())
        .env_remove("COMPOSE_FILE")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_PASSWORD")
        .arg(command)
        .args(["--format", "json"]);
    if command == "diagnose" {
        // Probes of cluster or Azure host names fail fast here: a short budget keeps it quick.
        cmd.args(["--no-docker", "--timeout", "1s"]);
    }
    let out = cmd.args(source).output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{command} {source:?}: no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Ids of failing results judged from the files alone.
fn failing_file_checks(report: &Value) -> BTreeSet<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .filter_map(|c| c["id"].as_str())
        .filter(|id| {
            ["config.", "kube.", "aca."]
                .iter()
                .any(|p| id.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

/// Lints and diagnoses the same files: diagnose fails on the same file checks, and `expected`
/// (a check of the platform's own family) is among them.
fn same_file_findings(source: &[&str], expected: &str) {
    let (lint_code, lint) = report("lint", source);
    assert_eq!(lint_code, 1, "lint {source:?} fails: {lint:#}");
    let linted = failing_file_checks(&lint);
    assert!(
        linted.contains(expected),
        "lint {source:?}: {expected} fails: {linted:?}"
    );
    let (diagnose_code, diagnosed) = report("diagnose", source);
    assert_eq!(diagnose_code, 1, "diagnose {source:?}: {diagnosed:#}");
    assert_eq!(
        failing_file_checks(&diagnosed),
        linted,
        "diagnose {source:?} runs the file checks lint runs"
    );
    // The file checks ran once: no live retry evidence on them.
    for c in diagnosed["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if ["config.", "kube.", "aca."]
            .iter()
            .any(|p| id.starts_with(p))
        {
            assert!(c["evidence"].get("attempts").is_none(), "{c:#}");
        }
    }
}

#[test]
fn diagnose_runs_the_kube_checks_on_manifests() {
    same_file_findings(
        &["-f", "fixtures/k8s-polling/manifests.yaml"],
        "kube.session-affinity",
    );
}

#[test]
fn diagnose_runs_the_kube_checks_on_helm_values() {
    same_file_findings(
        &["--helm-values", "fixtures/helm-polling/values.yaml"],
        "kube.session-affinity",
    );
}

#[test]
fn diagnose_runs_the_config_checks_on_a_swarm_stack() {
    same_file_findings(
        &["-f", "fixtures/swarm-polling/docker-compose.yml"],
        "config.polling-multi-worker",
    );
}

#[test]
fn diagnose_runs_the_aca_checks_on_container_apps_yaml() {
    same_file_findings(
        &["-f", "fixtures/aca-openwebui-polling/app.yaml"],
        "aca.sticky-sessions",
    );
    same_file_findings(
        &["-f", "fixtures/aca-chainlit-http2"],
        "aca.ingress-transport",
    );
}
