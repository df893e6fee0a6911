//! `docker.engine` when there is no usable engine: each cause told apart, with its own fix,
//! and every other docker check skipped because of it. Real sockets, no engine needed.

mod docker_support;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use docker_support::{result, run_wsdoctor};
use serde_json::Value;

const DEPENDENT: [&str; 6] = [
    "docker.containers",
    "docker.network-shared",
    "docker.dns-alias",
    "docker.env-drift",
    "docker.redis-command",
    "docker.ports",
];

fn run_with_host(docker_host: &str, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["docker", "--format", "json", "--project", "p"];
    args.extend_from_slice(extra);
    run_wsdoctor(dir.path(), &args, &[("DOCKER_HOST", docker_host)])
}

fn assert_engine_problem(report: &Value, problem: &str, hint_part: &str) {
    let engine = result(report, "docker.engine", "");
    assert_eq!(engine["status"], "fail", "{engine}");
    assert_eq!(engine["evidence"]["problem"], problem, "{engine}");
    assert!(
        engine["hint"].as_str().unwrap_or("").contains(hint_part),
        "{engine}"
    );
    for id in DEPENDENT {
        let r = result(report, id, "");
        assert_eq!(r["status"], "skip", "{r}");
        assert_eq!(r["evidence"]["depends_on"], "docker.engine", "{r}");
    }
    assert_eq!(report["summary"]["verdict"], "fail");
}

#[test]
fn missing_socket_is_no_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = format!("unix://{}/docker.sock", dir.path().display());
    let (code, report) = run_with_host(&host, &[]);
    assert_engine_problem(&report, "no_socket", "systemctl start docker");
    assert_eq!(
        result(&report, "docker.engine", "")["evidence"]["endpoint"],
        host
    );
    assert_eq!(code, 1);
}

#[test]
fn stale_socket_and_closed_tcp_port_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("docker.sock");
    // Bound, then closed: the socket file stays and nothing listens (a crashed daemon).
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    let (code, report) = run_with_host(&format!("unix://{}", path.display()), &[]);
    assert_engine_problem(&report, "refused", "systemctl start docker");
    assert_eq!(code, 1);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let (code, report) = run_with_host(&format!("tcp://127.0.0.1:{port}"), &[]);
    assert_engine_problem(&report, "refused", "DOCKER_HOST");
    assert_eq!(code, 1);
}

#[test]
fn silent_engine_costs_only_the_timeout() {
    // Accepts connections, never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let started = Instant::now();
    let (code, report) = run_with_host(&format!("tcp://127.0.0.1:{port}"), &["--timeout", "500ms"]);
    let took = started.elapsed();
    assert_engine_problem(&report, "timeout", "--timeout");
    assert!(
        result(&report, "docker.engine", "")["message"]
            .as_str()
            .unwrap()
            .contains("500ms"),
        "{report}"
    );
    assert_eq!(code, 1);
    // Generous bound (a loaded 2-core machine): the point is that it does not hang.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    drop(listener);
}

#[test]
fn unsupported_scheme_says_so() {
    let (code, report) = run_with_host("ssh://me@build-host", &[]);
    assert_engine_problem(&report, "unsupported", "unix://");
    assert_eq!(code, 1);
}

#[test]
fn permission_denied_on_the_socket_is_not_no_engine() {
    // Needs a user the socket refuses: run the binary as `nobody` through setpriv, which only
    // root may do.
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let setpriv = std::path::Path::new("/usr/bin/setpriv").exists();
    if !is_root || !setpriv {
        let reason = "needs root and /usr/bin/setpriv to run the binary as nobody";
        if std::env::var_os("CI").is_some() {
            panic!("permission_denied_on_the_socket_is_not_no_engine: {reason}");
        }
        docker_support::skipped(&format!(
            "SKIPPED permission_denied_on_the_socket_is_not_no_engine: {reason}"
        ));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = dir.path().join("docker.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    // Like /var/run/docker.sock (root:docker 0660) for a user outside the docker group.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = std::process::Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["docker", "--format", "json", "--project", "p"])
        .current_dir(dir.path())
        .env("DOCKER_HOST", format!("unix://{}", path.display()))
        .output()
        .expect("setpriv");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_engine_problem(&report, "permission_denied", "usermod -aG docker");
    assert_eq!(out.status.code(), Some(1));
    drop(listener);
}
