//! The proxy corpus (`$WSDOCTOR_CORPORA/proxies`, real configurations from public
//! repositories): every file is read through the binary without a crash, and every `proxy.*`
//! finding on it is listed here with its reason. A new finding, or one that disappears,
//! fails the test.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(
        std::env::var("WSDOCTOR_CORPORA").unwrap_or_else(|_| "/work/shared/corpora".into()),
    )
    .join("proxies")
}

/// (file, extra arguments, the proxy checks that fire, why).
const EXPECTED: &[(&str, &[&str], &[&str], &str)] = &[
    (
        "TheMatrixAdmin-nginx-openwebui__conf.d__open-webui.conf",
        &["--app", "open-webui"],
        &[],
        "Open WebUI: location / with HTTP/1.1, Upgrade and Connection, default 60 s read timeout",
    ),
    (
        "brodseba-local-llm__nginx__conf.d__open-webui.conf",
        &["--app", "open-webui"],
        &[],
        "Open WebUI: upgrade headers, proxy_read_timeout 1200s",
    ),
    (
        "brodseba-local-llm__nginx__nginx.conf",
        &[],
        &[],
        "main nginx.conf that includes the site from /etc/nginx/conf.d (inside the container only)",
    ),
    (
        "docker-jitsi-meet__web__rootfs__defaults__meet.conf",
        &[],
        &["proxy.syntax"],
        "a Go template ({{ if … }}): nginx refuses it as is (crossplane too)",
    ),
    (
        "docker-jitsi-meet__web__rootfs__defaults__nginx.conf",
        &[],
        &["proxy.syntax"],
        "a Go template: `worker_processes {{ .Env… }};` is not terminated by ';' for nginx",
    ),
    (
        "etherpad-lite__src__tests__ratelimit__nginx.conf",
        &["--app", "python-socketio"],
        &[],
        "Etherpad (socket.io at /socket.io): upgrade via map $connection_upgrade, one server",
    ),
    (
        "mattermost-docker__nginx__conf.d__default.conf",
        &[],
        &[],
        "Mattermost's websocket is not socket.io: no socket.io route, nothing judged",
    ),
    (
        "n8n-hosting__docker-caddy__caddy_config__Caddyfile",
        &[],
        &[],
        "Caddy: read by the Caddy reader (none in this module)",
    ),
    (
        "open-webui-0.6.5__Caddyfile.localhost",
        &[],
        &[],
        "Caddy: as above",
    ),
    (
        "overleaf-toolkit__lib__config-seed__nginx.conf",
        &[],
        &[],
        "Overleaf toolkit: location / with the upgrade headers; no location names socket.io and no --app: not judged",
    ),
    (
        "overleaf-toolkit__lib__docker-compose.nginx.yml",
        &[],
        &[],
        "a compose overlay given as a proxy file: read as Traefik YAML, no reader here",
    ),
    (
        "overleaf__server-ce__nginx__nginx.conf.template",
        &[],
        &[],
        "main nginx.conf template: includes only, no socket.io location",
    ),
    (
        "overleaf__server-ce__nginx__overleaf.conf",
        &[],
        &[],
        "location /socket.io with the upgrade headers and proxy_read_timeout 10m",
    ),
    (
        "pdessauw-lumina__nginx__conf.d__openwebui.conf",
        &["--app", "open-webui"],
        &[],
        "Open WebUI: upgrade headers, proxy_read_timeout 10m",
    ),
    (
        "socket.io__examples__cluster-haproxy__haproxy.cfg",
        &[],
        &[],
        "HAProxy: no reader here",
    ),
    (
        "socket.io__examples__cluster-nginx__nginx.conf",
        &["--app", "node-socketio"],
        &[],
        "4 servers with `hash $remote_addr consistent` (stable per client), upgrade headers",
    ),
    (
        "socket.io__examples__cluster-traefik__traefik.yml",
        &[],
        &[],
        "Traefik: no reader here",
    ),
    (
        "sw360cab-traefik-docker-swarm__traefik__traefik.yml",
        &[],
        &[],
        "Traefik: no reader here",
    ),
    (
        "sw360cab-websockets-scaling__stack__haproxy.cfg",
        &[],
        &[],
        "HAProxy: no reader here",
    ),
    (
        "taiga-docker__taiga-gateway__taiga.conf",
        &[],
        &[],
        "Taiga's /events websocket is not socket.io: nothing judged",
    ),
    (
        "tzervas-self-hosted-ai__config__traefik__dynamic.yml",
        &[],
        &[],
        "Traefik: no reader here",
    ),
];

/// Apache httpd is refused as a usage error (exit 2): no reader for it.
const REFUSED: &[&str] = &["socket.io__examples__cluster-httpd__httpd.conf"];

#[test]
fn every_proxy_corpus_file_is_read_and_every_finding_is_listed() {
    let dir = corpus();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the proxy corpus")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let empty = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for name in &names {
        let expected = EXPECTED.iter().find(|e| e.0 == name);
        let refused = REFUSED.contains(&name.as_str());
        assert!(
            expected.is_some() || refused,
            "{name} is not listed in this test"
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdoctor"));
        cmd.args(["--format", "json", "lint", "--proxy-config"])
            .arg(dir.join(name))
            .current_dir(empty.path());
        if let Some(e) = expected {
            cmd.args(e.1);
        }
        let out = cmd.output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        if refused {
            assert_eq!(code, 2, "{name}: {stderr}");
            assert!(stderr.contains("Apache httpd"), "{name}: {stderr}");
            continue;
        }
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: no JSON ({e}): {stderr}"));
        let mut fired: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"].as_str().unwrap().starts_with("proxy."))
            .filter(|c| c["status"] == "fail" || c["status"] == "warn")
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        fired.dedup();
        let (_, _, want, why) = expected.unwrap();
        if fired != *want {
            wrong.push(format!("{name}: fired {fired:?}, listed {want:?} ({why})"));
        }
        let proxy_fails = !want.is_empty();
        assert_eq!(code, i32::from(proxy_fails), "{name}: exit code");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
