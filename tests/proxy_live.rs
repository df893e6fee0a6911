//! The `proxy.*` checks against the real thing: Debian's nginx in front of real
//! python-socketio servers, each check with a failing and a fixed configuration. The static
//! check (`wsdoctor lint --proxy-config` on the very file nginx runs) and the live probe
//! (`wsdoctor ws` through that nginx) must agree.

mod ws_support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use ws_support::{NGINX, Proc, SioServer, T, free_port, run_ws, wait_tcp};

/// nginx running `server_block` (the `{port}` placeholder is its listen port).
struct Proxy {
    port: u16,
    conf: PathBuf,
    _proc: Proc,
    _dir: tempfile::TempDir,
}

fn nginx(server_block: &str) -> Result<Proxy, String> {
    if !std::path::Path::new(NGINX).exists() {
        return Err(format!(
            "{NGINX} is not installed (apt-get install nginx-light)"
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path().display().to_string();
    let port = free_port();
    let server = server_block.replace("{port}", &port.to_string());
    let conf = format!(
        "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 128; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{server}\n}}\n"
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(NGINX);
    cmd.arg("-p").arg(dir.path()).arg("-c").arg(&path);
    let mut proc = Proc::spawn("nginx", cmd).map_err(|e| format!("cannot start nginx: {e}"))?;
    if !wait_tcp(port, Duration::from_secs(10)) || proc.exited() {
        return Err(format!("nginx did not start: {}", proc.stderr_text()));
    }
    Ok(Proxy {
        port,
        conf: path,
        _proc: proc,
        _dir: dir,
    })
}

/// `wsdoctor lint --proxy-config FILE --format json` from an empty directory.
fn lint(conf: &std::path::Path) -> Value {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["--format", "json", "lint", "--proxy-config"])
        .arg(conf)
        .current_dir(empty.path())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn location(upstream: u16, lines: &str) -> String {
    format!(
        "server {{\n  listen 127.0.0.1:{{port}};\n  location /socket.io/ {{\n    proxy_pass http://127.0.0.1:{upstream};\n    {lines}\n  }}\n}}"
    )
}

const UPGRADE: &str = "proxy_http_version 1.1;\n    proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection \"upgrade\";";

#[test]
fn upgrade_static_and_live_agree() {
    let app = need!("upgrade_static_and_live_agree", SioServer::start(1, &[]));
    for (lines, want) in [("", "fail"), (UPGRADE, "pass")] {
        let proxy = need!(
            "upgrade_static_and_live_agree",
            nginx(&location(app.port, lines))
        );
        let report = lint(&proxy.conf);
        assert_eq!(status(&report, "proxy.upgrade"), want, "{report}");
        let live = run_ws(T, &[&format!("http://127.0.0.1:{}", proxy.port)]);
        assert_eq!(
            live.status("ws.websocket-handshake"),
            want,
            "{}",
            live.stdout
        );
        if want == "fail" {
            let c = report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == "proxy.upgrade")
                .unwrap();
            let text = std::fs::read_to_string(&proxy.conf).unwrap();
            let line = text
                .lines()
                .position(|l| l.contains("location /socket.io/"))
                .unwrap()
                + 1;
            assert_eq!(c["location"]["line"], line, "the location line: {c}");
            assert!(
                live.message("ws.websocket-handshake")
                    .contains("dropped the Upgrade")
            );
        }
    }
}

#[test]
fn path_static_and_live_agree() {
    let app = need!("path_static_and_live_agree", SioServer::start(1, &[]));
    // `proxy_pass http://…/;` in `location /socket.io/` sends /socket.io/ as /.
    let rewritten = format!(
        "server {{\n  listen 127.0.0.1:{{port}};\n  location /socket.io/ {{\n    proxy_pass http://127.0.0.1:{}/;\n    {UPGRADE}\n  }}\n}}",
        app.port
    );
    for (block, want) in [(rewritten, "fail"), (location(app.port, UPGRADE), "pass")] {
        let proxy = need!("path_static_and_live_agree", nginx(&block));
        let report = lint(&proxy.conf);
        assert_eq!(status(&report, "proxy.path"), want, "{report}");
        let live = run_ws(T, &[&format!("http://127.0.0.1:{}", proxy.port)]);
        let polling = live.status("ws.polling-handshake");
        assert_eq!(
            polling == "pass",
            want == "pass",
            "live polling handshake {polling}: {}",
            live.stdout
        );
    }
}

#[test]
fn affinity_static_and_live_agree() {
    let a = need!("affinity_static_and_live_agree", SioServer::start(1, &[]));
    let b = need!("affinity_static_and_live_agree", SioServer::start(1, &[]));
    for (balance, want) in [("", "fail"), ("ip_hash;", "pass")] {
        let block = format!(
            "upstream app {{\n  {balance}\n  server 127.0.0.1:{};\n  server 127.0.0.1:{};\n}}\nserver {{\n  listen 127.0.0.1:{{port}};\n  location /socket.io/ {{\n    proxy_pass http://app;\n    {UPGRADE}\n  }}\n}}",
            a.port, b.port
        );
        let proxy = need!("affinity_static_and_live_agree", nginx(&block));
        let report = lint(&proxy.conf);
        assert_eq!(status(&report, "proxy.affinity"), want, "{report}");
        let live = run_ws(
            T,
            &[
                &format!("http://127.0.0.1:{}", proxy.port),
                "--rounds",
                "10",
            ],
        );
        assert_eq!(live.status("ws.sticky-session"), want, "{}", live.stdout);
    }
}
