//! Correlation: which finding explains which.
//!
//! The checks judge one layer each (files, Redis, the app, Docker) and know nothing of one
//! another. A real fault shows in several layers at once — a wrong Redis host in the files is
//! also a Redis probe that cannot run and, for Open WebUI, a Socket.IO CONNECT that is never
//! answered — and a report that lists them as three problems sends the reader to the wrong
//! one. This module holds the rules that tie a consequence to its cause. Each rule is one
//! function of the form "finding X explains (or skips) Y when …", stated in its doc comment
//! and tested below; [`RULES`] lists them in the order they apply.
//!
//! A rule never invents a finding and never hides one: it sets `caused_by` on the consequence
//! (the fix list then gives one item per root cause), adds the cause's sentence to the
//! consequence's message, and — only where the consequence says nothing on its own — turns it
//! into a `skip` that names the cause. Rules read statuses, ids, subjects and evidence keys;
//! they never re-judge observations.

use crate::report::{CheckResult, Status, cause_ref};

/// What the rules need to know about the app behind the live probes, from its profile.
#[derive(Debug, Clone, Default)]
pub struct AppTraits {
    /// The app's name for messages ("Open WebUI").
    pub name: Option<String>,
    /// The app answers a Socket.IO CONNECT only once its Redis manager is connected (Open
    /// WebUI's connect handler awaits the manager), so a broken Redis shows up as a CONNECT
    /// that is never answered.
    pub connect_waits_for_manager: bool,
    /// Workers subscribe to the manager channel with their first client (python-socketio,
    /// Flask-SocketIO), not at startup. (The pubsub judge itself weighs the count against the
    /// Engine.IO sessions the app probe opened; no rule here needs it yet.)
    pub subscribes_with_first_client: bool,
}

/// A correlation rule: adjusts `results` in place.
pub type Rule = fn(&mut [CheckResult], &AppTraits);

/// Every rule, in the order they apply (causes settled before what they explain).
pub const RULES: &[(&str, Rule)] = &[
    ("redis-timeout-advice-once", live_timeout_explained_by_files),
    ("redis-password-in-files", live_auth_explained_by_files),
    (
        "connect-waits-for-redis",
        connect_unanswered_explained_by_redis,
    ),
    ("sticky-explained-by-files", sticky_explained_by_files),
    (
        "dropped-upgrade-at-location",
        dropped_upgrade_explained_by_proxy_files,
    ),
    ("bad-gateway-names-upstream", bad_gateway_names_the_upstream),
    ("proxy-files-not-running", live_proxy_differs_from_files),
    (
        "listen-host-explains-unreachable",
        unreachable_explained_by_listen_host,
    ),
];

/// Applies every rule.
pub fn apply(results: &mut [CheckResult], app: &AppTraits) {
    for (_, rule) in RULES {
        rule(results, app);
    }
}

/// Config checks whose failure makes the app's Redis URL unusable as written: probing that
/// URL would only repeat the same failure, less clearly. The live Redis probe is not run when
/// one of them fails for the app's service; its checks skip because of it.
pub const URL_PREREQUISITES: &[&str] = &[
    "config.redis-url-syntax",
    "config.redis-url-unencoded",
    "config.redis-url-host",
    "config.redis-url-loopback",
    "config.redis-url-port",
    "config.websocket-redis-url",
];

/// The config check (of `service`) that blocks the live Redis probe, if any.
pub fn redis_probe_blocked_by(config: &[CheckResult], service: &str) -> Option<&'static str> {
    URL_PREREQUISITES.iter().copied().find(|id| {
        config.iter().any(|c| {
            c.id == *id
                && c.status == Status::Fail
                && c.counts()
                && c.subject.as_deref() == Some(service)
        })
    })
}

/// Failing or warning, and not suppressed.
fn fired(r: &CheckResult) -> bool {
    matches!(r.status, Status::Fail | Status::Warn) && r.counts()
}

fn index_of(
    results: &[CheckResult],
    id: &str,
    pred: impl Fn(&CheckResult) -> bool,
) -> Option<usize> {
    results.iter().position(|r| r.id == id && pred(r))
}

/// Marks `results[effect]` as explained by `results[cause]`: `caused_by`, the cause's
/// sentence appended, the cause's fix taken over (one fix per root cause).
fn explain(results: &mut [CheckResult], effect: usize, cause: usize, why: &str) {
    let (cause_id, cause_subject, cause_msg, cause_hint) = {
        let c = &results[cause];
        (c.id, c.subject.clone(), c.message.clone(), c.hint.clone())
    };
    let e = &mut results[effect];
    if e.caused_by.is_some() {
        return;
    }
    e.caused_by = Some(cause_ref(cause_id, cause_subject.as_deref()));
    e.message
        .push_str(&format!("\n{why} ({cause_id}): {cause_msg}"));
    if cause_hint.is_some() {
        e.hint = cause_hint;
    }
    e.evidence.insert("cause".to_string(), cause_id.into());
}

/// `config.redis-timeout` explains `redis.timeout` when both fire: the files set the
/// `timeout` the live server reports, and the advice (set a timeout) is the same; it is given
/// once, at the file line that sets it.
fn live_timeout_explained_by_files(results: &mut [CheckResult], _: &AppTraits) {
    let Some(cause) = index_of(results, "config.redis-timeout", fired) else {
        return;
    };
    if let Some(effect) = index_of(results, "redis.timeout", fired) {
        explain(results, effect, cause, "The files set it");
    }
}

/// `config.redis-url-password` explains a failing `redis.auth` when both fail: the password
/// the app is given is not the one its Redis requires, as the files already show.
fn live_auth_explained_by_files(results: &mut [CheckResult], _: &AppTraits) {
    let Some(cause) = index_of(results, "config.redis-url-password", |r| {
        r.status == Status::Fail && r.counts()
    }) else {
        return;
    };
    if let Some(effect) = index_of(results, "redis.auth", |r| r.status == Status::Fail) {
        explain(results, effect, cause, "The files explain it");
    }
}

/// Redis explains a Socket.IO CONNECT that was never answered, when the app answers CONNECT
/// only once its Redis manager is connected (Open WebUI): the cause is the first of
///   1. a config check that makes the manager's URL unusable (`URL_PREREQUISITES`,
///      `config.redis-url-password`, the Sentinel checks),
///   2. a failing live Redis check (`redis.connect`, `redis.auth`, `redis.ping`,
///      `redis.db-select`),
///   3. `redis.pubsub` failing with no subscriber at all.
fn connect_unanswered_explained_by_redis(results: &mut [CheckResult], app: &AppTraits) {
    if !app.connect_waits_for_manager {
        return;
    }
    let Some(effect) = index_of(results, "ws.socketio-connect", |r| {
        r.status != Status::Pass
            && r.evidence.get("unanswered").and_then(|v| v.as_bool()) == Some(true)
    }) else {
        return;
    };
    let config_causes = URL_PREREQUISITES.iter().copied().chain([
        "config.redis-url-password",
        "config.websocket-sentinel",
        "config.websocket-manager",
    ]);
    let live_causes = [
        "redis.connect",
        "redis.auth",
        "redis.ping",
        "redis.db-select",
    ];
    let failing = |results: &[CheckResult], id: &str| {
        index_of(results, id, |r| r.status == Status::Fail && r.counts())
    };
    let cause = config_causes
        .chain(live_causes)
        .find_map(|id| failing(results, id))
        .or_else(|| {
            index_of(results, "redis.pubsub", |r| {
                r.status == Status::Fail
                    && r.evidence.get("subscribers").and_then(|v| v.as_i64()) == Some(0)
            })
        });
    let Some(cause) = cause else { return };
    let name = app.name.as_deref().unwrap_or("The app");
    let why = format!(
        "{name} answers CONNECT only once its Redis manager is connected; Redis explains it"
    );
    explain(results, effect, cause, &why);
    // Unanswered because of Redis: a failure of the deployment, whatever the judge said.
    results[effect].status = Status::Fail;
}

/// `config.polling-multi-worker` explains a failing `ws.sticky-session`: the files put the
/// polling transport on several workers without sticky sessions. The config finding may be a
/// warning (apps whose transports are set in code the files do not show); the live test
/// settles it, and the fix is the config finding's.
fn sticky_explained_by_files(results: &mut [CheckResult], _: &AppTraits) {
    let Some(cause) = index_of(results, "config.polling-multi-worker", fired) else {
        return;
    };
    if let Some(effect) = index_of(results, "ws.sticky-session", |r| r.status == Status::Fail) {
        explain(results, effect, cause, "The files explain it");
    }
}

/// The live probe saw a proxy drop the Upgrade: `ws.websocket-handshake` failed with the
/// app's answer to a plain GET ("Invalid websocket upgrade", the message says the proxy
/// "dropped the Upgrade and Connection headers").
fn dropped_upgrade(r: &CheckResult) -> bool {
    r.id == "ws.websocket-handshake"
        && r.status == Status::Fail
        && r.message
            .contains("dropped the Upgrade and Connection headers")
}

/// The live probe got the proxy's own 502 page: the proxy runs but cannot reach its upstream.
fn bad_gateway(r: &CheckResult) -> bool {
    r.status == Status::Fail
        && ((r.id == "ws.http-reachable"
            && r.evidence.get("proxy_error_page") == Some(&true.into())
            && r.message.contains("502"))
            || (r.id == "ws.websocket-handshake" && r.message.starts_with("HTTP 502")))
}

fn at(r: &CheckResult) -> String {
    match &r.location {
        Some(l) => match l.line {
            Some(line) => format!("{}:{line}", l.file),
            None => l.file.clone(),
        },
        None => "the proxy configuration".to_string(),
    }
}

/// `proxy.upgrade` explains a dropped upgrade: when the live handshake shows the signature
/// and the files' socket.io location lacks the headers, the live finding names that
/// location's file:line and takes its fix.
fn dropped_upgrade_explained_by_proxy_files(results: &mut [CheckResult], _: &AppTraits) {
    let Some(cause) = index_of(results, "proxy.upgrade", fired) else {
        return;
    };
    if let Some(effect) = results.iter().position(dropped_upgrade) {
        let why = format!(
            "The location that serves the socket.io path lacks the headers, at {}",
            at(&results[cause])
        );
        explain(results, effect, cause, &why);
    }
}

/// A live 502 names the upstream line: when the proxy answers 502, the `proxy.upstream`
/// finding (failing: it explains the 502; passing: the line the proxy should be connecting
/// to) is named in the live finding.
fn bad_gateway_names_the_upstream(results: &mut [CheckResult], _: &AppTraits) {
    let Some(effect) = results.iter().position(bad_gateway) else {
        return;
    };
    if let Some(upstream) = index_of(results, "proxy.upstream", fired) {
        let why = format!(
            "The proxy's upstream in the files is wrong, at {}",
            at(&results[upstream])
        );
        explain(results, effect, upstream, &why);
        return;
    }
    // Not judged wrong: name the line the proxy sends to (`proxy.path` records it).
    let Some((where_, upstream)) = results.iter().find_map(|r| {
        let line = r.evidence.get("upstream_at")?.as_str()?;
        let to = r.evidence.get("upstream")?.as_str()?;
        (r.id == "proxy.path" && !line.is_empty()).then(|| (line.to_string(), to.to_string()))
    }) else {
        return;
    };
    let line = format!(
        "\nThe files send it to `{upstream}` at {where_}: nothing answers there; if the app \
         runs and listens there, the running proxy does not use these files (not reloaded? \
         another proxy in front?)"
    );
    let e = &mut results[effect];
    e.message.push_str(&line);
    e.evidence
        .insert("proxy_upstream".to_string(), where_.into());
}

/// The files are right but the live proxy is not: every `proxy.*` check that judged the
/// socket.io route passed, yet the live handshake shows the dropped-upgrade signature. The
/// proxy that answers is not running these files.
fn live_proxy_differs_from_files(results: &mut [CheckResult], _: &AppTraits) {
    let Some(upgrade) = index_of(results, "proxy.upgrade", |r| {
        r.status == Status::Pass && r.counts()
    }) else {
        return;
    };
    if results
        .iter()
        .any(|r| r.id.starts_with("proxy.") && fired(r) && r.id != "proxy.timeout")
    {
        return;
    }
    let Some(effect) = results
        .iter()
        .position(|r| dropped_upgrade(r) && r.caused_by.is_none())
    else {
        return;
    };
    let line = format!(
        "\nThe proxy files forward the upgrade ({}), yet the live proxy dropped it: the \
         running proxy does not use these files (not reloaded? another proxy in front?)",
        at(&results[upgrade])
    );
    let e = &mut results[effect];
    e.message.push_str(&line);
    e.hint = Some(
        "reload the proxy with these files (docker compose up -d --force-recreate PROXY, or \
         nginx -s reload), and check what answers in front of it (the Server header)"
            .to_string(),
    );
    e.evidence
        .insert("proxy_files_not_running".to_string(), true.into());
}

/// `config.app-listen-host` explains a failing `ws.http-reachable` that was refused, or that
/// a proxy or ingress answered with its own 502/503 page: the files bind the app to its
/// container's loopback, which nothing outside the container reaches (measured on the real
/// Chainlit 2.12 and uvicorn 0.54: bound to 127.0.0.1, a connection from another address is
/// refused; tests/real_listen_host.rs).
fn unreachable_explained_by_listen_host(results: &mut [CheckResult], _: &AppTraits) {
    let Some(cause) = index_of(results, "config.app-listen-host", |r| {
        r.status == Status::Fail && r.counts()
    }) else {
        return;
    };
    let refused_or_proxy_page = |r: &CheckResult| {
        r.status == Status::Fail
            && (r.evidence.get("error_kind").and_then(|v| v.as_str()) == Some("refused")
                || r.evidence.get("proxy_error_page").and_then(|v| v.as_bool()) == Some(true))
    };
    if let Some(effect) = index_of(results, "ws.http-reachable", refused_or_proxy_page) {
        explain(results, effect, cause, "The files explain it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find;

    fn result(id: &str, status: Status) -> CheckResult {
        let rule = find(id).unwrap_or_else(|| panic!("no rule {id}"));
        let r = match status {
            Status::Pass => rule.pass("ok"),
            Status::Warn => rule.warn(format!("{id} warns")),
            Status::Fail => rule.fail(format!("{id} fails")),
            Status::Skip => rule.skip("n/a"),
        };
        r.hint(format!("fix for {id}"))
    }

    fn open_webui() -> AppTraits {
        AppTraits {
            name: Some("Open WebUI".into()),
            connect_waits_for_manager: true,
            subscribes_with_first_client: false,
        }
    }

    fn python_socketio() -> AppTraits {
        AppTraits {
            name: None,
            connect_waits_for_manager: false,
            subscribes_with_first_client: true,
        }
    }

    fn dropped() -> CheckResult {
        with_message(
            result("ws.websocket-handshake", Status::Fail),
            "HTTP 400 \"Invalid websocket upgrade\" (Server: nginx/1.22.1): the app received a \
             plain GET; nginx/1.22.1 dropped the Upgrade and Connection headers",
        )
    }

    fn with_message(mut r: CheckResult, message: &str) -> CheckResult {
        r.message = message.to_string();
        r
    }

    fn at_line(r: CheckResult, line: u32) -> CheckResult {
        r.at(Some(crate::report::Location {
            file: "nginx.conf".into(),
            line: Some(line),
            column: Some(5),
        }))
    }

    #[test]
    fn a_dropped_upgrade_names_the_location_lacking_the_headers() {
        let mut rs = vec![
            at_line(result("proxy.upgrade", Status::Fail), 12),
            dropped(),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by.as_deref(), Some("proxy.upgrade"));
        assert!(
            rs[1].message.contains("at nginx.conf:12"),
            "{}",
            rs[1].message
        );
        assert_eq!(rs[1].hint.as_deref(), Some("fix for proxy.upgrade"));
    }

    #[test]
    fn a_502_names_the_upstream_line() {
        let bad = || {
            with_message(
                result("ws.http-reachable", Status::Fail),
                "nginx/1.22.1 answered HTTP 502 Bad Gateway in 1 ms",
            )
            .evidence("proxy_error_page", true)
        };
        let mut rs = vec![at_line(result("proxy.upstream", Status::Fail), 3), bad()];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by.as_deref(), Some("proxy.upstream"));
        assert!(rs[1].message.contains("nginx.conf:3"), "{}", rs[1].message);
        let path = result("proxy.path", Status::Pass)
            .evidence("upstream_at", "nginx.conf:4")
            .evidence("upstream", "http://app:8000");
        let mut rs = vec![result("proxy.upstream", Status::Pass), path, bad()];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[2].caused_by, None);
        assert!(
            rs[2].message.contains("`http://app:8000` at nginx.conf:4"),
            "{}",
            rs[2].message
        );
        assert!(rs[2].message.contains("does not use these files"));
    }

    #[test]
    fn right_files_and_a_failing_probe_mean_the_files_are_not_running() {
        let mut rs = vec![
            at_line(result("proxy.upgrade", Status::Pass), 7),
            result("proxy.path", Status::Pass),
            dropped(),
        ];
        apply(&mut rs, &python_socketio());
        assert!(
            rs[2]
                .message
                .contains("the running proxy does not use these files"),
            "{}",
            rs[2].message
        );
        assert!(rs[2].message.contains("nginx.conf:7"));
        // Not said when a proxy check fired: that finding is the explanation.
        let mut rs = vec![
            at_line(result("proxy.upgrade", Status::Pass), 7),
            result("proxy.path", Status::Fail),
            dropped(),
        ];
        apply(&mut rs, &python_socketio());
        assert!(!rs[2].message.contains("does not use these files"));
    }

    fn unanswered_connect() -> CheckResult {
        result("ws.socketio-connect", Status::Fail).evidence("unanswered", true)
    }

    #[test]
    fn polling_config_explains_a_failing_sticky_test() {
        let mut rs = vec![
            result("config.polling-multi-worker", Status::Fail),
            result("ws.sticky-session", Status::Fail),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(
            rs[1].caused_by.as_deref(),
            Some("config.polling-multi-worker")
        );
        assert_eq!(
            rs[1].hint.as_deref(),
            Some("fix for config.polling-multi-worker")
        );
        assert!(rs[1].message.contains("The files explain it"));
        assert_eq!(rs[1].status, Status::Fail, "a consequence keeps its status");
    }

    #[test]
    fn a_polling_warning_explains_a_failing_sticky_test_too() {
        // python-socketio's transports are set in code: the files can only warn.
        let mut rs = vec![
            result("config.polling-multi-worker", Status::Warn),
            result("ws.sticky-session", Status::Fail),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(
            rs[1].caused_by.as_deref(),
            Some("config.polling-multi-worker")
        );
        assert_eq!(rs[1].status, Status::Fail);
    }

    #[test]
    fn a_loopback_listen_host_explains_a_refused_or_proxied_probe() {
        for (key, value) in [
            ("error_kind", serde_json::Value::from("refused")),
            ("proxy_error_page", serde_json::Value::from(true)),
        ] {
            let mut rs = vec![
                result("config.app-listen-host", Status::Fail),
                result("ws.http-reachable", Status::Fail).evidence(key, value),
            ];
            apply(&mut rs, &python_socketio());
            assert_eq!(rs[1].caused_by.as_deref(), Some("config.app-listen-host"));
            assert_eq!(
                rs[1].hint.as_deref(),
                Some("fix for config.app-listen-host")
            );
        }
        // A DNS failure is not the listen host's doing.
        let mut rs = vec![
            result("config.app-listen-host", Status::Fail),
            result("ws.http-reachable", Status::Fail).evidence("error_kind", "dns"),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by, None);
    }

    #[test]
    fn a_passing_config_explains_nothing() {
        let mut rs = vec![
            result("config.polling-multi-worker", Status::Pass),
            result("ws.sticky-session", Status::Fail),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by, None);
        assert_eq!(rs[1].hint.as_deref(), Some("fix for ws.sticky-session"));
    }

    #[test]
    fn a_suppressed_cause_explains_nothing() {
        let mut cause = result("config.polling-multi-worker", Status::Fail);
        cause.suppressed = Some(crate::report::Suppression {
            kind: "cli",
            reason: None,
            location: None,
        });
        let mut rs = vec![cause, result("ws.sticky-session", Status::Fail)];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by, None);
    }

    #[test]
    fn the_timeout_advice_is_given_once_at_the_file() {
        let mut rs = vec![
            result("config.redis-timeout", Status::Warn),
            result("redis.timeout", Status::Warn),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by.as_deref(), Some("config.redis-timeout"));
        assert_eq!(rs[0].caused_by, None);
    }

    #[test]
    fn wrong_password_in_files_explains_the_live_auth_failure() {
        let mut rs = vec![
            result("config.redis-url-password", Status::Fail),
            result("redis.auth", Status::Fail),
        ];
        apply(&mut rs, &python_socketio());
        assert_eq!(
            rs[1].caused_by.as_deref(),
            Some("config.redis-url-password")
        );
    }

    #[test]
    fn redis_in_the_files_explains_an_unanswered_open_webui_connect() {
        let mut rs = vec![
            result("config.redis-url-host", Status::Fail),
            result("redis.connect", Status::Skip),
            unanswered_connect(),
        ];
        apply(&mut rs, &open_webui());
        assert_eq!(rs[2].caused_by.as_deref(), Some("config.redis-url-host"));
        assert_eq!(rs[2].status, Status::Fail);
        assert!(
            rs[2]
                .message
                .contains("Open WebUI answers CONNECT only once")
        );
        assert_eq!(rs[2].hint.as_deref(), Some("fix for config.redis-url-host"));
    }

    #[test]
    fn live_redis_explains_an_unanswered_open_webui_connect() {
        for cause in ["redis.connect", "redis.auth", "redis.ping"] {
            let mut rs = vec![result(cause, Status::Fail), unanswered_connect()];
            apply(&mut rs, &open_webui());
            assert_eq!(rs[1].caused_by.as_deref(), Some(cause));
        }
        let mut rs = vec![
            result("redis.pubsub", Status::Fail).evidence("subscribers", 0),
            unanswered_connect(),
        ];
        apply(&mut rs, &open_webui());
        assert_eq!(rs[1].caused_by.as_deref(), Some("redis.pubsub"));
    }

    #[test]
    fn an_unanswered_connect_stays_unexplained_without_a_redis_finding_or_for_other_apps() {
        let mut rs = vec![result("redis.connect", Status::Pass), unanswered_connect()];
        apply(&mut rs, &open_webui());
        assert_eq!(rs[1].caused_by, None);

        let mut rs = vec![result("redis.connect", Status::Fail), unanswered_connect()];
        apply(&mut rs, &python_socketio());
        assert_eq!(rs[1].caused_by, None);

        // Answered (refused) CONNECTs are not about Redis.
        let mut rs = vec![
            result("redis.connect", Status::Fail),
            result("ws.socketio-connect", Status::Fail),
        ];
        apply(&mut rs, &open_webui());
        assert_eq!(rs[1].caused_by, None);
    }

    #[test]
    fn the_redis_probe_is_blocked_by_the_services_own_url_finding() {
        let host = result("config.redis-url-host", Status::Fail).subject("open-webui");
        let other = result("config.redis-url-port", Status::Fail).subject("worker");
        let config = vec![other, host];
        assert_eq!(
            redis_probe_blocked_by(&config, "open-webui"),
            Some("config.redis-url-host")
        );
        assert_eq!(
            redis_probe_blocked_by(&config, "worker"),
            Some("config.redis-url-port")
        );
        assert_eq!(redis_probe_blocked_by(&config, "nobody"), None);
    }
}
