//! Command-line habits through the binary: `--timeout 0` refused, unknown check ids refused
//! with a did-you-mean (`--ignore`, `explain`, inline comments), unused suppressions reported,
//! `--quiet`, text wrapped to the width with ids aligned, `completions` and `man`.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;

/// Open WebUI and a Redis without `--timeout`: `config.redis-timeout` warns, the rest passes
/// or does not apply.
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

fn project(compose: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    dir
}

fn wsdoctor(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COLUMNS")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// (exit code, stdout, stderr)
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn timeout_zero_is_a_usage_error() {
    let dir = project(COMPOSE);
    for zero in ["0", "0s", "0ms"] {
        let (code, out, err) = run(wsdoctor(dir.path()).args(["--timeout", zero, "lint"]));
        assert_eq!(code, 2, "{zero}: {out}{err}");
        assert!(err.contains("no time for any probe"), "{err}");
    }
    let (code, _, err) = run(wsdoctor(dir.path()).args(["lint", "--timeout", "500ms"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn explain_a_bare_name_suggests_its_family_id() {
    let dir = project(COMPOSE);
    let (code, out, err) = run(wsdoctor(dir.path()).args(["explain", "redis-url-host"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("did you mean 'config.redis-url-host'"),
        "{err}"
    );
}

#[test]
fn unknown_ignore_id_is_a_usage_error_with_did_you_mean() {
    let dir = project(COMPOSE);
    let (code, out, err) =
        run(wsdoctor(dir.path()).args(["lint", "--format", "json", "--ignore", "redis-timeout"]));
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty());
    assert!(err.contains("--ignore redis-timeout"), "{err}");
    assert!(err.contains("did you mean 'config.redis-timeout'"), "{err}");
}

fn lint_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(wsdoctor(dir).args(["lint", "--format", "json"]).args(extra));
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

fn with_id<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

#[test]
fn an_inline_comment_with_an_unknown_id_fails_at_its_line() {
    let compose = COMPOSE.replace(
        "  redis:\n",
        "  # wsdoctor: ignore=redis-timeout -- restarted nightly\n  redis:\n",
    );
    let dir = project(&compose);
    let (code, report) = lint_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let unknown = with_id(&report, "config.ignore-unknown-id");
    assert_eq!(unknown.len(), 1, "{report:#}");
    assert_eq!(unknown[0]["status"], "fail");
    assert_eq!(unknown[0]["location"]["line"], 8);
    assert!(
        unknown[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'config.redis-timeout'")
    );
}

#[test]
fn an_inline_comment_that_matches_nothing_is_reported_unused() {
    // Over the open-webui service, which the timeout rule does not judge: nothing to match.
    let compose = COMPOSE.replace(
        "  open-webui:\n",
        "  # wsdoctor: ignore=config.redis-timeout -- meant for redis\n  open-webui:\n",
    );
    let dir = project(&compose);
    let (code, report) = lint_json(dir.path(), &[]);
    assert_eq!(code, 0);
    let unused = with_id(&report, "config.unused-suppression");
    assert_eq!(unused.len(), 1, "{report:#}");
    assert_eq!(unused[0]["status"], "warn");
    assert_eq!(unused[0]["location"]["line"], 2);
    assert_eq!(unused[0]["evidence"]["kind"], "inline comment");
    // The finding it was meant for is still reported.
    assert_eq!(
        with_id(&report, "config.redis-timeout")[0]["status"],
        "warn"
    );
    // --strict: an unused suppression is a warning, so it fails the run like any other.
    let (code, _) = lint_json(dir.path(), &["--strict"]);
    assert_eq!(code, 1);
}

#[test]
fn a_used_ignore_is_not_reported_and_an_unused_one_is() {
    let dir = project(COMPOSE);
    let (_, report) = lint_json(dir.path(), &["--ignore", "config.redis-timeout"]);
    let unused = with_id(&report, "config.unused-suppression");
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0]["status"], "pass", "{report:#}");
    assert_eq!(report["summary"]["suppressed"], 1);
    let (_, report) = lint_json(dir.path(), &["--ignore", "config.redis-url-host"]);
    let unused = with_id(&report, "config.unused-suppression");
    assert_eq!(unused.len(), 1, "{report:#}");
    assert_eq!(unused[0]["subject"], "config.redis-url-host");
    assert_eq!(unused[0]["evidence"]["kind"], "--ignore");
    // And it can itself be ignored.
    let (code, report) = lint_json(
        dir.path(),
        &[
            "--ignore",
            "config.redis-url-host",
            "--ignore",
            "config.unused-suppression",
            "--ignore",
            "config.redis-timeout",
            "--strict",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn quiet_shows_only_warnings_and_failures() {
    let dir = project(COMPOSE);
    let (code, full, _) = run(wsdoctor(dir.path()).args(["lint"]));
    assert_eq!(code, 0);
    assert!(full.contains("PASS    config.redis-url-host"), "{full}");
    let (code, quiet, _) = run(wsdoctor(dir.path()).args(["lint", "--quiet"]));
    assert_eq!(code, 0);
    assert!(quiet.contains("WARN config.redis-timeout"), "{quiet}");
    assert!(!quiet.lines().any(|l| l.starts_with("PASS ")), "{quiet}");
    assert!(!quiet.lines().any(|l| l.starts_with("SKIP ")), "{quiet}");
    // The headline still counts everything.
    assert_eq!(quiet.lines().next(), full.lines().next());
    let (_, md, _) = run(wsdoctor(dir.path()).args(["lint", "-q", "--format", "markdown"]));
    assert!(md.contains("config.redis-timeout"), "{md}");
    // No table of skipped, suppressed and passed checks (evidence <details> stay).
    assert!(!md.contains("and passed ("), "{md}");
    let (_, md_full, _) = run(wsdoctor(dir.path()).args(["lint", "--format", "markdown"]));
    assert!(md_full.contains("and passed ("), "{md_full}");
    // Machine formats keep every result.
    let (_, json, _) = run(wsdoctor(dir.path()).args(["lint", "-q", "--format", "json"]));
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(!with_id(&report, "config.redis-url-host").is_empty());
}

/// A long message: the hostname is not a service, and the list of services is long.
fn long_compose() -> String {
    let mut compose = COMPOSE.replace("redis://redis:6379/0", "redis://cache-primary:6379/0");
    for i in 0..8 {
        compose.push_str(&format!(
            "  worker-with-a-long-service-name-{i}:\n    image: busybox\n"
        ));
    }
    compose
}

fn check_width(text: &str, width: usize) {
    for line in text.lines() {
        let fits = line.chars().count() <= width
            // A single word longer than the room (a URL) is kept whole.
            || !line.trim_start().contains(' ')
            || line.split(' ').any(|w| w.chars().count() > width / 2);
        assert!(fits, "line over {width} columns: {line:?}\n{text}");
    }
}

#[test]
fn text_wraps_at_80_when_not_a_terminal_and_honours_columns() {
    let dir = project(&long_compose());
    let (code, text, err) = run(wsdoctor(dir.path()).args(["lint"]));
    assert_eq!(code, 1, "{err}");
    check_width(&text, 80);
    assert!(text.lines().any(|l| l.chars().count() > 70), "{text}");
    // One-line results: the id starts at column 9, the text at column 48; a continuation
    // line is indented to the text.
    let mut continued = false;
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        if pair[0].starts_with("PASS    ") && pair[1].starts_with(' ') {
            assert!(pair[1].starts_with(&" ".repeat(47)), "{:?}", pair[1]);
            assert_ne!(pair[1].as_bytes()[47], b' ', "{:?}", pair[1]);
            continued = true;
        }
    }
    assert!(continued, "no wrapped one-line result in:\n{text}");
    let (_, wide, _) = run(wsdoctor(dir.path()).env("COLUMNS", "200").args(["lint"]));
    check_width(&wide, 200);
    assert!(wide.lines().count() < text.lines().count());
    assert!(wide.lines().any(|l| l.chars().count() > 80), "{wide}");
    // Written to a file: 80 too.
    let out = dir.path().join("report.txt");
    run(wsdoctor(dir.path())
        .env("COLUMNS", "60")
        .args(["lint", "-o"])
        .arg(&out));
    check_width(&std::fs::read_to_string(&out).unwrap(), 60);
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    let dir = project(COMPOSE);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = run(wsdoctor(dir.path()).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        // fish names long options without their dashes (`-l timeout`).
        for word in ["diagnose", "explain", "timeout", "quiet"] {
            assert!(out.contains(word), "{shell} lacks {word}");
        }
    }
    let (code, _, err) = run(wsdoctor(dir.path()).args(["completions", "tcsh"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let dir = project(COMPOSE);
    let (_, script, _) = run(wsdoctor(dir.path()).args(["completions", "bash"]));
    let path = dir.path().join("wsdoctor.bash");
    std::fs::write(&path, script).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .expect("bash is installed");
    assert!(status.success());
}

#[test]
fn man_page_is_roff_with_every_command() {
    let dir = project(COMPOSE);
    let (code, page, err) = run(wsdoctor(dir.path()).args(["man"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        page.starts_with(".ie") || page.contains(".TH wsdoctor"),
        "{page}"
    );
    for word in ["lint", "diagnose", "completions", "\\-\\-timeout"] {
        assert!(page.contains(word), "man page lacks {word}");
    }
    // Rendered by the real man when it is here (groff -man via man -l).
    let path = dir.path().join("wsdoctor.1");
    std::fs::write(&path, &page).unwrap();
    if let Ok(out) = std::process::Command::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        && out.status.success()
    {
        let rendered = String::from_utf8_lossy(&out.stdout);
        assert!(rendered.contains("wsdoctor"), "{rendered}");
    } else {
        eprintln!("man is not installed: the roff was checked as text only");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = project(COMPOSE);
    for args in [&["man"][..], &["completions", "zsh"][..]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wsdoctor"))
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe as `| head -c1` would.
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        let _ = stdout.read(&mut one);
        drop(stdout);
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{err}"
        );
    }
}
