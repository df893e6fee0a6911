//! Real redis-server processes for the `redis` tests: free loopback ports, a temp dir each,
//! ready when they answer PING, killed on Drop (also when a test panics).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

pub const REDIS_SERVER: &str = "redis-server";
pub const REDIS_CLI: &str = "redis-cli";

/// Whether the test can run; without the component: fail under CI, else one loud line.
pub fn have(bin: &str, test: &str) -> bool {
    let found = Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {bin} is not installed (CI must install the redis-server package)");
    }
    eprintln!("SKIPPED {test}: {bin} is not installed (apt-get install redis-server)");
    false
}

/// A free loopback port (bound then released; the OS does not hand it out again at once).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

/// A free port whose cluster bus port (port + 10000) is free too.
pub fn free_cluster_port() -> u16 {
    loop {
        let p = free_port();
        if p < 55000 && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

/// One redis-server (or sentinel) process.
pub struct RedisServer {
    pub port: u16,
    pub password: Option<String>,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisServer {
    /// Starts `redis-server` on a free port with `args` appended; waits until it answers.
    pub fn start(args: &[&str]) -> RedisServer {
        Self::start_on(free_port(), args)
    }

    pub fn start_on(port: u16, args: &[&str]) -> RedisServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port_s = port.to_string();
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args([
            "--port",
            &port_s,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir.path())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        Self::spawn(cmd, port, dir, password_in(args))
    }

    /// Starts a sentinel from a config file body (sentinel rewrites its file: it must be
    /// writable, hence the temp dir).
    pub fn start_sentinel(port: u16, conf_body: &str) -> RedisServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n{conf_body}",
                dir.path().display()
            ),
        )
        .expect("write sentinel.conf");
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Self::spawn(cmd, port, dir, None)
    }

    /// Starts a TLS-only redis-server (`--port 0 --tls-port P`) with the given PEM files;
    /// ready when the port accepts connections (a plain PING gets no answer there).
    pub fn start_tls(cert: &str, key: &str, ca: &str) -> RedisServer {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let port_s = port.to_string();
        let child = Command::new(REDIS_SERVER)
            .args(["--port", "0", "--tls-port", &port_s, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--timeout", "300"])
            .args([
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-ca-cert-file",
                ca,
            ])
            .args(["--tls-auth-clients", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let server = RedisServer {
            port,
            password: None,
            dir,
            child,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "TLS redis-server on {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn spawn(
        mut cmd: Command,
        port: u16,
        dir: tempfile::TempDir,
        password: Option<String>,
    ) -> Self {
        let child = cmd.spawn().expect("spawn redis-server");
        let server = RedisServer {
            port,
            password,
            dir,
            child,
        };
        server.wait_ready(Duration::from_secs(10));
        server
    }

    /// Polls with a raw PING until any RESP answer (+PONG, -NOAUTH …) arrives.
    fn wait_ready(&self, deadline: Duration) {
        let started = Instant::now();
        while started.elapsed() < deadline {
            if let Some(reply) = raw_command(self.port, "PING\r\n")
                && (reply.starts_with('+') || reply.starts_with('-'))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server on port {} did not answer within {deadline:?}",
            self.port
        );
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis-cli` against this server (authenticated when it has a password).
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(REDIS_CLI);
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(pw) = &self.password {
            cmd.args(["--no-auth-warning", "-a", pw]);
        }
        let out = cmd.args(args).output().expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// INFO field via redis-cli.
    pub fn info_field(&self, key: &str) -> Option<String> {
        self.cli(&["INFO"]).lines().find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_string())
        })
    }

    /// Number of client connections (CLIENT LIST lines), the asking redis-cli excluded.
    pub fn client_count(&self) -> usize {
        self.cli(&["CLIENT", "LIST"])
            .lines()
            .filter(|l| l.starts_with("id=") && !l.contains("cmd=client|list"))
            .count()
    }

    /// Waits until `f()` holds (deadline), e.g. a subscriber registered.
    pub fn wait_until(&self, what: &str, deadline: Duration, mut f: impl FnMut(&Self) -> bool) {
        let started = Instant::now();
        while started.elapsed() < deadline {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "port {}: {what} did not happen within {deadline:?}",
            self.port
        );
    }

    /// PUBSUB NUMSUB of one channel.
    pub fn numsub(&self, channel: &str) -> i64 {
        let out = self.cli(&["PUBSUB", "NUMSUB", channel]);
        out.lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0)
    }
}

fn password_in(args: &[&str]) -> Option<String> {
    args.windows(2)
        .find(|w| w[0] == "--requirepass")
        .map(|w| w[1].to_string())
}

/// Sends raw RESP inline text and returns the first reply line, within one second.
pub fn raw_command(port: u16, text: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.write_all(text.as_bytes()).ok()?;
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).ok()?;
    let _ = s.shutdown(Shutdown::Both);
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A `redis-cli` process that stays subscribed (SUBSCRIBE or PSUBSCRIBE) until dropped.
pub struct Subscriber {
    child: Child,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Subscriber {
    pub fn start(server: &RedisServer, command: &str, channels: &[&str]) -> Subscriber {
        let mut cmd = Command::new(REDIS_CLI);
        cmd.args(["-h", "127.0.0.1", "-p", &server.port.to_string()]);
        if let Some(pw) = &server.password {
            cmd.args(["--no-auth-warning", "-a", pw]);
        }
        let child = cmd
            .arg(command)
            .args(channels)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-cli subscriber");
        Subscriber { child }
    }
}

/// `n` idle client connections held open (authenticated when the server has a password).
pub fn idle_clients(server: &RedisServer, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("idle client");
            if let Some(pw) = &server.password {
                s.write_all(format!("AUTH {pw}\r\n").as_bytes())
                    .expect("auth");
                let mut buf = [0u8; 64];
                let _ = s.read(&mut buf);
            }
            s
        })
        .collect()
}

/// The outcome of one `wsdoctor` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: Value,
}

impl Run {
    /// `id -> status` of every check.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        self.json["checks"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (
                            c["id"].as_str().unwrap_or("").to_string(),
                            c["status"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn check(&self, id: &str) -> &Value {
        self.json["checks"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in {}", self.stdout))
    }

    pub fn evidence(&self, id: &str, key: &str) -> &Value {
        &self.check(id)["evidence"][key]
    }

    pub fn message(&self, id: &str) -> String {
        self.check(id)["message"].as_str().unwrap_or("").to_string()
    }
}

/// Runs `wsdoctor redis … --format json` (bounded: a hang fails the test).
pub fn wsdoctor_json(args: &[&str]) -> Run {
    let mut all = vec!["redis"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = wsdoctor(&all);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    Run { json, ..run }
}

/// Runs the binary with `args` (no format added), bounded by 60 s.
pub fn wsdoctor(args: &[&str]) -> Run {
    wsdoctor_env(args, &[])
}

/// Runs `wsdoctor redis … --format json` with extra environment variables.
pub fn wsdoctor_json_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["redis"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = wsdoctor_env(&all, env);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    Run { json, ..run }
}

/// Runs the binary with `args` and extra environment variables, bounded by 60 s.
pub fn wsdoctor_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::cargo_bin("wsdoctor").expect("wsdoctor binary");
    cmd.args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run wsdoctor");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json: Value::Null,
    }
}

/// The expected statuses written compactly: `[("redis.connect", "pass"), …]`.
pub fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// All 14 checks with `default` status, then the given overrides.
pub fn all_checks(default: &str, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let ids = [
        "redis.connect",
        "redis.tls",
        "redis.auth",
        "redis.ping",
        "redis.db-select",
        "redis.maxclients",
        "redis.timeout",
        "redis.client-list",
        "redis.pubsub",
        "redis.latency",
        "redis.memory",
        "redis.version",
        "redis.sentinel",
        "redis.cluster",
    ];
    let mut m: BTreeMap<String, String> = ids
        .iter()
        .map(|i| (i.to_string(), default.to_string()))
        .collect();
    for (k, v) in overrides {
        m.insert(k.to_string(), v.to_string());
    }
    m
}
