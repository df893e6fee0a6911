//! `wsdoctor lint` on Kubernetes manifests made by kubectl (`fixtures/k8s-*/make.sh`), through
//! the binary: each check that applies on Kubernetes fails on one fixture and passes on
//! another, with the exact statuses and file:line into the manifest; every report format runs
//! on one fixture and none shows a Secret's value.

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

/// `wsdoctor lint -f fixtures/<path> --format json`: (exit code, report).
fn lint(path: &str) -> (i32, Value) {
    let out = wsdoctor()
        .args(["lint", "--format", "json", "-f"])
        .arg(format!("fixtures/{path}"))
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{path}: no JSON report ({e}); stderr: {}",
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
fn healthy_open_webui_with_redis_passes_everything_that_applies() {
    let (code, r) = lint("k8s-good");
    assert_eq!(code, 0, "{r:#}");
    expect(
        &r,
        &[
            ("kube.manifest-syntax", &["pass"]),
            ("kube.service-selector", &["pass"]),
            ("kube.session-affinity", &["pass"]),
            ("kube.ingress-timeout", &["pass"]),
            ("kube.network-policy", &["pass"]),
            ("config.redis-url-missing", &["pass"]),
            ("config.redis-url-host", &["pass"]),
            ("config.redis-url-port", &["pass"]),
            ("config.redis-url-password", &["pass"]),
            ("config.redis-url-db", &["pass"]),
            ("config.websocket-manager", &["pass"]),
            ("config.polling-multi-worker", &["pass"]),
            ("config.redis-timeout", &["pass"]),
            ("config.redis-maxclients", &["pass"]),
        ],
    );
    // The URL comes from Secret owui-secrets: its place is the Secret's key.
    let host = find(&r, "config.redis-url-host", "pass");
    at(host, "fixtures/k8s-good/open-webui.yaml", 4);
    assert!(
        host["message"]
            .as_str()
            .unwrap()
            .contains("Service chat/redis (redis.chat.svc.cluster.local)"),
        "{host:#}"
    );
    // The HPA's maxReplicas counts, with its place.
    let manager = find(&r, "config.websocket-manager", "pass");
    assert!(
        manager["message"].as_str().unwrap().contains("4 replicas"),
        "{manager:#}"
    );
    // $(REDIS_PASSWORD) in the Redis command is the Secret's value: the URL's password matches.
    find(&r, "config.redis-url-password", "pass");
}

#[test]
fn compose_only_checks_say_skip_with_the_reason() {
    let (_, r) = lint("k8s-good");
    for id in [
        "config.compose-syntax",
        "config.interpolation-unset",
        "config.env-file-missing",
        "config.network-shared",
        "config.depends-on-redis",
        "config.redis-exposed-without-password",
    ] {
        let s = find(&r, id, "skip");
        assert!(
            s["message"]
                .as_str()
                .unwrap()
                .starts_with("Kubernetes manifests: "),
            "{s:#}"
        );
    }
}

#[test]
fn a_bare_name_does_not_cross_namespaces() {
    let (code, r) = lint("k8s-cross-namespace");
    assert_eq!(code, 1);
    expect(&r, &[("config.redis-url-host", &["fail"])]);
    let f = find(&r, "config.redis-url-host", "fail");
    at(f, "fixtures/k8s-cross-namespace/manifests.yaml", 26);
    assert_eq!(f["hint"], "use redis://redis.cache:6379/0");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("as seen from namespace chat"),
        "{f:#}"
    );
}

#[test]
fn a_service_selecting_no_pod_fails_and_the_server_checks_skip() {
    let (code, r) = lint("k8s-selector");
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("kube.service-selector", &["fail"]),
            ("config.redis-url-host", &["pass"]),
            ("config.redis-url-port", &["skip"]),
            ("config.redis-url-password", &["skip"]),
        ],
    );
    let f = find(&r, "kube.service-selector", "fail");
    at(f, "fixtures/k8s-selector/manifests.yaml", 78);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Deployment redis-master has app=redis-master"),
        "{f:#}"
    );
    assert_eq!(
        find(&r, "config.redis-url-port", "skip")["evidence"]["depends_on"],
        "kube.service-selector"
    );
}

#[test]
fn the_url_port_must_be_a_port_of_the_service() {
    let (code, r) = lint("k8s-port");
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("config.redis-url-port", &["fail"]),
            ("kube.service-selector", &["pass"]),
        ],
    );
    let f = find(&r, "config.redis-url-port", "fail");
    at(f, "fixtures/k8s-port/manifests.yaml", 25);
    assert_eq!(f["hint"], "use redis://redis:6380/0");
}

#[test]
fn polling_over_pods_needs_cookie_affinity_and_long_timeouts() {
    let (code, r) = lint("k8s-polling");
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("kube.session-affinity", &["fail"]),
            ("kube.ingress-timeout", &["fail"]),
            ("config.polling-multi-worker", &["pass"]),
        ],
    );
    let f = find(&r, "kube.session-affinity", "fail");
    at(f, "fixtures/k8s-polling/manifests.yaml", 61);
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("sessionAffinity: ClientIP does not apply"),
        "{message}"
    );
    assert_eq!(
        f["hint"],
        "annotate Ingress open-webui: nginx.ingress.kubernetes.io/affinity: \"cookie\""
    );
    let t = find(&r, "kube.ingress-timeout", "fail");
    // The annotation's value: proxy-read-timeout "20".
    at(t, "fixtures/k8s-polling/manifests.yaml", 59);
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains("proxy-read-timeout 20s")
    );

    let (code, r) = lint("k8s-polling-sticky");
    assert_eq!(code, 0, "{r:#}");
    expect(
        &r,
        &[
            ("kube.session-affinity", &["pass"]),
            ("kube.ingress-timeout", &["pass"]),
        ],
    );
}

#[test]
fn a_network_policy_that_leaves_the_app_out_fails() {
    let (code, r) = lint("k8s-netpol");
    assert_eq!(code, 1);
    expect(&r, &[("kube.network-policy", &["fail"])]);
    let f = find(&r, "kube.network-policy", "fail");
    at(f, "fixtures/k8s-netpol/manifests.yaml", 86);
    assert!(
        f["hint"]
            .as_str()
            .unwrap()
            .contains("podSelector: {matchLabels: {app: open-webui}}"),
        "{f:#}"
    );
}

#[test]
fn redis_args_of_the_official_image_feed_the_server_checks() {
    let (code, r) = lint("k8s-redis-args");
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("config.redis-url-password", &["fail"]),
            ("config.redis-maxclients", &["fail"]),
            ("config.redis-timeout", &["pass"]),
        ],
    );
    at(
        find(&r, "config.redis-maxclients", "fail"),
        "fixtures/k8s-redis-args/manifests.yaml",
        61,
    );
}

#[test]
fn a_manifest_that_does_not_parse_is_a_finding_in_every_format() {
    let (code, r) = lint("k8s-syntax");
    assert_eq!(code, 1);
    expect(&r, &[("kube.manifest-syntax", &["fail"])]);
    at(
        find(&r, "kube.manifest-syntax", "fail"),
        "fixtures/k8s-syntax/manifests.yaml",
        22,
    );
    for format in [
        "text", "markdown", "sarif", "junit", "github", "gitlab", "concise",
    ] {
        let out = wsdoctor()
            .args(["lint", "-f", "fixtures/k8s-syntax", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("kube.manifest-syntax"), "{format}: {text}");
    }
}

#[test]
fn kustomize_input_says_how_to_render_it_and_the_render_is_judged() {
    let (code, r) = lint("k8s-kustomize/base");
    assert_eq!(code, 0);
    let w = find(&r, "kube.manifest-syntax", "warn");
    at(w, "fixtures/k8s-kustomize/base/kustomization.yaml", 1);
    assert_eq!(
        w["hint"],
        "kubectl kustomize fixtures/k8s-kustomize/base | wsdoctor lint -f -"
    );
    // What kustomize rendered (namespace chat on every object) resolves the same names.
    let (code, r) = lint("k8s-kustomize/rendered.yaml");
    assert_eq!(code, 0, "{r:#}");
    expect(
        &r,
        &[
            ("kube.manifest-syntax", &["pass"]),
            ("config.redis-url-host", &["pass"]),
            ("kube.service-selector", &["pass"]),
        ],
    );
    assert!(
        find(&r, "config.redis-url-host", "pass")["message"]
            .as_str()
            .unwrap()
            .contains("redis.chat.svc.cluster.local")
    );
}

#[test]
fn a_kubectl_get_list_on_standard_input() {
    let list = std::fs::read(root().join("fixtures/k8s-list/list.yaml")).unwrap();
    let out = wsdoctor()
        .args(["lint", "--format", "json", "-f", "-"])
        .write_stdin(list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    expect(
        &r,
        &[
            ("kube.manifest-syntax", &["pass"]),
            ("config.redis-url-host", &["pass"]),
            ("config.redis-url-password", &["pass"]),
            ("kube.service-selector", &["pass"]),
        ],
    );
    let host = find(&r, "config.redis-url-host", "pass");
    assert_eq!(host["location"]["file"], "-");
    assert_eq!(host["location"]["line"], 6);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Hy7mPq2xRt9kWb3"), "{text}");
}

#[test]
fn every_format_on_a_kubernetes_fixture_and_no_secret_in_any() {
    // The Secret's value, its base64 form, and the URL carrying it.
    let secrets = [
        "Wq9vXk2mTz7pLs4",
        "V3E5dlhrMm1UejdwTHM0",
        "cmVkaXM6Ly86V3E5dlhrMm1UejdwTHM0QHJlZGlzOjYzNzkvMA==",
    ];
    for fixture in ["k8s-good", "k8s-redis-args", "k8s-list/list.yaml"] {
        for format in [
            "text", "json", "markdown", "sarif", "junit", "github", "gitlab", "concise",
        ] {
            let out = wsdoctor()
                .args(["lint", "-f"])
                .arg(format!("fixtures/{fixture}"))
                .args(["--format", format])
                .output()
                .unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{fixture} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for s in secrets
                .iter()
                .chain(["Zk3uN8rQ2wLx5vB", "Hy7mPq2xRt9kWb3"].iter())
            {
                assert!(!all.contains(s), "{fixture} {format} shows a secret: {all}");
            }
            if fixture == "k8s-redis-args" && format != "json" && format != "junit" {
                // The findings point into the manifest.
                assert!(
                    all.contains("k8s-redis-args/manifests.yaml"),
                    "{format}: {all}"
                );
            }
        }
    }
}

#[test]
fn the_secret_check_is_not_vacuous() {
    // With --show-secrets the Secret's URL does reach the report: the masking above is what
    // keeps it out.
    let out = wsdoctor()
        .args([
            "lint",
            "-f",
            "fixtures/k8s-good",
            "--format",
            "json",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wq9vXk2mTz7pLs4"));
}

#[test]
fn a_directory_of_manifests_as_project_dir() {
    let out = wsdoctor()
        .args([
            "lint",
            "--format",
            "json",
            "--project-dir",
            "fixtures/k8s-port",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    expect(&r, &[("config.redis-url-port", &["fail"])]);
}
