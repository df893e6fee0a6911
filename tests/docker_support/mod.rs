//! A throwaway compose-like project on the real Docker engine: a busybox image built with
//! `docker import` (no registry needed), networks and containers with compose labels. Every
//! container, network and image it creates is removed on Drop, also when the test panics.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the engine is usable; prints the loud SKIPPED line (or panics under CI) if not.
pub fn engine_or_skip(test: &str) -> bool {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .output();
    let reason = match out {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!(
            "no Docker engine reachable: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("the docker CLI cannot run: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {reason} (CI must provide a Docker engine)");
    }
    skipped(&format!("SKIPPED {test}: {reason}"));
    false
}

/// Writes the SKIPPED line straight to the process's stderr: libtest captures `eprintln!`
/// of a passing test, and a skip must be seen.
pub fn skipped(line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

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

/// One container to create.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub service: String,
    /// Networks by compose key (`default`, `backend`), with extra aliases on each. The
    /// service name is always an alias, as compose does.
    pub networks: Vec<(String, Vec<String>)>,
    pub env: Vec<(String, String)>,
    pub entrypoint: Option<String>,
    pub cmd: Vec<String>,
    /// `-p` values, e.g. `127.0.0.1:18080:8080`.
    pub ports: Vec<String>,
    pub restart: Option<String>,
    /// Do not start it (or let the start fail, e.g. a port taken).
    pub start: bool,
    /// More `docker create` options, e.g. a healthcheck.
    pub extra: Vec<String>,
}

impl Spec {
    pub fn new(service: &str) -> Spec {
        Spec {
            service: service.to_string(),
            networks: vec![("default".to_string(), Vec::new())],
            cmd: vec!["sleep".into(), "3600".into()],
            start: true,
            ..Spec::default()
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Spec {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn networks(mut self, nets: &[(&str, &[&str])]) -> Spec {
        self.networks = nets
            .iter()
            .map(|(n, a)| (n.to_string(), a.iter().map(|s| s.to_string()).collect()))
            .collect();
        self
    }

    /// Looks like redis-server to the engine (Config.Cmd `redis-server …`, as compose's
    /// `command:` over redis' entrypoint), but runs busybox `sleep`: `sh -c CMD $0 $1…`
    /// ignores the trailing arguments.
    pub fn redis_server(mut self, args: &[&str]) -> Spec {
        self.entrypoint = Some("sh".into());
        self.cmd = vec!["-c".into(), "exec sleep 3600".into(), "redis-server".into()];
        self.cmd.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// A healthcheck running `sh -c CMD` every second.
    pub fn health(mut self, cmd: &str) -> Spec {
        for a in [
            "--health-cmd",
            cmd,
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "--health-timeout",
            "1s",
        ] {
            self.extra.push(a.to_string());
        }
        self
    }

    pub fn port(mut self, p: &str) -> Spec {
        self.ports.push(p.to_string());
        self
    }
}

/// The project: its image, networks and containers.
pub struct Lab {
    pub project: String,
    pub image: String,
    networks: Vec<String>,
    containers: Vec<String>,
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// A project named `wsdt<unique>` with a fresh busybox image.
    pub fn new() -> Lab {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let id = format!("{}{n}{}", std::process::id(), nanos % 100_000);
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = Lab {
            project: format!("wsdt{id}"),
            image: format!("wsdoctor-test-{id}:latest"),
            networks: Vec::new(),
            containers: Vec::new(),
            dir,
        };
        lab.build_image();
        lab
    }

    /// rootfs = /bin/busybox plus the applet links the tests use, imported as an image.
    fn build_image(&self) {
        let root = self.dir.path().join("rootfs");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("rootfs");
        std::fs::copy("/bin/busybox", bin.join("busybox"))
            .expect("/bin/busybox (Debian busybox-static) is needed");
        for applet in ["sh", "sleep", "echo"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).expect("symlink");
        }
        let tar = self.dir.path().join("rootfs.tar");
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
            &self.image,
        ]);
    }

    pub fn network_name(&self, key: &str) -> String {
        format!("{}_{key}", self.project)
    }

    fn ensure_network(&mut self, key: &str) -> String {
        let name = self.network_name(key);
        if !self.networks.contains(&name) {
            // Recorded before creating: a half-made network is still removed.
            self.networks.push(name.clone());
            must(&[
                "network",
                "create",
                "--label",
                &format!("com.docker.compose.project={}", self.project),
                "--label",
                &format!("com.docker.compose.network={key}"),
                &name,
            ]);
        }
        name
    }

    /// Creates (and unless told otherwise starts) a container named `PROJECT-SERVICE-1`.
    /// Returns the start error, if the start failed.
    pub fn container(&mut self, spec: Spec) -> Option<String> {
        let name = format!("{}-{}-1", self.project, spec.service);
        let mut args: Vec<String> = vec!["create".into(), "--name".into(), name.clone()];
        for l in [
            format!("com.docker.compose.project={}", self.project),
            format!("com.docker.compose.service={}", spec.service),
            "com.docker.compose.container-number=1".to_string(),
            "com.docker.compose.oneoff=False".to_string(),
        ] {
            args.push("--label".into());
            args.push(l);
        }
        let mut nets = spec.networks.clone();
        let first = if nets.is_empty() {
            None
        } else {
            Some(nets.remove(0))
        };
        if let Some((key, aliases)) = &first {
            let net = self.ensure_network(key);
            args.push("--network".into());
            args.push(net);
            for a in std::iter::once(&spec.service).chain(aliases) {
                args.push("--network-alias".into());
                args.push(a.clone());
            }
        }
        for (k, v) in &spec.env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        for p in &spec.ports {
            args.push("-p".into());
            args.push(p.clone());
        }
        if let Some(r) = &spec.restart {
            args.push("--restart".into());
            args.push(r.clone());
        }
        if let Some(e) = &spec.entrypoint {
            args.push("--entrypoint".into());
            args.push(e.clone());
        }
        args.extend(spec.extra.iter().cloned());
        args.push(self.image.clone());
        args.extend(spec.cmd.iter().cloned());
        self.containers.push(name.clone());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        must(&refs);
        for (key, aliases) in &nets {
            let net = self.ensure_network(key);
            let mut connect: Vec<String> = vec!["network".into(), "connect".into()];
            for a in std::iter::once(&spec.service).chain(aliases) {
                connect.push("--alias".into());
                connect.push(a.clone());
            }
            connect.push(net);
            connect.push(name.clone());
            let refs: Vec<&str> = connect.iter().map(String::as_str).collect();
            must(&refs);
        }
        if spec.start {
            return docker(&["start", &name]).err();
        }
        None
    }

    pub fn container_name(&self, service: &str) -> String {
        format!("{}-{service}-1", self.project)
    }

    /// Polls until `docker inspect` of a container satisfies `pred` (at most ~`secs`).
    pub fn wait_for(&self, service: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> bool {
        let name = self.container_name(service);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Ok(text) = docker(&["inspect", &name])
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && pred(&v[0])
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    }

    /// Runs `wsdoctor docker --project P --format json ARGS` from the lab's directory.
    pub fn wsdoctor(&self, extra: &[&str]) -> (i32, Value) {
        self.wsdoctor_in(self.dir.path(), extra)
    }

    pub fn wsdoctor_in(&self, dir: &Path, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["docker", "--format", "json", "--project", &self.project];
        args.extend_from_slice(extra);
        run_wsdoctor(dir, &args, &[])
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", "-v", c]);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

/// Runs the binary; returns its exit code and its JSON report (Null when stdout is not JSON).
pub fn run_wsdoctor(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
    cmd.current_dir(dir).args(args).env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run wsdoctor");
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        eprintln!(
            "stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Value::Null
    });
    (code, json)
}

/// The results of one check id.
pub fn results<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["id"] == id).collect())
        .unwrap_or_default()
}

/// The one result of `id` whose subject contains `subject` (panics with the report if not one).
pub fn result<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    let found: Vec<&Value> = results(report, id)
        .into_iter()
        .filter(|c| c["subject"].as_str().unwrap_or("").contains(subject))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {id} result about '{subject}' in {}",
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
    found[0]
}

pub fn status<'a>(report: &'a Value, id: &str, subject: &str) -> &'a str {
    result(report, id, subject)["status"].as_str().unwrap_or("")
}
