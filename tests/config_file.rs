//! The project config file through the binary: wsdoctor.toml / .wsdoctor.toml /
//! `[tool.wsdoctor]` in pyproject.toml, found upward to the repository root; severities,
//! ignores with a reason, unused ignores, timeout, app and diagnose targets; the command line
//! wins; an invalid file is exit 2 with file:line.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// Open WebUI and a Redis without `--timeout`: `config.redis-timeout` warns, nothing fails.
const COMPOSE: &str = "\
services:
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      WEBSOCKET_MANAGER: redis
      REDIS_URL: redis://redis:6379/0
    depends_on: [redis]
  redis:
    image: redis:7.2-alpine
";

/// A repository (`.git`, made by git itself when it is installed) with the deployment in
/// `deploy/`.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let made_by_git = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !made_by_git {
        std::fs::create_dir(dir.path().join(".git")).unwrap();
    }
    let deploy = dir.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    std::fs::write(deploy.join("compose.yaml"), COMPOSE).unwrap();
    (dir, deploy)
}

/// Runs wsdoctor in `cwd`; returns (exit code, stdout, stderr).
fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .env_remove("COMPOSE_FILE")
        .env_remove("COLUMNS")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn lint_json(cwd: &Path) -> (i32, Value) {
    let (code, out, err) = run(cwd, &["lint", "--format", "json"]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

fn results<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

#[test]
fn without_a_config_file_the_timeout_finding_only_warns() {
    let (_repo, deploy) = repo();
    let (code, report) = lint_json(&deploy);
    assert_eq!(code, 0);
    let timeout = results(&report, "config.redis-timeout");
    assert_eq!(timeout[0]["status"], "warn", "{timeout:?}");
}

#[test]
fn severity_in_the_repository_root_makes_a_warning_fail() {
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join("wsdoctor.toml"),
        "[severity]\n\"config.redis-timeout\" = \"error\"\n",
    )
    .unwrap();
    let (code, report) = lint_json(&deploy);
    assert_eq!(code, 1);
    let timeout = results(&report, "config.redis-timeout");
    assert_eq!(timeout[0]["status"], "fail");
    assert_eq!(timeout[0]["severity"], "error");
}

#[test]
fn an_ignore_with_its_reason_suppresses_and_says_where() {
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join(".wsdoctor.toml"),
        "strict = true\n\n[[ignore]]\nid = \"config.redis-timeout\"\nreason = \"restarted nightly\"\nservice = \"redis\"\n",
    )
    .unwrap();
    // strict = true: the warning would fail the run if the ignore did not apply.
    let (code, report) = lint_json(&deploy);
    assert_eq!(code, 0, "{report:#}");
    let timeout = results(&report, "config.redis-timeout");
    let sup = &timeout[0]["suppressed"];
    assert_eq!(sup["kind"], "config");
    assert_eq!(sup["reason"], "restarted nightly");
    assert_eq!(sup["location"]["line"], 3);
    // As reached from the current directory (deploy/).
    assert_eq!(sup["location"]["file"], "../.wsdoctor.toml");
    assert_eq!(report["summary"]["suppressed"], 1);
    // Text and Markdown say why, and where the entry is.
    let (_, text, _) = run(&deploy, &["lint"]);
    // (wrapped at 80: compared with the line breaks folded)
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("(suppressed: restarted nightly)"), "{text}");
    let (_, md, _) = run(&deploy, &["lint", "--format", "markdown"]);
    assert!(md.contains("(config file at "), "{md}");
    assert!(md.contains("restarted nightly"), "{md}");
}

#[test]
fn an_ignore_for_another_service_does_not_apply_and_is_reported_unused() {
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join("wsdoctor.toml"),
        "[[ignore]]\nid = \"config.redis-timeout\"\nreason = \"other redis\"\nservice = \"cache\"\n",
    )
    .unwrap();
    let (code, report) = lint_json(&deploy);
    assert_eq!(code, 0);
    assert_eq!(
        results(&report, "config.redis-timeout")[0]["status"],
        "warn"
    );
    let unused = results(&report, "config.unused-suppression");
    assert_eq!(unused.len(), 1, "{report:#}");
    assert_eq!(unused[0]["status"], "warn");
    assert_eq!(unused[0]["subject"], "config.redis-timeout");
    assert_eq!(unused[0]["location"]["line"], 1);
}

#[test]
fn an_ignore_of_a_check_that_did_not_run_is_not_called_unused() {
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join("wsdoctor.toml"),
        "[[ignore]]\nid = \"redis.timeout\"\nreason = \"live only\"\n",
    )
    .unwrap();
    let (_, report) = lint_json(&deploy);
    let unused = results(&report, "config.unused-suppression");
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0]["status"], "pass", "{report:#}");
}

#[test]
fn pyproject_tool_table_is_read() {
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.ruff]\nline-length = 100\n\n[tool.wsdoctor.severity]\n\"config.redis-timeout\" = \"error\"\n",
    )
    .unwrap();
    let (code, _) = lint_json(&deploy);
    assert_eq!(code, 1);
}

#[test]
fn a_pyproject_without_the_table_is_not_a_config() {
    let (repo, deploy) = repo();
    // Not even valid for wsdoctor: it must not be read at all.
    std::fs::write(repo.path().join("pyproject.toml"), "[tool.ruff]\nx = 1\n").unwrap();
    let (code, _) = lint_json(&deploy);
    assert_eq!(code, 0);
}

#[test]
fn outside_a_repository_a_file_above_the_project_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    std::fs::write(deploy.join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(
        dir.path().join("wsdoctor.toml"),
        "[severity]\n\"config.redis-timeout\" = \"error\"\n",
    )
    .unwrap();
    let (code, _) = lint_json(&deploy);
    assert_eq!(code, 0);
    // In the project directory itself it is read.
    std::fs::rename(
        dir.path().join("wsdoctor.toml"),
        deploy.join("wsdoctor.toml"),
    )
    .unwrap();
    let (code, _) = lint_json(&deploy);
    assert_eq!(code, 1);
}

#[test]
fn project_dir_decides_where_the_file_is_looked_for() {
    let (repo, deploy) = repo();
    std::fs::write(
        deploy.join("wsdoctor.toml"),
        "[severity]\n\"config.redis-timeout\" = \"error\"\n",
    )
    .unwrap();
    let (code, _, err) = run(repo.path(), &["lint", "--project-dir", "deploy"]);
    assert_eq!(code, 1, "{err}");
}

fn invalid(body: &str) -> String {
    let (repo, deploy) = repo();
    std::fs::write(repo.path().join("wsdoctor.toml"), body).unwrap();
    let (code, out, err) = run(&deploy, &["lint", "--format", "sarif"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn invalid_toml_is_exit_2_with_file_line_column() {
    let err = invalid("timeout = \"2s\"\n[severity\n");
    assert!(err.contains("wsdoctor.toml:2:"), "{err}");
}

#[test]
fn an_unknown_key_is_exit_2_at_its_line() {
    let err = invalid("timeout = \"2s\"\ntimout = \"3s\"\n");
    assert!(err.contains("wsdoctor.toml:2:1"), "{err}");
    assert!(err.contains("timout"), "{err}");
}

#[test]
fn an_ignore_without_a_reason_is_exit_2() {
    let err = invalid("\n[[ignore]]\nid = \"config.redis-timeout\"\n");
    assert!(err.contains("wsdoctor.toml:2:"), "{err}");
    assert!(err.contains("no reason"), "{err}");
}

#[test]
fn an_unknown_id_is_exit_2_with_did_you_mean() {
    let err = invalid("[[ignore]]\nid = \"redis-timeout\"\nreason = \"x\"\n");
    assert!(err.contains("wsdoctor.toml:2:"), "{err}");
    assert!(err.contains("did you mean 'config.redis-timeout'"), "{err}");
    let err = invalid("[severity]\n\"config.redis-url-hots\" = \"error\"\n");
    assert!(err.contains("wsdoctor.toml:2:1"), "{err}");
    assert!(
        err.contains("did you mean 'config.redis-url-host'"),
        "{err}"
    );
}

#[test]
fn a_zero_timeout_in_the_file_is_refused() {
    let err = invalid("timeout = \"0s\"\n");
    assert!(err.contains("wsdoctor.toml:1:"), "{err}");
    assert!(err.contains("no time"), "{err}");
}

#[test]
fn diagnose_takes_url_from_the_file_and_the_command_line_wins() {
    // Two loopback ports nothing listens on (bound, then released): the ws checks name the
    // URL they probed.
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (file_port, cli_port) = (free(), free());
    let (repo, deploy) = repo();
    std::fs::write(
        repo.path().join("wsdoctor.toml"),
        format!(
            "timeout = \"1s\"\n\n[diagnose]\nurl = \"http://127.0.0.1:{file_port}\"\npath = \"/ws/socket.io\"\n"
        ),
    )
    .unwrap();
    let args = ["diagnose", "--no-docker", "--format", "json"];
    let (_, out, err) = run(&deploy, &args);
    assert!(
        out.contains(&format!("127.0.0.1:{file_port}/ws/socket.io")),
        "{out}{err}"
    );
    let cli_url = format!("http://127.0.0.1:{cli_port}");
    let mut with_url = args.to_vec();
    with_url.extend(["--url", cli_url.as_str()]);
    let (_, out, err) = run(&deploy, &with_url);
    assert!(out.contains(&format!("127.0.0.1:{cli_port}")), "{out}{err}");
    assert!(!out.contains(&format!("127.0.0.1:{file_port}")), "{out}");
}
