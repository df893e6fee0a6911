//! Common helpers of the real-app tests (tests/real_apps.rs and the Open WebUI tests): loud
//! skips, free loopback ports, processes in their own process group with their output kept
//! in a log file, redis-server and redis-sentinel, nginx with a websocket configuration,
//! raw HTTP that reads an answer to its end, and the built `wsdoctor` binary.
//!
//! Every server listens on 127.0.0.1 only and is killed with its whole process group on
//! Drop, also when a test panics.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod apps;

/// Whether this run is CI: `CI` set to anything but "", "0" or "false".
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Reports a component that cannot run here: panics under CI (CI installs everything, so
/// this is a setup failure), else prints one loud line and the caller returns.
pub fn missing(test: &str, reason: &str) {
    if ci() {
        panic!("{test}: {reason} (CI installs every component: this is a setup failure)");
    }
    loud(&format!("\n*** SKIPPED {test}: {reason} ***\n"));
}

/// Writes to the process's stderr directly: the test harness captures `eprintln!` (shown
/// only for failing tests), not this, so a skip or a timing is seen in every run.
pub fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `need!(test, result)`: the value, or report the missing component and return.
#[macro_export]
macro_rules! need {
    ($test:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reason) => {
                $crate::real_support::missing($test, &reason);
                return;
            }
        }
    };
}

/// A Python in a venv that can import every module of `imports`: `<dir>/bin/python`.
pub fn venv_python(dir: &Path, imports: &[&str]) -> Result<PathBuf, String> {
    let py = dir.join("bin/python");
    if !py.exists() {
        return Err(format!(
            "no venv at {} (scripts/real-apps.sh creates it)",
            dir.display()
        ));
    }
    // From a temp dir: importing chainlit writes `.chainlit/` into the current directory.
    let out = Command::new(&py)
        .current_dir(std::env::temp_dir())
        .arg("-c")
        .arg(format!("import {}", imports.join(", ")))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", py.display()))?;
    if out.status.success() {
        Ok(py)
    } else {
        Err(format!(
            "{} cannot import {}: {} (scripts/real-apps.sh installs them)",
            py.display(),
            imports.join(", "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ))
    }
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `n` distinct free loopback ports (all held while choosing, so none repeats).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
}

/// Starts a server on a free port, again on another one (3 tries) when the port was taken
/// between choosing and binding it: other test binaries pick free ports at the same time.
pub fn on_free_port<T>(mut start: impl FnMut(u16) -> Result<T, String>) -> Result<T, String> {
    let mut last = String::new();
    for _ in 0..3 {
        match start(free_port()) {
            Ok(server) => return Ok(server),
            Err(e) if port_taken(&e) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// How redis-server, nginx, uvicorn/hypercorn ("address already in use") and gunicorn
/// ("Connection in use") say that the port is taken.
fn port_taken(log: &str) -> bool {
    log.contains("ddress already in use") || log.contains("Connection in use")
}

/// Debian's redis-server (and redis-sentinel, the same binary) is installed.
pub fn redis_installed() -> Result<(), String> {
    if Path::new(REDIS_SERVER).exists() && Path::new(REDIS_CLI).exists() {
        Ok(())
    } else {
        Err(format!(
            "{REDIS_SERVER} / {REDIS_CLI} are not installed (apt-get install redis-server redis-tools)"
        ))
    }
}

/// Debian's nginx is installed.
pub fn nginx_installed() -> Result<(), String> {
    if Path::new(NGINX).exists() {
        Ok(())
    } else {
        Err(format!(
            "{NGINX} is not installed (apt-get install nginx-light)"
        ))
    }
}

/// The value of a component that could run here but did not start: a test failure, never a
/// skip (its log is in the message).
pub fn started<T>(test: &str, what: &str, result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| panic!("{test}: {what} did not start: {e}"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A child process in its own process group, its stdout and stderr in one log file (a file,
/// not a pipe: a chatty server never blocks on a full pipe). Drop terminates the group,
/// waits up to 3 s, then kills what is left (gunicorn/hypercorn workers included).
pub struct Proc {
    child: Child,
    pub name: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command) -> std::io::Result<Proc> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join(format!("{name}.log"));
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn()?;
        Ok(Proc {
            child,
            name: name.to_string(),
            log,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The last `n` lines of the log (for failure messages).
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits until the log has `count` lines containing `needle` (e.g. one "Booting worker"
    /// per worker); the error names the process and carries its log.
    pub fn wait_log(&mut self, needle: &str, count: usize, within: Duration) -> Result<(), String> {
        let until = Instant::now() + within;
        loop {
            if self.log_count(needle) >= count {
                return Ok(());
            }
            if self.exited() {
                return Err(format!(
                    "{} exited before logging {needle:?} {count}×:\n{}",
                    self.name,
                    self.log_tail(40)
                ));
            }
            if Instant::now() >= until {
                return Err(format!(
                    "{} did not log {needle:?} {count}× within {within:?}:\n{}",
                    self.name,
                    self.log_tail(40)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The leader may be gone while workers of its group are not: kill the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// One HTTP answer read to its end (the connection is closed by `Connection: close`).
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    /// Header lines as sent, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when `Transfer-Encoding: chunked`.
    pub body: String,
    pub chunked: bool,
}

impl HttpAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET`/`POST` on a fresh connection and reads the whole answer within `within`.
/// `Err` says what happened instead (refused, nothing answered before the deadline…).
pub fn http(
    port: u16,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &str,
    within: Duration,
) -> Result<HttpAnswer, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(within))
        .map_err(|e| e.to_string())?;
    let mut req = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let until = Instant::now() + within;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => {
                return Err(format!(
                    "no complete answer within {within:?} ({} bytes so far): {e}",
                    raw.len()
                ));
            }
        }
        if Instant::now() >= until {
            return Err(format!("answer not finished within {within:?}"));
        }
    }
    parse_http(&raw)
}

fn parse_http(raw: &[u8]) -> Result<HttpAnswer, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {text:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok(HttpAnswer {
        status,
        headers,
        body,
        chunked,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Waits until `GET path` gets any HTTP answer; the error carries the server's log.
pub fn wait_http(proc: &mut Proc, port: u16, path: &str, within: Duration) -> Result<u16, String> {
    let until = Instant::now() + within;
    loop {
        if let Ok(a) = http(port, "GET", path, &[], "", Duration::from_secs(2)) {
            return Ok(a.status);
        }
        if proc.exited() {
            return Err(format!(
                "{} exited before answering HTTP on {port}:\n{}",
                proc.name,
                proc.log_tail(40)
            ));
        }
        if Instant::now() >= until {
            return Err(format!(
                "{} did not answer HTTP on {port} within {within:?}:\n{}",
                proc.name,
                proc.log_tail(40)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
pub const REDIS_CLI: &str = "/usr/bin/redis-cli";

/// Debian's redis-server on a free port, no persistence, ready when it answers PING.
pub struct Redis {
    pub port: u16,
    pub password: Option<String>,
    pub proc: Proc,
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Starts it on a free port (`Err` only for a start failure; check [`redis_installed`]
    /// first to skip where it cannot run).
    pub fn start(password: Option<&str>, extra: &[&str]) -> Result<Redis, String> {
        redis_installed()?;
        on_free_port(|port| Self::start_on(port, password, extra))
    }

    fn start_on(port: u16, password: Option<&str>, extra: &[&str]) -> Result<Redis, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path());
        if let Some(pw) = password {
            cmd.args(["--requirepass", pw]);
        }
        cmd.args(extra);
        let mut proc = Proc::spawn("redis-server", cmd).map_err(|e| e.to_string())?;
        wait_pong(&mut proc, port, password)?;
        Ok(Redis {
            port,
            password: password.map(str::to_string),
            proc,
            _dir: dir,
        })
    }

    /// `redis-cli` against this server (authenticated when it has a password).
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, self.password.as_deref(), args)
    }

    /// PUBSUB NUMSUB of one channel.
    pub fn numsub(&self, channel: &str) -> u32 {
        self.cli(&["PUBSUB", "NUMSUB", channel])
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0)
    }

    /// PUBSUB CHANNELS matching `pattern`, sorted.
    pub fn channels(&self, pattern: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .cli(&["PUBSUB", "CHANNELS", pattern])
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        v.sort();
        v
    }

    /// Waits until `channel` has at least `n` subscribers; returns the last count seen.
    pub fn wait_numsub(&self, channel: &str, n: u32, within: Duration) -> u32 {
        let until = Instant::now() + within;
        loop {
            let got = self.numsub(channel);
            if got >= n || Instant::now() >= until {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn cli(port: u16, password: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(REDIS_CLI);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if let Some(pw) = password {
        cmd.args(["--no-auth-warning", "-a", pw]);
    }
    let out = cmd.args(args).output().expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_pong(proc: &mut Proc, port: u16, password: Option<&str>) -> Result<(), String> {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if proc.exited() {
            return Err(format!("{} exited:\n{}", proc.name, proc.log_tail(20)));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && cli(port, password, &["PING"]).trim() == "PONG"
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{} on {port} did not answer PING within 10 s:\n{}",
        proc.name,
        proc.log_tail(20)
    ))
}

/// A redis-sentinel monitoring one master, ready when it names the master's address.
pub struct Sentinel {
    pub port: u16,
    pub master_name: String,
    pub proc: Proc,
    _dir: tempfile::TempDir,
}

impl Sentinel {
    pub fn start(
        master_port: u16,
        master_name: &str,
        master_password: Option<&str>,
    ) -> Result<Sentinel, String> {
        redis_installed()?;
        on_free_port(|port| Self::start_on(port, master_port, master_name, master_password))
    }

    fn start_on(
        port: u16,
        master_port: u16,
        master_name: &str,
        master_password: Option<&str>,
    ) -> Result<Sentinel, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // Sentinel rewrites its config file: it lives in the temp dir.
        let mut conf = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {master_name} 127.0.0.1 {master_port} 1\n\
             sentinel down-after-milliseconds {master_name} 5000\n",
            dir.path().display()
        );
        if let Some(pw) = master_password {
            conf.push_str(&format!("sentinel auth-pass {master_name} {pw}\n"));
        }
        let path = dir.path().join("sentinel.conf");
        std::fs::write(&path, conf).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.arg(&path).arg("--sentinel");
        let mut proc = Proc::spawn("redis-sentinel", cmd).map_err(|e| e.to_string())?;
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let out = cli(
                port,
                None,
                &["SENTINEL", "get-master-addr-by-name", master_name],
            );
            if out.contains(&master_port.to_string()) {
                break;
            }
            if proc.exited() || Instant::now() >= until {
                return Err(format!(
                    "redis-sentinel on {port} did not name {master_name}:\n{}",
                    proc.log_tail(20)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Sentinel {
            port,
            master_name: master_name.to_string(),
            proc,
            _dir: dir,
        })
    }
}

pub const NGINX: &str = "/usr/sbin/nginx";

/// The `http {}` lines a websocket-capable nginx proxy needs (nginx.org/en/docs/http/websocket.html):
/// HTTP/1.1 to the upstream, Upgrade passed on, `Connection: upgrade` only for an upgrade,
/// and a read timeout longer than Engine.IO's ping interval + timeout (45 s by default).
pub fn nginx_websocket_server(listen: &str, upstream: &str) -> String {
    format!(
        "map $http_upgrade $connection_upgrade {{\n    default upgrade;\n    ''      close;\n  }}\n  \
         server {{\n    listen {listen};\n    location / {{\n      proxy_pass http://{upstream};\n      \
         proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      \
         proxy_set_header Connection $connection_upgrade;\n      proxy_set_header Host $host;\n      \
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      \
         proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_read_timeout 86400s;\n    }}\n  }}\n"
    )
}

/// Debian's nginx in front of 127.0.0.1:`upstream` with [`nginx_websocket_server`].
pub struct Nginx {
    pub port: u16,
    pub proc: Proc,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(upstream: u16) -> Result<Nginx, String> {
        nginx_installed()?;
        on_free_port(|port| Self::start_on(port, upstream))
    }

    fn start_on(port: u16, upstream: u16) -> Result<Nginx, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path().display().to_string();
        let conf = format!(
            "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\nhttp {{\n  access_log {d}/access.log;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  {}}}\n",
            nginx_websocket_server(
                &format!("127.0.0.1:{port}"),
                &format!("127.0.0.1:{upstream}")
            )
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(NGINX);
        cmd.arg("-p").arg(dir.path()).arg("-c").arg(&path);
        let mut proc = Proc::spawn("nginx", cmd).map_err(|e| format!("cannot start nginx: {e}"))?;
        wait_http(&mut proc, port, "/", Duration::from_secs(10))?;
        Ok(Nginx {
            port,
            proc,
            _dir: dir,
        })
    }
}

/// One run of the built binary.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The JSON report when `--format json` was asked and stdout parsed; else Null.
    pub json: Value,
    pub elapsed: Duration,
}

impl Run {
    fn checks(&self) -> &[Value] {
        self.json["checks"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn find(&self, id: &str) -> Option<&Value> {
        self.checks().iter().find(|c| c["id"] == id)
    }

    pub fn check(&self, id: &str) -> &Value {
        self.find(id).unwrap_or_else(|| {
            panic!(
                "no check {id} in `{}`:\n{}",
                self.args.join(" "),
                self.dump()
            )
        })
    }

    /// The status, or "absent".
    pub fn status(&self, id: &str) -> &str {
        self.find(id)
            .and_then(|c| c["status"].as_str())
            .unwrap_or("absent")
    }

    pub fn message(&self, id: &str) -> String {
        self.find(id)
            .and_then(|c| c["message"].as_str())
            .unwrap_or("")
            .to_string()
    }

    pub fn hint(&self, id: &str) -> String {
        self.find(id)
            .and_then(|c| c["hint"].as_str())
            .unwrap_or("")
            .to_string()
    }

    /// `id: message` of every failing check.
    pub fn failing(&self) -> Vec<String> {
        self.checks()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| {
                format!(
                    "{}: {}",
                    c["id"].as_str().unwrap_or("?"),
                    c["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// The command line, exit code, stderr and the text of every non-passing check: what a
    /// failed assertion prints.
    pub fn dump(&self) -> String {
        let mut out = format!(
            "$ wsdoctor {}\nexit {} in {} ms\n",
            self.args.join(" "),
            self.code,
            self.elapsed.as_millis()
        );
        if !self.stderr.is_empty() {
            out.push_str(&format!("stderr: {}\n", self.stderr.trim()));
        }
        if self.json.is_null() {
            out.push_str(&self.stdout);
        } else {
            // Failures and warnings in full; skips grouped by their reason.
            let mut skips: Vec<(String, Vec<String>)> = Vec::new();
            for c in self.checks() {
                let id = c["id"].as_str().unwrap_or("?").to_string();
                let message = c["message"].as_str().unwrap_or("").to_string();
                match c["status"].as_str().unwrap_or("?") {
                    "pass" => {}
                    "skip" => match skips.iter_mut().find(|(m, _)| *m == message) {
                        Some((_, ids)) => ids.push(id),
                        None => skips.push((message, vec![id])),
                    },
                    status => out.push_str(&format!(
                        "{} {id}: {message}\n     hint: {}\n",
                        status.to_uppercase(),
                        c["hint"].as_str().unwrap_or("")
                    )),
                }
            }
            for (message, ids) in skips {
                out.push_str(&format!("SKIP {}: {message}\n", ids.join(", ")));
            }
        }
        out
    }
}

/// Runs the built binary with `args` and `env` (the variables of the test's own environment
/// that would change the result are removed), bounded by 60 s.
pub fn wsdoctor(args: &[&str], env: &[(&str, String)]) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("REDIS_PASSWORD")
        .env_remove("REDIS_URL")
        .env_remove("DOCKER_HOST")
        .env_remove("WSDOCTOR_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("run wsdoctor");
    let out = wait_output(child, Duration::from_secs(60));
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = if args.windows(2).any(|w| w == ["--format", "json"]) {
        serde_json::from_str(&stdout).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
        elapsed,
    }
}

/// `wait_with_output` under a deadline: a hung wsdoctor fails the test instead of hanging it.
fn wait_output(child: Child, within: Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(within) {
        Ok(out) => out.expect("wait for wsdoctor"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("wsdoctor did not finish within {within:?} (pid {pid}, killed)");
        }
    }
}

/// Prints how long a part of the suite took (to stderr directly: seen in every run).
pub struct Stopwatch {
    what: String,
    started: Instant,
}

/// When the first test of this binary started: the last "took" line gives the suite's time.
static SUITE_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

impl Stopwatch {
    pub fn start(what: &str) -> Stopwatch {
        SUITE_START.get_or_init(Instant::now);
        Stopwatch {
            what: what.to_string(),
            started: Instant::now(),
        }
    }

    pub fn lap(&self, step: &str) {
        loud(&format!(
            "real-apps: {} / {step}: {:.1} s",
            self.what,
            self.started.elapsed().as_secs_f64()
        ));
    }
}

impl Drop for Stopwatch {
    fn drop(&mut self) {
        let suite = SUITE_START.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
        loud(&format!(
            "real-apps: {} took {:.1} s (suite: {suite:.1} s since its first test started)",
            self.what,
            self.started.elapsed().as_secs_f64()
        ));
    }
}
