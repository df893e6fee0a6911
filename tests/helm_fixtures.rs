//! `wsdoctor lint --helm-values` on values of the official Open WebUI chart (`fixtures/helm-*`),
//! through the binary: each check the chart's values decide fails on one fixture and passes on
//! another, with the exact statuses and file:line into the values file (or the HelmRelease,
//! Argo CD Application or wrapper chart holding them); every report format runs on one fixture
//! and none shows a password from the values.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wsdoctor() -> Command {
    let mut c = Command::cargo_bin("wsdoctor").unwrap();
    c.current_dir(root())
        .env_remove("COMPOSE_FILE")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_PASSWORD");
    c
}

/// `wsdoctor lint --helm-values fixtures/<v>… --format json`: (exit code, report).
fn lint(values: &[&str]) -> (i32, Value) {
    let mut cmd = wsdoctor();
    cmd.args(["lint", "--format", "json"]);
    for v in values {
        cmd.arg("--helm-values").arg(format!("fixtures/{v}"));
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{values:?}: no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

fn statuses(report: &Value, id: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(report: &'a Value, id: &str, status: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id && c["status"] == status)
        .unwrap_or_else(|| panic!("no {status} result for {id} in {report:#}"))
}

fn expect(report: &Value, expected: &[(&str, &[&str])]) {
    for (id, want) in expected {
        assert_eq!(statuses(report, id), *want, "{id} in {report:#}");
    }
}

fn at(result: &Value, file: &str, line: u64) {
    assert_eq!(result["location"]["file"], file, "{result:#}");
    assert_eq!(result["location"]["line"], line, "{result:#}");
}

#[test]
fn replicas_without_websocket_support_fail_the_manager_check_at_replica_count() {
    let (code, r) = lint(&["helm-no-manager/values.yaml"]);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("config.websocket-manager", &["fail"]),
            ("kube.helm-values-source", &["pass"]),
            ("kube.helm-chart-version", &["skip"]),
        ],
    );
    let f = find(&r, "config.websocket-manager", "fail");
    at(f, "fixtures/helm-no-manager/values.yaml", 4);
    assert!(
        f["message"].as_str().unwrap().contains("3 replicas"),
        "{f:#}"
    );
    // The chart renders no Redis when websocket is off (websocket-redis.yaml:1).
    let source = find(&r, "kube.helm-values-source", "pass");
    let rendered: Vec<&str> = source["evidence"]["rendered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(rendered, ["Service open-webui", "Deployment open-webui"]);
}

#[test]
fn a_later_values_file_merges_over_an_earlier_one() {
    // `helm -f no-manager.yaml -f websocket-on.yaml`: websocket.enabled from the second file,
    // replicaCount from the first, manager and Redis from the chart's defaults.
    let (code, r) = lint(&[
        "helm-no-manager/values.yaml",
        "helm-merge/websocket-on.yaml",
    ]);
    expect(
        &r,
        &[
            ("config.websocket-manager", &["pass"]),
            ("config.redis-url-host", &["pass", "pass"]),
            ("kube.service-selector", &["pass", "pass"]),
        ],
    );
    let pass = find(&r, "config.websocket-manager", "pass");
    assert!(
        pass["message"].as_str().unwrap().contains("3 replicas"),
        "{pass:#}"
    );
    // The URL the chart computes points at its own Redis Service (_helpers.tpl:212).
    let host = find(&r, "config.redis-url-host", "pass");
    at(host, "open-webui-16.0.0.tgz/templates/_helpers.tpl", 212);
    // The chart's Redis has no --timeout unless websocket.redis.args sets one: warned at the
    // chart default that deploys it (values.yaml:88), exit 0.
    let timeout = find(&r, "config.redis-timeout", "warn");
    at(timeout, "open-webui-16.0.0.tgz/values.yaml", 88);
    assert_eq!(code, 0);
}

#[test]
fn the_charts_own_redis_passes_and_ingress_annotations_are_read() {
    let (code, r) = lint(&["helm-chart-redis/values.yaml"]);
    assert_eq!(code, 0, "{r:#}");
    expect(
        &r,
        &[
            ("config.websocket-manager", &["pass"]),
            ("config.redis-url-host", &["pass", "pass"]),
            ("config.redis-url-port", &["pass", "pass"]),
            ("config.websocket-redis-url", &["pass"]),
            ("kube.ingress-timeout", &["pass"]),
            ("kube.session-affinity", &["pass"]),
            ("kube.helm-values-source", &["pass"]),
        ],
    );
    let timeout = find(&r, "kube.ingress-timeout", "pass");
    assert!(
        timeout["message"].as_str().unwrap().contains("3600s"),
        "{timeout:#}"
    );
    // The chart's Redis is judged at the user's websocket.redis.enabled (line 8).
    let t = find(&r, "config.redis-timeout", "warn");
    at(t, "fixtures/helm-chart-redis/values.yaml", 8);
}

#[test]
fn websocket_url_naming_a_wrong_host_fails_at_its_line() {
    let (code, r) = lint(&["helm-wrong-host/values.yaml"]);
    assert_eq!(code, 1);
    expect(&r, &[("config.redis-url-host", &["fail", "fail"])]);
    let f = find(&r, "config.redis-url-host", "fail");
    at(f, "fixtures/helm-wrong-host/values.yaml", 7);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'open-webui-redis'"),
        "{f:#}"
    );
    let text = r.to_string();
    assert!(
        !text.contains("p4ss-w0rd-redis"),
        "password printed: {text}"
    );
}

#[test]
fn a_flux_helmrelease_for_an_old_chart_says_what_is_not_read() {
    let (code, r) = lint(&["helm-flux-old-chart/helmrelease.yaml"]);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("kube.helm-chart-version", &["warn", "warn"]),
            ("kube.helm-values-source", &["warn"]),
            ("config.redis-url-host", &["fail", "fail"]),
        ],
    );
    let file = "fixtures/helm-flux-old-chart/helmrelease.yaml";
    let versions: Vec<&Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "kube.helm-chart-version")
        .collect();
    at(versions[0], file, 12);
    assert!(versions[0]["message"].as_str().unwrap().contains("6.22.0"));
    at(versions[1], file, 28);
    assert!(
        versions[1]["message"]
            .as_str()
            .unwrap()
            .contains("redis-cluster")
    );
    at(find(&r, "kube.helm-values-source", "warn"), file, 18);
    // spec.values are read: the URL is the HelmRelease's, in its namespace (metadata.namespace).
    let host = find(&r, "config.redis-url-host", "fail");
    at(host, file, 32);
    assert!(host["message"].as_str().unwrap().contains("namespace ai"));
}

#[test]
fn wrapper_chart_values_under_the_dependency_key() {
    // Given the values file (Chart.yaml beside it) or the Chart.yaml: the same values.
    for input in ["helm-wrapper/values.yaml", "helm-wrapper/Chart.yaml"] {
        let (code, r) = lint(&[input]);
        assert_eq!(code, 1, "{input}");
        expect(
            &r,
            &[
                ("config.websocket-manager", &["fail"]),
                ("kube.helm-chart-version", &["pass"]),
            ],
        );
        at(
            find(&r, "config.websocket-manager", "fail"),
            "fixtures/helm-wrapper/values.yaml",
            3,
        );
        at(
            find(&r, "kube.helm-chart-version", "pass"),
            "fixtures/helm-wrapper/Chart.yaml",
            6,
        );
    }
}

#[test]
fn argo_cd_inline_values_keep_their_lines_in_the_application() {
    let (code, r) = lint(&["helm-argo-inline/application.yaml"]);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("config.redis-url-host", &["fail", "fail"]),
            ("kube.helm-chart-version", &["pass"]),
            ("kube.helm-values-source", &["pass"]),
        ],
    );
    let f = find(&r, "config.redis-url-host", "fail");
    // `url:` is line 22 of the Application, inside the `values: |` block.
    at(f, "fixtures/helm-argo-inline/application.yaml", 22);
    assert_eq!(f["location"]["column"], 16);
    // The release is the Application's name, in its destination namespace.
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'chat-open-webui-redis'"),
        "{f:#}"
    );
}

#[test]
fn values_the_chart_refuses_fail_the_source_check() {
    let (code, r) = lint(&["helm-workload-kind/values.yaml"]);
    assert_eq!(code, 1);
    expect(&r, &[("kube.helm-values-source", &["fail"])]);
    at(
        find(&r, "kube.helm-values-source", "fail"),
        "fixtures/helm-workload-kind/values.yaml",
        4,
    );
}

#[test]
fn a_values_file_that_does_not_parse_is_a_finding_in_every_format() {
    for format in [
        "json", "text", "sarif", "junit", "markdown", "github", "gitlab", "concise",
    ] {
        let out = wsdoctor()
            .args(["lint", "--format", format, "--helm-values"])
            .arg("fixtures/helm-bad-yaml/values.yaml")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("kube.manifest-syntax") && text.contains("helm-bad-yaml/values.yaml"),
            "{format}: {text}"
        );
    }
    let (_, r) = lint(&["helm-bad-yaml/values.yaml"]);
    at(
        find(&r, "kube.manifest-syntax", "fail"),
        "fixtures/helm-bad-yaml/values.yaml",
        4,
    );
    // Nothing is rendered from values that are unknown.
    expect(&r, &[("kube.helm-values-source", &["skip"])]);
    assert!(
        statuses(&r, "config.redis-timeout")
            .iter()
            .all(|s| s == "skip")
    );
}

#[test]
fn a_missing_values_file_is_exit_2() {
    let out = wsdoctor()
        .args(["lint", "--helm-values", "fixtures/helm-none/values.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Passwords and keys written in the values (extraEnvVars, websocket.url, the chart's default
/// OpenAI key) appear in no format.
#[test]
fn every_format_on_a_helm_fixture_and_no_secret_in_any() {
    let secrets = [
        "s3cr3t-webui-key-value",
        "hunter2-admin-password",
        "0p3n-w3bu!",
    ];
    for format in [
        "json", "text", "sarif", "junit", "markdown", "github", "gitlab", "concise",
    ] {
        let out = wsdoctor()
            .args(["lint", "--format", format, "--helm-values"])
            .arg("fixtures/helm-chart-redis/values.yaml")
            .arg("--helm-values")
            .arg("fixtures/helm-wrong-host/values.yaml")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("config.redis-url-host"), "{format}: {text}");
        assert!(
            text.contains("fixtures/helm-wrong-host/values.yaml"),
            "{format}: {text}"
        );
        for s in secrets.iter().chain(&["p4ss-w0rd-redis"]) {
            assert!(!text.contains(s), "{format} printed {s}: {text}");
        }
    }
    // The secrets are there to hide: --show-secrets prints them.
    let out = wsdoctor()
        .args([
            "lint",
            "--show-secrets",
            "--format",
            "json",
            "--helm-values",
        ])
        .arg("fixtures/helm-wrong-host/values.yaml")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("p4ss-w0rd-redis"));
}

/// `-f` manifests beside `--helm-values` join the same cluster: the chart's Open WebUI (release
/// namespace `default`) reaches a Redis deployed apart (kubectl-made `k8s-good/redis.yaml`,
/// namespace `chat`) by `redis.chat`, and that Redis' NetworkPolicy, which admits only the
/// `chat` namespace's app, keeps it out.
#[test]
fn manifests_given_with_f_join_the_rendered_objects() {
    let out = wsdoctor()
        .args(["lint", "--format", "json", "--helm-values"])
        .arg("fixtures/helm-external-redis/values.yaml")
        .args(["-f", "fixtures/k8s-good/redis.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    expect(
        &r,
        &[
            ("config.redis-url-host", &["pass", "pass"]),
            ("kube.network-policy", &["fail", "fail"]),
        ],
    );
    assert!(
        find(&r, "config.redis-url-host", "pass")["message"]
            .as_str()
            .unwrap()
            .contains("Service chat/redis")
    );
    at(
        find(&r, "kube.network-policy", "fail"),
        "fixtures/k8s-good/redis.yaml",
        64,
    );
    // Compose files do not mix with Helm values: a usage error.
    let out = wsdoctor()
        .args(["lint", "--helm-values"])
        .arg("fixtures/helm-external-redis/values.yaml")
        .args(["-f", "fixtures/healthy/docker-compose.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn session_affinity_hint_names_what_the_chart_offers() {
    // No Ingress: the chart's Service balances the 2 pods, and templates/service.yaml (16.0.0)
    // has no value for sessionAffinity: the hint names the chart's Ingress annotations.
    let (code, r) = lint(&["helm-polling/values.yaml"]);
    assert_eq!(code, 1, "{r:#}");
    expect(&r, &[("kube.session-affinity", &["fail"])]);
    let f = find(&r, "kube.session-affinity", "fail");
    let hint = f["hint"].as_str().unwrap();
    assert!(
        hint.contains("has no value for the Service's sessionAffinity")
            && hint.contains("`ingress.annotations`")
            && hint.contains("nginx.ingress.kubernetes.io/affinity: \"cookie\""),
        "{f:#}"
    );
    assert!(!hint.starts_with("set sessionAffinity"), "{f:#}");
    // At the user's replicaCount, not inside the chart's templates/service.yaml.
    at(f, "fixtures/helm-polling/values.yaml", 5);
    // The chart's ingress-nginx Ingress without cookie affinity: add it to ingress.annotations,
    // at the Ingress the values render.
    let (code, r) = lint(&[
        "helm-polling/values.yaml",
        "helm-polling/ingress-nginx.yaml",
    ]);
    assert_eq!(code, 1, "{r:#}");
    expect(
        &r,
        &[
            ("kube.session-affinity", &["fail"]),
            ("kube.ingress-timeout", &["pass"]),
        ],
    );
    let f = find(&r, "kube.session-affinity", "fail");
    assert_eq!(
        f["hint"],
        "add `nginx.ingress.kubernetes.io/affinity: \"cookie\"` under the chart's \
         `ingress.annotations` (the Ingress open-webui is rendered from them, templates/ingress.yaml)",
        "{f:#}"
    );
    // Manifests (not the chart) keep the Service wording: fixtures/k8s-polling.
    let out = wsdoctor()
        .args([
            "lint",
            "--format",
            "json",
            "-f",
            "fixtures/k8s-polling/manifests.yaml",
        ])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = find(&r, "kube.session-affinity", "fail");
    assert!(!f["hint"].as_str().unwrap().contains("chart"), "{f:#}");
}

#[test]
fn values_on_standard_input_read_like_the_file() {
    // `helm get values open-webui -o yaml | wsdoctor lint --helm-values -`
    let text = std::fs::read(root().join("fixtures/helm-no-manager/values.yaml")).unwrap();
    let (file_code, from_file) = lint(&["helm-no-manager/values.yaml"]);
    let out = wsdoctor()
        .args(["lint", "--format", "json", "--helm-values", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(out.status.code(), Some(file_code), "{from_stdin:#}");
    let ids = |r: &Value| -> Vec<(String, String)> {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["status"].to_string()))
            .collect()
    };
    assert_eq!(ids(&from_stdin), ids(&from_file));
    let f = find(&from_stdin, "config.websocket-manager", "fail");
    let line = find(&from_file, "config.websocket-manager", "fail")["location"]["line"]
        .as_u64()
        .unwrap();
    at(f, "-", line);
    // Standard input is read once: `-` twice is a usage error (exit 2).
    let out = wsdoctor()
        .args(["lint", "--helm-values", "-", "-f", "-"])
        .write_stdin("replicaCount: 2\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("standard input can be read once"),
        "{out:?}"
    );
}
