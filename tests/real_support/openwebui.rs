//! Open WebUI 0.12.4 from PyPI, run for real on loopback for tests/real_openwebui.rs: the venv
//! scripts/real-apps.sh installs, a migrated DATA_DIR kept in the cache, the app started as its
//! image starts it, and the environment of a fixture's compose file given to it.
//!
//! Included with `#[path = "real_support/openwebui.rs"] mod openwebui;` next to
//! `mod real_support;` (whose helpers it uses).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::real_support::{Proc, Run, free_port, http, loud, repo, venv_python, wsdoctor};

/// The version tests/real_apps/requirements-openwebui.txt pins; the fixtures name its image.
pub const VERSION: &str = "0.12.4";

/// How long one boot may take. Observed here (2 cores shared with compilers, two boots at
/// once): 36-66 s for one worker, 95-164 s for two (uvicorn restarts a worker that is too busy
/// importing to answer its health check); the bound leaves room for a busier machine.
pub const BOOT_BOUND: Duration = Duration::from_secs(420);

/// The cache the venv lives in: `$WSDOCTOR_CACHE`, else `$HOME/.cache/wsdoctor` (as
/// scripts/real-apps.sh).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WSDOCTOR_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/wsdoctor")
}

/// The venv: `$WSDOCTOR_OWUI_VENV` (scripts/test.sh exports it), else `<cache>/owui`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("WSDOCTOR_OWUI_VENV")
        .filter(|d| !d.is_empty())
        .map_or_else(|| cache_dir().join("owui"), PathBuf::from)
}

/// The venv's Python, when it has Open WebUI at [`VERSION`].
pub fn python() -> Result<PathBuf, String> {
    let py = venv_python(&venv_dir(), &["open_webui"])?;
    let out = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('open-webui'))",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", py.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if version != VERSION {
        return Err(format!(
            "{} has open-webui {version:?}, the tests need {VERSION} (run scripts/real-apps.sh)",
            py.display()
        ));
    }
    Ok(py)
}

/// What every instance gets besides its fixture's environment (which carries the offline
/// variables and WEBUI_SECRET_KEY). `FROM_INIT_PY=true` is what `open-webui serve` sets
/// (open_webui/__init__.py): without it the wheel's env.py looks for the frontend beside the
/// package, not inside it, and the import fails (config.py:100-104, env.py:254-257 in 0.12.4).
/// It changes where files are found, nothing about sockets or Redis.
const BASE_ENV: [(&str, &str); 2] = [("FROM_INIT_PY", "true"), ("PYTHONUNBUFFERED", "1")];

/// A DATA_DIR for [`VERSION`] that one instance has already started on, made once and kept in
/// the cache (`<cache>/owui-data-<version>`); each instance works on its own copy. Migrating is
/// not enough: the first lifespan also seeds the `config` table (main.py lifespan,
/// seed_registered_defaults), and two workers doing that at once on a fresh DATA_DIR crash
/// with `UNIQUE constraint failed: config.key` (seen here on 0.12.4: uvicorn then stops the
/// whole app). So the template comes from one full single-worker start, stopped once it
/// serves; it is marked done by a `.wsdoctor-booted` file.
pub fn data_template(py: &Path) -> Result<PathBuf, String> {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let parent = venv_dir()
        .parent()
        .map_or_else(cache_dir, Path::to_path_buf);
    let template = parent.join(format!("owui-data-{VERSION}"));
    if template.join(BOOTED).is_file() {
        return Ok(template);
    }
    // Without the mark: an interrupted or older template, made again.
    let _ = std::fs::remove_dir_all(&template);
    let started = Instant::now();
    // Made beside its final place and renamed: another test process never sees half of it.
    let making = parent.join(format!("owui-data-{VERSION}.making-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&making);
    std::fs::create_dir_all(&making).map_err(|e| format!("{}: {e}", making.display()))?;
    let booted = OpenWebUi::launch(py, &making, &template_env(), None).and_then(|mut first| {
        first.wait_serving()
        // Dropped here: a healthy instance stops on SIGTERM, its SQLite files complete.
    });
    if let Err(e) =
        booted.and_then(|_| std::fs::write(making.join(BOOTED), VERSION).map_err(|e| e.to_string()))
    {
        let _ = std::fs::remove_dir_all(&making);
        return Err(format!("making the DATA_DIR template: {e}"));
    }
    if std::fs::rename(&making, &template).is_err() {
        // Another process made it first: use theirs.
        let _ = std::fs::remove_dir_all(&making);
    }
    loud(&format!(
        "real-apps: Open WebUI {VERSION}: DATA_DIR template (migrated, seeded) made in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        template.display()
    ));
    Ok(template)
}

/// The mark of a complete template.
const BOOTED: &str = ".wsdoctor-booted";

/// The variables of the test's own environment an instance keeps (nothing that configures
/// Open WebUI or Redis leaks in).
fn host_env() -> Vec<(String, String)> {
    ["PATH", "HOME", "LANG", "TMPDIR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// The template's first start: the healthy fixture's offline variables and WEBUI_SECRET_KEY
/// (open_webui/env.py refuses to import without it), no Redis, one worker.
fn template_env() -> Vec<(String, String)> {
    let f = Fixture::load("real-openwebui");
    [
        "WEBUI_SECRET_KEY",
        "OFFLINE_MODE",
        "HF_HUB_OFFLINE",
        "RAG_EMBEDDING_MODEL_AUTO_UPDATE",
        "ENABLE_OLLAMA_API",
    ]
    .iter()
    .map(|k| (k.to_string(), f.app_env(k).unwrap_or_default().to_string()))
    .collect()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A fixture under fixtures/: its .env and the `environment:` of its `open-webui` service,
/// interpolated. The reader knows only the shape these fixtures are written in (a map of
/// `KEY: value` lines under `open-webui:` → `environment:`); it is no compose parser, so that
/// what the app is given does not depend on the code under test.
pub struct Fixture {
    pub name: String,
    pub dir: PathBuf,
    pub dotenv: BTreeMap<String, String>,
    /// The open-webui service's environment, in file order, `${VAR}` replaced from .env.
    pub app: Vec<(String, String)>,
}

impl Fixture {
    pub fn load(name: &str) -> Fixture {
        let dir = repo().join("fixtures").join(name);
        let dotenv: BTreeMap<String, String> = std::fs::read_to_string(dir.join(".env"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let compose = std::fs::read_to_string(dir.join("compose.yaml"))
            .unwrap_or_else(|e| panic!("fixtures/{name}/compose.yaml: {e}"));
        let mut app = Vec::new();
        let (mut in_service, mut in_env) = (false, false);
        for line in compose.lines() {
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if indent == 2 {
                in_service = text == "open-webui:";
                in_env = false;
            } else if in_service && indent == 4 {
                in_env = text == "environment:";
            } else if in_service && in_env && indent == 6 {
                let (k, v) = text
                    .split_once(':')
                    .unwrap_or_else(|| panic!("fixtures/{name}: `KEY: value` expected: {line}"));
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                app.push((k.trim().to_string(), interpolate(v, &dotenv)));
            }
        }
        assert!(
            !app.is_empty(),
            "fixtures/{name}/compose.yaml: no environment of service open-webui"
        );
        Fixture {
            name: name.to_string(),
            dir,
            dotenv,
            app,
        }
    }

    pub fn app_env(&self, key: &str) -> Option<&str> {
        self.app
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The fixture's secrets: the .env values whose names say PASSWORD, SECRET or TOKEN.
    pub fn secrets(&self) -> Vec<String> {
        self.dotenv
            .iter()
            .filter(|(k, v)| {
                !v.is_empty()
                    && ["PASSWORD", "SECRET", "TOKEN"]
                        .iter()
                        .any(|w| k.contains(w))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn dotenv(&self, key: &str) -> &str {
        self.dotenv
            .get(key)
            .unwrap_or_else(|| panic!("{key} in fixtures/{}/.env", self.name))
    }

    /// The environment the container would get, with the compose network's names of the
    /// Redis service (`beagle-redis:6379`) and the Sentinel service (`redis-sentinel`, port
    /// 26379) replaced by where the real ones listen. Every other name stays: `redis` or
    /// `mymaster` resolves here no more than inside that network.
    pub fn app_env_on_loopback(
        &self,
        redis_port: Option<u16>,
        sentinel_port: Option<u16>,
    ) -> Vec<(String, String)> {
        self.app
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                if let Some(port) = redis_port {
                    v = v.replace("@beagle-redis:6379", &format!("@127.0.0.1:{port}"));
                }
                if let Some(port) = sentinel_port {
                    if k.ends_with("_SENTINEL_HOSTS") {
                        v = v.replace("redis-sentinel", "127.0.0.1");
                    }
                    if k.ends_with("_SENTINEL_PORT") && v == "26379" {
                        v = port.to_string();
                    }
                }
                (k.clone(), v)
            })
            .collect()
    }
}

/// `${NAME}` and `${NAME:-default}` from the fixture's .env (the fixtures use nothing else).
fn interpolate(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + end];
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        out.push_str(
            vars.get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or(default),
        );
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// One Open WebUI instance: `uvicorn open_webui.main:app --host … --port … --forwarded-allow-ips
/// '*' --workers "${UVICORN_WORKERS:-1}"`, the command of the image's backend/start.sh
/// (open-webui/open-webui, v0.12.4), on a copy of the migrated DATA_DIR.
pub struct OpenWebUi {
    pub port: u16,
    /// The worker count start.sh passes: `${UVICORN_WORKERS:-1}` (WEB_CONCURRENCY plays no
    /// part: uvicorn reads it only without --workers, uvicorn/config.py:358).
    pub workers: u32,
    pub proc: Proc,
    started: Instant,
    _data: Option<tempfile::TempDir>,
}

impl OpenWebUi {
    /// Starts an instance on a copy of the template DATA_DIR.
    pub fn spawn(py: &Path, env: &[(String, String)]) -> Result<OpenWebUi, String> {
        let template = data_template(py)?;
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        copy_dir(&template, data.path()).map_err(|e| format!("copy the DATA_DIR: {e}"))?;
        let dir = data.path().to_path_buf();
        OpenWebUi::launch(py, &dir, env, Some(data))
    }

    fn launch(
        py: &Path,
        data_dir: &Path,
        env: &[(String, String)],
        data: Option<tempfile::TempDir>,
    ) -> Result<OpenWebUi, String> {
        let workers_arg = env
            .iter()
            .find(|(k, _)| k == "UVICORN_WORKERS")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "1".to_string());
        let workers: u32 = workers_arg
            .parse()
            .map_err(|_| format!("UVICORN_WORKERS={workers_arg:?}: uvicorn refuses it"))?;
        let port = free_port();
        let mut cmd = Command::new(py);
        cmd.args(["-m", "uvicorn", "open_webui.main:app"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--forwarded-allow-ips", "*", "--workers", &workers_arg])
            .current_dir(data_dir)
            .env_clear()
            .envs(host_env())
            .envs(BASE_ENV)
            .env("DATA_DIR", data_dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let proc = Proc::spawn("open-webui", cmd).map_err(|e| format!("start uvicorn: {e}"))?;
        Ok(OpenWebUi {
            port,
            workers,
            proc,
            started: Instant::now(),
            _data: data,
        })
    }

    /// Waits until /health answers 200 and every worker has finished its lifespan startup
    /// (each logs `Scheduler worker started`, open_webui/utils/automations.py; uvicorn's own
    /// "Application startup complete" is swallowed by Open WebUI's logger). /health alone
    /// answers as soon as ONE worker is up. Returns the boot time.
    pub fn wait_serving(&mut self) -> Result<Duration, String> {
        let until = self.started + BOOT_BOUND;
        loop {
            let healthy = http(self.port, "GET", "/health", &[], "", Duration::from_secs(2))
                .is_ok_and(|a| a.status == 200);
            if healthy && self.proc.log_count("Scheduler worker started") >= self.workers as usize {
                let took = self.started.elapsed();
                loud(&format!(
                    "real-apps: Open WebUI ({} worker(s)) served after {:.1} s ({} worker restart(s) by uvicorn's health check)",
                    self.workers,
                    took.as_secs_f64(),
                    self.worker_restarts()
                ));
                return Ok(took);
            }
            self.check_alive(until, "serve /health with every worker started")?;
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the log shows `needle` (for an instance that never serves).
    pub fn wait_log(&mut self, needle: &str) -> Result<Duration, String> {
        let until = self.started + BOOT_BOUND;
        loop {
            if self.proc.log_count(needle) > 0 {
                return Ok(self.started.elapsed());
            }
            self.check_alive(until, &format!("log {needle:?}"))?;
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn check_alive(&mut self, until: Instant, what: &str) -> Result<(), String> {
        if self.proc.exited() {
            return Err(format!(
                "Open WebUI exited before it could {what}:\n{}",
                self.proc.log_tail(60)
            ));
        }
        if Instant::now() >= until {
            return Err(format!(
                "Open WebUI did not {what} within {BOOT_BOUND:?}:\n{}",
                self.proc.log_tail(60)
            ));
        }
        Ok(())
    }

    /// The server processes running now: uvicorn's worker processes (spawned children of its
    /// parent, `multiprocessing.spawn`) when it supervises workers, else the one process.
    pub fn server_processes(&self) -> usize {
        let out = Command::new("ps")
            .args(["-e", "-o", "pgid=,args="])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let group = self.proc.pid().to_string();
        let workers = out
            .lines()
            .filter_map(|l| l.trim().split_once(' '))
            .filter(|(pgid, args)| *pgid == group && args.contains("spawn_main"))
            .count();
        if workers == 0 { 1 } else { workers }
    }

    /// Workers uvicorn's supervisor killed and replaced because they did not answer its health
    /// check within 5 s (`--timeout-worker-healthcheck`, uvicorn/supervisors/multiprocess.py):
    /// it happens while a worker imports Open WebUI on a busy machine.
    pub fn worker_restarts(&self) -> usize {
        self.proc.log_count("] died")
    }
}

/// What a Socket.IO client gets for a CONNECT without auth over the websocket transport.
#[derive(Debug, PartialEq, Eq)]
pub enum Connect {
    /// The websocket handshake or the Engine.IO OPEN failed.
    NoSession(String),
    /// The first Socket.IO packet the server sent back (`40{…}`, `44{…}`).
    Answered(String),
    /// The session opened, the CONNECT got no answer within the wait.
    Unanswered,
}

/// A CONNECT sent by a small websocket-client script in the app's own venv (a client
/// independent of wsdoctor), waiting `wait` for the answer; pings are answered meanwhile.
pub fn socketio_connect(py: &Path, port: u16, wait: Duration) -> Connect {
    const SCRIPT: &str = r#"
import sys, time, websocket
port, wait = sys.argv[1], float(sys.argv[2])
try:
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{port}/ws/socket.io/?EIO=4&transport=websocket", timeout=5)
    opened = ws.recv()
except Exception as e:
    print("NOSESSION", repr(e)); sys.exit(0)
if not opened.startswith("0{"):
    print("NOSESSION", opened[:200]); sys.exit(0)
ws.send("40")
ws.settimeout(0.5)
end = time.time() + wait
while time.time() < end:
    try:
        m = ws.recv()
    except websocket.WebSocketTimeoutException:
        continue
    except Exception as e:
        print("NOSESSION", repr(e)); sys.exit(0)
    if m == "2":
        ws.send("3")
    elif m.startswith("4"):
        print("ANSWER", m[:200]); sys.exit(0)
print("UNANSWERED")
"#;
    let out = Command::new(py)
        .args([
            "-c",
            SCRIPT,
            &port.to_string(),
            &wait.as_secs_f64().to_string(),
        ])
        .stdin(Stdio::null())
        .output();
    let text = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Err(e) => return Connect::NoSession(format!("cannot run {}: {e}", py.display())),
    };
    if let Some(answer) = text.strip_prefix("ANSWER ") {
        Connect::Answered(answer.to_string())
    } else if text == "UNANSWERED" {
        Connect::Unanswered
    } else {
        Connect::NoSession(text)
    }
}

/// `wsdoctor <command> --format json --output <tmp> --format text --project-dir <fixture>`:
/// the JSON report for the statuses, the text for the ordered fix list ("To fix, in order").
pub fn run_wsdoctor(
    command: &str,
    fixture: &Fixture,
    extra: &[&str],
    env: &[(&str, String)],
) -> Report {
    let out = tempfile::tempdir().expect("tempdir");
    let json_path = out.path().join("report.json");
    let json_arg = json_path.display().to_string();
    let dir = fixture.dir.display().to_string();
    let mut args = vec![
        command,
        "--format",
        "json",
        "--output",
        &json_arg,
        "--format",
        "text",
        "--project-dir",
        &dir,
    ];
    args.extend_from_slice(extra);
    let mut run = wsdoctor(&args, env);
    run.json = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    Report { run }
}

/// A run with its JSON report and its text.
pub struct Report {
    pub run: Run,
}

impl Report {
    /// The first entry of "To fix, in order:" as `(check id, what to do)`. The text report
    /// wraps to 80 columns when not on a terminal: the entry's lines are joined first.
    pub fn first_fix(&self) -> Option<(String, String)> {
        let mut lines = self.run.stdout.lines();
        lines.find(|l| l.trim_start().starts_with("To fix, in order"))?;
        let mut entry = lines.next()?.trim().to_string();
        for l in lines {
            let t = l.trim();
            if t.is_empty()
                || t.starts_with("2. ")
                || t.starts_with("also explains")
                || t.starts_with("also reported by")
            {
                break;
            }
            entry.push(' ');
            entry.push_str(t);
        }
        let rest = entry.strip_prefix("1. ")?;
        let (id, after) = rest.split_once([' ', ':'])?;
        // `id [subject] [file:line:col]: what`
        let what = after.split_once(": ").map_or(after, |(_, w)| w);
        Some((id.to_string(), what.trim().to_string()))
    }

    /// Every check that fails, `id: message | hint`.
    pub fn failing(&self) -> Vec<String> {
        self.run.failing()
    }

    /// Whether a failing check names `needle` in its message or its fix.
    pub fn fail_mentions(&self, needle: &str) -> bool {
        self.run.json["checks"].as_array().is_some_and(|checks| {
            checks.iter().any(|c| {
                c["status"] == "fail"
                    && [&c["message"], &c["hint"]]
                        .iter()
                        .any(|v| v.as_str().is_some_and(|s| s.contains(needle)))
            })
        })
    }

    /// Whether check `id` names `needle` (any case) as its cause: in its message, or in the
    /// `caused_by` the correlation of diagnose sets.
    pub fn names_cause(&self, id: &str, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.run.find(id).is_some_and(|c| {
            [&c["message"], &c["caused_by"]].iter().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.to_lowercase().contains(&needle))
            })
        })
    }

    pub fn dump(&self) -> String {
        let fixes = self
            .run
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("To fix"))
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        format!("{}{fixes}\n", self.run.dump())
    }
}

/// The expectations of one test: all are checked, the failed ones reported together (on a
/// branch where some checks are still changing, one run shows every gap).
pub struct Expect {
    test: &'static str,
    failed: Vec<String>,
}

impl Expect {
    pub fn new(test: &'static str) -> Expect {
        Expect {
            test,
            failed: Vec::new(),
        }
    }

    pub fn that(&mut self, ok: bool, what: &str, detail: impl FnOnce() -> String) {
        if !ok {
            self.failed.push(format!("- {what}\n{}", detail()));
        }
    }

    /// The run produced a JSON report; nothing else about it can hold otherwise.
    pub fn report(&mut self, case: &str, r: &Report) -> bool {
        let ok = !r.run.json.is_null();
        self.that(ok, &format!("{case}: a JSON report"), || r.dump());
        ok
    }

    /// No check fails, exit 0.
    pub fn no_fail(&mut self, case: &str, r: &Report) {
        if !self.report(case, r) {
            return;
        }
        let failing = r.failing();
        self.that(
            failing.is_empty() && r.run.code == 0,
            &format!(
                "{case}: no `fail` and exit 0; got exit {} with {failing:#?}",
                r.run.code
            ),
            || r.dump(),
        );
    }

    /// `id` has one of `statuses`.
    pub fn status(&mut self, case: &str, r: &Report, id: &str, statuses: &[&str]) {
        if !self.report(case, r) {
            return;
        }
        let got = r.run.status(id);
        self.that(
            statuses.contains(&got),
            &format!(
                "{case}: {id} is one of {statuses:?}; got {got}: {}",
                r.run.message(id)
            ),
            || r.dump(),
        );
    }

    /// The first fix of the ordered list is `id`'s and contains `needle`.
    pub fn first_fix(&mut self, case: &str, r: &Report, id: &str, needle: &str) {
        let got = r.first_fix();
        let ok = got
            .as_ref()
            .is_some_and(|(i, what)| i == id && what.contains(needle));
        let names = if needle.is_empty() {
            String::new()
        } else {
            format!(" and names {needle:?}")
        };
        self.that(
            ok,
            &format!("{case}: the first fix is {id}'s{names}; got {got:?}"),
            || r.dump(),
        );
    }

    /// No secret appears in the run's outputs (text, JSON report, stderr): wsdoctor redacts
    /// them unless --show-secrets.
    pub fn no_secret(&mut self, case: &str, r: &Report, secrets: &[String]) {
        let outputs = format!("{}{}{}", r.run.stdout, r.run.json, r.run.stderr);
        let shown: Vec<&String> = secrets
            .iter()
            .filter(|s| outputs.contains(s.as_str()))
            .collect();
        self.that(
            shown.is_empty(),
            &format!(
                "{case}: no secret of the fixture printed; {} shown",
                shown.len()
            ),
            || r.dump(),
        );
    }

    /// Panics with every failed expectation.
    pub fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{}: {} expectation(s) failed:\n{}",
            self.test,
            self.failed.len(),
            self.failed.join("\n")
        );
    }
}
