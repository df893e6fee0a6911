//! Real servers for the `ws` integration tests: python-socketio under uvicorn, nginx,
//! redis-server, a socketioxide server and a silent TCP listener. Each runs on a free
//! loopback port, in its own process group, and is killed on Drop (even when a test fails).
//!
//! A missing component fails the test when `CI` is set (CI installs everything); otherwise
//! the test prints `SKIPPED <test>: <reason>` and returns.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Reports a missing component: panics under CI, else prints the loud SKIPPED line.
pub fn missing(test: &str, reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {reason} (CI installs every component: this is a setup failure)");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A child process in its own process group, killed with its children on Drop.
pub struct Proc {
    child: Child,
    pub name: String,
    /// Lines the process wrote to stderr (drained by a thread so the pipe never fills).
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command) -> std::io::Result<Proc> {
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut v) = sink.lock() {
                        v.push(line);
                    }
                }
            });
        }
        Ok(Proc {
            child,
            name: name.to_string(),
            stderr,
        })
    }

    pub fn stderr_count(&self, needle: &str) -> usize {
        self.stderr
            .lock()
            .map(|v| v.iter().filter(|l| l.contains(needle)).count())
            .unwrap_or(0)
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|v| v.join("\n")).unwrap_or_default()
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                // The group may still hold workers: make sure.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &group])
                    .stderr(Stdio::null())
                    .status();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Waits until a TCP connect to the port succeeds.
pub fn wait_tcp(port: u16, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    false
}

/// Sends one HTTP GET and returns the status line's code, or None.
pub fn http_status(port: u16, path: &str, within: Duration) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(within)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace().nth(1)?.parse().ok()
}

/// The Python with python-socketio and uvicorn: `$WSDOCTOR_PYTHON`, default /work/venv/bin/python.
pub fn python() -> Result<PathBuf, String> {
    let py = std::env::var_os("WSDOCTOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import socketio, engineio, uvicorn, redis"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(py)
    } else {
        Err(format!(
            "{} cannot import socketio, engineio, uvicorn and redis (set WSDOCTOR_PYTHON to a venv with python-socketio, uvicorn and redis)",
            py.display()
        ))
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// python-socketio (`socketio.ASGIApp`) under uvicorn, started by tests/servers/socketio_server.py.
pub struct SioServer {
    pub port: u16,
    pub proc: Proc,
}

impl SioServer {
    /// Starts the server with `args` (see the script) and `workers` uvicorn workers; waits
    /// until every worker has finished its startup.
    pub fn start(workers: u32, args: &[&str]) -> Result<SioServer, String> {
        let py = python()?;
        let port = free_port();
        let mut cmd = Command::new(py);
        cmd.arg(repo().join("tests/servers/socketio_server.py"))
            .args([
                "--port",
                &port.to_string(),
                "--workers",
                &workers.to_string(),
            ])
            .args(args);
        let mut proc =
            Proc::spawn("python-socketio", cmd).map_err(|e| format!("cannot start python: {e}"))?;
        // uvicorn logs "Application startup complete." once per worker (log level info).
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if proc.exited() {
                return Err(format!("the server exited: {}", proc.stderr_text()));
            }
            // uvicorn logs the startup before it binds (one worker): wait for the port too.
            if proc.stderr_count("Application startup complete") >= workers as usize
                && wait_tcp(port, Duration::from_secs(10))
            {
                return Ok(SioServer { port, proc });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "the server did not start within 60s: {}",
            proc.stderr_text()
        ))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Debian's nginx in front of an upstream, as a non-daemon process with its own prefix.
pub struct Nginx {
    pub port: u16,
    pub proc: Proc,
    _dir: tempfile::TempDir,
}

pub const NGINX: &str = "/usr/sbin/nginx";

/// The location lines that pass websocket upgrades.
pub const UPGRADE_LINES: &str = "proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";";

impl Nginx {
    /// Proxies `/` to 127.0.0.1:`upstream` with `location_lines` added to the location.
    pub fn start(upstream: u16, location_lines: &str) -> Result<Nginx, String> {
        if !Path::new(NGINX).exists() {
            return Err(format!(
                "{NGINX} is not installed (apt-get install nginx-light)"
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path().display().to_string();
        let port = free_port();
        let conf = format!(
            "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 128; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                   proxy_pass http://127.0.0.1:{upstream};\n      {location_lines}\n    }}\n  }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(NGINX);
        cmd.arg("-p").arg(dir.path()).arg("-c").arg(&conf_path);
        let mut proc = Proc::spawn("nginx", cmd).map_err(|e| format!("cannot start nginx: {e}"))?;
        if !wait_tcp(port, Duration::from_secs(10)) || proc.exited() {
            return Err(format!("nginx did not start: {}", proc.stderr_text()));
        }
        Ok(Nginx {
            port,
            proc,
            _dir: dir,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Debian's redis-server, no persistence.
pub struct Redis {
    pub port: u16,
    pub proc: Proc,
}

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

impl Redis {
    pub fn start() -> Result<Redis, String> {
        let bin = if Path::new(REDIS_SERVER).exists() {
            REDIS_SERVER
        } else {
            return Err(format!(
                "{REDIS_SERVER} is not installed (apt-get install redis-server)"
            ));
        };
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        let proc = Proc::spawn("redis-server", cmd).map_err(|e| e.to_string())?;
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = s.write_all(b"PING\r\n");
                let mut buf = [0u8; 16];
                if let Ok(n) = s.read(&mut buf)
                    && buf[..n].starts_with(b"+PONG")
                {
                    return Ok(Redis { port, proc });
                }
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        Err("redis-server did not answer PING within 10s".to_string())
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

/// A TCP listener that accepts connections (the kernel completes them) and never answers.
pub struct SilentListener {
    pub port: u16,
    _listener: TcpListener,
}

impl SilentListener {
    pub fn start() -> SilentListener {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        SilentListener {
            port: l.local_addr().expect("addr").port(),
            _listener: l,
        }
    }
}

/// The socketioxide test server, built on demand (once per test binary) with
/// `cargo build --release --manifest-path test-servers/socketioxide/Cargo.toml
///  --target-dir target/test-servers`.
pub fn sioxide_binary() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repo();
            let target = root.join("target/test-servers");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = Command::new(cargo)
                .args(["build", "--release", "--quiet", "--manifest-path"])
                .arg(root.join("test-servers/socketioxide/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "building the socketioxide test server failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(target.join("release/sioxide-test-server"))
        })
        .clone()
}

pub struct Sioxide {
    pub port: u16,
    pub proc: Proc,
}

impl Sioxide {
    pub fn start(args: &[&str]) -> Result<Sioxide, String> {
        let bin = sioxide_binary()?;
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string()]).args(args);
        let mut proc = Proc::spawn("socketioxide", cmd).map_err(|e| e.to_string())?;
        if !wait_tcp(port, Duration::from_secs(10)) || proc.exited() {
            return Err(format!(
                "socketioxide did not start: {}",
                proc.stderr_text()
            ));
        }
        Ok(Sioxide { port, proc })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// What one `wsdoctor ws … --format json` run produced.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn check(&self, id: &str) -> &Value {
        self.json["checks"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in {}", self.stdout))
    }

    pub fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("?")
    }

    pub fn message(&self, id: &str) -> &str {
        self.check(id)["message"].as_str().unwrap_or("")
    }

    pub fn hint(&self, id: &str) -> &str {
        self.check(id)["hint"].as_str().unwrap_or("")
    }

    /// Asserts the status of every `ws.*` check, in one message listing all of them.
    pub fn assert_statuses(&self, expected: &[(&str, &str)]) {
        let mut wrong = Vec::new();
        for (id, want) in expected {
            let got = self.status(id);
            if got != *want {
                wrong.push(format!(
                    "{id}: expected {want}, got {got} ({})",
                    self.message(id)
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "unexpected statuses:\n{}\nfull report:\n{}",
            wrong.join("\n"),
            self.stdout
        );
        assert_eq!(
            self.json["checks"].as_array().map(Vec::len),
            Some(10),
            "every ws.* check appears once"
        );
    }
}

/// Runs the built binary: `wsdoctor --format json --timeout <t> ws <args>`.
pub fn run_ws(timeout: &str, args: &[&str]) -> Run {
    run_ws_env(timeout, args, &[])
}

/// [`run_ws`] with extra environment variables (e.g. `SSL_CERT_FILE`).
pub fn run_ws_env(timeout: &str, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.args(["--format", "json", "--timeout", timeout, "ws"])
        .args(args)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run wsdoctor");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "wsdoctor did not print JSON ({e}): stdout {stdout:?} stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stdout,
        elapsed,
    }
}

/// The timeout tests use for healthy servers: generous, because the test machine is shared.
pub const T: &str = "10s";

/// `need!(test_name, result)`: the value, or report the missing component and return.
#[macro_export]
macro_rules! need {
    ($test:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reason) => {
                ws_support::missing($test, &reason);
                return;
            }
        }
    };
}

/// A private CA and a leaf certificate for `localhost` / 127.0.0.1, made with the openssl CLI.
pub struct TestPki {
    pub dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> Result<TestPki, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| e.to_string())?;
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=wsdoctor test CA",
            ],
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=localhost",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .map_err(|e| format!("cannot run openssl: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "openssl {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(TestPki { dir })
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn cert(&self) -> String {
        self.dir.path().join("leaf.pem").display().to_string()
    }

    pub fn key(&self) -> String {
        self.dir.path().join("leaf.key").display().to_string()
    }
}

/// The venv with the real apps (Flask-SocketIO, gunicorn, simple-websocket, Chainlit):
/// `$WSDOCTOR_APPS_VENV`, default /var/cache/wsdoctor/apps (a cache outside the clone).
pub fn apps_venv() -> Result<PathBuf, String> {
    let venv = std::env::var_os("WSDOCTOR_APPS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/wsdoctor/apps"));
    let ok = Command::new(venv.join("bin/python"))
        .args(["-c", "import flask_socketio, gunicorn, simple_websocket"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(venv)
    } else {
        Err(format!(
            "{} has no flask-socketio, gunicorn and simple-websocket (set WSDOCTOR_APPS_VENV)",
            venv.display()
        ))
    }
}

/// Flask-SocketIO 5.7 (tests/servers/flask_socketio_app.py) under gunicorn with one gevent
/// worker, as Flask-SocketIO documents for gunicorn. (Under the sync or gthread worker the
/// websocket answers 101 and then nothing: simple-websocket cannot write on gunicorn's
/// socket, engineio/async_drivers/_websocket_wsgi.py raises OSError.)
pub struct FlaskSocketio {
    pub port: u16,
    pub proc: Proc,
    /// The one Origin the app accepts.
    pub allowed_origin: String,
}

impl FlaskSocketio {
    pub fn start() -> Result<FlaskSocketio, String> {
        let venv = apps_venv()?;
        let port = free_port();
        let allowed_origin = "http://allowed.example".to_string();
        let mut cmd = Command::new(venv.join("bin/gunicorn"));
        cmd.args(["-k", "gevent", "-w", "1", "-b"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--chdir")
            .arg(repo().join("tests/servers"))
            .arg("flask_socketio_app:app")
            .env("WSD_ALLOWED_ORIGIN", &allowed_origin);
        let mut proc =
            Proc::spawn("gunicorn", cmd).map_err(|e| format!("cannot start gunicorn: {e}"))?;
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if proc.exited() {
                return Err(format!("gunicorn exited: {}", proc.stderr_text()));
            }
            if proc.stderr_count("Booting worker") >= 1
                && http_status(
                    port,
                    "/socket.io/?EIO=4&transport=polling",
                    Duration::from_secs(2),
                ) == Some(200)
            {
                return Ok(FlaskSocketio {
                    port,
                    proc,
                    allowed_origin,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "gunicorn did not serve within 30s: {}",
            proc.stderr_text()
        ))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The real Chainlit (2.12, from the apps venv) serving a one-handler echo app from a
/// temporary directory: Socket.IO at /ws/socket.io, a connect handler that needs the
/// frontend's auth (chainlit/socket.py `connect`).
pub struct Chainlit {
    pub port: u16,
    pub proc: Proc,
    _dir: tempfile::TempDir,
}

impl Chainlit {
    pub fn start() -> Result<Chainlit, String> {
        let venv = apps_venv()?;
        let bin = venv.join("bin/chainlit");
        if !bin.exists() {
            return Err(format!("{} is not installed", bin.display()));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("app.py"),
            "import chainlit as cl\n\n\n@cl.on_message\nasync def main(message: cl.Message):\n    \
             await cl.Message(content=message.content).send()\n",
        )
        .map_err(|e| e.to_string())?;
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.current_dir(dir.path())
            .args([
                "run",
                "app.py",
                "--headless",
                "--host",
                "127.0.0.1",
                "--port",
            ])
            .arg(port.to_string());
        let mut proc =
            Proc::spawn("chainlit", cmd).map_err(|e| format!("cannot start chainlit: {e}"))?;
        let until = Instant::now() + Duration::from_secs(90);
        while Instant::now() < until {
            if proc.exited() {
                return Err(format!("chainlit exited: {}", proc.stderr_text()));
            }
            if http_status(
                port,
                "/ws/socket.io/?EIO=4&transport=polling",
                Duration::from_secs(2),
            ) == Some(200)
            {
                return Ok(Chainlit {
                    port,
                    proc,
                    _dir: dir,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "chainlit did not serve within 90s: {}",
            proc.stderr_text()
        ))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
