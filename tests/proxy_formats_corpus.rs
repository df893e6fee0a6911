//! The HAProxy, Caddyfile and Traefik files of the shared proxy corpus (and the Traefik
//! labels of its swarm and compose files) read into the proxy model: no crash, and every
//! fact and problem the readers find is listed here with its reason.

use std::path::{Path, PathBuf};

use wsdoctor::config::compose::{LoadOptions, load};
use wsdoctor::config::proxy::{
    Affinity, PathMatch, PathRewrite, ProxyConfig, ProxySource, caddy, haproxy, traefik,
};

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "no corpora at {}: CI must have shared/ beside the checkout",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED proxy_formats_corpus: no corpora at {} (set WSDOCTOR_CORPORA)",
        dir.display()
    );
    None
}

fn read(corpus: &Path, name: &str) -> (String, String) {
    let path = corpus.join("proxies").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    (name.to_string(), text)
}

fn only_route(cfg: &ProxyConfig, path: &str) -> wsdoctor::config::proxy::ProxyRoute {
    let sites = cfg.sites_for(None);
    let site = sites
        .first()
        .unwrap_or_else(|| panic!("{}: no site", cfg.file));
    cfg.route_for(site, path)
        .unwrap_or_else(|| panic!("{}: no route for {path}", cfg.file))
        .clone()
}

#[test]
fn every_corpus_file_of_the_three_formats_is_read() {
    let Some(corpus) = corpora() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(corpus.join("proxies")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let (file, text) = read(&corpus, &name);
        let cfg = if name.ends_with("haproxy.cfg") {
            haproxy::to_model(&file, &text, ProxySource::Flag)
        } else if name.contains("Caddyfile") {
            caddy::to_model(&file, &text, ProxySource::Flag)
        } else if name.contains("traefik") {
            traefik::to_model(
                &traefik::parse_file(&file, &text),
                &file,
                ProxySource::Flag,
                &|_| 1,
            )
        } else {
            continue;
        };
        seen += 1;
        // No file of the corpus is refused by the proxy version it is written for, so a
        // problem here would be a reader bug. Measured with Debian 12's haproxy 2.6 and
        // caddy 2.6: `haproxy -c` refuses the socket.io cluster file only for `nbproc`
        // (removed in HAProxy 2.5; its compose file pins haproxy:1.7-alpine, where it is
        // valid) and the websockets-scaling file only because `socket-server` does not
        // resolve outside its stack; `caddy adapt` refuses the n8n file only because
        // `n8n.<domain>.<suffix>` is a placeholder that does not qualify for a certificate.
        assert!(cfg.problems.is_empty(), "{name}: {:?}", cfg.problems);
    }
    assert_eq!(seen, 7, "2 HAProxy, 2 Caddyfiles, 3 Traefik files");
}

#[test]
fn socketio_cluster_haproxy_pins_clients_with_an_inserted_cookie() {
    let Some(corpus) = corpora() else { return };
    let (file, text) = read(&corpus, "socket.io__examples__cluster-haproxy__haproxy.cfg");
    let cfg = haproxy::to_model(&file, &text, ProxySource::Flag);
    let route = only_route(&cfg, "/socket.io/");
    assert_eq!(route.path, PathMatch::Any);
    assert!(route.upgrade.forwarded && route.upgrade.by_default);
    // `default_backend nodes` (line 22) → 4 servers with `cookie serverid insert` (line 27).
    assert_eq!(route.span.line, 22);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(group.servers.len(), 4);
    let affinity = group.affinity.as_ref().unwrap();
    assert_eq!(affinity.value, Affinity::Cookie("serverid".into()));
    assert_eq!(affinity.span.as_ref().unwrap().line, 27);
    // timeout tunnel 1h (defaults, line 16) over timeout server 30s (line 15).
    let t = &route.timeouts;
    assert_eq!(t.tunnel.as_ref().unwrap().value.as_secs(), 3600);
    assert_eq!(t.tunnel.as_ref().unwrap().span.as_ref().unwrap().line, 16);
    assert_eq!(t.read.as_ref().unwrap().value.as_secs(), 30);
}

#[test]
fn websockets_scaling_haproxy_follows_the_io_cookie() {
    let Some(corpus) = corpora() else { return };
    let (file, text) = read(&corpus, "sw360cab-websockets-scaling__stack__haproxy.cfg");
    let cfg = haproxy::to_model(&file, &text, ProxySource::Flag);
    let route = only_route(&cfg, "/socket.io/");
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    // One server (the second is commented out): Swarm replicas sit behind its VIP.
    assert_eq!(group.servers.len(), 1);
    assert_eq!(group.servers[0].host, "socket-server");
    assert_eq!(group.servers[0].port, Some(5000));
    // `cookie io prefix indirect nocache`: the app's own `io` cookie, prefixed.
    assert_eq!(
        group.affinity.as_ref().unwrap().value,
        Affinity::Cookie("io".into())
    );
    // timeout server 25s = the default pingInterval: the long-poll is cut at the same
    // moment the server would answer it (the proxy.timeout check's business).
    assert_eq!(route.timeouts.read.as_ref().unwrap().value.as_secs(), 25);
    assert_eq!(
        route.timeouts.tunnel.as_ref().unwrap().value.as_secs(),
        3600
    );
}

#[test]
fn caddyfiles_forward_upgrades_by_default() {
    let Some(corpus) = corpora() else { return };
    let (file, text) = read(
        &corpus,
        "n8n-hosting__docker-caddy__caddy_config__Caddyfile",
    );
    let cfg = caddy::to_model(&file, &text, ProxySource::Flag);
    let route = only_route(&cfg, "/socket.io/");
    assert_eq!(route.target.as_ref().unwrap().host, "n8n");
    assert_eq!(route.target.as_ref().unwrap().port, Some(5678));
    assert!(route.upgrade.forwarded && route.upgrade.by_default);
    assert_eq!(route.rewrite, PathRewrite::Unchanged);
    assert!(
        route.timeouts.read.is_none(),
        "no read_timeout: Caddy has no limit"
    );

    let (file, text) = read(&corpus, "open-webui-0.6.5__Caddyfile.localhost");
    let cfg = caddy::to_model(&file, &text, ProxySource::Flag);
    // Only /api/* is proxied (to Ollama); the rest is file_server: /ws/socket.io has no route.
    let site = &cfg.sites[0];
    assert_eq!(site.routes.len(), 1);
    assert_eq!(site.routes[0].path, PathMatch::Prefix("/api/".into()));
    assert_eq!(site.routes[0].span.line, 57);
    assert!(cfg.route_for(site, "/ws/socket.io/").is_none());
}

#[test]
fn traefik_files_static_config_has_no_routes_dynamic_has_services() {
    let Some(corpus) = corpora() else { return };
    for name in [
        "socket.io__examples__cluster-traefik__traefik.yml",
        "sw360cab-traefik-docker-swarm__traefik__traefik.yml",
    ] {
        let (file, text) = read(&corpus, name);
        let parsed = traefik::parse_file(&file, &text);
        // Static configuration (entryPoints, providers): routing comes from Docker labels.
        assert!(parsed.is_empty() && parsed.errors.is_empty(), "{name}");
    }
    let (file, text) = read(
        &corpus,
        "tzervas-self-hosted-ai__config__traefik__dynamic.yml",
    );
    let parsed = traefik::parse_file(&file, &text);
    assert_eq!(parsed.routers.len(), 7);
    assert_eq!(parsed.services.len(), 7);
    let cfg = traefik::to_model(&parsed, &file, ProxySource::Flag, &|_| 1);
    // Routers test only Host(): every path of the openwebui host reaches open-webui:8080.
    let ow = cfg
        .upstreams
        .iter()
        .find(|g| g.name == "openwebui")
        .unwrap();
    assert_eq!(ow.servers[0].host, "open-webui");
    assert_eq!(ow.servers[0].port, Some(8080));
    assert_eq!(ow.servers[0].span.line, 72);
    assert!(ow.affinity.is_none());
}

fn deployment(corpus: &Path, name: &str) -> wsdoctor::config::model::Deployment {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker-compose.yml");
    std::fs::copy(corpus.join(name), &path).unwrap();
    let opts = LoadOptions {
        project_dir: dir.path().to_path_buf(),
        files: vec![path],
        env_file: None,
        process_env: Default::default(),
    };
    load(&opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn traefik_labels_of_the_websockets_scaling_stack() {
    let Some(corpus) = corpora() else { return };
    let d = deployment(
        &corpus,
        "swarm/sw360cab-websockets-scaling__stack__docker-compose.yml",
    );
    let cfg = traefik::from_deployment(&d).expect("socket-server has traefik labels");
    assert_eq!(cfg.source, ProxySource::Labels);
    let route = only_route(&cfg, "/wsk/socket.io/");
    assert_eq!(route.path, PathMatch::Prefix("/wsk".into()));
    assert_eq!(route.span.line, 14, "the rule label");
    // replacepath.path=/ sends every request to `/`: the socket.io path is lost.
    assert!(matches!(&route.rewrite, PathRewrite::Fixed { uri, .. } if uri == "/"));
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    // deploy.replicas: 2 → two servers at socket-server:5000, pinned by the `io` cookie.
    assert_eq!(group.servers.len(), 2);
    assert_eq!(group.servers[0].port, Some(5000));
    assert!(matches!(
        group.affinity.as_ref().unwrap().value,
        Affinity::Cookie(_)
    ));
}

#[test]
fn traefik_swarm_labels_under_deploy_labels_are_read() {
    let Some(corpus) = corpora() else { return };
    // Every traefik label of this stack is under `deploy.labels` (Swarm mode reads service
    // labels, the file's own comment at line 21 says so): routers zapp (line 32) and
    // zapp-secure (line 35), service zservice on port 3000 (line 46), 2 replicas.
    let d = deployment(
        &corpus,
        "swarm/sw360cab-traefik-docker-swarm__docker-compose.yml",
    );
    let svc = d
        .services
        .iter()
        .find(|s| !s.deploy_labels.is_empty())
        .unwrap();
    assert!(svc.labels.keys().all(|k| !k.starts_with("traefik.")));
    let cfg = traefik::from_deployment(&d).expect("the deploy.labels routers");
    let routes: Vec<_> = cfg.sites.iter().flat_map(|s| &s.routes).collect();
    assert!(!routes.is_empty(), "{cfg:?}");
    let lines: Vec<u32> = routes.iter().map(|r| r.span.line).collect();
    assert!(lines.contains(&32) && lines.contains(&35), "{lines:?}");
    for r in &routes {
        let t = r.target.as_ref().expect("a target");
        assert_eq!(t.host, "zservice", "{r:?}");
        let group = &cfg.upstreams[t.group.expect("the service zservice")];
        assert_eq!(group.servers.len(), 2, "one server per replica: {group:?}");
        for server in &group.servers {
            assert_eq!(server.host, svc.name, "{server:?}");
            assert_eq!(server.port, Some(3000), "{server:?}");
        }
    }
}

/// Rebuilds the tree of the listed repositories from MANIFEST.json under `root`.
fn rebuild(corpus: &Path, root: &Path, repos: &[&str]) {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("MANIFEST.json")).unwrap())
            .unwrap();
    for entry in manifest["files"].as_array().unwrap() {
        let repo = entry["repo"].as_str().unwrap();
        if !repos.contains(&repo) {
            continue;
        }
        let dest = root.join(repo).join(entry["path"].as_str().unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(corpus.join(entry["file"].as_str().unwrap()), &dest).unwrap();
    }
}

fn lint_proxy_checks(compose: &Path) -> Vec<(String, String, String)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["--format", "json", "lint", "-f"])
        .arg(compose)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: no JSON ({e})", compose.display()));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|i| i.starts_with("proxy.")))
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn corpus_projects_with_haproxy_caddy_and_traefik_lint_without_findings() {
    let Some(corpus) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    rebuild(
        &corpus,
        dir.path(),
        &[
            "socketio/socket.io",
            "n8n-io/n8n-hosting",
            "sw360cab/websockets-scaling",
        ],
    );
    let project = |p: &str| dir.path().join(p);
    // (compose file, what proxy.syntax says was read). No proxy.* warn or fail on any: the
    // socket.io examples and the websockets-scaling stack run Node apps built from a
    // Dockerfile, which wsdoctor does not recognise, and their routes do not name a
    // socket.io path, so the other proxy checks have nothing to judge (skip, with that
    // reason). n8n's Caddyfile is mounted from `${DATA_FOLDER}`, which its .env sets to a
    // placeholder (`/<directory-path>/…`): there is no file to read.
    let cases = [
        (
            "socketio/socket.io/examples/cluster-haproxy/docker-compose.yml",
            Some("haproxy.cfg: HAProxy would accept it"),
        ),
        (
            "socketio/socket.io/examples/cluster-traefik/docker-compose.yml",
            Some("docker-compose.yml: Traefik would accept it"),
        ),
        ("n8n-io/n8n-hosting/docker-caddy/docker-compose.yml", None),
        (
            "sw360cab/websockets-scaling/stack/docker-compose.yml",
            Some("docker-compose.yml: Traefik would accept it"),
        ),
    ];
    for (compose, read) in cases {
        let checks = lint_proxy_checks(&project(compose));
        assert_eq!(checks.len(), 6, "{compose}: {checks:?}");
        for (id, status, msg) in &checks {
            assert!(
                status == "pass" || status == "skip",
                "{compose}: {id} {status} {msg}"
            );
        }
        let (_, status, msg) = checks.iter().find(|c| c.0 == "proxy.syntax").unwrap();
        match read {
            Some(what) => assert!(status == "pass" && msg.contains(what), "{compose}: {msg}"),
            None => assert!(
                msg.starts_with("no proxy configuration read"),
                "{compose}: {msg}"
            ),
        }
    }
}
