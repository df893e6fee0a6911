//! Debian's HAProxy 2.6 in front of real python-socketio servers (uvicorn): for each proxy
//! fact wsdoctor reads from `haproxy.cfg`, a failing and a fixed configuration, run live
//! through `wsdoctor ws` and read statically from the very file HAProxy ran, agreeing.
//!
//! The static side is `wsdoctor lint --proxy-config` on that file (no compose file: the
//! route names /socket.io/, judged against python-socketio's defaults) and the proxy model
//! it rests on (`config::proxy::haproxy::to_model`), with the lines it names.

mod proxy_support;
mod ws_support;

use std::time::Duration;

use ws_support::{SioServer, T, run_ws};
use wsdoctor::config::proxy::{Affinity, ProxyConfig, ProxyRoute, ProxySource, haproxy};

fn config(upstreams: &[u16], backend_lines: &str, timeouts: &str) -> String {
    let servers: String = upstreams
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server s{i} 127.0.0.1:{p}\n"))
        .collect();
    format!(
        "global\n  log stderr format raw local0 warning\n\ndefaults\n  mode http\n  timeout connect 5s\n{timeouts}\n\
         frontend www\n  bind 127.0.0.1:{{PORT}}\n  use_backend app if {{ path_beg /socket.io/ }}\n\n\
         backend app\n{backend_lines}\n{servers}"
    )
}

/// The 1-based line of the first line of the file HAProxy ran that contains `needle`.
fn line_of(proxy: &proxy_support::RunningProxy, needle: &str) -> u32 {
    let text = std::fs::read_to_string(&proxy.config).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?}"));
    u32::try_from(i + 1).unwrap()
}

/// The model read from the file HAProxy ran, and the route that serves socket.io.
fn statically(proxy: &proxy_support::RunningProxy) -> (ProxyConfig, ProxyRoute) {
    let file = proxy.config.display().to_string();
    let text = std::fs::read_to_string(&proxy.config).unwrap();
    let cfg = haproxy::to_model(&file, &text, ProxySource::Flag);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let route = cfg
        .route_for(&cfg.sites[0], "/socket.io/")
        .expect("a route for /socket.io/")
        .clone();
    (cfg, route)
}

#[test]
fn haproxy_tunnel_timeout_shorter_than_the_ping_interval_cuts_the_websocket() {
    const NAME: &str = "haproxy_tunnel_timeout_shorter_than_the_ping_interval_cuts_the_websocket";
    // pingInterval 5 s; `timeout tunnel 2s` closes the upgraded connection before the first
    // ping. (The example: `timeout tunnel 5s` against the default 25 s ping.)
    let app = need!(
        NAME,
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[app.port],
            "",
            "  timeout client 30s\n  timeout server 30s\n  timeout tunnel 2s\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "4"]);
    assert_eq!(
        run.status("ws.websocket-handshake"),
        "pass",
        "{}",
        run.stdout
    );
    assert_eq!(run.status("ws.heartbeat"), "fail", "{}", run.stdout);
    let msg = run.message("ws.heartbeat");
    assert!(msg.contains("closed after 2."), "{msg}");
    assert!(msg.contains("before the server's first ping"), "{msg}");
    // HAProxy adds no Server header: the fix names no proxy it cannot see, nginx included.
    let hint = run.hint("ws.heartbeat");
    assert!(hint.contains("no Server header"), "{hint}");
    assert!(hint.contains("HAProxy `timeout tunnel`"), "{hint}");
    assert!(!hint.starts_with("nginx"), "{hint}");
    assert_eq!(run.code, 1);

    let (_, route) = statically(&proxy);
    let idle = route
        .timeouts
        .websocket_idle()
        .expect("timeout tunnel read");
    assert_eq!(idle.value, Duration::from_secs(2));
    assert_eq!(
        idle.span.as_ref().unwrap().line,
        line_of(&proxy, "timeout tunnel")
    );
    assert!(
        idle.value < Duration::from_secs(5),
        "shorter than pingInterval: proxy.timeout fails"
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    let (status, msg) = proxy_support::check(&report, "proxy.timeout");
    assert_eq!(status, "fail", "{report}");
    // It names the `timeout tunnel` line of the file HAProxy ran.
    assert!(msg.contains("tunnel (websocket) timeout 2 s at "), "{msg}");
    assert!(
        msg.contains(&format!(
            "haproxy.cfg:{}",
            line_of(&proxy, "timeout tunnel")
        )),
        "{msg}"
    );
}

#[test]
fn haproxy_tunnel_timeout_longer_than_the_ping_interval_keeps_the_websocket() {
    const NAME: &str = "haproxy_tunnel_timeout_longer_than_the_ping_interval_keeps_the_websocket";
    let app = need!(
        NAME,
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[app.port],
            "",
            "  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "7"]);
    assert_eq!(run.status("ws.heartbeat"), "pass", "{}", run.stdout);
    assert!(
        run.message("ws.heartbeat").contains("answered 1 ping"),
        "{}",
        run.message("ws.heartbeat")
    );
    // The upgrade needs no configuration in HAProxy: 101 through the proxy.
    assert_eq!(run.status("ws.websocket-handshake"), "pass");
    assert_eq!(run.status("ws.upgrade"), "pass");

    let (_, route) = statically(&proxy);
    assert!(route.upgrade.forwarded && route.upgrade.by_default);
    assert_eq!(
        route.timeouts.websocket_idle().unwrap().value,
        Duration::from_secs(3600)
    );
    // The long-poll waits on `timeout server` (60 s).
    assert_eq!(
        route.timeouts.read.as_ref().unwrap().value,
        Duration::from_secs(60)
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.timeout").0,
        "pass",
        "{report}"
    );
    assert_eq!(
        proxy_support::check(&report, "proxy.upgrade").0,
        "pass",
        "{report}"
    );
}

#[test]
fn haproxy_without_timeout_tunnel_keeps_the_shorter_client_timeout() {
    const NAME: &str = "haproxy_without_timeout_tunnel_keeps_the_shorter_client_timeout";
    // No `timeout tunnel`: the upgraded connection keeps `timeout client 2s` (manual §4.2:
    // the tunnel timeout supersedes client/server timeouts only when set).
    let app = need!(
        NAME,
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[app.port],
            "",
            "  timeout client 2s\n  timeout server 30s\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "4"]);
    assert_eq!(run.status("ws.heartbeat"), "fail", "{}", run.stdout);
    let (_, route) = statically(&proxy);
    let idle = route.timeouts.websocket_idle().unwrap();
    assert_eq!(idle.value, Duration::from_secs(2));
    assert_eq!(
        idle.span.as_ref().unwrap().line,
        line_of(&proxy, "timeout client")
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.timeout").0,
        "fail",
        "{report}"
    );
}

#[test]
fn haproxy_roundrobin_over_two_servers_loses_polling_sessions() {
    const NAME: &str = "haproxy_roundrobin_over_two_servers_loses_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[a.port, b.port],
            "  balance roundrobin\n",
            "  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "10"]);
    assert_eq!(run.status("ws.sticky-session"), "fail", "{}", run.stdout);
    assert!(run.message("ws.sticky-session").contains("Invalid session"));

    let (cfg, route) = statically(&proxy);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(group.active_servers().count(), 2);
    assert!(group.affinity.is_none(), "roundrobin");
    let report = proxy_support::lint_proxy_config(&proxy.config);
    let (status, msg) = proxy_support::check(&report, "proxy.affinity");
    assert_eq!(status, "fail", "{report}");
    assert!(msg.contains("2"), "{msg}");
}

#[test]
fn haproxy_balance_source_keeps_polling_sessions() {
    const NAME: &str = "haproxy_balance_source_keeps_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[a.port, b.port],
            "  balance source\n",
            "  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url(), "--rounds", "10"]);
    assert_eq!(run.status("ws.sticky-session"), "pass", "{}", run.stdout);
    assert_eq!(run.status("ws.upgrade"), "pass");

    let (cfg, route) = statically(&proxy);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(group.active_servers().count(), 2);
    let affinity = group.affinity.as_ref().unwrap();
    assert_eq!(affinity.value, Affinity::ClientAddress);
    assert_eq!(
        affinity.span.as_ref().unwrap().line,
        line_of(&proxy, "balance source")
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "pass",
        "{report}"
    );
}

#[test]
fn haproxy_cookie_insert_keeps_polling_sessions() {
    const NAME: &str = "haproxy_cookie_insert_keeps_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let text = config(
        &[a.port, b.port],
        "  balance roundrobin\n  cookie SRV insert indirect nocache\n",
        "  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n",
    )
    .replace(
        &format!("127.0.0.1:{}\n", a.port),
        &format!("127.0.0.1:{} cookie a\n", a.port),
    )
    .replace(
        &format!("127.0.0.1:{}\n", b.port),
        &format!("127.0.0.1:{} cookie b\n", b.port),
    );
    let proxy = need!(NAME, proxy_support::haproxy(&text));
    let run = run_ws(T, &[&proxy.url(), "--rounds", "10"]);
    assert_eq!(run.status("ws.sticky-session"), "pass", "{}", run.stdout);

    let (cfg, route) = statically(&proxy);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(
        group.affinity.as_ref().unwrap().value,
        Affinity::Cookie("SRV".into())
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "pass",
        "{report}"
    );
}

#[test]
fn haproxy_server_on_the_wrong_port_is_a_503_and_names_the_server_line() {
    const NAME: &str = "haproxy_server_on_the_wrong_port_is_a_503_and_names_the_server_line";
    let app = need!(NAME, SioServer::start(1, &[]));
    let wrong = ws_support::free_port();
    let proxy = need!(
        NAME,
        proxy_support::haproxy(&config(
            &[wrong],
            "",
            "  timeout client 30s\n  timeout server 30s\n"
        ))
    );
    let run = run_ws(T, &[&proxy.url()]);
    assert_eq!(run.status("ws.http-reachable"), "fail", "{}", run.stdout);
    // HAProxy answers 503 when its only server refuses connections.
    assert!(
        run.message("ws.http-reachable").contains("503"),
        "{}",
        run.message("ws.http-reachable")
    );
    assert_eq!(run.code, 1);

    let (cfg, route) = statically(&proxy);
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    let server = &group.servers[0];
    assert_eq!(server.port, Some(wrong));
    assert_ne!(
        server.port,
        Some(app.port),
        "the upstream port is not where the app listens"
    );
    assert_eq!(server.span.line, line_of(&proxy, "server s0"));
}
