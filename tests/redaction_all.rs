//! The redaction guarantee: every command, in every output format, over a deployment and
//! servers seeded with distinctive secrets, never prints one of them (stdout or stderr),
//! unless `--show-secrets`. The secrets sit in URLs (encoded and unencoded), `*_PASSWORD`,
//! `*_TOKEN`, `*_SECRET` env values, a compose `--requirepass` command, and come back in
//! error messages: WRONGPASS from a real redis-server given a wrong password, a URL whose
//! host does not resolve, and an HTTP server that echoes the `--token` it was sent.

mod hostile_support;
mod redis_support;

use std::io::{Read, Write};
use std::time::Duration;

use hostile_support::{HostileServer, read_http_head, run_wsdoctor_raw};
use redis_support::{RedisServer, have};

/// The Redis password (compose `--requirepass`, `.env`, URLs).
const PASSWORD: &str = "Pw-h0rse-8c1f";
/// A wrong password given on the command line.
const WRONG_PASSWORD: &str = "Wr0ng-pw-e3a1";
/// `--token`, and `APP_TOKEN` in the .env.
const TOKEN: &str = "Tk-zebra-51d2";
/// `JWT_SECRET` / `WEBUI_SECRET_KEY`.
const SECRET: &str = "Sc-otter-77a9";
/// A password with an unencoded `#` in a URL: the parsed URL ends its password at the `#`,
/// so both halves must be masked.
const UNENCODED: &str = "Un3nc#0ded-9f2b";

/// `base64("user:" + PASSWORD)`: what an HTTP client sends as Basic auth for a URL with
/// userinfo, echoed back by the test server.
const BASIC_AUTH: &str = "dXNlcjpQdy1oMHJzZS04YzFm";

const FORMATS: [&str; 6] = ["text", "json", "markdown", "sarif", "junit", "github"];

fn write_project(dir: &std::path::Path) {
    std::fs::write(
        dir.join(".env"),
        format!(
            "REDIS_PASSWORD={PASSWORD}\nAPP_TOKEN={TOKEN}\nJWT_SECRET={SECRET}\n\
             WEBUI_SECRET_KEY={SECRET}\nREDIS_URL=redis://:{PASSWORD}@redis:6379/0\n"
        ),
    )
    .expect("write .env");
    std::fs::write(
        dir.join("compose.yaml"),
        format!(
            r#"services:
  redis:
    image: redis:7
    command: redis-server --requirepass {PASSWORD} --maxclients 100
    ports:
      - "6379:6379"
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      ENABLE_WEBSOCKET_SUPPORT: "true"
      WEBSOCKET_MANAGER: redis
      WEBSOCKET_REDIS_URL: redis://:${{REDIS_PASSWORD}}@redis-wrong-host:6379/0
      REDIS_URL: redis://default:{UNENCODED}@redis:6379/0
      UVICORN_WORKERS: "4"
      WEBUI_SECRET_KEY: ${{WEBUI_SECRET_KEY}}
      OAUTH_CLIENT_SECRET: {SECRET}
      API_TOKEN: ${{APP_TOKEN}}
    depends_on:
      - redis
"#
        ),
    )
    .expect("write compose.yaml");
}

/// An Engine.IO server that opens sessions but answers the CONNECT POST (which carries the
/// `{"token": …}` auth payload) with a 400 echoing the request body, and refuses websocket
/// upgrades echoing the request head.
fn echo_server() -> HostileServer {
    HostileServer::spawn(|mut s, _stop| {
        let head = read_http_head(&mut s);
        let text = String::from_utf8_lossy(&head).into_owned();
        let (head_text, mut body) = match text.split_once("\r\n\r\n") {
            Some((h, b)) => (h.to_string(), b.as_bytes().to_vec()),
            None => (text.clone(), Vec::new()),
        };
        let length = head_text
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut buf = [0u8; 4096];
        while body.len() < length.min(64 * 1024) {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
            }
        }
        let request_line = head_text.lines().next().unwrap_or("");
        let (status, answer) = if head_text
            .to_ascii_lowercase()
            .contains("upgrade: websocket")
        {
            ("400 Bad Request", format!("rejected upgrade: {head_text}"))
        } else if request_line.starts_with("POST") {
            (
                "400 Bad Request",
                format!("bad auth in {}", String::from_utf8_lossy(&body)),
            )
        } else if request_line.contains("sid=") {
            // The GET after the CONNECT POST: nothing new.
            ("400 Bad Request", format!("unknown session {request_line}"))
        } else {
            (
                "200 OK",
                r#"0{"sid":"echo","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
                    .to_string(),
            )
        };
        let _ = s.write_all(
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            )
            .as_bytes(),
        );
    })
}

/// Every secret, and the pieces an unencoded `#` splits one into.
fn secrets() -> Vec<&'static str> {
    vec![
        PASSWORD,
        WRONG_PASSWORD,
        TOKEN,
        SECRET,
        UNENCODED,
        "Un3nc",
        "0ded-9f2b",
        BASIC_AUTH,
    ]
}

/// The check and status each scenario must produce.
fn expected_status(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "lint" => ("config.redis-url-unencoded", "fail"),
        "redis wrong password" => ("redis.auth", "fail"),
        "redis right password" => ("redis.auth", "pass"),
        "redis dns" => ("redis.connect", "fail"),
        "redis from config" => ("redis.auth", "pass"),
        "ws token echoed" => ("ws.socketio-connect", "fail"),
        _ => return None,
    })
}

#[test]
fn no_command_in_any_format_prints_a_secret_unless_asked() {
    if !have(
        redis_support::REDIS_SERVER,
        "no_command_in_any_format_prints_a_secret_unless_asked",
    ) {
        return;
    }
    let redis = RedisServer::start(&["--requirepass", PASSWORD]);
    let echo = echo_server();
    let project = tempfile::tempdir().expect("tempdir");
    write_project(project.path());
    let dir = project.path().to_str().expect("utf-8 path").to_string();
    let redis_host = format!("127.0.0.1:{}", redis.port);
    let wrong_url = format!("redis://:{WRONG_PASSWORD}@127.0.0.1:{}/0", redis.port);
    let right_url = format!("redis://default:{PASSWORD}@127.0.0.1:{}/0", redis.port);
    let dns_url = format!("redis://:{PASSWORD}@no-such-host.invalid:6379/0");
    let ws_url = echo.url("http");
    let ws_url_with_password = format!("http://user:{PASSWORD}@127.0.0.1:{}", echo.port);
    // docker: the Engine may be absent here; the command still runs and must not leak.
    let commands: Vec<(&str, Vec<&str>)> = vec![
        ("lint", vec!["lint", "--project-dir", &dir]),
        ("redis wrong password", vec!["redis", &wrong_url]),
        ("redis right password", vec!["redis", &right_url]),
        ("redis dns", vec!["redis", &dns_url]),
        (
            "redis from config",
            vec![
                "redis",
                "--from-config",
                "--project-dir",
                &dir,
                "--host",
                &redis_host,
            ],
        ),
        (
            "ws token echoed",
            vec!["ws", &ws_url, "--token", TOKEN, "--rounds", "1"],
        ),
        (
            "ws url with password",
            vec!["ws", &ws_url_with_password, "--rounds", "1"],
        ),
        (
            "docker",
            vec![
                "docker",
                "--project",
                "wsdoctor-no-such-project-7f3e",
                "--project-dir",
                &dir,
            ],
        ),
        (
            "diagnose",
            vec![
                "diagnose",
                "--project-dir",
                &dir,
                "--url",
                &ws_url,
                "--token",
                TOKEN,
                "--redis-host",
                &redis_host,
                "--rounds",
                "1",
            ],
        ),
        ("checks", vec!["checks"]),
        ("explain", vec!["explain", "config.redis-url-password"]),
    ];
    let mut failures = Vec::new();
    let mut shown_with_show_secrets = Vec::new();
    for (name, args) in &commands {
        for format in FORMATS {
            let mut full = vec!["--format", format, "--timeout", "2s"];
            full.extend(args.iter().copied());
            let run = run_wsdoctor_raw(&full, false);
            assert!(
                run.code == 0 || run.code == 1 || run.code == 2,
                "{name} --format {format}: exit {}\n{}",
                run.code,
                run.stderr
            );
            assert!(
                !run.stdout.is_empty(),
                "{name} --format {format} printed nothing; stderr: {}",
                run.stderr
            );
            if format == "json"
                && let Some((id, status)) = expected_status(name)
            {
                // Proves the scenario happened (the error that could leak was produced).
                let json: serde_json::Value =
                    serde_json::from_str(&run.stdout).expect("json report");
                let check = json["checks"]
                    .as_array()
                    .and_then(|a| a.iter().find(|c| c["id"] == id))
                    .unwrap_or_else(|| panic!("{name}: no {id} in {}", run.stdout));
                assert_eq!(check["status"], status, "{name}: {check}");
            }
            for secret in secrets() {
                for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                    if text.contains(secret) {
                        let at = text.find(secret).unwrap_or(0);
                        let from = text[..at]
                            .char_indices()
                            .rev()
                            .nth(120)
                            .map_or(0, |(i, _)| i);
                        failures.push(format!(
                            "{name} --format {format}: {stream} contains {secret:?}: …{}…",
                            &text[from..(at + secret.len()).min(text.len())]
                        ));
                    }
                }
            }
        }
        // With --show-secrets the same run shows what it saw. The redis probe prints its
        // URL structurally masked either way (it never needs the password to explain a
        // finding), so only the commands whose findings quote a secret must show one.
        let mut full = vec!["--format", "json", "--timeout", "2s", "--show-secrets"];
        full.extend(args.iter().copied());
        let run = run_wsdoctor_raw(&full, false);
        let shown: Vec<&str> = secrets()
            .into_iter()
            .filter(|s| run.stdout.contains(s))
            .collect();
        if matches!(*name, "lint" | "ws token echoed" | "diagnose") {
            assert!(
                !shown.is_empty(),
                "{name} --show-secrets shows no secret:\n{}",
                run.stdout
            );
        }
        shown_with_show_secrets.push(format!("{name}: {shown:?}"));
    }
    eprintln!("with --show-secrets: {shown_with_show_secrets:?}");
    assert!(
        failures.is_empty(),
        "secrets leaked:\n{}",
        failures.join("\n")
    );
}

/// A `.env` line compose refuses still holds a secret: its value must be registered, and the
/// syntax error must not quote it (it did: "unterminated quoted value \"hunter2-…"). And the
/// other way round: a variable's NAME is never masked, even when a secret's value is part of
/// it or a raw `${NAME}` was registered ("**** is not set" hid `REDIS_PASSWORD`).
#[test]
fn broken_env_lines_never_show_their_secret_and_names_are_never_masked() {
    const BROKEN: [&str; 3] = ["hunter2-secret-5e1", "Tk-open-quote-42", "Bang-s3cret-11"];
    let project = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        project.path().join(".env"),
        // Each quote is the last of its kind: a later one would close it (values span lines).
        format!(
            "A=1\nDB_PASSWORD!={}\nAPP_TOKEN='{}\nREDIS_PASSWORD=\"{}\n",
            BROKEN[2], BROKEN[1], BROKEN[0]
        ),
    )
    .expect("write .env");
    std::fs::write(
        project.path().join("compose.yaml"),
        r#"services:
  redis:
    image: redis:7
    command: redis-server --requirepass $$CACHE_PASSWORD
    healthcheck:
      test: ["CMD", "redis-cli", "-a", "$$CACHE_PASSWORD", "ping"]
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      ENABLE_WEBSOCKET_SUPPORT: "true"
      WEBSOCKET_MANAGER: redis
      WEBSOCKET_REDIS_URL: redis://:${CACHE_PASSWORD}@redis:6379/0
      SESSION_PASSWORD: PASSWORD
      ADMIN_PASSWORD: CACHE_PASSWORD
"#,
    )
    .expect("write compose.yaml");
    let dir = project.path().to_str().expect("utf-8 path");
    let mut failures = Vec::new();
    for format in FORMATS {
        let run = run_wsdoctor_raw(&["--format", format, "lint", "--project-dir", dir], false);
        assert_eq!(run.code, 1, "--format {format}: {}", run.stderr);
        for secret in BROKEN {
            for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                if text.contains(secret) {
                    failures.push(format!("--format {format}: {stream} shows {secret}"));
                }
            }
        }
        // The names the user must read are there, unmasked (Markdown escapes `_`).
        let plain = run.stdout.replace("\\_", "_");
        for name in ["CACHE_PASSWORD", "REDIS_PASSWORD"] {
            if !plain.contains(name) {
                failures.push(format!("--format {format}: {name} not shown"));
            }
        }
        if plain.contains("_****") || plain.contains("{****") {
            failures.push(format!(
                "--format {format}: a name is masked:\n{}",
                run.stdout
            ));
        }
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
            let messages: Vec<&str> = json["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .filter(|c| c["status"] == "fail" || c["status"] == "warn")
                .filter_map(|c| c["message"].as_str())
                .collect();
            let all = messages.join("\n");
            // The scenario happened: the lines were refused and the variable is unset.
            assert!(
                all.contains("unterminated quoted value of REDIS_PASSWORD"),
                "{all}"
            );
            assert!(all.contains("${CACHE_PASSWORD} is not set"), "{all}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
