//! `wsdoctor lint -f app.yaml` on Azure Container Apps YAML, through the binary: each `aca.*`
//! check fails on one fixture and passes on another with exact statuses and file:line into
//! the YAML; one fixture in every format; no secret value in any output.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn fixture_files(name: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    ["app.yaml", "redis.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect()
}

fn run(name: &str, format: &str, extra: &[&str]) -> (i32, String) {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lint", "--format", format]);
    for f in fixture_files(name) {
        cmd.arg("-f").arg(f);
    }
    let out = cmd
        .args(extra)
        .env_remove("REDIS_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn lint(name: &str) -> (i32, Value) {
    let (code, out) = run(name, "json", &[]);
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
    (code, report)
}

fn results<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

fn statuses(report: &Value, id: &str) -> Vec<String> {
    results(report, id)
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

/// (file, line) of the first result of `id`.
fn at(report: &Value, id: &str) -> (String, u64) {
    let c = results(report, id)[0];
    (
        c["location"]["file"].as_str().unwrap().to_string(),
        c["location"]["line"].as_u64().unwrap(),
    )
}

#[test]
fn original_report_shape_chainlit_with_transport_http_passes() {
    // The report this project started from: Chainlit, `transport: Http`, 502 on
    // /ws/socket.io. Azure documents http as HTTP ingress with WebSocket support: no finding.
    let (code, r) = lint("aca-chainlit-transport-http");
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(statuses(&r, "aca.yaml-syntax"), ["pass"]);
    assert_eq!(statuses(&r, "aca.ingress-transport"), ["pass"]);
    let msg = results(&r, "aca.ingress-transport")[0]["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("transport http") && msg.contains("no 502"),
        "{msg}"
    );
    assert_eq!(statuses(&r, "aca.target-port"), ["pass"]);
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["pass"]);
    // compose's own mechanics do not apply.
    assert_eq!(statuses(&r, "config.compose-syntax"), ["skip"]);
    assert_eq!(statuses(&r, "config.depends-on-redis"), ["skip"]);
}

#[test]
fn transport_http2_fails_for_chainlit_at_its_line() {
    let (code, r) = lint("aca-chainlit-http2");
    assert_eq!(code, 1);
    assert_eq!(statuses(&r, "aca.ingress-transport"), ["fail"]);
    assert_eq!(
        at(&r, "aca.ingress-transport"),
        ("fixtures/aca-chainlit-http2/app.yaml".into(), 27)
    );
    // Three replicas behind `affinity: sticky` in single revision mode.
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["pass"]);
    assert_eq!(
        at(&r, "aca.sticky-sessions"),
        ("fixtures/aca-chainlit-http2/app.yaml".into(), 22)
    );
    assert_eq!(statuses(&r, "config.polling-multi-worker"), ["skip"]);
}

#[test]
fn target_port_fails_when_open_webui_listens_elsewhere() {
    let (code, r) = lint("aca-openwebui");
    assert_eq!(code, 1);
    assert_eq!(statuses(&r, "aca.target-port"), ["fail"]);
    assert_eq!(
        at(&r, "aca.target-port"),
        ("fixtures/aca-openwebui/app.yaml".into(), 12)
    );
    let c = results(&r, "aca.target-port")[0];
    assert_eq!(c["evidence"]["app_port"], 8080);
    assert_eq!(c["evidence"]["target_port"], 8000);
    // Websocket-only by default: nothing for the ingress to pin.
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["pass"]);
    // The existing config checks run on the same model: REDIS_URL (a secretRef) reaches the
    // `redis-app` container app of the same environment, with its --requirepass.
    for id in [
        "config.redis-url-host",
        "config.redis-url-password",
        "config.redis-url-port",
        "config.network-shared",
        "config.websocket-manager",
        "config.redis-timeout",
    ] {
        assert_eq!(statuses(&r, id), ["pass"], "{id}");
    }
    assert_eq!(
        at(&r, "config.redis-url-host"),
        ("fixtures/aca-openwebui/app.yaml".into(), 28)
    );
    assert_eq!(
        at(&r, "config.redis-timeout").0,
        "fixtures/aca-openwebui/redis.yaml"
    );
}

#[test]
fn polling_on_replicas_fails_without_affinity_and_passes_with_it() {
    let (code, r) = lint("aca-openwebui-polling");
    assert_eq!(code, 1);
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["fail"]);
    assert_eq!(
        at(&r, "aca.sticky-sessions"),
        ("fixtures/aca-openwebui-polling/app.yaml".into(), 38)
    );
    assert_eq!(statuses(&r, "aca.target-port"), ["pass"]);
    let (code, r) = lint("aca-openwebui-sticky");
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["pass"]);
    assert_eq!(
        at(&r, "aca.sticky-sessions"),
        ("fixtures/aca-openwebui-sticky/app.yaml".into(), 16)
    );
}

#[test]
fn unparsable_file_is_a_finding_in_every_format() {
    let (code, r) = lint("aca-yaml-syntax");
    assert_eq!(code, 1);
    assert_eq!(statuses(&r, "aca.yaml-syntax"), ["fail"]);
    assert_eq!(
        at(&r, "aca.yaml-syntax"),
        ("fixtures/aca-yaml-syntax/app.yaml".into(), 14)
    );
    for format in FORMATS {
        let (code, out) = run("aca-yaml-syntax", format, &[]);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(out.contains("aca.yaml-syntax"), "{format}: {out}");
    }
}

const FORMATS: [&str; 8] = [
    "text", "json", "markdown", "sarif", "junit", "github", "gitlab", "concise",
];

/// Secret values of the fixtures (secrets[].value, the password in the Redis URL and in the
/// Redis app's --requirepass).
const SECRETS: [&str; 2] = ["Kq7vR2mZx9Lw", "t0p-s3cret-webui-key-4f9a"];

#[test]
fn every_format_reports_the_finding_and_no_secret() {
    for format in FORMATS {
        let (code, out) = run("aca-openwebui", format, &[]);
        assert_eq!(code, 1, "{format}");
        assert!(out.contains("aca.target-port"), "{format}: {out}");
        assert!(out.contains("app.yaml"), "{format}: {out}");
        for s in SECRETS {
            assert!(!out.contains(s), "{format} printed a secret: {out}");
        }
    }
    // --show-secrets is the only way to see them.
    let (_, out) = run("aca-openwebui", "json", &["--show-secrets"]);
    assert!(out.contains(SECRETS[0]));
}

#[test]
fn mixing_container_apps_and_compose_files_is_a_usage_error() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .current_dir(&root)
        .args(["lint", "-f", "fixtures/aca-openwebui/app.yaml", "-f"])
        .arg(root.join("fixtures/healthy/docker-compose.yml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Azure Container Apps"));
}

#[test]
fn every_container_apps_report_matches_the_json_schema() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options().build(&schema).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(root.join("fixtures"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("aca-"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 7);
    for name in names {
        let (_, r) = lint(&name);
        let errors: Vec<String> = validator
            .iter_errors(&r)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

/// `lint --format json` with the given arguments (and standard input), from the crate root.
fn lint_with(args: &[&str], stdin: Option<&[u8]>) -> (i32, Value) {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("REDIS_URL")
        .env_remove("COMPOSE_FILE")
        .args(["lint", "--format", "json"])
        .args(args);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes.to_vec());
    }
    let out = cmd.output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// (id, status, file:line) of every result, to compare two runs.
fn outcomes(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                format!("{}:{}", c["location"]["file"], c["location"]["line"]),
            )
        })
        .collect()
}

#[test]
fn a_directory_of_container_apps_yaml_reads_like_its_files() {
    // The two files given one by one, then their directory, then the directory alone as
    // --project-dir: the same results at the same lines.
    let (code, files) = lint("aca-openwebui-polling");
    assert_eq!(code, 1);
    for args in [
        &["-f", "fixtures/aca-openwebui-polling"][..],
        &["-f", "fixtures/aca-openwebui-polling/"][..],
        &["--project-dir", "fixtures/aca-openwebui-polling"][..],
    ] {
        let (dir_code, dir) = lint_with(args, None);
        assert_eq!(dir_code, 1, "{args:?}: {dir:#}");
        assert_eq!(outcomes(&dir), outcomes(&files), "{args:?}");
        assert_eq!(statuses(&dir, "aca.sticky-sessions"), ["fail"], "{args:?}");
        assert_eq!(
            at(&dir, "aca.sticky-sessions"),
            ("fixtures/aca-openwebui-polling/app.yaml".into(), 38),
            "{args:?}"
        );
    }
}

#[test]
fn container_apps_yaml_on_standard_input_is_recognised() {
    // What `az containerapp show -n chat -g rg-chat -o yaml | wsdoctor lint -f -` pipes.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(root.join("fixtures/aca-openwebui-polling/app.yaml")).unwrap();
    let (code, r) = lint_with(&["-f", "-"], Some(&text));
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(statuses(&r, "aca.sticky-sessions"), ["fail"]);
    assert_eq!(at(&r, "aca.sticky-sessions"), ("-".into(), 38));
    assert_eq!(statuses(&r, "aca.yaml-syntax"), ["pass"]);
    // Broken YAML on standard input is a finding there too, not a compose error.
    let broken = std::fs::read(root.join("fixtures/aca-yaml-syntax/app.yaml")).unwrap();
    let (code, r) = lint_with(&["-f", "-"], Some(&broken));
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(statuses(&r, "aca.yaml-syntax"), ["fail"]);
    assert_eq!(at(&r, "aca.yaml-syntax"), ("-".into(), 14));
}
