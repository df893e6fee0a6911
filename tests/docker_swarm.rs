//! `wsdoctor docker` against stacks on this machine's real Docker Engine in swarm mode: a
//! single-node swarm (`docker swarm init --advertise-addr 127.0.0.1`), a busybox image made
//! with `docker import` (no registry), stacks deployed with `docker stack deploy`.
//!
//! The engine is left as it was found: the swarm is left only if these tests created it (and
//! the `docker_gwbridge` network that `swarm init` creates is removed only then), every stack
//! and image is removed, also when a test panics (guards). Tests that need swarm mode share
//! one swarm (a read lock); the test that needs it off takes the write lock.

mod docker_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use docker_support::results;
use serde_json::Value;

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("docker {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn must(args: &[&str]) -> String {
    docker(args).unwrap_or_else(|e| panic!("{e}"))
}

fn swarm_state() -> String {
    must(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
}

/// Swarm-mode tests read-lock, the not-in-swarm test write-locks.
static MODE: RwLock<()> = RwLock::new(());
/// The swarm these tests made, shared while any test holds it.
static SWARM: Mutex<Weak<SwarmGuard>> = Mutex::new(Weak::new());

/// Swarm mode for as long as it is held; leaves the swarm on drop only if it created it.
struct SwarmGuard {
    created: bool,
    /// `swarm init` creates docker_gwbridge, and `swarm leave` keeps it.
    had_gwbridge: bool,
}

impl Drop for SwarmGuard {
    fn drop(&mut self) {
        if self.created {
            let _ = docker(&["swarm", "leave", "--force"]);
            if !self.had_gwbridge {
                let _ = docker(&["network", "rm", "docker_gwbridge"]);
            }
        }
    }
}

fn gwbridge_exists() -> bool {
    docker(&["network", "inspect", "docker_gwbridge"]).is_ok()
}

/// The engine in swarm mode (a manager), or None after the loud SKIPPED line (a panic under
/// CI=true: CI's engine must do swarm).
/// Held by a test that needs swarm mode. Fields drop in order: the swarm first (left if it
/// was ours and this was the last holder), then the lock, so the not-in-swarm test never
/// sees a swarm that is about to be left.
struct InSwarm {
    _swarm: Arc<SwarmGuard>,
    _lock: RwLockReadGuard<'static, ()>,
}

fn swarm(test: &str) -> Option<InSwarm> {
    if !docker_support::engine_or_skip(test) {
        return None;
    }
    let lock = MODE.read().unwrap_or_else(|e| e.into_inner());
    let mut shared = SWARM.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = shared.upgrade() {
        return Some(InSwarm {
            _swarm: g,
            _lock: lock,
        });
    }
    let guard = match swarm_state().as_str() {
        "active" => {
            let manager = must(&["info", "--format", "{{.Swarm.ControlAvailable}}"]);
            if manager != "true" {
                skip_or_panic(test, "this engine is a swarm worker, not a manager");
                return None;
            }
            SwarmGuard {
                created: false,
                had_gwbridge: true,
            }
        }
        "inactive" => {
            let had_gwbridge = gwbridge_exists();
            if let Err(e) = docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]) {
                skip_or_panic(test, &format!("the engine cannot enter swarm mode: {e}"));
                return None;
            }
            SwarmGuard {
                created: true,
                had_gwbridge,
            }
        }
        other => {
            skip_or_panic(test, &format!("the engine's swarm is {other}"));
            return None;
        }
    };
    let guard = Arc::new(guard);
    *shared = Arc::downgrade(&guard);
    Some(InSwarm {
        _swarm: guard,
        _lock: lock,
    })
}

fn skip_or_panic(test: &str, reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {reason} (CI must be able to run a single-node swarm)");
    }
    docker_support::skipped(&format!("SKIPPED {test}: {reason}"));
}

/// A stack: its busybox image, its directory with `stack.yml`, removed on drop.
struct Stack {
    name: String,
    image: String,
    dir: tempfile::TempDir,
}

impl Stack {
    fn new(tag: &str) -> Stack {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let id = format!("{}{}", std::process::id(), nanos % 100_000);
        let stack = Stack {
            name: format!("wsdsw{tag}{id}"),
            image: format!("wsdoctor-swarm-{tag}-{id}:latest"),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let root = stack.dir.path().join("rootfs");
        std::fs::create_dir_all(root.join("bin")).expect("rootfs");
        std::fs::copy("/bin/busybox", root.join("bin/busybox"))
            .expect("/bin/busybox (Debian busybox-static) is needed");
        for applet in ["sh", "sleep", "echo"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("link");
        }
        let tar = stack.dir.path().join("rootfs.tar");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .expect("tar")
            .success();
        assert!(ok, "tar failed");
        must(&[
            "import",
            "-c",
            "ENV PATH=/bin",
            "-c",
            "CMD [\"sh\"]",
            &tar.to_string_lossy(),
            &stack.image,
        ]);
        stack
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("stack.yml")
    }

    /// Writes the stack file (`IMAGE` replaced by the test image) and deploys it.
    fn deploy(&self, yaml: &str) {
        std::fs::write(self.file(), yaml.replace("IMAGE", &self.image)).expect("write stack");
        must(&[
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            &self.file().to_string_lossy(),
            &self.name,
        ]);
    }

    /// Rewrites the file without deploying it.
    fn edit(&self, yaml: &str) {
        std::fs::write(self.file(), yaml.replace("IMAGE", &self.image)).expect("write stack");
    }

    /// Polls `docker service ls` until `service` runs `n` replicas (at most `secs`).
    fn wait_running(&self, service: &str, n: u32, secs: u64) -> bool {
        let want = format!("{n}/{n}");
        self.wait(secs, || {
            docker(&[
                "service",
                "ls",
                "--filter",
                &format!("name={}_{service}", self.name),
                "--format",
                "{{.Replicas}}",
            ])
            .is_ok_and(|r| r.lines().next().is_some_and(|l| l.starts_with(&want)))
        })
    }

    /// Polls until a task of `service` reports an error.
    fn wait_task_error(&self, service: &str, secs: u64) -> bool {
        self.wait(secs, || {
            docker(&[
                "service",
                "ps",
                "--no-trunc",
                "--format",
                "{{.Error}}",
                &format!("{}_{service}", self.name),
            ])
            .is_ok_and(|e| e.lines().any(|l| !l.trim().is_empty()))
        })
    }

    /// Polls until every running task of `service` runs the current spec (after a deploy).
    fn wait_converged(&self, service: &str, secs: u64) -> bool {
        self.wait(secs, || {
            docker(&[
                "service",
                "inspect",
                "--format",
                "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}completed{{end}}",
                &format!("{}_{service}", self.name),
            ])
            .is_ok_and(|s| s == "completed")
        })
    }

    fn wait(&self, secs: u64, done: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        false
    }

    /// `wsdoctor docker --project STACK -f stack.yml --format json` from the stack's directory.
    fn wsdoctor(&self) -> (i32, Value, String) {
        wsdoctor_text(
            self.dir.path(),
            &[
                "docker",
                "--format",
                "json",
                "--project",
                &self.name,
                "-f",
                "stack.yml",
            ],
        )
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = docker(&["stack", "rm", &self.name]);
        let label = format!("label=com.docker.stack.namespace={}", self.name);
        // Tasks' containers and the stack's networks go away after the services.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let containers = docker(&["ps", "-aq", "--filter", &label]).unwrap_or_default();
            let networks = docker(&["network", "ls", "-q", "--filter", &label]).unwrap_or_default();
            if containers.is_empty() && networks.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if let Ok(ids) = docker(&["ps", "-aq", "--filter", &label]) {
            for id in ids.lines() {
                let _ = docker(&["rm", "-f", id]);
            }
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

/// Runs the binary; exit code, JSON report, and the raw stdout (to look for secrets).
fn wsdoctor_text(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .current_dir(dir)
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run wsdoctor");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!(
            "not JSON: {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json, text)
}

/// The one result of `id` whose subject is `subject` (panics with the report if not one).
fn exactly<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    let found: Vec<&Value> = results(report, id)
        .into_iter()
        .filter(|c| c["subject"].as_str() == Some(subject))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {id} result about '{subject}' in {}",
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
    found[0]
}

fn only<'a>(report: &'a Value, id: &str) -> &'a Value {
    let found = results(report, id);
    assert_eq!(
        found.len(),
        1,
        "expected one {id} result in {}",
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
    found[0]
}

/// App (2 replicas) and Redis on one overlay network; Redis runs busybox `sleep` under a
/// redis-server command line, as the docker tests do.
const HEALTHY: &str = r#"version: "3.8"
services:
  app:
    image: IMAGE
    command: ["sleep", "3600"]
    environment:
      REDIS_URL: redis://:Sw4rm-Secret-1@redis:6379/0
      WEBSOCKET_MANAGER: redis
      UVICORN_WORKERS: "1"
    deploy:
      replicas: 2
    networks: [backend]
    stop_grace_period: 1s
  redis:
    image: IMAGE
    entrypoint: ["sh", "-c", "exec sleep 3600", "redis-server"]
    command: ["--requirepass", "Sw4rm-Secret-1"]
    networks: [backend]
    stop_grace_period: 1s
networks:
  backend:
    driver: overlay
"#;

#[test]
fn healthy_stack_passes_the_swarm_checks() {
    let Some(_swarm) = swarm("healthy_stack_passes_the_swarm_checks") else {
        return;
    };
    let stack = Stack::new("ok");
    stack.deploy(HEALTHY);
    assert!(stack.wait_running("app", 2, 60), "app did not reach 2/2");
    assert!(stack.wait_running("redis", 1, 60), "redis did not start");
    let (code, report, text) = stack.wsdoctor();
    let app = format!("{}_app", stack.name);
    let redis = format!("{}_redis", stack.name);
    let r = exactly(&report, "docker.swarm-replicas", &app);
    assert_eq!(r["status"], "pass", "{r}");
    assert_eq!(r["message"], format!("{app}: 2/2 replicas running"));
    assert_eq!(r["evidence"]["role"], "app");
    // Located in the stack file: deploy.replicas of app.
    assert_eq!(r["location"]["file"], "stack.yml");
    assert_eq!(r["location"]["line"], 11);
    assert_eq!(
        exactly(&report, "docker.swarm-replicas", &redis)["status"],
        "pass"
    );
    let net = only(&report, "docker.swarm-network-shared");
    assert_eq!(net["status"], "pass", "{net}");
    assert_eq!(
        net["message"],
        format!(
            "{app} and {redis} share {}_backend; REDIS_URL's host 'redis' resolves there",
            stack.name
        )
    );
    let drift = exactly(&report, "docker.swarm-env-drift", &format!("app ({app})"));
    assert_eq!(drift["status"], "pass", "{drift}");
    assert_eq!(drift["evidence"]["compared"], 3);
    // The compose-container checks say why they have nothing to do.
    let containers = only(&report, "docker.containers");
    assert_eq!(containers["status"], "skip");
    assert!(
        containers["message"]
            .as_str()
            .unwrap()
            .contains("is a swarm stack on this engine (2 services)"),
        "{containers}"
    );
    assert_eq!(code, 0, "{report}");
    assert!(!text.contains("Sw4rm-Secret-1"), "secret leaked: {text}");
    // diagnose reads the same stack (`-p` names it) next to its file and live probes.
    let (_, report, text) = wsdoctor_text(
        stack.dir.path(),
        &[
            "diagnose",
            "--format",
            "json",
            "--timeout",
            "1s",
            "-p",
            &stack.name,
            "-f",
            "stack.yml",
        ],
    );
    assert_eq!(
        exactly(&report, "docker.swarm-replicas", &app)["status"],
        "pass"
    );
    assert_eq!(
        only(&report, "docker.swarm-network-shared")["status"],
        "pass"
    );
    assert_eq!(
        exactly(&report, "docker.swarm-env-drift", &format!("app ({app})"))["status"],
        "pass"
    );
    assert!(!text.contains("Sw4rm-Secret-1"), "secret leaked: {text}");
}

#[test]
fn replicas_that_cannot_start_report_the_task_errors() {
    let Some(_swarm) = swarm("replicas_that_cannot_start_report_the_task_errors") else {
        return;
    };
    let stack = Stack::new("bad");
    // The app's command is not in the image; a helper service names an image no node has.
    stack.deploy(
        r#"version: "3.8"
services:
  app:
    image: IMAGE
    command: ["python", "-m", "app"]
    environment:
      REDIS_URL: redis://redis:6379/0
      WEBSOCKET_MANAGER: redis
    deploy:
      replicas: 2
  redis:
    image: IMAGE
    entrypoint: ["sh", "-c", "exec sleep 3600", "redis-server"]
  worker:
    image: wsdoctor-not-on-any-node:1
    command: ["sleep", "3600"]
"#,
    );
    assert!(stack.wait_task_error("app", 60), "no task error for app");
    assert!(
        stack.wait_task_error("worker", 60),
        "no task error for worker"
    );
    let (code, report, _) = stack.wsdoctor();
    let app = exactly(
        &report,
        "docker.swarm-replicas",
        &format!("{}_app", stack.name),
    );
    assert_eq!(app["status"], "fail", "{app}");
    let message = app["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "{}_app: 0/2 replicas running; its tasks fail with: ",
            stack.name
        )),
        "{message}"
    );
    assert!(
        message.contains("\"python\": executable file not found in $PATH"),
        "{message}"
    );
    assert!(app["hint"].as_str().unwrap().contains("command"), "{app}");
    let worker = exactly(
        &report,
        "docker.swarm-replicas",
        &format!("{}_worker", stack.name),
    );
    assert_eq!(worker["status"], "warn", "{worker}");
    assert!(
        worker["message"]
            .as_str()
            .unwrap()
            .ends_with("No such image: wsdoctor-not-on-any-node:1"),
        "{worker}"
    );
    assert_eq!(
        exactly(
            &report,
            "docker.swarm-replicas",
            &format!("{}_redis", stack.name)
        )["status"],
        "pass"
    );
    // No network in the file: both are on the stack's default overlay network.
    assert_eq!(
        only(&report, "docker.swarm-network-shared")["status"],
        "pass"
    );
    assert_eq!(code, 1);
}

#[test]
fn env_drift_after_the_stack_file_changed_and_gone_after_deploy() {
    let Some(_swarm) = swarm("env_drift_after_the_stack_file_changed_and_gone_after_deploy") else {
        return;
    };
    let stack = Stack::new("drift");
    stack.deploy(HEALTHY);
    assert!(stack.wait_running("app", 2, 60), "app did not reach 2/2");
    // The user fixes the file (new password, 2 workers) but does not deploy it.
    let edited = HEALTHY
        .replace(
            "REDIS_URL: redis://:Sw4rm-Secret-1@redis:6379/0",
            "REDIS_URL: redis://:N3w-Sw4rm-Secret@redis:6379/0",
        )
        .replace("UVICORN_WORKERS: \"1\"", "UVICORN_WORKERS: \"2\"")
        .replace(
            "\"--requirepass\", \"Sw4rm-Secret-1\"",
            "\"--requirepass\", \"N3w-Sw4rm-Secret\"",
        );
    stack.edit(&edited);
    let (code, report, text) = stack.wsdoctor();
    let app = format!("{}_app", stack.name);
    let drift = exactly(&report, "docker.swarm-env-drift", &format!("app ({app})"));
    assert_eq!(drift["status"], "fail", "{drift}");
    assert_eq!(
        drift["message"],
        format!(
            "{app} was not deployed again after the stack file changed: 2 differ from the file \
             (REDIS_URL, UVICORN_WORKERS)"
        )
    );
    assert_eq!(
        drift["hint"],
        format!("docker stack deploy -c stack.yml {}", stack.name)
    );
    assert_eq!(drift["location"]["file"], "stack.yml");
    assert_eq!(drift["location"]["line"], 7);
    assert_eq!(drift["evidence"]["drift"][0]["secret"], true);
    assert_eq!(drift["evidence"]["drift"][1]["service"], "1");
    assert_eq!(drift["evidence"]["drift"][1]["files"], "2");
    assert_eq!(code, 1);
    for secret in ["Sw4rm-Secret-1", "N3w-Sw4rm-Secret"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // The hint applied: deploy the file, and the drift is gone.
    stack.deploy(&edited);
    assert!(
        stack.wait_converged("app", 90),
        "app update did not complete"
    );
    let (code, report, _) = stack.wsdoctor();
    let drift = exactly(&report, "docker.swarm-env-drift", &format!("app ({app})"));
    assert_eq!(drift["status"], "pass", "{drift}");
    assert_eq!(code, 0, "{report}");
}

#[test]
fn not_in_swarm_mode_the_swarm_checks_skip_saying_so() {
    let test = "not_in_swarm_mode_the_swarm_checks_skip_saying_so";
    if !docker_support::engine_or_skip(test) {
        return;
    }
    let _exclusive: RwLockWriteGuard<'static, ()> = MODE.write().unwrap_or_else(|e| e.into_inner());
    if swarm_state() != "inactive" {
        // A swarm these tests did not make (the write lock means none of ours is held).
        docker_support::skipped(&format!(
            "SKIPPED {test}: this engine is in a swarm wsdoctor's tests did not create; it is \
             not left"
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, report, _) = wsdoctor_text(
        dir.path(),
        &["docker", "--format", "json", "--project", "nostack"],
    );
    for id in [
        "docker.swarm-replicas",
        "docker.swarm-network-shared",
        "docker.swarm-env-drift",
    ] {
        let r = only(&report, id);
        assert_eq!(r["status"], "skip", "{r}");
        assert_eq!(
            r["message"],
            "this engine is not in swarm mode (docker info: Swarm inactive): no stack to check"
        );
        assert_eq!(r["evidence"]["swarm"], "inactive");
    }
}
