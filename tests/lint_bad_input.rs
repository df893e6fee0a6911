//! Bad input through the binary: a clear error naming the file (and line where there is
//! one), exit code 2, never a panic, bounded time and memory.

use std::path::Path;

use assert_cmd::Command;

/// Runs `lint` in `dir`; returns (exit code, stderr).
fn lint_in(dir: &Path) -> (i32, String) {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["lint", "--project-dir"])
        .arg(dir)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

const OK_COMPOSE: &[u8] = b"services:\n  app:\n    image: ghcr.io/open-webui/open-webui:main\n";

#[test]
fn non_utf8_env_names_file_and_line() {
    let dir = project(&[("compose.yaml", OK_COMPOSE), (".env", b"A=1\nB=caf\xe9\n")]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".env:2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn invalid_yaml_names_file_and_line() {
    let dir = project(&[(
        "compose.yaml",
        b"services:\n  app:\n    image: x\n   bad: [\n",
    )]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("compose.yaml:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_compose_file_that_is_a_list() {
    let dir = project(&[("docker-compose.yml", b"- app\n- redis\n")]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("docker-compose.yml"), "{err}");
}

#[test]
fn no_compose_file() {
    let dir = project(&[(".env", b"A=1\n")]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("compose"), "{err}");
}

#[test]
fn alias_bomb_is_refused() {
    let mut bomb = String::from(
        "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        bomb.push_str(&format!("x-{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        prev = name;
    }
    bomb.push_str("services:\n  app:\n    image: x\n    labels: *i\n");
    let dir = project(&[("compose.yaml", bomb.as_bytes())]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("compose.yaml"), "{err}");
}

#[test]
fn a_50_mb_file_is_refused() {
    let mut big = Vec::from(OK_COMPOSE);
    big.extend(std::iter::repeat_n(b'#', 50 * 1024 * 1024));
    let dir = project(&[("compose.yaml", &big)]);
    let (code, err) = lint_in(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("compose.yaml"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["lint", "--format", "xml"],
        vec!["lint", "--timeout", "soon"],
        vec!["explain", "config.no-such-check"],
        vec!["nope"],
    ] {
        let out = Command::cargo_bin("wsdoctor")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .args(["lint", "--project-dir", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir"));
}
