//! Bounded inputs, through the binary: every limit against hostile files gives a clear
//! finding (exit 1, `config.compose-syntax` / `config.env-syntax` at the file and line) in
//! bounded time and memory. A file that exists but cannot be parsed is a finding, not a stop
//! (DESIGN.md exit codes), so every report format carries it.

mod hostile_support;

use std::path::Path;
use std::time::Duration;

use hostile_support::{Run, run_wsdoctor_raw};

/// Wall bound (debug build, shared machine): a guard against hangs, not a benchmark.
const WALL: Duration = Duration::from_secs(20);
const RSS_MIB: i64 = 300;

fn project(compose: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), compose).expect("write compose.yaml");
    dir
}

fn lint(dir: &Path, extra: &[&str]) -> Run {
    let d = dir.to_str().expect("utf-8 path");
    let mut args = vec!["lint", "--project-dir", d];
    args.extend_from_slice(extra);
    run_wsdoctor_raw(&args, false)
}

/// Runs `lint --format json` and asserts exit 1 with `id` failing at `file` (and `line`
/// when given), its message containing `message`.
fn lint_finding(
    dir: &Path,
    extra: &[&str],
    id: &str,
    file: &str,
    line: Option<u64>,
    message: &str,
) -> Run {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let mut run = lint(dir, &args);
    run.assert_bounded(WALL, RSS_MIB);
    assert_eq!(
        run.code, 1,
        "stderr: {}
stdout: {}",
        run.stderr, run.stdout
    );
    run.json = serde_json::from_str(&run.stdout).expect("json report");
    let failing: Vec<&serde_json::Value> = run.json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["id"] == id && c["status"] == "fail")
        .collect();
    let found = failing.iter().find(|c| {
        c["message"].as_str().unwrap_or("").contains(message)
            && c["location"]["file"] == file
            && line.is_none_or(|l| c["location"]["line"] == l)
    });
    assert!(
        found.is_some(),
        "no failing {id} at {file}:{line:?} containing {message:?}:\n{}",
        run.summary()
    );
    run
}

const MINIMAL: &str = "services:\n  app:\n    image: app\n";

#[test]
fn compose_file_that_is_a_device_is_read_up_to_the_size_limit() {
    // `-f /dev/zero` reports size 0 and never ends: it was read until memory ran out.
    let dir = project(MINIMAL);
    lint_finding(
        dir.path(),
        &["-f", "/dev/zero"],
        "config.compose-syntax",
        "/dev/zero",
        Some(1),
        "file too large (more than 8 MiB; compose files over 8 MiB are refused",
    );
}

#[test]
fn compose_file_over_8_mib_is_refused_before_parsing() {
    let mut text = String::from(MINIMAL);
    text.push_str(&"# padding padding padding padding padding padding padding\n".repeat(150_000));
    let dir = project(&text);
    lint_finding(
        dir.path(),
        &[],
        "config.compose-syntax",
        "compose.yaml",
        Some(1),
        "file too large (8.3 MiB",
    );
}

#[test]
fn compose_with_more_than_200000_nodes_is_refused() {
    let mut text = String::from("services:\n  app:\n    image: app\n    command:\n");
    text.push_str(&"      - a\n".repeat(250_000));
    let dir = project(&text);
    lint_finding(
        dir.path(),
        &[],
        "config.compose-syntax",
        "compose.yaml",
        None,
        "the document is too large or complex to read",
    );
}

#[test]
fn deeply_nested_flow_yaml_is_refused_without_recursing() {
    let depth = 100_000;
    let text = format!(
        "services:\n  app:\n    image: app\n    labels: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let dir = project(&text);
    let run = lint_finding(
        dir.path(),
        &[],
        "config.compose-syntax",
        "compose.yaml",
        Some(4),
        "invalid YAML: recursion limit exceeded",
    );
    assert!(run.stdout.contains("\"column\": 268"), "{}", run.stdout);
}

#[test]
fn alias_expansion_is_bounded() {
    // Nine levels of ten aliases: a billion nodes if expanded.
    let mut text = String::from("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "x-a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    text.push_str("services:\n  app:\n    image: app\n    labels: *a9\n");
    let dir = project(&text);
    lint_finding(
        dir.path(),
        &[],
        "config.compose-syntax",
        "compose.yaml",
        None,
        "excessive aliasing (a YAML alias bomb?)",
    );
}

#[test]
fn env_file_over_10_mib_is_refused() {
    let dir = project(MINIMAL);
    let line = format!("X={}\n", "A".repeat(98));
    std::fs::write(dir.path().join(".env"), line.repeat(110_000)).expect("write .env");
    lint_finding(
        dir.path(),
        &[],
        "config.env-syntax",
        ".env",
        Some(1),
        "the env file is larger than 10 MiB: not a .env file",
    );
}

#[test]
fn env_file_with_more_than_10000_entries_stops_reading_with_a_finding() {
    let dir = project(MINIMAL);
    let text: String = (0..20_000).map(|i| format!("K{i}=v\n")).collect();
    std::fs::write(dir.path().join(".env"), text).expect("write .env");
    let mut run = lint(dir.path(), &["--format", "json"]);
    run.assert_bounded(WALL, RSS_MIB);
    run.json = serde_json::from_str(&run.stdout).expect("json report");
    assert_eq!(run.status("config.env-syntax"), "fail", "{}", run.summary());
    assert!(
        run.message("config.env-syntax")
            .contains("line 10001: more than 10000 entries or 1000 errors"),
        "{}",
        run.message("config.env-syntax")
    );
}

#[test]
fn deeply_nested_interpolation_defaults_are_bounded() {
    let depth = 10_000;
    let value = format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
    let dir = project(&format!(
        "services:\n  app:\n    image: app\n    environment:\n      X: \"{value}\"\n"
    ));
    let run = lint(dir.path(), &[]);
    run.assert_bounded(WALL, RSS_MIB);
    assert!(
        run.code == 1 || run.code == 2,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
