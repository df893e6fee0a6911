//! The `redis.*` checks: pure functions from [`RedisObservations`] to results. Every check
//! appears in every run; a check whose prerequisite failed is `skip` naming it.

pub mod auth;
pub mod clients;
pub mod connect;
pub mod idle;
pub mod pubsub;
pub mod server;
pub mod topology;

use std::time::Duration;

use crate::catalogue::Rule;
use crate::probe::redis::{CmdError, CmdErrorKind, RedisObservations};
use crate::report::CheckResult;

/// Every `redis.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &connect::CONNECT,
    &connect::TLS,
    &auth::AUTH,
    &auth::PING,
    &auth::DB_SELECT,
    &clients::MAXCLIENTS,
    &clients::TIMEOUT,
    &clients::CLIENT_LIST,
    &pubsub::PUBSUB,
    &server::LATENCY,
    &server::MEMORY,
    &server::VERSION,
    &topology::SENTINEL,
    &topology::CLUSTER,
];

/// What the deployment expects, when known: `--workers`, and the app's manager (built by
/// the command layer from the app's profile; the judges never read profiles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Processes that should each hold one subscription to the manager channel
    /// (`--workers`); wins over [`ManagerExpectation::processes`] when both are given.
    pub workers: Option<u32>,
    pub manager: Option<ManagerExpectation>,
}

/// When an app's worker subscribes its Socket.IO manager to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscribeTiming {
    /// At process start (Open WebUI 0.12: its lifespan calls `sio.manager.initialize()`,
    /// open_webui/main.py:424-428): 0 subscribers means the manager is not connected.
    Startup,
    /// With the worker's first client (python-socketio 5.x: the manager is initialised on
    /// the first Engine.IO connect, async_server.py:688-692 / server.py:652-656; so
    /// Flask-SocketIO too): a worker without a client yet has no subscription.
    FirstClient,
}

/// The Socket.IO manager an app runs, and what its subscriptions should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerExpectation {
    /// The app, for messages ("Open WebUI 0.12").
    pub app: String,
    /// Channels every process SUBSCRIBEs; the first is counted (`socketio` for
    /// python-socketio and Open WebUI, `flask-socketio` for Flask-SocketIO). The command
    /// layer passes it as `ProbeOptions::channel` too. Channels `<first>#…` (Open WebUI's
    /// room channels `socketio#/#<room>`) are reported, not counted.
    pub channels: Vec<String>,
    /// Patterns every process PSUBSCRIBEs (the Node adapter's `socket.io#/#*`): Redis
    /// counts pattern subscribers only per client, so they are evidence, not the count.
    pub patterns: Vec<String>,
    pub timing: SubscribeTiming,
    /// Socket.IO server processes in all (workers × replicas).
    pub processes: u32,
    /// Clients that connected to the app during this run (filled by `diagnose` from the ws
    /// probe; 0 when nothing connected or nothing was tried).
    pub clients_connected: u32,
}

pub use pubsub::reread_can_help;

/// Runs every `redis.*` check, in catalogue order.
pub fn run(obs: &RedisObservations, expect: &Expectations) -> Vec<CheckResult> {
    let subject = obs.target.clone();
    let results = vec![
        connect::connect(obs),
        connect::tls(obs),
        auth::auth(obs),
        auth::ping(obs),
        auth::db_select(obs),
        clients::maxclients(obs),
        clients::timeout(obs),
        clients::client_list(obs),
        pubsub::pubsub(obs, expect),
        server::latency(obs),
        server::memory(obs),
        server::version(obs),
        topology::sentinel(obs),
        topology::cluster(obs),
    ];
    results
        .into_iter()
        .map(|r| r.subject(subject.clone()))
        .collect()
}

/// The first error on the connection, if the server never answered usefully: no answer
/// (silent listener), connection closed, or a client-side failure.
pub(crate) fn first_error(obs: &RedisObservations) -> Option<&CmdError> {
    match (&obs.auth, &obs.ping) {
        (Some(Err(e)), _) => Some(e),
        (Some(Ok(())), Some(Err(e))) | (None, Some(Err(e))) => Some(e),
        _ => None,
    }
}

/// The first command (AUTH, else PING) got no answer: nothing came back within the budget,
/// or the server closed the connection without a word (a TLS port spoken to in plain text).
/// The TCP connection was made, so `redis.connect` passes; the check of that command
/// (`redis.auth` when AUTH was sent, else `redis.ping`) fails and names it.
pub(crate) fn unanswered(obs: &RedisObservations) -> Option<&CmdError> {
    first_error(obs)
        .filter(|e| matches!(e.kind, CmdErrorKind::Timeout | CmdErrorKind::Closed))
        .filter(|_| !matches!(obs.auth, Some(Ok(()))))
}

/// The server answered the first command with something that is not Redis (bytes that are
/// not RESP, a reply too large) or refused the connection on accept (protected mode): the
/// address does not lead to a usable Redis, judged by `redis.connect`.
pub(crate) fn not_redis(obs: &RedisObservations) -> Option<&CmdError> {
    first_error(obs)
        .filter(|e| {
            matches!(
                e.kind,
                CmdErrorKind::Client | CmdErrorKind::Protocol | CmdErrorKind::ProtectedMode
            )
        })
        // Only the very first exchange: a later failure is the command's own problem.
        .filter(|_| !matches!(obs.auth, Some(Ok(()))))
}

/// The message and hint of a first command that got no answer, for `redis.auth` /
/// `redis.ping`.
pub(crate) fn unanswered_finding(
    obs: &RedisObservations,
    e: &CmdError,
) -> (String, String, &'static str) {
    let peer = match &obs.connect {
        Some(Ok(c)) => c.peer.clone(),
        _ => obs.addr.clone(),
    };
    match e.kind {
        CmdErrorKind::Closed => (
            format!("{peer} accepted the TCP connection and closed it without an answer: {e}"),
            if obs.tls {
                "check that the port serves Redis over TLS".to_string()
            } else {
                "a Redis TLS port closes plain-text connections: try rediss://".to_string()
            },
            "closed",
        ),
        _ => (
            format!("{e}: {peer} accepted the TCP connection and never answered"),
            "something other than Redis listens there, a proxy holds the connection without \
             reaching Redis, or the server is stuck (a long command, a blocked main thread); \
             for a TLS port use rediss://"
                .to_string(),
            "no-answer",
        ),
    }
}
/// The server refused the connection with `ERR max number of clients reached`.
pub(crate) fn refused_max_clients(obs: &RedisObservations) -> bool {
    first_error(obs).is_some_and(|e| e.kind == CmdErrorKind::MaxClients)
}

/// The id of the check whose failure makes the live questions unanswerable, if any.
pub(crate) fn blocker(obs: &RedisObservations) -> Option<&'static str> {
    if obs.sentinel.is_some() && obs.connect.is_none() {
        return Some("redis.sentinel");
    }
    match &obs.connect {
        None | Some(Err(_)) => return Some("redis.connect"),
        Some(Ok(_)) => {}
    }
    if matches!(obs.tls_handshake, Some(Err(_))) {
        return Some("redis.tls");
    }
    if not_redis(obs).is_some() {
        return Some("redis.connect");
    }
    if refused_max_clients(obs) {
        return Some("redis.maxclients");
    }
    if matches!(obs.auth, Some(Err(_))) {
        return Some("redis.auth");
    }
    if let Some(Err(e)) = &obs.ping {
        return Some(match e.kind {
            CmdErrorKind::NoAuth | CmdErrorKind::NoPerm | CmdErrorKind::WrongPass => "redis.auth",
            _ => "redis.ping",
        });
    }
    if obs.ping.is_none() {
        return Some("redis.ping");
    }
    if matches!(obs.select, Some(Err(_))) {
        return Some("redis.db-select");
    }
    None
}

/// Why a command's answer is missing, for a `skip` message ("not permitted", "renamed",
/// "the budget ran out while waiting for CLIENT LIST").
pub(crate) fn unavailable(obs: &RedisObservations, what: &str, e: &CmdError) -> String {
    match e.kind {
        CmdErrorKind::NoPerm => format!("{what} is not permitted for this user (NOPERM: {e})"),
        CmdErrorKind::UnknownCommand => format!(
            "{what} is not available: the command is renamed or disabled \
             (`rename-command`, as managed Redis services do): {e}"
        ),
        CmdErrorKind::Timeout => match obs.ran_out_note() {
            Some(note) => format!("{what} not answered: {note}"),
            None => format!("{what} got no answer: {e}"),
        },
        _ => format!("{what} failed: {e}"),
    }
}

pub(crate) fn took(obs: &RedisObservations, step: &str) -> Duration {
    Duration::from_millis(obs.took_ms.get(step).copied().unwrap_or(0))
}

/// Commands the ACL refused (NOPERM) during the probe.
pub(crate) fn denied_commands(obs: &RedisObservations) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |name: &str, e: &CmdError| {
        if e.kind == CmdErrorKind::NoPerm && !out.iter().any(|o: &String| o == name) {
            out.push(name.to_string());
        }
    };
    if let Some(Err(e)) = &obs.info {
        push("INFO", e);
    }
    for r in obs.config.values() {
        if let Err(e) = r {
            push("CONFIG GET", e);
        }
    }
    if let Some(Err(e)) = &obs.client_list {
        push("CLIENT LIST", e);
    }
    if let Some(Err(e)) = &obs.pubsub {
        push("PUBSUB", e);
    }
    if let Some(c) = &obs.cluster
        && let Err(e) = &c.info
    {
        push("CLUSTER INFO", e);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::probe::redis::{ClusterObservation, Connected};
    use crate::report::Status;

    /// A connected, authenticated observation with the given INFO fields.
    fn ready(info: &[(&str, &str)]) -> RedisObservations {
        RedisObservations {
            target: "redis://h:6379/0".into(),
            addr: "h:6379".into(),
            connect: Some(Ok(Connected {
                peer: "10.0.0.2:6379".into(),
                resolved: vec!["10.0.0.2:6379".into()],
                took_ms: 1,
            })),
            ping: Some(Ok("PONG".into())),
            info: Some(Ok(info
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())),
            channel: "socketio".into(),
            ..RedisObservations::default()
        }
    }

    fn status_of(results: &[CheckResult], id: &str) -> Status {
        results
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.status)
            .expect("check present")
    }

    #[test]
    fn every_rule_reports_once_in_catalogue_order() {
        let results = run(&RedisObservations::default(), &Expectations::default());
        let ids: Vec<&str> = results.iter().map(|r| r.id).collect();
        let rules: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids, rules);
    }

    #[test]
    fn slow_latency_warns() {
        let mut obs = ready(&[]);
        obs.latency_us = Some(Ok(vec![12_000, 15_000, 11_000]));
        assert_eq!(server::latency(&obs).status, Status::Warn);
        obs.latency_us = Some(Ok(vec![200, 300, 40_000]));
        assert_eq!(server::latency(&obs).status, Status::Pass);
    }

    #[test]
    fn memory_near_maxmemory_warns() {
        let obs = ready(&[
            ("used_memory", "950"),
            ("maxmemory", "1000"),
            ("maxmemory_policy", "noeviction"),
        ]);
        let r = server::memory(&obs);
        assert_eq!(r.status, Status::Warn);
        assert!(r.message.contains("OOM"));
        let obs = ready(&[("used_memory", "100"), ("maxmemory", "0")]);
        assert_eq!(server::memory(&obs).status, Status::Pass);
    }

    #[test]
    fn replica_valkey_and_old_redis() {
        let obs = ready(&[("redis_version", "7.2.4"), ("role", "slave")]);
        assert_eq!(server::version(&obs).status, Status::Warn);
        let obs = ready(&[
            ("redis_version", "7.2.4"),
            ("valkey_version", "8.0.1"),
            ("server_name", "valkey"),
            ("role", "master"),
        ]);
        let r = server::version(&obs);
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.message, "Valkey 8.0.1, standalone, role master");
        let obs = ready(&[("redis_version", "5.0.7"), ("role", "master")]);
        assert_eq!(server::version(&obs).status, Status::Warn);
    }

    #[test]
    fn cluster_with_missing_slots_fails() {
        let mut obs = ready(&[("cluster_enabled", "1")]);
        let info: BTreeMap<String, String> = [
            ("cluster_state", "fail"),
            ("cluster_slots_assigned", "10923"),
            ("cluster_slots_ok", "10923"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        obs.cluster = Some(ClusterObservation {
            info: Ok(info),
            nodes: Ok(Vec::new()),
            reach: Vec::new(),
        });
        assert_eq!(
            status_of(&run(&obs, &Expectations::default()), "redis.cluster"),
            Status::Fail
        );
    }

    #[test]
    fn maxclients_thresholds() {
        let mut obs = ready(&[("connected_clients", "96")]);
        obs.config.insert("maxclients".into(), Ok("100".into()));
        assert_eq!(clients::maxclients(&obs).status, Status::Fail);
        let mut obs = ready(&[("connected_clients", "79")]);
        obs.config.insert("maxclients".into(), Ok("100".into()));
        assert_eq!(clients::maxclients(&obs).status, Status::Pass);
        // Neither CONFIG nor INFO knows the limit (Redis 6 with CONFIG renamed).
        let mut obs = ready(&[("connected_clients", "5")]);
        obs.config.insert(
            "maxclients".into(),
            Err(CmdError::new(
                CmdErrorKind::UnknownCommand,
                "ERR unknown command 'CONFIG'",
            )),
        );
        let r = clients::maxclients(&obs);
        assert_eq!(r.status, Status::Skip);
        assert!(r.message.contains("renamed"), "{}", r.message);
    }
}

#[cfg(test)]
mod protected_mode_tests {
    use super::*;
    use crate::probe::redis::Connected;
    use crate::report::Status;

    #[test]
    fn protected_mode_refusal_is_a_connect_failure() {
        let obs = RedisObservations {
            connect: Some(Ok(Connected {
                peer: "172.18.0.3:6379".into(),
                resolved: vec!["172.18.0.3:6379".into()],
                took_ms: 0,
            })),
            ping: Some(Err(CmdError::new(
                CmdErrorKind::ProtectedMode,
                "DENIED Redis is running in protected mode",
            ))),
            ..RedisObservations::default()
        };
        let results = run(&obs, &Expectations::default());
        assert_eq!(results[0].status, Status::Fail);
        assert_eq!(results[0].evidence["stage"], "protected-mode");
        assert!(results[1..].iter().all(|r| r.status == Status::Skip));
    }
}
