//! `config.app-listen-host` through the binary on the fixtures/listen-host-* deployments (and
//! the Container Apps ones): exact statuses, exit codes, and file:line into the command that
//! lacks (or carries) the host.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const ID: &str = "config.app-listen-host";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `wsdoctor lint --format json` with `args`; (exit code, report).
fn lint(args: &[&std::ffi::OsStr]) -> (i32, Value) {
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lint", "--format", "json"])
        .args(args)
        .env_remove("COMPOSE_FILE")
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn compose(name: &str) -> (i32, Value) {
    let dir = fixture(name);
    lint(&["--project-dir".as_ref(), dir.as_os_str()])
}

fn aca(name: &str) -> (i32, Value) {
    let file = fixture(name).join("app.yaml");
    lint(&["-f".as_ref(), file.as_os_str()])
}

/// The results of the check (one per app).
fn results(report: &Value) -> Vec<&Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == ID)
        .collect()
}

/// The line of `needle` in the fixture file (1-based).
fn line_of(path: &PathBuf, needle: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", path.display())) as u64
        + 1
}

fn assert_one(report: &Value, status: &str, file: &PathBuf, line_needle: &str) -> Value {
    let r = results(report);
    assert_eq!(r.len(), 1, "{report:#}");
    let c = r[0].clone();
    assert_eq!(c["status"], status, "{c:#}");
    let loc = &c["location"];
    assert!(
        loc["file"].as_str().unwrap().ends_with(
            &file
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap()
                .display()
                .to_string()
        ),
        "{c:#}"
    );
    assert_eq!(loc["line"], line_of(file, line_needle), "{c:#}");
    c
}

#[test]
fn chainlit_without_host_fails_at_its_command_and_the_fix_passes() {
    let (code, report) = compose("listen-host-chainlit");
    let file = fixture("listen-host-chainlit").join("compose.yaml");
    let c = assert_one(&report, "fail", &file, "command: chainlit run");
    assert_eq!(code, 1);
    let msg = c["message"].as_str().unwrap();
    assert!(msg.starts_with("chainlit: Chainlit listens on 127.0.0.1 (nothing sets it: chainlit's default host (chainlit 2.12.0 config.py:270"), "{msg}");
    assert!(msg.contains("its published port (8000)"), "{msg}");
    assert_eq!(
        c["hint"],
        "add `--host 0.0.0.0` to `chainlit run` (or set CHAINLIT_HOST=0.0.0.0)"
    );
    assert_eq!(c["evidence"]["listen_host"], "127.0.0.1");
    assert_eq!(c["evidence"]["listen_host_defaulted"], true);

    let (code, report) = compose("listen-host-chainlit-fixed");
    let file = fixture("listen-host-chainlit-fixed").join("compose.yaml");
    let c = assert_one(&report, "pass", &file, "command: chainlit run");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        c["message"],
        "chainlit: listens on 0.0.0.0 (all interfaces; set by chainlit --host)"
    );
}

#[test]
fn uvicorn_without_host_behind_a_proxy_fails_and_the_fix_passes() {
    let (code, report) = compose("listen-host-uvicorn");
    let file = fixture("listen-host-uvicorn").join("compose.yaml");
    let c = assert_one(&report, "fail", &file, "command: uvicorn");
    assert_eq!(code, 1);
    let msg = c["message"].as_str().unwrap();
    assert!(msg.contains("uvicorn 0.54.0 main.py:66"), "{msg}");
    assert!(
        msg.contains("service proxy (which names it as a host)"),
        "{msg}"
    );

    let (code, report) = compose("listen-host-uvicorn-fixed");
    let file = fixture("listen-host-uvicorn-fixed").join("compose.yaml");
    assert_one(&report, "pass", &file, "command: uvicorn");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_server_started_by_app_code_is_skipped_saying_so() {
    let (code, report) = compose("listen-host-flask-code");
    let file = fixture("listen-host-flask-code").join("compose.yaml");
    let c = assert_one(&report, "skip", &file, "command: python app.py");
    assert_eq!(code, 0, "{report:#}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("web: socketio.run(app, host=…) in the app's code picks the address"),
        "{c:#}"
    );
}

#[test]
fn container_apps_chainlit_with_and_without_host() {
    // The fixture modelled on the original report carries `--host 0.0.0.0` in its args: the
    // listen host is not what broke it, and the check says so at that line.
    let (_, report) = aca("aca-chainlit-transport-http");
    let file = fixture("aca-chainlit-transport-http").join("app.yaml");
    // The span of a YAML list is its first item: `- run` under `args:`.
    let c = assert_one(&report, "pass", &file, "- run");
    assert_eq!(c["evidence"]["listen_host"], "0.0.0.0");
    // The same app without --host: the ingress cannot reach 127.0.0.1 in the container.
    let (code, report) = aca("aca-chainlit-no-host");
    let file = fixture("aca-chainlit-no-host").join("app.yaml");
    let c = assert_one(&report, "fail", &file, "- run");
    assert_eq!(code, 1);
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("unreachable for the Container Apps ingress (targetPort 8000);"),
        "{msg}"
    );
}

#[test]
fn open_webui_fixtures_pass_on_the_image_default() {
    let (_, report) = compose("real-openwebui");
    let c = results(&report);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["status"], "pass");
    assert!(
        c[0]["message"]
            .as_str()
            .unwrap()
            .contains("backend/start.sh:20"),
        "{:#}",
        c[0]
    );
}
