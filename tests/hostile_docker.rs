//! A hostile Docker Engine (DOCKER_HOST=tcp://…): an answer that never ends costs one
//! deadline and a clear `docker.engine` finding.
//!
//! Memory is NOT bounded here beyond deadline × throughput: bollard collects a response body
//! whole (about 180 MiB in 1 s on loopback, debug build). The engine is the user's own
//! daemon, so SECURITY.md lists this as a known limit; the peak is printed, not asserted.

mod hostile_support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hostile_support::{HostileServer, read_http_head, run_wsdoctor_env};

const WALL: Duration = Duration::from_secs(10);

#[test]
fn endless_version_body_is_bounded() {
    let server = HostileServer::spawn(|mut s, stop| {
        read_http_head(&mut s);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\r\n{\"ApiVersion\":\"",
        );
        let chunk = [b'x'; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let host = format!("tcp://127.0.0.1:{}", server.port);
    let run = run_wsdoctor_env(
        &[
            "--format",
            "json",
            "--timeout",
            "1s",
            "docker",
            "--project",
            "p",
            "--project-dir",
            dir.path().to_str().expect("utf-8"),
        ],
        &[("DOCKER_HOST", &host)],
    );
    eprintln!("peak RSS {} KiB", run.maxrss_kib);
    assert!(run.wall < WALL, "took {:?}", run.wall);
    assert_eq!(run.status("docker.engine"), "fail", "{}", run.summary());
    assert!(
        run.message("docker.engine")
            .contains("did not answer within 1s"),
        "{}",
        run.message("docker.engine")
    );
    assert_eq!(run.code, 1);
}
