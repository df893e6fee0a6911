//! The proxy found from the compose file: an nginx service whose `volumes:` bind a conf.d
//! directory (read as the image's nginx.conf includes it, inside `http {}`) or a whole
//! nginx.conf. One fixture with the four classic mistakes, one with them fixed.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn lint(fixture: &str) -> (i32, Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture);
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["--format", "json", "lint", "--project-dir"])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn proxy_checks(report: &Value) -> Vec<(String, String, Option<u64>)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("proxy."))
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["location"]["line"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn a_mounted_conf_d_with_four_mistakes_fails_at_each_line() {
    let (code, report) = lint("proxy-openwebui-nginx");
    assert_eq!(code, 1);
    let got = proxy_checks(&report);
    let want = [
        ("proxy.syntax", "pass", None),
        ("proxy.upgrade", "fail", Some(16)),
        ("proxy.path", "fail", Some(18)),
        ("proxy.upstream", "fail", Some(18)),
        ("proxy.timeout", "fail", Some(19)),
        ("proxy.affinity", "pass", Some(18)),
    ];
    let want: Vec<(String, String, Option<u64>)> = want
        .iter()
        .map(|(i, s, l)| (i.to_string(), s.to_string(), *l))
        .collect();
    assert_eq!(got, want, "{report:#}");
    let file = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "proxy.upgrade")
        .unwrap()["location"]["file"]
        .clone();
    assert_eq!(
        file,
        "fixtures/proxy-openwebui-nginx/nginx/conf.d/openwebui.conf"
    );
    let upstream = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "proxy.upstream")
        .unwrap();
    assert!(
        upstream["message"]
            .as_str()
            .unwrap()
            .contains("3000 is the host-published port"),
        "{upstream}"
    );
}

#[test]
fn a_mounted_nginx_conf_with_the_fixes_passes() {
    let (code, report) = lint("proxy-openwebui-nginx-fixed");
    assert_eq!(code, 0, "{report:#}");
    for (id, status, _) in proxy_checks(&report) {
        assert_eq!(status, "pass", "{id}: {report:#}");
    }
}

#[test]
fn a_missing_proxy_config_file_is_a_usage_error() {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["lint", "--proxy-config", "/nonexistent/nginx.conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unbalanced_file_is_a_finding_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, "events {}\nhttp {\n  server {\n    listen 80;\n").unwrap();
    for format in [
        "json", "text", "sarif", "junit", "github", "gitlab", "markdown", "concise",
    ] {
        let out = Command::cargo_bin("wsdoctor")
            .unwrap()
            .args(["--format", format, "lint", "--proxy-config"])
            .arg(&conf)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("proxy.syntax"), "{format}: {text}");
    }
}

#[test]
fn an_inline_comment_in_the_nginx_file_suppresses_a_proxy_finding() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("site.conf");
    let body = "  location /socket.io/ {\n    proxy_pass http://app:8000;\n  }\n}\n";
    std::fs::write(&conf, format!("server {{\n{body}")).unwrap();
    let run = |dir: &std::path::Path| {
        Command::cargo_bin("wsdoctor")
            .unwrap()
            .args(["--format", "json", "lint", "--proxy-config", "site.conf"])
            .current_dir(dir)
            .output()
            .unwrap()
    };
    assert_eq!(run(dir.path()).status.code(), Some(1));
    std::fs::write(
        &conf,
        format!(
            "server {{\n  # wsdoctor: ignore=proxy.upgrade -- websocket off on purpose\n{body}"
        ),
    )
    .unwrap();
    let out = run(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["suppressed"], 1, "{report:#}");
}
