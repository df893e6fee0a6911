//! The engine endpoint from docker contexts, through the binary: a context made by the real
//! `docker context create` / `docker context use`, and hand-written ones; DOCKER_HOST wins.
//!
//! Each test uses its own DOCKER_CONFIG directory (the docker CLI keeps contexts and
//! `currentContext` there), so the machine's current context is never changed: other runs
//! sharing this engine are unaffected, and there is nothing to restore.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

/// `wsdoctor docker --container none` (no project lookup needed) with a clean docker
/// environment; returns the docker.engine result.
fn engine_result(config_dir: &Path, home: &Path, vars: &[(&str, &str)]) -> serde_json::Value {
    let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
    cmd.args([
        "docker",
        "--container",
        "wsdoctor-no-such-container",
        "--format",
        "json",
        "--timeout",
        "5s",
    ])
    .current_dir(home)
    .env_remove("DOCKER_HOST")
    .env_remove("DOCKER_CONTEXT")
    .env_remove("DOCKER_TLS_VERIFY")
    .env("DOCKER_CONFIG", config_dir)
    .env("HOME", home);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "docker.engine")
        .cloned()
        .expect("docker.engine result")
}

fn docker_cli(config_dir: &Path, args: &[&str]) -> std::process::Output {
    Process::new("docker")
        .args(args)
        .env("DOCKER_CONFIG", config_dir)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("docker CLI")
}

/// The engine's socket, or why this test cannot run here (fails under CI=true).
fn engine_socket() -> Option<&'static Path> {
    let socket = Path::new("/var/run/docker.sock");
    let cli = Process::new("docker").arg("--version").output().is_ok();
    if socket.exists() && cli {
        return Some(socket);
    }
    assert!(
        std::env::var("CI").is_err(),
        "docker CLI and engine socket are required under CI"
    );
    eprintln!("SKIPPED: no docker CLI or no /var/run/docker.sock here");
    None
}

#[test]
fn a_context_made_by_docker_context_create_and_use_selects_the_engine() {
    let Some(socket) = engine_socket() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    // The same engine under another path, so the report shows which endpoint was chosen.
    let link = tmp.path().join("engine.sock");
    std::os::unix::fs::symlink(socket, &link).unwrap();
    let host = format!("unix://{}", link.display());
    let created = docker_cli(
        &config,
        &[
            "context",
            "create",
            "wsdoctor-test",
            "--docker",
            &format!("host={host}"),
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let used = docker_cli(&config, &["context", "use", "wsdoctor-test"]);
    assert!(used.status.success(), "{used:?}");
    // The docker CLI itself reaches the engine through it.
    let info = docker_cli(&config, &["version", "--format", "{{.Server.Version}}"]);
    assert!(info.status.success(), "{info:?}");

    // The current context (config.json currentContext).
    let r = engine_result(&config, tmp.path(), &[]);
    assert_eq!(r["status"], "pass", "{r:#}");
    assert_eq!(r["evidence"]["endpoint"], host.as_str());

    // DOCKER_CONTEXT=default overrides the current context: the default socket.
    let r = engine_result(&config, tmp.path(), &[("DOCKER_CONTEXT", "default")]);
    assert_eq!(
        r["evidence"]["endpoint"], "unix:///var/run/docker.sock",
        "{r:#}"
    );

    // DOCKER_HOST wins over the context, as in the docker CLI.
    let elsewhere = format!("unix://{}", tmp.path().join("nothing.sock").display());
    let r = engine_result(&config, tmp.path(), &[("DOCKER_HOST", &elsewhere)]);
    assert_eq!(r["evidence"]["endpoint"], elsewhere.as_str(), "{r:#}");
    assert_eq!(r["status"], "fail", "{r:#}");

    // Back to the default context in this config, as `docker context use default` does.
    let reset = docker_cli(&config, &["context", "use", "default"]);
    assert!(reset.status.success(), "{reset:?}");
    let r = engine_result(&config, tmp.path(), &[]);
    assert_eq!(
        r["evidence"]["endpoint"], "unix:///var/run/docker.sock",
        "{r:#}"
    );
}

#[test]
fn hand_written_contexts_in_a_temporary_home() {
    // No DOCKER_CONFIG: ~/.docker of a temporary HOME, with meta.json written by hand at
    // contexts/meta/<sha256 of the name>/meta.json.
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".docker");
    let name = "colima";
    let digest = sha256_hex(name);
    let dir = config.join("contexts/meta").join(&digest);
    std::fs::create_dir_all(&dir).unwrap();
    let missing_socket = home.path().join(".colima/default/docker.sock");
    std::fs::write(
        dir.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{"Description":"colima"}},"Endpoints":{{"docker":{{"Host":"unix://{}","SkipTLSVerify":false}}}}}}"#,
            missing_socket.display()
        ),
    )
    .unwrap();
    std::fs::write(config.join("config.json"), r#"{"currentContext":"colima"}"#).unwrap();

    let run = |vars: &[(&str, &str)]| {
        let mut cmd = Command::cargo_bin("wsdoctor").unwrap();
        cmd.args([
            "docker",
            "--container",
            "x",
            "--format",
            "json",
            "--timeout",
            "5s",
        ])
        .current_dir(home.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_CONFIG")
        .env("HOME", home.path());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "docker.engine")
            .cloned()
            .unwrap()
    };
    // currentContext → the Colima socket, which does not exist here: the failure names it.
    let r = run(&[]);
    assert_eq!(r["status"], "fail", "{r:#}");
    assert_eq!(
        r["evidence"]["endpoint"],
        format!("unix://{}", missing_socket.display()).as_str()
    );
    // DOCKER_CONTEXT naming a context that does not exist: reported, not the default socket.
    let r = run(&[("DOCKER_CONTEXT", "rootless")]);
    assert_eq!(r["status"], "fail", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("docker context 'rootless' not found"),
        "{r:#}"
    );
}

/// SHA-256 in hex with the system `sha256sum` (independent of wsdoctor's own hashing).
fn sha256_hex(text: &str) -> String {
    use std::io::Write;
    let mut child = Process::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
