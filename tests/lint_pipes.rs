//! Every input is read exactly once, so pipes work as compose's own `-f` does: a FIFO, `-f -`
//! (standard input), and bash process substitution `-f <(…)` / `--env-file <(…)`. Reading the
//! compose file twice (once for the top-level `name:`) gave a false "compose file is empty"
//! FAIL on a pipe and hung on a FIFO.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// `name:` feeds `${COMPOSE_PROJECT_NAME}` (read from the same bytes as the rest), and the
/// Redis host is a service that does not exist: the finding proves the content was read.
const COMPOSE: &str = "name: piped\nservices:\n  app:\n    image: ghcr.io/open-webui/open-webui:main\n    environment:\n      ENABLE_WEBSOCKET_SUPPORT: \"true\"\n      WEBSOCKET_MANAGER: redis\n      WEBSOCKET_REDIS_URL: redis://${COMPOSE_PROJECT_NAME}-${CACHE_SUFFIX:-cache}:6379/0\n";

fn wsdoctor(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("REDIS_URL")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("CACHE_SUFFIX")
        .timeout(Duration::from_secs(30));
    cmd
}

/// The report read the piped file: the URL host is `piped-<suffix>`, compose-syntax passes.
fn assert_read_whole(out: &std::process::Output, suffix: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).expect("json report");
    let checks = report["checks"].as_array().unwrap();
    let syntax = checks
        .iter()
        .find(|c| c["id"] == "config.compose-syntax")
        .expect("compose-syntax");
    assert_eq!(syntax["status"], "pass", "{syntax}");
    let host = format!("host 'piped-{suffix}'");
    assert!(
        checks.iter().any(|c| c["id"] == "config.redis-url-host"
            && c["status"] == "fail"
            && c["message"].as_str().unwrap_or("").contains(&host)),
        "no redis-url-host failure naming {host}: {stdout}"
    );
}

#[test]
fn a_fifo_is_read_once_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("compose.yaml");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    // The writer opens (blocking until wsdoctor opens for reading), writes once, closes: a
    // second read by wsdoctor would block forever (the timeout fails the test) or read "".
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .expect("open fifo for writing");
        f.write_all(COMPOSE.as_bytes()).expect("write fifo");
    });
    let out = wsdoctor(dir.path())
        .args(["--format", "json", "lint", "-f", "compose.yaml"])
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_read_whole(&out, "cache");
}

#[test]
fn dash_f_dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "CACHE_SUFFIX=fromenv\n").unwrap();
    let out = wsdoctor(dir.path())
        .args(["--format", "json", "lint", "-f", "-"])
        .write_stdin(COMPOSE)
        .output()
        .unwrap();
    // Standard input has no directory: the working directory is the project's, its .env read.
    assert_read_whole(&out, "fromenv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"file\": \"-\""), "{stdout}");
}

#[test]
fn process_substitution_for_compose_and_env_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.src"), COMPOSE).unwrap();
    // Real bash process substitution: both arguments are /dev/fd/N pipes.
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("REDIS_URL")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("CACHE_SUFFIX")
        .arg("-c")
        .arg(r#"exec "$0" --format json lint -f <(cat compose.src) --env-file <(printf 'CACHE_SUFFIX=subst\n')"#)
        .arg(env!("CARGO_BIN_EXE_wsdoctor"))
        .output()
        .expect("bash");
    assert_read_whole(&out, "subst");
}

#[test]
fn standard_input_is_read_up_to_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = String::from(COMPOSE);
    big.push_str(&"#".repeat(9 * 1024 * 1024));
    let out = wsdoctor(dir.path())
        .args(["--format", "json", "lint", "-f", "-"])
        .write_stdin(big)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("json report");
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "config.compose-syntax"
                && c["status"] == "fail"
                && c["location"]["file"] == "-"
                && c["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("file too large (more than 8 MiB")),
        "{stdout}"
    );
}
