//! The real apps of tests/real_apps/*.py (Chainlit, Flask-SocketIO, python-socketio), run
//! from the venv scripts/real-apps.sh installs (`$WSDOCTOR_APPS_VENV`, default
//! `${WSDOCTOR_CACHE:-$HOME/.cache/wsdoctor}/apps`, pinned by
//! tests/real_apps/requirements-apps.txt) on loopback,
//! offline, each in its own process group. Plus a raw Engine.IO polling client, to observe
//! what the apps answer independently of wsdoctor.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{HttpAnswer, Proc, http, on_free_port, repo, venv_python, wait_http};

/// The venv of the real apps: `$WSDOCTOR_APPS_VENV`, else where scripts/real-apps.sh puts it.
pub fn apps_venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("WSDOCTOR_APPS_VENV") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("WSDOCTOR_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/wsdoctor")
        });
    cache.join("apps")
}

/// Its Python, when every app and server of the suite imports.
pub fn apps_python() -> Result<PathBuf, String> {
    venv_python(
        &apps_venv(),
        &[
            "chainlit",
            "flask_socketio",
            "socketio",
            "gunicorn",
            "gevent",
            "simple_websocket",
            "hypercorn",
            "uvicorn",
            "redis",
        ],
    )
}

fn venv_bin(name: &str) -> PathBuf {
    apps_venv().join("bin").join(name)
}

/// A command with a small, explicit environment: the venv first on PATH, no proxy, no
/// variable of the test's own environment that the apps read, nothing that phones home.
pub fn command(program: &str, cwd: &std::path::Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(venv_bin(program));
    cmd.current_dir(cwd).env_clear().envs([
        (
            "PATH",
            format!(
                "{}:/usr/local/bin:/usr/bin:/bin",
                apps_venv().join("bin").display()
            ),
        ),
        (
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        ),
        ("LANG", "C.UTF-8".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("PYTHONUNBUFFERED", "1".into()),
        // Offline: no telemetry, no model or asset downloads.
        ("DO_NOT_TRACK", "1".into()),
        ("HF_HUB_OFFLINE", "1".into()),
        ("NO_PROXY", "*".into()),
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// One running app.
pub struct App {
    pub port: u16,
    pub proc: Proc,
    _dir: Option<tempfile::TempDir>,
}

impl App {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Chainlit 2.12 (`chainlit run app.py --headless`), one process. It writes
    /// `.chainlit/` and `.files/` next to the app, so the app runs from a temp copy.
    pub fn chainlit() -> Result<App, String> {
        apps_python()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::copy(
            repo().join("tests/real_apps/chainlit_app.py"),
            dir.path().join("app.py"),
        )
        .map_err(|e| e.to_string())?;
        let (port, proc) = on_free_port(|port| {
            let mut cmd = command("chainlit", dir.path(), &[]);
            cmd.args(["run", "app.py", "--headless", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string()]);
            let mut proc = Proc::spawn("chainlit", cmd).map_err(|e| e.to_string())?;
            wait_http(&mut proc, port, "/", Duration::from_secs(60))?;
            Ok((port, proc))
        })?;
        Ok(App {
            port,
            proc,
            _dir: Some(dir),
        })
    }

    /// tests/real_apps/flask_app.py under `gunicorn -k gevent -w <workers>`, with `env`
    /// (SOCKETIO_MESSAGE_QUEUE, CORS_ALLOWED_ORIGINS). Flask-SocketIO's deployment notes
    /// name the gevent worker; python-engineio's gevent driver serves the websocket through
    /// simple-websocket when gevent-websocket is not installed
    /// (engineio/async_drivers/gevent.py, python-engineio 4.15.1).
    pub fn flask_gunicorn(workers: u32, env: &[(&str, String)]) -> Result<App, String> {
        apps_python()?;
        Self::workers("gunicorn-flask", workers, |port| {
            let mut cmd = command("gunicorn", &repo().join("tests/real_apps"), env);
            cmd.args(["-k", "gevent", "-w", &workers.to_string()])
                .args(["-b", &format!("127.0.0.1:{port}"), "flask_app:app"]);
            cmd
        })
    }

    /// tests/real_apps/pysio_app.py under `hypercorn -w <workers>`.
    pub fn pysio_hypercorn(workers: u32, env: &[(&str, String)]) -> Result<App, String> {
        apps_python()?;
        Self::workers("hypercorn", workers, |port| {
            let mut cmd = command("hypercorn", &repo().join("tests/real_apps"), env);
            cmd.args(["-w", &workers.to_string()]).args([
                "-b",
                &format!("127.0.0.1:{port}"),
                "pysio_app:app",
            ]);
            cmd
        })
    }

    /// tests/real_apps/pysio_app.py under gunicorn with uvicorn workers
    /// (`gunicorn -k uvicorn.workers.UvicornWorker -w <workers>`).
    pub fn pysio_gunicorn_uvicorn(workers: u32, env: &[(&str, String)]) -> Result<App, String> {
        apps_python()?;
        Self::workers("gunicorn-uvicorn", workers, |port| {
            let mut cmd = command("gunicorn", &repo().join("tests/real_apps"), env);
            cmd.args(["-k", "uvicorn.workers.UvicornWorker"])
                .args(["-w", &workers.to_string()])
                .args(["-b", &format!("127.0.0.1:{port}"), "pysio_app:app"]);
            cmd
        })
    }

    /// Starts a multi-worker server on a free port and waits until every worker imported
    /// the app (the app logs one line per process) and the port answers HTTP.
    fn workers(name: &str, workers: u32, command: impl Fn(u16) -> Command) -> Result<App, String> {
        on_free_port(|port| {
            let mut proc = Proc::spawn(name, command(port)).map_err(|e| e.to_string())?;
            proc.wait_log(
                "real-app loaded in pid",
                workers as usize,
                Duration::from_secs(60),
            )?;
            wait_http(&mut proc, port, "/", Duration::from_secs(30))?;
            Ok(App {
                port,
                proc,
                _dir: None,
            })
        })
    }
}

/// `?EIO=4&transport=polling` under `path` (e.g. "/socket.io"), with `extra` query.
pub fn polling_url(path: &str, extra: &str) -> String {
    format!(
        "{}/?EIO=4&transport=polling{extra}",
        path.trim_end_matches('/')
    )
}

/// The sid of an Engine.IO open packet (`0{"sid":"…",…}`).
pub fn open_sid(body: &str) -> Option<String> {
    let rest = body.split_once("\"sid\":\"")?.1;
    Some(rest.split('"').next()?.to_string())
}

/// Opens an Engine.IO v4 polling session; the sid and the raw answer.
pub fn eio_open(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(String, HttpAnswer), String> {
    let a = http(
        port,
        "GET",
        &polling_url(path, ""),
        headers,
        "",
        Duration::from_secs(5),
    )?;
    let sid = open_sid(&a.body)
        .ok_or_else(|| format!("no open packet: HTTP {} {:?}", a.status, a.body))?;
    Ok((sid, a))
}

/// POSTs one packet to a polling session (a fresh connection, as a load balancer may route it).
pub fn eio_post(port: u16, path: &str, sid: &str, packet: &str) -> Result<HttpAnswer, String> {
    http(
        port,
        "POST",
        &polling_url(path, &format!("&sid={sid}")),
        &[],
        packet,
        Duration::from_secs(5),
    )
}

/// What a Socket.IO CONNECT over polling got.
#[derive(Debug)]
pub enum ConnectAnswer {
    /// The server's packets (`40{"sid":…}`, `44{…}`, …) and how long they took.
    Answered(String, Duration),
    /// Nothing but Engine.IO noise (a ping `2`, a noop `6`) within the wait.
    Unanswered(Duration),
}

/// Sends CONNECT (`40` + auth JSON) on a new polling session and polls for the answer
/// until `within`. A long poll returns `2` (ping) after pingInterval: that is no answer.
pub fn polling_connect(
    port: u16,
    path: &str,
    auth: Option<&str>,
    within: Duration,
) -> Result<ConnectAnswer, String> {
    let (sid, _) = eio_open(port, path, &[])?;
    let post = eio_post(port, path, &sid, &format!("40{}", auth.unwrap_or("")))?;
    if post.status != 200 {
        return Err(format!("POST 40 → HTTP {} {:?}", post.status, post.body));
    }
    let started = Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(ConnectAnswer::Unanswered(started.elapsed()));
        }
        match http(
            port,
            "GET",
            &polling_url(path, &format!("&sid={sid}")),
            &[],
            "",
            left,
        ) {
            Ok(a) => {
                // Packets of one payload are separated by the record separator 0x1e.
                let socketio: Vec<&str> = a
                    .body
                    .split('\u{1e}')
                    .filter(|p| p.starts_with('4'))
                    .collect();
                if !socketio.is_empty() {
                    return Ok(ConnectAnswer::Answered(
                        socketio.join(" "),
                        started.elapsed(),
                    ));
                }
            }
            Err(_) => return Ok(ConnectAnswer::Unanswered(started.elapsed())),
        }
    }
}

/// `rounds` × (open a polling session, POST CONNECT), each request on a new connection:
/// how many rounds found their session, and one refusal seen.
pub fn sticky_rounds(port: u16, path: &str, rounds: u32) -> (u32, u32, Option<HttpAnswer>) {
    let (mut kept, mut lost, mut refusal) = (0, 0, None);
    for _ in 0..rounds {
        let Ok((sid, _)) = eio_open(port, path, &[]) else {
            lost += 1;
            continue;
        };
        match eio_post(port, path, &sid, "40") {
            Ok(a) if a.status == 200 => kept += 1,
            Ok(a) => {
                lost += 1;
                refusal = Some(a);
            }
            Err(_) => lost += 1,
        }
    }
    (kept, lost, refusal)
}
