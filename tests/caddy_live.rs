//! Debian's Caddy 2.6 in front of real python-socketio servers (uvicorn): for each proxy
//! fact wsdoctor reads from a Caddyfile, a failing and a fixed configuration, run live
//! through `wsdoctor ws` and read statically from the very file Caddy ran, agreeing.
//!
//! The static side asserts on the proxy model (`config::proxy::caddy::to_model`): the path
//! the upstream receives (`proxy.path`), the read timeout against the app's pingInterval
//! (`proxy.timeout`), several upstreams without affinity (`proxy.affinity`).

mod proxy_support;
mod ws_support;

use std::time::Duration;

use proxy_support::CADDY_GLOBAL;
use ws_support::{SioServer, T, run_ws};
use wsdoctor::config::proxy::{Affinity, PathRewrite, ProxyConfig, ProxyRoute, ProxySource, caddy};

fn statically(proxy: &proxy_support::RunningProxy, path: &str) -> (ProxyConfig, ProxyRoute) {
    let file = proxy.config.display().to_string();
    let text = std::fs::read_to_string(&proxy.config).unwrap();
    let cfg = caddy::to_model(&file, &text, ProxySource::Flag);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let route = cfg
        .route_for(&cfg.sites[0], path)
        .unwrap_or_else(|| panic!("a route for {path}"))
        .clone();
    (cfg, route)
}

fn line_of(proxy: &proxy_support::RunningProxy, needle: &str) -> u32 {
    let text = std::fs::read_to_string(&proxy.config).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?}"));
    u32::try_from(i + 1).unwrap()
}

/// `wsdoctor lint` on a compose project beside the Caddyfile Caddy ran: Open WebUI (whose
/// Socket.IO path is /ws/socket.io) and a caddy service that mounts that Caddyfile, so the
/// path comes from the app profile and the file is found by discovery.
fn lint_project(proxy: &proxy_support::RunningProxy) -> serde_json::Value {
    let compose = "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n  caddy:\n    image: caddy:2\n    volumes:\n      - ./Caddyfile:/etc/caddy/Caddyfile:ro\n";
    std::fs::write(proxy.dir.path().join("compose.yaml"), compose).unwrap();
    proxy_support::lint_in(proxy.dir.path(), &[])
}

#[test]
fn caddy_handle_path_strips_the_socketio_prefix() {
    const NAME: &str = "caddy_handle_path_strips_the_socketio_prefix";
    // The app serves Socket.IO at /ws/socket.io (Open WebUI's path); `handle_path /ws/*`
    // strips /ws, so the app receives /socket.io/ and answers 404.
    let app = need!(NAME, SioServer::start(1, &["--path", "ws/socket.io"]));
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\thandle_path /ws/* {{\n\t\treverse_proxy 127.0.0.1:{}\n\t}}\n}}\n",
        app.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(
        T,
        &[&proxy.url(), "--path", "/ws/socket.io", "--rounds", "0"],
    );
    // The app answers 404 for the stripped path (Caddy passes the app's answer through).
    assert_eq!(run.status("ws.polling-handshake"), "fail", "{}", run.stdout);
    let msg = run.message("ws.polling-handshake");
    assert!(
        msg.contains("HTTP 404") && msg.contains("wrong path"),
        "{msg}"
    );
    // The app's 404 at /ws/socket.io and Caddy's own empty 200 at /socket.io (no route):
    // socket.io is at neither, and ws.path says so (it once skipped with "nothing at
    // /ws/socket.io, /socket.io answered like Engine.IO", read as the opposite).
    assert_eq!(run.status("ws.path"), "fail", "{}", run.stdout);
    let msg = run.message("ws.path");
    assert!(msg.contains("/ws/socket.io answered 404"), "{msg}");
    assert!(msg.contains("/socket.io answered an empty 200"), "{msg}");
    assert_eq!(run.code, 1);

    let (_, route) = statically(&proxy, "/ws/socket.io/");
    assert_eq!(
        route.rewrite.apply("/ws/socket.io/").as_deref(),
        Some("/socket.io/")
    );
    assert!(matches!(&route.rewrite, PathRewrite::ReplacePrefix { prefix, .. } if prefix == "/ws"));
    assert_eq!(
        route.rewrite.span().unwrap().line,
        line_of(&proxy, "handle_path")
    );
    let report = lint_project(&proxy);
    let (status, msg) = proxy_support::check(&report, "proxy.path");
    assert_eq!(status, "fail", "{report}");
    assert!(msg.contains("/socket.io/"), "{msg}");
}

#[test]
fn caddy_handle_keeps_the_socketio_path() {
    const NAME: &str = "caddy_handle_keeps_the_socketio_path";
    let app = need!(NAME, SioServer::start(1, &["--path", "ws/socket.io"]));
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\thandle /ws/* {{\n\t\treverse_proxy 127.0.0.1:{}\n\t}}\n}}\n",
        app.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(
        T,
        &[&proxy.url(), "--path", "/ws/socket.io", "--rounds", "0"],
    );
    assert_eq!(run.status("ws.polling-handshake"), "pass", "{}", run.stdout);
    // Caddy forwards the upgrade with no configuration.
    assert_eq!(
        run.status("ws.websocket-handshake"),
        "pass",
        "{}",
        run.stdout
    );
    assert_eq!(run.status("ws.upgrade"), "pass", "{}", run.stdout);

    let (_, route) = statically(&proxy, "/ws/socket.io/");
    assert_eq!(route.rewrite, PathRewrite::Unchanged);
    assert!(route.upgrade.forwarded && route.upgrade.by_default);
    assert_eq!(route.target.as_ref().unwrap().port, Some(app.port));
    let report = lint_project(&proxy);
    assert_eq!(
        proxy_support::check(&report, "proxy.path").0,
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
fn caddy_read_timeout_shorter_than_the_ping_interval_cuts_the_websocket() {
    const NAME: &str = "caddy_read_timeout_shorter_than_the_ping_interval_cuts_the_websocket";
    // `transport http { read_timeout 2s }` is a deadline on every read from the upstream,
    // upgraded connections included: the first ping comes after 5 s.
    let app = need!(
        NAME,
        SioServer::start(1, &["--ping-interval", "5", "--ping-timeout", "5"])
    );
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\treverse_proxy /socket.io/* 127.0.0.1:{} {{\n\t\ttransport http {{\n\t\t\tread_timeout 2s\n\t\t}}\n\t}}\n}}\n",
        app.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "4"]);
    assert_eq!(run.status("ws.heartbeat"), "fail", "{}", run.stdout);
    assert!(
        run.message("ws.heartbeat")
            .contains("before the server's first ping")
    );
    // The fix names the proxy its answers name (`Server: Caddy`), in Caddy's own terms.
    let hint = run.hint("ws.heartbeat");
    assert!(hint.starts_with("Caddy (Server: Caddy)"), "{hint}");
    assert!(hint.contains("read_timeout"), "{hint}");
    assert!(!hint.contains("proxy_read_timeout"), "{hint}");

    let (_, route) = statically(&proxy, "/socket.io/");
    let idle = route.timeouts.websocket_idle().expect("read_timeout read");
    assert_eq!(idle.value, Duration::from_secs(2));
    assert_eq!(
        idle.span.as_ref().unwrap().line,
        line_of(&proxy, "read_timeout")
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    let (status, msg) = proxy_support::check(&report, "proxy.timeout");
    assert_eq!(status, "fail", "{report}");
    assert!(msg.contains("read (long-poll) timeout 2 s at "), "{msg}");
}

#[test]
fn caddy_without_read_timeout_keeps_the_websocket() {
    const NAME: &str = "caddy_without_read_timeout_keeps_the_websocket";
    // 10 s of silence each way between pong and ping (uvicorn's own websocket pings off):
    // nothing in Caddy cuts it.
    let app = need!(
        NAME,
        SioServer::start(
            1,
            &[
                "--ping-interval",
                "10",
                "--ping-timeout",
                "5",
                "--ws-ping-interval",
                "none"
            ]
        )
    );
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\treverse_proxy /socket.io/* 127.0.0.1:{}\n}}\n",
        app.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(T, &[&proxy.url(), "--rounds", "0", "--hold", "11"]);
    assert_eq!(run.status("ws.heartbeat"), "pass", "{}", run.stdout);

    let (_, route) = statically(&proxy, "/socket.io/");
    // Caddy has no read limit by default: nothing to compare with the ping interval.
    assert!(route.timeouts.websocket_idle().is_none());
    assert!(route.timeouts.unlimited.is_some());
    // No limit at all, by Caddy's documented default: the check passes and cites the docs.
    let report = proxy_support::lint_proxy_config(&proxy.config);
    let (status, msg) = proxy_support::check(&report, "proxy.timeout");
    assert_eq!(status, "pass", "{report}");
    assert!(msg.contains("no read timeout"), "{msg}");
    assert!(
        msg.contains("caddyserver.com/docs/caddyfile/directives/reverse_proxy"),
        "{msg}"
    );
}

#[test]
fn caddy_two_upstreams_with_the_default_random_policy_lose_polling_sessions() {
    const NAME: &str = "caddy_two_upstreams_with_the_default_random_policy_lose_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\treverse_proxy /socket.io/* 127.0.0.1:{} 127.0.0.1:{}\n}}\n",
        a.port, b.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(T, &[&proxy.url(), "--rounds", "20"]);
    assert_eq!(run.status("ws.sticky-session"), "fail", "{}", run.stdout);

    let (cfg, route) = statically(&proxy, "/socket.io/");
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    assert_eq!(group.active_servers().count(), 2);
    assert!(group.affinity.is_none(), "random: proxy.affinity fails");
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "fail",
        "{report}"
    );
}

#[test]
fn caddy_ip_hash_keeps_polling_sessions() {
    const NAME: &str = "caddy_ip_hash_keeps_polling_sessions";
    let a = need!(NAME, SioServer::start(1, &[]));
    let b = need!(NAME, SioServer::start(1, &[]));
    let text = format!(
        "{CADDY_GLOBAL}http://127.0.0.1:{{PORT}} {{\n\treverse_proxy /socket.io/* 127.0.0.1:{} 127.0.0.1:{} {{\n\t\tlb_policy ip_hash\n\t}}\n}}\n",
        a.port, b.port
    );
    let proxy = need!(NAME, proxy_support::caddy(&text));
    let run = run_ws(T, &[&proxy.url(), "--rounds", "20"]);
    assert_eq!(run.status("ws.sticky-session"), "pass", "{}", run.stdout);

    let (cfg, route) = statically(&proxy, "/socket.io/");
    let group = cfg.group(route.target.as_ref().unwrap()).unwrap();
    let affinity = group.affinity.as_ref().unwrap();
    assert_eq!(affinity.value, Affinity::ClientAddress);
    assert_eq!(
        affinity.span.as_ref().unwrap().line,
        line_of(&proxy, "lb_policy")
    );
    let report = proxy_support::lint_proxy_config(&proxy.config);
    assert_eq!(
        proxy_support::check(&report, "proxy.affinity").0,
        "pass",
        "{report}"
    );
    assert_eq!(
        proxy_support::check(&report, "proxy.upgrade").0,
        "pass",
        "{report}"
    );
}
