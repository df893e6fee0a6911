//! Bad input through the binary. A file that exists but does not parse (invalid YAML, an
//! alias bomb, over the size limit, not UTF-8, not a mapping, a .env line compose refuses) is
//! a failing `config.compose-syntax` / `config.env-syntax` finding at its file and line, in
//! every format, exit 1 (DESIGN.md exit codes: `--format sarif -o x.sarif` must still write
//! the file CI uploads). Exit 2 stays for usage errors, a path given that does not exist or
//! cannot be opened, and no compose file found. Never a panic, bounded time and memory.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn wsdoctor(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("REDIS_URL")
        .timeout(Duration::from_secs(60));
    cmd
}

/// Runs `wsdoctor ARGS` in `dir`; returns (exit code, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = wsdoctor(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
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

/// The file is reported by `id` at `file:line` in JSON, SARIF (written with `-o`) and text,
/// each run exiting 1 with nothing on stderr but the report's own lines.
fn assert_finding_everywhere(dir: &Path, extra: &[&str], id: &str, file: &str, line: u64) {
    // JSON
    let args = [&["lint", "--format", "json"], extra].concat();
    let (code, out, err) = run_in(dir, &args);
    assert_eq!(code, 1, "{args:?}\nstdout: {out}\nstderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let report: Value = serde_json::from_str(&out).expect("json report");
    let hit = report["checks"].as_array().unwrap().iter().any(|c| {
        c["id"] == id
            && c["status"] == "fail"
            && c["location"]["file"] == file
            && c["location"]["line"] == line
    });
    assert!(hit, "json: no failing {id} at {file}:{line}\n{out}");

    // SARIF to a file: the upload step of CI needs the file.
    let sarif_path = dir.join("out.sarif");
    let _ = std::fs::remove_file(&sarif_path);
    let sarif_arg = sarif_path.to_str().unwrap();
    let args = [&["lint", "--format", "sarif", "-o", sarif_arg], extra].concat();
    let (code, _, err) = run_in(dir, &args);
    assert_eq!(code, 1, "{args:?}\nstderr: {err}");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).expect("sarif written"))
            .expect("sarif is json");
    let hit = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            r["ruleId"] == id
                && loc["artifactLocation"]["uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(file.trim_start_matches('/')))
                && loc["region"]["startLine"] == line
        });
    assert!(hit, "sarif: no {id} at {file}:{line}\n{sarif:#}");

    // Text
    let args = [&["lint"], extra].concat();
    let (code, out, err) = run_in(dir, &args);
    assert_eq!(code, 1, "{args:?}\nstderr: {err}");
    assert!(
        out.contains(&format!("{id} {file}:{line}:")),
        "text: no {id} at {file}:{line}\n{out}"
    );
}

#[test]
fn non_utf8_env_is_an_env_syntax_finding_at_its_line() {
    let dir = project(&[("compose.yaml", OK_COMPOSE), (".env", b"A=1\nB=caf\xe9\n")]);
    assert_finding_everywhere(dir.path(), &[], "config.env-syntax", ".env", 2);
}

#[test]
fn env_syntax_error_compose_refuses_is_a_finding_at_its_line() {
    let dir = project(&[
        ("compose.yaml", OK_COMPOSE),
        (".env", b"A=1\n\nBAD KEY=1\n"),
    ]);
    assert_finding_everywhere(dir.path(), &[], "config.env-syntax", ".env", 3);
}

#[test]
fn invalid_yaml_is_a_compose_syntax_finding_at_its_line() {
    let dir = project(&[(
        "compose.yaml",
        b"services:\n  app:\n    image: x\n   bad: [\n",
    )]);
    let (_, out, _) = run_in(dir.path(), &["lint", "--format", "json"]);
    let report: Value = serde_json::from_str(&out).expect("json");
    let line = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "config.compose-syntax" && c["status"] == "fail")
        .map(|c| c["location"]["line"].as_u64().unwrap())
        .unwrap_or_else(|| panic!("no compose-syntax failure: {out}"));
    assert!((3..=5).contains(&line), "line {line}: {out}");
    assert_finding_everywhere(
        dir.path(),
        &[],
        "config.compose-syntax",
        "compose.yaml",
        line,
    );
}

#[test]
fn a_compose_file_that_is_a_list_is_a_finding() {
    let dir = project(&[("docker-compose.yml", b"# two\n- app\n- redis\n")]);
    assert_finding_everywhere(
        dir.path(),
        &[],
        "config.compose-syntax",
        "docker-compose.yml",
        2,
    );
}

#[test]
fn services_that_is_not_a_mapping_is_a_finding() {
    let dir = project(&[("compose.yaml", b"name: x\nservices:\n  - app\n")]);
    assert_finding_everywhere(dir.path(), &[], "config.compose-syntax", "compose.yaml", 3);
}

#[test]
fn alias_bomb_is_a_finding() {
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
    let (code, out, err) = run_in(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("alias bomb"), "{out}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_50_mb_file_is_a_finding_at_line_1() {
    let mut big = Vec::from(OK_COMPOSE);
    big.extend(std::iter::repeat_n(b'#', 50 * 1024 * 1024));
    let dir = project(&[("compose.yaml", &big)]);
    assert_finding_everywhere(dir.path(), &[], "config.compose-syntax", "compose.yaml", 1);
}

#[test]
fn non_utf8_compose_is_a_finding_at_its_line() {
    let dir = project(&[("compose.yaml", b"services:\n  app:\n    image: caf\xe9\n")]);
    assert_finding_everywhere(dir.path(), &[], "config.compose-syntax", "compose.yaml", 3);
}

#[test]
fn diagnose_reports_the_parse_error_and_says_why_probes_are_skipped() {
    let dir = project(&[("compose.yaml", b"services: [\n")]);
    let (code, out, err) = run_in(
        dir.path(),
        &["diagnose", "--format", "json", "--timeout", "2s"],
    );
    assert_eq!(code, 1, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let checks = report["checks"].as_array().unwrap();
    assert!(
        checks.iter().any(|c| c["id"] == "config.compose-syntax"
            && c["status"] == "fail"
            && c["location"]["line"] == 1),
        "{out}"
    );
    let redis = checks
        .iter()
        .find(|c| c["id"].as_str().unwrap().starts_with("redis."))
        .expect("a redis check");
    assert_eq!(redis["status"], "skip", "{redis}");
    assert!(
        redis["message"]
            .as_str()
            .unwrap()
            .contains("compose.yaml does not parse (config.compose-syntax)"),
        "{redis}"
    );
}

#[test]
fn service_filter_on_a_file_that_does_not_parse_reports_the_finding() {
    let dir = project(&[("compose.yaml", b"services:\n  app: [\n")]);
    let (code, out, err) = run_in(dir.path(), &["lint", "--service", "app"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("config.compose-syntax compose.yaml:"), "{out}");
}

#[test]
fn redis_from_config_names_the_file_that_does_not_parse() {
    // `redis --from-config` needs the URL the files give: with no file to read it from there is
    // no report to make (exit 2), but the reason is the parse error, not a missing variable.
    let dir = project(&[("compose.yaml", b"services: [\n")]);
    let (code, _, err) = run_in(dir.path(), &["redis", "--from-config"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("compose.yaml: does not parse"), "{err}");
}

#[test]
fn no_compose_file() {
    let dir = project(&[(".env", b"A=1\n")]);
    let (code, _, err) = run_in(dir.path(), &["lint"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no compose file found"), "{err}");
}

#[test]
fn a_missing_or_unopenable_path_given_explicitly_exits_2() {
    let dir = project(&[("compose.yaml", OK_COMPOSE)]);
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    for (args, says) in [
        (
            vec!["lint", "-f", "nope.yaml"],
            "nope.yaml: cannot read: no such file",
        ),
        (vec!["lint", "-f", "adir"], "adir: is a directory"),
        (
            vec!["lint", "--env-file", "nope.env"],
            "nope.env: --env-file: no such file",
        ),
        (vec!["lint", "--env-file", "adir"], "--env-file"),
    ] {
        let (code, out, err) = run_in(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}\n{out}\n{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
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
