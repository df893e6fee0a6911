//! `config.app-listen-host` against the real servers: the real Chainlit 2.12 (apps venv) and
//! the real uvicorn + python-socketio (test venv, tests/servers/socketio_server.py), each
//! started with the exact command of a fixture, once without a host (their default) and once
//! with `--host 0.0.0.0`. A probe from another local address (`wsdoctor ws
//! http://127.0.0.2:PORT`, the way a proxy in another container arrives on a non-loopback
//! interface) is refused by the default and answered by the fix, and `wsdoctor lint` on the
//! fixture with that command says the same: fail and pass.
//!
//! 127.0.0.2 is on `lo` (Linux routes all of 127.0.0.0/8 there), so a server bound to
//! 127.0.0.1 refuses it exactly as a container's loopback-bound server refuses its ingress.

mod real_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use real_support::apps::{apps_python, command};
use real_support::{Proc, missing, on_free_port, repo, wait_http, wsdoctor};

const ID: &str = "config.app-listen-host";

/// The fixture's compose command, asserted to be in the file: the test runs exactly it.
fn fixture_command(fixture: &str, words: &str) -> PathBuf {
    let dir = repo().join("fixtures").join(fixture);
    let text = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    assert!(
        text.contains(&format!("command: {words}")),
        "fixtures/{fixture}/compose.yaml must hold `command: {words}` (the command this test runs)"
    );
    dir
}

/// The words of a fixture command with its port (8000) replaced by the test's port.
fn with_port(words: &str, port: u16) -> Vec<String> {
    words
        .split_whitespace()
        .map(|w| {
            if w == "8000" {
                port.to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// What a probe from 127.0.0.2 sees: (ws.http-reachable status, its error kind).
fn probe_from_other_address(port: u16, path: &str, extra: &[&str]) -> (String, String, String) {
    let url = format!("http://127.0.0.2:{port}{path}");
    let mut args = vec!["--format", "json", "--timeout", "5s", "ws", url.as_str()];
    args.extend_from_slice(extra);
    let run = wsdoctor(&args, &[]);
    let check = run.check("ws.http-reachable").clone();
    (
        check["status"].as_str().unwrap_or("").to_string(),
        check["evidence"]["error_kind"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        check["message"].as_str().unwrap_or("").to_string(),
    )
}

/// `wsdoctor lint` on the fixture: (status of the check, its message).
fn lint(dir: &Path) -> (String, String) {
    let run = wsdoctor(
        &[
            "--format",
            "json",
            "lint",
            "--project-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    (run.status(ID).to_string(), run.message(ID))
}

/// Asserts the probe and lint agree: loopback → refused + fail; all interfaces → answered +
/// pass.
fn assert_agree(
    what: &str,
    port: u16,
    path: &str,
    probe_extra: &[&str],
    fixture: &Path,
    bound_all: bool,
) {
    let (status, kind, message) = probe_from_other_address(port, path, probe_extra);
    let (lint_status, lint_message) = lint(fixture);
    real_support::loud(&format!(
        "{what}: probe from 127.0.0.2 → {status} {kind} ({message}); lint → {lint_status} ({lint_message})"
    ));
    if bound_all {
        assert_eq!(status, "pass", "{what}: {message}");
        assert_eq!(lint_status, "pass", "{what}: {lint_message}");
    } else {
        assert_eq!(
            (status.as_str(), kind.as_str()),
            ("fail", "refused"),
            "{what}: {message}"
        );
        assert_eq!(lint_status, "fail", "{what}: {lint_message}");
        assert!(lint_message.contains("127.0.0.1"), "{lint_message}");
    }
}

/// Runs `words` (a fixture's command, `chainlit …`) from the apps venv in a temp copy of the
/// real Chainlit app.
fn chainlit(words: &str) -> Result<(u16, Proc, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::copy(
        repo().join("tests/real_apps/chainlit_app.py"),
        dir.path().join("app.py"),
    )
    .map_err(|e| e.to_string())?;
    let (port, proc) = on_free_port(|port| {
        let argv = with_port(words, port);
        let mut cmd = command(&argv[0], dir.path(), &[]);
        cmd.args(&argv[1..]);
        let mut proc = Proc::spawn("chainlit", cmd).map_err(|e| e.to_string())?;
        wait_http(&mut proc, port, "/", Duration::from_secs(90))?;
        Ok((port, proc))
    })?;
    Ok((port, proc, dir))
}

#[test]
fn real_chainlit_default_host_is_unreachable_from_another_address_and_lint_says_so() {
    const TEST: &str =
        "real_chainlit_default_host_is_unreachable_from_another_address_and_lint_says_so";
    if let Err(e) = apps_python() {
        missing(TEST, &e);
        return;
    }
    for (fixture, words, bound_all) in [
        (
            "listen-host-chainlit",
            "chainlit run app.py --headless --port 8000",
            false,
        ),
        (
            "listen-host-chainlit-fixed",
            "chainlit run app.py --headless --host 0.0.0.0 --port 8000",
            true,
        ),
    ] {
        let dir = fixture_command(fixture, words);
        let (port, proc, _app) =
            chainlit(words).unwrap_or_else(|e| panic!("{TEST}: chainlit did not start: {e}"));
        assert_agree(
            &format!("Chainlit `{words}`"),
            port,
            "/ws/socket.io",
            &["--app", "chainlit"],
            &dir,
            bound_all,
        );
        drop(proc);
    }
}

/// The test venv's Python with python-socketio and uvicorn (`$WSDOCTOR_PYTHON`).
fn test_python() -> Result<PathBuf, String> {
    let py = std::env::var_os("WSDOCTOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/test-venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import socketio, uvicorn"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(py)
    } else {
        Err(format!(
            "{} cannot import socketio and uvicorn (set WSDOCTOR_PYTHON to the test venv)",
            py.display()
        ))
    }
}

#[test]
fn real_uvicorn_default_host_is_unreachable_from_another_address_and_lint_says_so() {
    const TEST: &str =
        "real_uvicorn_default_host_is_unreachable_from_another_address_and_lint_says_so";
    let py = match test_python() {
        Ok(py) => py,
        Err(e) => {
            missing(TEST, &e);
            return;
        }
    };
    for (fixture, words, bound_all) in [
        (
            "listen-host-uvicorn",
            "uvicorn socketio_server:app --port 8000",
            false,
        ),
        (
            "listen-host-uvicorn-fixed",
            "uvicorn socketio_server:app --host 0.0.0.0 --port 8000",
            true,
        ),
    ] {
        let dir = fixture_command(fixture, words);
        let (port, proc) = on_free_port(|port| {
            // `python -m uvicorn …`: the fixture's `uvicorn` word from the test venv.
            let argv = with_port(words, port);
            let mut cmd = Command::new(&py);
            cmd.current_dir(repo().join("tests/servers"))
                .arg("-m")
                .args(&argv);
            let mut proc = Proc::spawn("uvicorn", cmd).map_err(|e| e.to_string())?;
            wait_http(
                &mut proc,
                port,
                "/socket.io/?EIO=4&transport=polling",
                Duration::from_secs(30),
            )?;
            Ok((port, proc))
        })
        .unwrap_or_else(|e| panic!("{TEST}: uvicorn did not start: {e}"));
        assert_agree(
            &format!("uvicorn `{words}`"),
            port,
            "/socket.io",
            &[],
            &dir,
            bound_all,
        );
        // diagnose ties the two together: the refused probe is explained by the file.
        let url = format!("http://127.0.0.2:{port}");
        let run = wsdoctor(
            &[
                "--format",
                "json",
                "--timeout",
                "5s",
                "diagnose",
                "--project-dir",
                dir.to_str().unwrap(),
                "--service",
                "api",
                "--url",
                &url,
                "--no-docker",
            ],
            &[],
        );
        let reach = run.check("ws.http-reachable");
        if bound_all {
            assert_eq!(reach["status"], "pass", "{}", run.dump());
        } else {
            assert_eq!(reach["status"], "fail", "{}", run.dump());
            assert_eq!(reach["caused_by"], format!("{ID} [api]"), "{}", run.dump());
            assert_eq!(run.code, 1);
        }
        drop(proc);
    }
}
