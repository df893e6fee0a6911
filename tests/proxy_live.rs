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

/// nginx in a private mount namespace whose `/etc/hosts` names `api` 127.0.0.1, so that it
/// resolves the compose service name `api` of `proxy_pass http://api:PORT` as it would on the
/// project's network, and reaches the python-socketio server that plays that service.
/// Returns nginx's port and the process.
fn nginx_on_the_project_network(
    dir: &std::path::Path,
    upstream: u16,
) -> Result<(u16, Proc), String> {
    if !std::path::Path::new(NGINX).exists() {
        return Err(format!(
            "{NGINX} is not installed (apt-get install nginx-light)"
        ));
    }
    let d = dir.display().to_string();
    let port = free_port();
    let conf = format!(
        "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 128; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n  listen 127.0.0.1:{port};\n  location /socket.io/ {{\n    \
         proxy_pass http://api:{upstream};\n    {UPGRADE}\n  }}\n}}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("hosts"), "127.0.0.1 localhost\n127.0.0.1 api\n")
        .map_err(|e| e.to_string())?;
    let mut cmd = Command::new("unshare");
    cmd.arg("-m").arg("sh").arg("-c").arg(format!(
        "mount --bind {d}/hosts /etc/hosts && exec {NGINX} -p {d} -c {d}/nginx.conf"
    ));
    let mut proc = Proc::spawn("nginx", cmd).map_err(|e| format!("cannot start nginx: {e}"))?;
    if !wait_tcp(port, Duration::from_secs(10)) || proc.exited() {
        return Err(format!(
            "nginx in a mount namespace did not start (unshare -m and mount --bind need root): {}",
            proc.stderr_text()
        ));
    }
    Ok((port, proc))
}

/// `proxy.upstream`: the compose project's nginx sends the socket.io path to `api` on the port
/// the app listens on (its uvicorn `--port`) or on another one. Statically, lint compares the
/// upstream with the app's service and port; live, the same nginx file (resolving `api` as the
/// project network would) answers 502 or passes the probe through.
#[test]
fn upstream_static_and_live_agree() {
    let app = need!("upstream_static_and_live_agree", SioServer::start(1, &[]));
    let wrong = free_port();
    for (upstream, want) in [(wrong, "fail"), (app.port, "pass")] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("compose.yaml"),
            format!(
                "services:\n  api:\n    image: python:3.12-slim\n    command: uvicorn app:asgi_app --host 0.0.0.0 --port {}\n  proxy:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n",
                app.port
            ),
        )
        .unwrap();
        let (port, _nginx) = need!(
            "upstream_static_and_live_agree",
            nginx_on_the_project_network(dir.path(), upstream)
        );
        let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
            .args([
                "--format",
                "json",
                "lint",
                "--app",
                "python-socketio",
                "--service",
                "api",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        let c = check(&report, "proxy.upstream");
        assert_eq!(c["status"], want, "{report}");
        let text = std::fs::read_to_string(dir.path().join("nginx.conf")).unwrap();
        let line = text.lines().position(|l| l.contains("proxy_pass")).unwrap() + 1;
        assert_eq!(c["location"]["line"], line, "the proxy_pass line: {c}");
        let live = run_ws(T, &[&format!("http://127.0.0.1:{port}")]);
        if want == "fail" {
            assert!(
                c["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("api listens on {}", app.port)),
                "{c}"
            );
            assert_eq!(live.status("ws.http-reachable"), "fail", "{}", live.stdout);
            assert!(
                live.message("ws.http-reachable").contains("502"),
                "{}",
                live.stdout
            );
        } else {
            assert_eq!(
                live.status("ws.polling-handshake"),
                "pass",
                "{}",
                live.stdout
            );
            assert_eq!(
                live.status("ws.websocket-handshake"),
                "pass",
                "{}",
                live.stdout
            );
        }
    }
}

/// `proxy.syntax` and the real `nginx -t` agree: a file nginx accepts passes, a file it
/// rejects fails at the line nginx names.
#[test]
fn syntax_agrees_with_nginx_t() {
    if !std::path::Path::new(NGINX).exists() {
        ws_support::missing(
            "syntax_agrees_with_nginx_t",
            &format!("{NGINX} is not installed (apt-get install nginx-light)"),
        );
        return;
    }
    let good = location(free_port(), UPGRADE).replace("{port}", &free_port().to_string());
    // The same server with the location's closing brace missing.
    let bad = good.replacen("  }\n}", "\n}", 1);
    for (server, want) in [(good.as_str(), "pass"), (bad.as_str(), "fail")] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let conf = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 128; }}\nhttp {{\n  access_log {d}/access.log;\n\
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n{server}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, &conf).unwrap();
        let t = Command::new(NGINX)
            .arg("-t")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .output()
            .unwrap();
        let nginx_says = String::from_utf8_lossy(&t.stderr).to_string();
        assert_eq!(t.status.success(), want == "pass", "nginx -t: {nginx_says}");
        let report = lint(&path);
        let c = check(&report, "proxy.syntax");
        assert_eq!(c["status"], want, "{report}");
        if want == "fail" {
            // nginx: `… in /path/nginx.conf:LINE`
            let line: u64 = nginx_says
                .split(&format!("{}:", path.display()))
                .nth(1)
                .and_then(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .ok()
                })
                .unwrap_or_else(|| panic!("no line in nginx's message: {nginx_says}"));
            assert_eq!(c["location"]["line"], line, "{c}\nnginx -t: {nginx_says}");
        }
    }
}
