//! `wsdoctor lint` on every fixture deployment, through the binary: each config check fails
//! on at least one fixture and passes on another, with the exact status asserted.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs `wsdoctor lint --format json` on a fixture; returns (exit code, report).
fn lint(name: &str, extra: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["lint", "--format", "json", "--project-dir"])
        .arg(fixture(name))
        .args(extra)
        .env_remove("COMPOSE_FILE")
        .env_remove("REDIS_PASSWORD")
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// The statuses reported for `id`, in report order.
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

/// (check id, its statuses in report order) for one fixture.
type Expected<'a> = &'a [(&'a str, &'a [&'a str])];

/// Asserts each (id, statuses) pair.
fn expect(name: &str, report: &Value, expected: &[(&str, &[&str])]) {
    for (id, want) in expected {
        let got = statuses(report, id);
        assert_eq!(&got, want, "{name}: statuses of {id}");
    }
}

#[test]
fn healthy_deployment_passes_every_check() {
    let (code, r) = lint("healthy", &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["summary"]["verdict"], "pass");
    assert_eq!(r["summary"]["fail"], 0);
    assert_eq!(r["summary"]["warn"], 0);
    // Every config rule appears: a report proves what was verified.
    for rule in wsdoctor::checks::config::RULES {
        assert!(
            !statuses(&r, rule.id).is_empty(),
            "{} missing from the report",
            rule.id
        );
    }
    expect(
        "healthy",
        &r,
        &[
            ("config.env-syntax", &["pass"]),
            ("config.env-duplicate-key", &["pass"]),
            ("config.compose-syntax", &["pass"]),
            ("config.interpolation-unset", &["pass"]),
            ("config.env-file-missing", &["pass"]),
            ("config.redis-url-missing", &["pass"]),
            ("config.redis-url-syntax", &["pass"]),
            ("config.redis-url-unencoded", &["pass"]),
            ("config.redis-url-host", &["pass"]),
            ("config.redis-url-loopback", &["pass"]),
            ("config.redis-url-port", &["pass"]),
            ("config.redis-url-password", &["pass"]),
            ("config.redis-url-db", &["pass"]),
            ("config.redis-url-override", &["pass"]),
            ("config.websocket-redis-url", &["pass"]),
            ("config.websocket-manager", &["pass"]),
            ("config.polling-multi-worker", &["pass"]),
            ("config.cors-origin", &["pass"]),
            ("config.sentinel-timeout", &["skip"]),
            ("config.redis-timeout", &["pass"]),
            ("config.redis-maxclients", &["pass"]),
            ("config.network-shared", &["pass"]),
            ("config.depends-on-redis", &["pass"]),
            ("config.redis-exposed-without-password", &["pass"]),
            ("config.aioredis-conflict", &["skip"]),
        ],
    );
    let host = find(&r, "config.redis-url-host", "pass");
    assert_eq!(
        host["location"]["file"],
        "fixtures/healthy/docker-compose.yml"
    );
    assert_eq!(host["location"]["line"], 15);
}

#[test]
fn seed_bug_wrong_host_names_the_service() {
    let (code, r) = lint("seed-wrong-host", &[]);
    assert_eq!(code, 1);
    expect(
        "seed-wrong-host",
        &r,
        &[
            ("config.redis-url-host", &["fail"]),
            ("config.redis-url-port", &["skip"]),
            ("config.redis-url-password", &["skip"]),
            ("config.websocket-manager", &["pass"]),
        ],
    );
    let f = find(&r, "config.redis-url-host", "fail");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'beagle-redis'"),
        "{f:#}"
    );
    assert_eq!(f["hint"], "use redis://:****@beagle-redis:6379/0");
    assert_eq!(
        f["location"]["file"],
        "fixtures/seed-wrong-host/docker-compose.yml"
    );
    // Paths are from the repository root (DESIGN.md), not from --project-dir.
    assert_eq!(f["location"]["line"], 12);
    assert_eq!(f["subject"], "open-webui");
}

#[test]
fn each_failure_fixture_fires_its_check() {
    let cases: &[(&str, Expected)] = &[
        (
            "wrong-password",
            &[
                ("config.redis-url-password", &["fail"]),
                ("config.interpolation-unset", &["pass"]),
            ],
        ),
        (
            "unencoded-password",
            &[
                ("config.redis-url-unencoded", &["fail"]),
                ("config.redis-url-syntax", &["skip"]),
                ("config.redis-url-host", &["skip"]),
            ],
        ),
        ("no-manager", &[("config.websocket-manager", &["fail"])]),
        (
            "url-only-in-dotenv",
            &[("config.redis-url-missing", &["fail"])],
        ),
        (
            "polling-workers",
            &[
                ("config.polling-multi-worker", &["fail"]),
                ("config.websocket-manager", &["pass"]),
            ],
        ),
        (
            "redis-limits",
            &[
                ("config.redis-timeout", &["warn", "pass"]),
                // maxclients 64 with timeout 0: reported once, by config.redis-timeout.
                ("config.redis-maxclients", &["pass", "fail"]),
            ],
        ),
        (
            "localhost-url",
            &[
                ("config.redis-url-loopback", &["fail"]),
                ("config.redis-url-host", &["skip"]),
            ],
        ),
        (
            "published-port",
            &[
                ("config.redis-url-port", &["fail"]),
                ("config.redis-exposed-without-password", &["warn"]),
            ],
        ),
        (
            "separate-networks",
            &[
                ("config.network-shared", &["fail"]),
                ("config.depends-on-redis", &["warn"]),
            ],
        ),
        (
            "bad-env",
            &[
                ("config.env-syntax", &["fail"]),
                ("config.env-duplicate-key", &["warn"]),
                ("config.interpolation-unset", &["warn"]),
            ],
        ),
        (
            "env-file-missing",
            &[("config.env-file-missing", &["fail"])],
        ),
        (
            "compose-shape",
            &[("config.compose-syntax", &["fail", "fail"])],
        ),
        ("db-out-of-range", &[("config.redis-url-db", &["fail"])]),
        (
            "override",
            &[
                ("config.redis-url-override", &["warn", "pass"]),
                ("config.websocket-redis-url", &["warn"]),
            ],
        ),
        ("cors-list", &[("config.cors-origin", &["fail"])]),
        (
            "sentinel-no-timeout",
            &[
                ("config.sentinel-timeout", &["warn"]),
                // Only REDIS_SENTINEL_HOSTS: Open WebUI's socket manager dials `mymaster`.
                ("config.redis-url-host", &["fail"]),
            ],
        ),
        (
            "aioredis",
            &[
                ("config.aioredis-conflict", &["fail"]),
                ("config.websocket-manager", &["pass"]),
            ],
        ),
        (
            "python-app",
            &[
                ("config.aioredis-conflict", &["pass"]),
                ("config.redis-exposed-without-password", &["pass"]),
                ("config.redis-url-password", &["pass"]),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (name, expected) in cases {
        let (code, r) = lint(name, &[]);
        let has_fail = r["summary"]["fail"].as_u64().unwrap() > 0;
        assert_eq!(code, if has_fail { 1 } else { 0 }, "{name}: exit code");
        for (id, want) in *expected {
            let got = statuses(&r, id);
            if &got != want {
                failures.push(format!("{name}: {id}: expected {want:?}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn inline_suppression_keeps_the_finding_visible() {
    let (code, r) = lint("suppressed", &[]);
    assert_eq!(code, 0, "{r:#}");
    let c = find(&r, "config.redis-url-loopback", "fail");
    assert_eq!(c["suppressed"]["kind"], "inline");
    assert_eq!(
        c["suppressed"]["reason"],
        "Redis runs on the host; see ops ticket 42"
    );
    assert_eq!(r["summary"]["suppressed"], 1);
}

#[test]
fn ignore_flag_suppresses_and_strict_fails_on_warnings() {
    let (code, r) = lint("seed-wrong-host", &["--ignore", "config.redis-url-host"]);
    assert_eq!(
        find(&r, "config.redis-url-host", "fail")["suppressed"]["kind"],
        "cli"
    );
    assert_eq!(
        code,
        if r["summary"]["fail"].as_u64().unwrap() > 0 {
            1
        } else {
            0
        }
    );
    let (code, r) = lint(
        "separate-networks",
        &["--strict", "--ignore", "config.network-shared"],
    );
    assert!(r["summary"]["warn"].as_u64().unwrap() > 0);
    assert_eq!(r["summary"]["verdict"], "fail");
    assert_eq!(code, 1);
}

#[test]
fn service_filter_limits_the_report() {
    let (_, r) = lint("redis-limits", &["--service", "worker"]);
    assert_eq!(statuses(&r, "config.redis-maxclients"), ["fail"]);
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["lint", "--service", "nope", "--project-dir"])
        .arg(fixture("healthy"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such service"));
}

#[test]
fn secrets_never_appear_unless_asked() {
    for format in ["text", "json", "markdown", "sarif", "junit", "github"] {
        for name in [
            "healthy",
            "wrong-password",
            "unencoded-password",
            "seed-wrong-host",
        ] {
            let out = Command::cargo_bin("wsdoctor")
                .unwrap()
                .args(["lint", "--format", format, "--project-dir"])
                .arg(fixture(name))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            for secret in [
                "Vq7rT2mK9xLp4sWd",
                "change-me-8f3a1c",
                "OldPassw0rd2023",
                "NewPassw0rd2024",
                "s3cr@t#Quokka",
                "s3cr%40t%23Quokka",
                "Gq4vB8nZ2mRt",
            ] {
                assert!(
                    !text.contains(secret),
                    "{name} --format {format} leaked {secret}:\n{text}"
                );
            }
        }
    }
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args([
            "lint",
            "--show-secrets",
            "--format",
            "json",
            "--project-dir",
        ])
        .arg(fixture("wrong-password"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("OldPassw0rd2023"));
}

#[test]
fn every_fixture_report_matches_the_json_schema() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options().build(&schema).unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        // Container Apps fixtures are read with -f (tests/lint_aca.rs validates them).
        .filter(|n| !n.starts_with("aca-"))
        .collect();
    names.sort();
    assert!(names.len() >= 20);
    for name in names {
        // Helm fixtures are values files, given as --helm-values (each file of the folder but
        // a wrapper chart's Chart.yaml, which sits beside its values.yaml).
        let helm: Vec<String> = if name.starts_with("helm-") {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(&name))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n != "Chart.yaml"))
                .collect();
            files.sort();
            files
                .iter()
                .flat_map(|p| ["--helm-values".to_string(), p.display().to_string()])
                .collect()
        } else {
            Vec::new()
        };
        let extra: Vec<&str> = helm.iter().map(String::as_str).collect();
        let (_, r) = lint(&name, &extra);
        let errors: Vec<String> = validator
            .iter_errors(&r)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

/// Evidence `key` of the first result of `id`.
fn evidence<'a>(report: &'a Value, id: &str, key: &str) -> &'a Value {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"));
    &c["evidence"][key]
}

#[test]
fn app_profiles_judge_each_app_by_its_own_rules() {
    // (fixture, extra args, failing?, expected statuses)
    let cases: &[(&str, &[&str], bool, Expected)] = &[
        (
            "owui-sentinel",
            &[],
            false,
            &[
                // The URL's host is the master name (skip); the Sentinel hosts are a service.
                ("config.redis-url-host", &["skip", "pass"]),
                ("config.websocket-manager", &["pass"]),
            ],
        ),
        (
            "owui-empty-websocket-url",
            &[],
            true,
            &[
                ("config.websocket-redis-url", &["fail"]),
                ("config.redis-url-missing", &["skip"]),
            ],
        ),
        (
            "owui-web-concurrency",
            &[],
            false,
            &[
                ("config.websocket-manager", &["pass"]),
                ("config.polling-multi-worker", &["pass"]),
            ],
        ),
        (
            "cors-no-scheme",
            &[],
            true,
            &[("config.cors-origin", &["fail"])],
        ),
        (
            "chainlit",
            &[],
            false,
            &[
                ("config.websocket-manager", &["pass"]),
                ("config.cors-origin", &["skip"]),
                ("config.redis-url-missing", &["skip"]),
            ],
        ),
        (
            "flask-socketio",
            &[],
            false,
            &[
                ("config.websocket-manager", &["pass"]),
                ("config.polling-multi-worker", &["warn"]),
                ("config.redis-url-host", &["pass"]),
            ],
        ),
        (
            "python-socketio-hypercorn",
            &[],
            false,
            &[
                ("config.websocket-manager", &["warn"]),
                ("config.polling-multi-worker", &["warn"]),
            ],
        ),
        (
            "node-socketio",
            &[],
            false,
            &[
                ("config.websocket-manager", &["pass"]),
                ("config.polling-multi-worker", &["warn"]),
                ("config.aioredis-conflict", &["skip"]),
            ],
        ),
        (
            "unknown-app",
            &[],
            false,
            &[("config.websocket-manager", &["skip"])],
        ),
        (
            "unknown-app",
            &["--app", "chainlit"],
            false,
            &[
                ("config.websocket-manager", &["skip"]),
                ("config.polling-multi-worker", &["warn"]),
            ],
        ),
        (
            "unknown-app",
            &["--app", "django-channels"],
            false,
            &[
                ("config.websocket-manager", &["pass"]),
                ("config.polling-multi-worker", &["warn"]),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (name, args, failing, expected) in cases {
        let (code, r) = lint(name, args);
        let fails = r["summary"]["fail"].as_u64().unwrap();
        if (fails > 0) != *failing || code != i32::from(*failing) {
            failures.push(format!("{name} {args:?}: exit {code}, {fails} fail(s)"));
        }
        for (id, want) in *expected {
            let got = statuses(&r, id);
            if &got != want {
                failures.push(format!(
                    "{name} {args:?}: {id}: expected {want:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn app_findings_say_which_profile_judged_and_why() {
    let (_, r) = lint("chainlit", &[]);
    assert_eq!(
        evidence(&r, "config.websocket-manager", "app"),
        "Chainlit 2.12.0"
    );
    assert_eq!(
        evidence(&r, "config.websocket-manager", "recognised_by"),
        "command runs chainlit"
    );
    let (_, r) = lint("flask-socketio", &[]);
    assert_eq!(
        evidence(&r, "config.polling-multi-worker", "recognised_by"),
        "its build context requires flask-socketio"
    );
    let (_, r) = lint("node-socketio", &[]);
    assert_eq!(
        evidence(&r, "config.websocket-manager", "app"),
        "Node socket.io 4.8.3 (redis-adapter 8.3.0)"
    );
    let (_, r) = lint("unknown-app", &["--app", "django-channels"]);
    let m = find(&r, "config.websocket-manager", "pass");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("generic python-socketio rules apply"),
        "{m:#}"
    );
    // The CORS fix gives a value the app accepts, never the broken one again.
    let (_, r) = lint("cors-no-scheme", &[]);
    let c = find(&r, "config.cors-origin", "fail");
    assert_eq!(
        c["hint"],
        "CORS_ALLOW_ORIGIN=https://chat.example.com;https://admin.example.com"
    );
    assert!(
        c["message"].as_str().unwrap().contains("refuses to start"),
        "{c:#}"
    );
    // Only REDIS_SENTINEL_HOSTS: the fix names the variable the socket manager reads.
    let (_, r) = lint("sentinel-no-timeout", &[]);
    let c = find(&r, "config.redis-url-host", "fail");
    assert_eq!(
        c["hint"],
        "set WEBSOCKET_SENTINEL_HOSTS=sentinel-1,sentinel-2,sentinel-3 (the same Sentinels) on the service"
    );
}
