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

#[test]
fn timeout_static_and_live_agree() {
    // A 1 s read timeout cuts the idle websocket before the server's first ping; nginx's
    // default 60 s does not. (The live server pings every 5 s to keep the test short; the
    // static check judges against the Engine.IO default of 25 s: both verdicts hold for
    // either interval.)
    let app = need!(
        "timeout_static_and_live_agree",
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    for (extra, want) in [("proxy_read_timeout 1s;", "fail"), ("", "pass")] {
        let lines = format!("{UPGRADE}\n    {extra}");
        let proxy = need!(
            "timeout_static_and_live_agree",
            nginx(&location(app.port, &lines))
        );
        let report = lint(&proxy.conf);
        assert_eq!(status(&report, "proxy.timeout"), want, "{report}");
        let live = run_ws(
            T,
            &[
                &format!("http://127.0.0.1:{}", proxy.port),
                "--rounds",
                "0",
                "--hold",
                "8",
            ],
        );
        assert_eq!(live.status("ws.heartbeat"), want, "{}", live.stdout);
        if want == "fail" {
            let hint = live.hint("ws.heartbeat");
            assert!(hint.starts_with("nginx (Server: nginx/"), "{hint}");
            assert!(hint.contains("proxy_read_timeout"), "{hint}");
        }
    }
}

/// `wsdoctor diagnose --no-docker --proxy-config FILE --url URL --format json`.
fn diagnose(conf: &std::path::Path, url: &str) -> Value {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args([
            "--format",
            "json",
            "--timeout",
            T,
            "diagnose",
            "--no-docker",
            "--proxy-config",
        ])
        .arg(conf)
        .args(["--url", url])
        .current_dir(empty.path())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

#[test]
fn diagnose_names_the_location_that_drops_the_upgrade() {
    let app = need!(
        "diagnose_names_the_location_that_drops_the_upgrade",
        SioServer::start(1, &[])
    );
    let proxy = need!(
        "diagnose_names_the_location_that_drops_the_upgrade",
        nginx(&location(app.port, ""))
    );
    let report = diagnose(&proxy.conf, &format!("http://127.0.0.1:{}", proxy.port));
    let ws = check(&report, "ws.websocket-handshake");
    assert_eq!(ws["status"], "fail", "{report}");
    assert!(
        ws["caused_by"]
            .as_str()
            .unwrap()
            .starts_with("proxy.upgrade"),
        "{ws}"
    );
    let text = std::fs::read_to_string(&proxy.conf).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("location /socket.io/"))
        .unwrap()
        + 1;
    let at = format!("{}:{line}", proxy.conf.display());
    assert!(ws["message"].as_str().unwrap().contains(&at), "{ws}");
}

#[test]
fn diagnose_says_when_the_running_proxy_is_not_the_files() {
    // The files forward the upgrade; the nginx that answers runs another configuration.
    let app = need!(
        "diagnose_says_when_the_running_proxy_is_not_the_files",
        SioServer::start(1, &[])
    );
    let running = need!(
        "diagnose_says_when_the_running_proxy_is_not_the_files",
        nginx(&location(app.port, ""))
    );
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("nginx.conf");
    std::fs::write(
        &files,
        format!(
            "events {{}}\nhttp {{\n{}\n}}\n",
            location(app.port, UPGRADE).replace("{port}", "80")
        ),
    )
    .unwrap();
    let report = diagnose(&files, &format!("http://127.0.0.1:{}", running.port));
    assert_eq!(
        check(&report, "proxy.upgrade")["status"],
        "pass",
        "{report}"
    );
    let ws = check(&report, "ws.websocket-handshake");
    assert_eq!(ws["status"], "fail");
    assert!(
        ws["message"]
            .as_str()
            .unwrap()
            .contains("the running proxy does not use these files"),
        "{ws}"
    );
}

#[test]
fn diagnose_names_the_upstream_line_of_a_502() {
    let dead = free_port();
    let proxy = need!(
        "diagnose_names_the_upstream_line_of_a_502",
        nginx(&location(dead, UPGRADE))
    );
    let report = diagnose(&proxy.conf, &format!("http://127.0.0.1:{}", proxy.port));
    let reach = check(&report, "ws.http-reachable");
    assert_eq!(reach["status"], "fail", "{report}");
    let text = std::fs::read_to_string(&proxy.conf).unwrap();
    let line = text.lines().position(|l| l.contains("proxy_pass")).unwrap() + 1;
    assert!(
        reach["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{}:{line}", proxy.conf.display())),
        "{reach}"
    );
}

/// The `proxy.timeout` evidence of a report.
fn timeout_evidence(report: &Value) -> (&str, u64, bool) {
    let c = check(report, "proxy.timeout");
    (
        c["status"].as_str().unwrap_or(""),
        c["evidence"]["ping_interval_ms"].as_u64().unwrap_or(0),
        c["evidence"]["ping_interval_observed"]
            .as_bool()
            .unwrap_or(false),
    )
}

#[test]
fn diagnose_judges_the_timeout_against_the_live_ping_interval_and_nginx_agrees() {
    // nginx `proxy_read_timeout 8s` in front of two servers: one pinging every 2 s, one every
    // 12 s. uvicorn's own websocket ping frames are off (--ws-ping-interval none), so only
    // Engine.IO's ping/pong crosses an idle websocket. `diagnose` reads each server's
    // pingInterval from the open packet and judges the same file differently; `ws --hold`
    // through the running nginx shows the connection dies exactly where the check fails.
    const NAME: &str =
        "diagnose_judges_the_timeout_against_the_live_ping_interval_and_nginx_agrees";
    for (ping, want) in [("2", "pass"), ("12", "fail")] {
        let app = need!(
            NAME,
            SioServer::start(1, &["--ping-interval", ping, "--ws-ping-interval", "none"])
        );
        let lines = format!("{UPGRADE}\n    proxy_read_timeout 8s;");
        let proxy = need!(NAME, nginx(&location(app.port, &lines)));
        let url = format!("http://127.0.0.1:{}", proxy.port);
        let report = diagnose(&proxy.conf, &url);
        let (status, ping_ms, observed) = timeout_evidence(&report);
        assert_eq!(status, want, "pingInterval {ping}: {report}");
        assert_eq!(ping_ms, ping.parse::<u64>().unwrap() * 1000, "{report}");
        assert!(observed, "{report}");
        let msg = check(&report, "proxy.timeout")["message"]
            .as_str()
            .unwrap_or("");
        assert!(
            msg.contains("read live from the app's Engine.IO open packet"),
            "{msg}"
        );
        let live = run_ws(T, &[&url, "--rounds", "0", "--hold", "11"]);
        assert_eq!(live.status("ws.heartbeat"), want, "{}", live.stdout);
    }
    // The same file statically, without a live app: judged against the 25 s default.
    let lines = format!("{UPGRADE}\n    proxy_read_timeout 8s;");
    let proxy = need!(NAME, nginx(&location(1, &lines)));
    let report = lint(&proxy.conf);
    let (status, ping_ms, observed) = timeout_evidence(&report);
    assert_eq!((status, ping_ms, observed), ("fail", 25_000, false));
}

#[test]
fn nginx_read_timeout_is_reset_by_traffic_either_way_on_an_upgraded_connection() {
    // What the proxy engineer saw (nginx `proxy_read_timeout 20s` holding an idle websocket
    // past a 25 s ping): on an upgraded connection nginx re-arms the read timer after any
    // byte in either direction (ngx_http_upstream_process_upgraded), and uvicorn sends its
    // own websocket ping frames (20 s by default). Scaled down: pingInterval 10 s, read
    // timeout 8 s; with uvicorn pinging every 2 s the websocket lives, without it nginx cuts
    // it at 8 s. proxy.timeout fails both (it cannot see uvicorn's pings) and says this
    // exception in its message.
    const NAME: &str =
        "nginx_read_timeout_is_reset_by_traffic_either_way_on_an_upgraded_connection";
    for (ws_ping, want) in [("2", "pass"), ("none", "fail")] {
        let app = need!(
            NAME,
            SioServer::start(1, &["--ping-interval", "10", "--ws-ping-interval", ws_ping])
        );
        let lines = format!("{UPGRADE}\n    proxy_read_timeout 8s;");
        let proxy = need!(NAME, nginx(&location(app.port, &lines)));
        let url = format!("http://127.0.0.1:{}", proxy.port);
        let live = run_ws(T, &[&url, "--rounds", "0", "--hold", "11"]);
        assert_eq!(
            live.status("ws.heartbeat"),
            want,
            "uvicorn ws ping {ws_ping}: {}",
            live.stdout
        );
        let report = diagnose(&proxy.conf, &url);
        assert_eq!(timeout_evidence(&report).0, "fail", "{report}");
        let msg = check(&report, "proxy.timeout")["message"]
            .as_str()
            .unwrap_or("");
        assert!(msg.contains("uvicorn's own websocket pings"), "{msg}");
    }
}
