//! Hostile peers for the hardening tests: TCP servers on 127.0.0.1 (port 0) that answer
//! with what a broken or malicious server could send, and a runner that executes the
//! wsdoctor binary under a wall-clock guard and reports its peak memory (from `wait4`).

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A loopback TCP server running `handler` on every connection, each in its own thread.
/// Dropping it stops the accept loop and tells handlers to stop (`stopped()`).
pub struct HostileServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl HostileServer {
    pub fn spawn<F>(handler: F) -> HostileServer
    where
        F: Fn(TcpStream, &AtomicBool) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let stop_accept = Arc::clone(&stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop_accept.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let handler = Arc::clone(&handler);
                let stop = Arc::clone(&stop_accept);
                std::thread::spawn(move || {
                    // A write to a client that went away must end the handler, not block it.
                    let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
                    handler(conn, &stop);
                });
            }
        });
        HostileServer { port, stop }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads what the client sent first (a request or a command), up to 64 KiB.
pub fn read_request(s: &mut TcpStream) -> Vec<u8> {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = vec![0u8; 64 * 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    buf.truncate(n);
    buf
}

/// Reads until the end of the HTTP request head (`\r\n\r\n`).
pub fn read_http_head(s: &mut TcpStream) -> Vec<u8> {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// The guard on a run: far above any deadline the tests give, so only a hang trips it.
pub const WALL_GUARD: Duration = Duration::from_secs(30);
/// The address-space ceiling the binary runs under: a runaway allocation fails there
/// instead of taking the shared machine's memory.
pub const ADDRESS_SPACE: u64 = 4 * 1024 * 1024 * 1024;

/// One run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// Peak resident memory of the process, KiB (`ru_maxrss` of `wait4`).
    pub maxrss_kib: i64,
    pub json: Value,
}

impl Run {
    pub fn check(&self, id: &str) -> &Value {
        self.json["checks"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// One line per check: `id status message` (for assertion messages).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for c in self.json["checks"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{} {} {}\n",
                c["id"].as_str().unwrap_or("?"),
                c["status"].as_str().unwrap_or("?"),
                c["message"].as_str().unwrap_or("")
            ));
        }
        out
    }

    pub fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("?")
    }

    pub fn message(&self, id: &str) -> &str {
        self.check(id)["message"].as_str().unwrap_or("")
    }

    /// Asserts the run ended well within the guard and with bounded memory.
    pub fn assert_bounded(&self, wall_max: Duration, rss_max_mib: i64) {
        eprintln!("run took {:?}, peak RSS {} KiB", self.wall, self.maxrss_kib);
        assert!(
            self.wall < wall_max,
            "took {:?} (bound {wall_max:?})\nstdout: {}\nstderr: {}",
            self.wall,
            self.stdout,
            self.stderr
        );
        assert!(
            self.maxrss_kib < rss_max_mib * 1024,
            "peak RSS {} KiB (bound {rss_max_mib} MiB)\nstdout: {}",
            self.maxrss_kib,
            self.stdout
        );
    }
}

/// Runs `wsdoctor --format json ARGS…` and waits (polling `wait4`, so the child's own
/// rusage is read), killing it after [`WALL_GUARD`].
pub fn run_wsdoctor(args: &[&str]) -> Run {
    run_wsdoctor_raw(&[&["--format", "json"], args].concat(), true)
}

/// [`run_wsdoctor_raw`] with extra environment variables; parses the JSON report.
pub fn run_wsdoctor_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_with(args, env, true)
}

/// Runs the binary with exactly `args`; `json`: parse stdout as the JSON report.
pub fn run_wsdoctor_raw(args: &[&str], json: bool) -> Run {
    run_with(args, &[], json)
}

fn run_with(args: &[&str], env: &[(&str, &str)], json: bool) -> Run {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn wsdoctor");
    let pid = child.id() as libc::pid_t;
    // Drain the pipes in threads so a large output cannot block the child.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if started.elapsed() > WALL_GUARD {
            let _ = child.kill();
            // SAFETY: as above; reaps the killed child.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed();
    // The child is reaped; forget it so Child's Drop does nothing odd.
    std::mem::forget(child);
    let stdout = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    let json = if json {
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("wsdoctor did not print JSON ({e}), exit {code}, after {wall:?}\nstdout: {stdout}\nstderr: {stderr}")
        })
    } else {
        Value::Null
    };
    Run {
        code,
        stdout,
        stderr,
        wall,
        maxrss_kib: usage.ru_maxrss,
        json,
    }
}
