//! `redis.tls` against a real TLS-only redis-server (Debian's build has TLS) with a private
//! CA made by the `openssl` CLI: untrusted CA, trusted through SSL_CERT_FILE, `#insecure`,
//! a plain URL to the TLS port and a TLS URL to a plain port.

mod redis_support;

use std::path::Path;
use std::process::{Command, Stdio};

use redis_support::*;

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A CA and a server certificate for `localhost` / 127.0.0.1, in `dir`.
fn make_certs(dir: &Path) -> bool {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write ext.cnf");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=wsdoctor test CA",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ) && openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    )
}

#[test]
fn tls_failures_are_told_apart() {
    let name = "tls_failures_are_told_apart";
    if !have(REDIS_SERVER, name) || !have(REDIS_CLI, name) {
        return;
    }
    if !openssl(Path::new("."), &["version"]) {
        if std::env::var_os("CI").is_some() {
            panic!("{name}: the openssl CLI is not installed");
        }
        eprintln!("SKIPPED {name}: the openssl CLI is not installed");
        return;
    }
    let certs = tempfile::tempdir().expect("tempdir");
    assert!(
        make_certs(certs.path()),
        "openssl could not make the test certificates"
    );
    let p = |f: &str| certs.path().join(f).to_string_lossy().to_string();
    let server = RedisServer::start_tls(&p("server.crt"), &p("server.key"), &p("ca.crt"));
    let tls_url = format!("rediss://localhost:{}/0", server.port);

    // The private CA is not trusted: untrusted certificate, nothing else tried.
    let run = wsdoctor_json_env(&[&tls_url], &[("SSL_CERT_FILE", &p("server.csr"))]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.tls", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.tls", "reason"), "untrusted-certificate");
    assert_eq!(run.evidence("redis.auth", "depends_on"), "redis.tls");

    // Trusted through SSL_CERT_FILE: the whole probe runs over TLS.
    let expected = all_checks(
        "pass",
        &[
            ("redis.pubsub", "warn"),
            ("redis.sentinel", "skip"),
            ("redis.cluster", "skip"),
        ],
    );
    let run = wsdoctor_json_env(&[&tls_url], &[("SSL_CERT_FILE", &p("ca.crt"))]);
    assert_eq!(run.statuses(), expected, "{}", run.stdout);
    assert_eq!(run.evidence("redis.tls", "verified"), true);

    // `#insecure`: works, but the unverified certificate is a warning.
    let run = wsdoctor_json(&[&format!("{tls_url}#insecure")]);
    assert_eq!(run.statuses()["redis.tls"], "warn", "{}", run.stdout);
    assert_eq!(run.statuses()["redis.ping"], "pass");

    // A plain redis:// URL to the TLS port: the TCP connection is made, PING (the first
    // command) is closed without an answer, hint rediss://.
    let run = wsdoctor_json(&[&format!("redis://127.0.0.1:{}", server.port)]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.ping", "fail")]),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.ping", "stage"), "closed");
    assert!(
        run.check("redis.ping")["hint"]
            .as_str()
            .unwrap_or("")
            .contains("rediss://"),
        "{}",
        run.stdout
    );

    // A rediss:// URL to a plain port: the handshake meets plain text.
    let plain = RedisServer::start(&[]);
    let run = wsdoctor_json(&[&format!("rediss://localhost:{}#insecure", plain.port)]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.connect", "pass"), ("redis.tls", "fail")]),
        "{}",
        run.stdout
    );
}
