//! `redis.maxclients`, `redis.timeout`, `redis.client-list`: connections piling up.

use std::collections::HashMap;

use serde::Serialize;

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{ClientEntry, RedisObservations};
use crate::report::CheckResult;

use super::idle::{IdlePolicy, TIMEOUT_FIX};
use super::{blocker, refused_max_clients, took, unavailable};

/// Share of `maxclients` in use from which `redis.maxclients` warns / fails.
pub const WARN_RATIO: f64 = 0.80;
pub const FAIL_RATIO: f64 = 0.95;

pub static MAXCLIENTS: Rule = Rule {
    id: "redis.maxclients",
    severity: Severity::Error,
    title: "Connections stay below maxclients",
    summary: "Compares connected clients (INFO) with `maxclients` (CONFIG GET, or INFO on \
              Redis ≥ 7 when CONFIG is renamed or forbidden, saying which): warns at 80 %, \
              fails at 95 % or when the server already refuses connections.",
    why: "At `maxclients` Redis accepts a new connection only to answer `ERR max number of \
          clients reached` and close it: every worker restart, login and reconnect then \
          fails. With `timeout 0` idle connections are never closed, so the count only grows \
          until it gets there.",
    fix: "Find who holds the connections (redis.client-list), fix the leak, set `timeout \
          1800` so idle ones are reaped, and raise `maxclients` (and the container's \
          `ulimit -n`) if the load is real.",
};

pub fn maxclients(obs: &RedisObservations) -> CheckResult {
    if refused_max_clients(obs) {
        return MAXCLIENTS
            .fail(
                "the server refused the probe's connection: ERR max number of clients reached \
                 (every new connection is refused)",
            )
            .hint(
                "free connections now (restart the leaking clients), then set `timeout 1800` \
                 and find the leak with `wsdoctor redis` once a connection is possible",
            )
            .evidence("refused", true);
    }
    if let Some(id) = blocker(obs) {
        return MAXCLIENTS.skip_because(id);
    }
    let (limit, source, config_error) = match obs.config.get("maxclients") {
        Some(Ok(v)) => (v.parse::<u64>().ok(), "CONFIG GET maxclients", None),
        other => {
            let err = match other {
                Some(Err(e)) => Some(unavailable(obs, "CONFIG GET maxclients", e)),
                _ => Some("CONFIG GET maxclients was not asked".to_string()),
            };
            (
                obs.info_field("maxclients")
                    .and_then(|v| v.parse::<u64>().ok()),
                "INFO clients (CONFIG not readable)",
                err,
            )
        }
    };
    let connected = obs
        .info_field("connected_clients")
        .and_then(|v| v.parse::<u64>().ok())
        .or(match &obs.client_list {
            Some(Ok(l)) => Some(l.len() as u64),
            _ => None,
        });
    let (Some(limit), Some(connected)) = (limit, connected) else {
        let mut why = Vec::new();
        if limit.is_none() {
            why.push(format!(
                "maxclients unknown ({}; INFO has no maxclients before Redis 7)",
                config_error.unwrap_or_else(|| "unreadable".to_string())
            ));
        }
        if connected.is_none() {
            why.push("connected clients unknown (INFO and CLIENT LIST not readable)".to_string());
        }
        return MAXCLIENTS.skip(why.join("; "));
    };
    let ratio = if limit == 0 {
        1.0
    } else {
        connected as f64 / limit as f64
    };
    let pct = (ratio * 100.0).round();
    let message = format!(
        "{connected} of {limit} connections in use ({pct}%, this probe included); maxclients \
         from {source}"
    );
    let result = if ratio >= FAIL_RATIO {
        MAXCLIENTS
            .fail(message)
            .hint("new connections will soon get `ERR max number of clients reached`: see redis.client-list for who holds them")
    } else if ratio >= WARN_RATIO {
        MAXCLIENTS
            .warn(message)
            .hint("close to the limit: find idle connections (redis.client-list), set `timeout 1800`, or raise maxclients")
    } else {
        MAXCLIENTS.pass(message)
    };
    let result = result
        .evidence("connected_clients", connected)
        .evidence("maxclients", limit)
        .evidence("source", source)
        .evidence("used_percent", pct);
    match config_error {
        Some(e) if source.starts_with("INFO") => result.evidence("config_error", e),
        _ => result,
    }
}

pub static TIMEOUT: Rule = Rule {
    id: "redis.timeout",
    severity: Severity::Warning,
    title: "Idle connections are closed (timeout)",
    summary: "Reads `timeout` with CONFIG GET: `0` (the default) never closes idle client \
              connections; with `maxclients` below the default of 10000 the finding names \
              both (the rule config.redis-timeout and docker.redis-command apply, with the \
              same fix). Skipped, with the reason, when CONFIG is renamed or forbidden.",
    why: "With `timeout 0` every connection a crashed or leaking client leaves behind stays \
          forever; over weeks they reach `maxclients` and every new connection gets `ERR max \
          number of clients reached`. Redis does not apply `timeout` to pub/sub subscribers \
          (nor to replicas or blocked clients), so the Socket.IO manager's listener is never \
          cut by it.",
    fix: "Set `timeout 1800` (redis.conf, or `--timeout 1800` in the compose `command:`). It \
          is safe: pub/sub listeners are exempt, and connection pools (redis-py, ioredis) \
          reconnect a closed idle connection transparently on next use. Raising \
          `maxclients` alone only delays the outage.",
};

pub fn timeout(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return TIMEOUT.skip_because(id);
    }
    match obs.config.get("timeout") {
        Some(Ok(v)) => match v.parse::<u64>() {
            Ok(0) => {
                let maxclients = live_maxclients(obs);
                let policy = IdlePolicy::of(0, maxclients);
                TIMEOUT
                    .fire(policy.finding().unwrap_or_default())
                    .hint(TIMEOUT_FIX)
                    .evidence("timeout", 0)
                    .evidence("maxclients", maxclients)
                    .evidence("source", "CONFIG GET timeout")
            }
            Ok(n) => TIMEOUT
                .pass(format!("idle connections are closed after {n} s"))
                .evidence("timeout", n)
                .evidence("source", "CONFIG GET timeout"),
            Err(_) => TIMEOUT.skip(format!("CONFIG GET timeout returned '{v}', not a number")),
        },
        Some(Err(e)) => TIMEOUT
            .skip(format!(
                "timeout unknown: {} (INFO does not report it)",
                unavailable(obs, "CONFIG GET timeout", e)
            ))
            .evidence("error", serde_json::to_value(e.kind).unwrap_or_default()),
        None => TIMEOUT.skip("timeout unknown: CONFIG GET was not answered"),
    }
}

/// `maxclients` as the server reports it (CONFIG GET, else INFO on Redis ≥ 7).
fn live_maxclients(obs: &RedisObservations) -> Option<u64> {
    obs.config_value("maxclients")
        .or_else(|| obs.info_field("maxclients"))
        .and_then(|v| v.parse().ok())
}

/// Connections idle longer than this (seconds) count as long-idle.
pub const LONG_IDLE_SECS: u64 = 3600;
/// A source holding at least this many long-idle connections is a probable leak.
pub const LEAK_MIN_CONNECTIONS: usize = 20;
/// An ordinary connection idle this long (seconds) is not serving the current load.
pub const UNUSED_IDLE_SECS: u64 = 10;
/// Under `timeout 0`, a source holding at least this many unused connections…
pub const ACCUMULATING_MIN_CONNECTIONS: usize = 100;
/// …that are also at least this share of `maxclients` is accumulating connections nothing
/// will close (the seed's failure: 200 idle connections from one app container under
/// `timeout 0` on the way to `max number of clients reached`).
pub const ACCUMULATING_SHARE_OF_MAXCLIENTS: f64 = 0.01;

#[derive(Debug, Clone, Default, Serialize)]
pub struct IdleBuckets {
    pub under_1m: usize,
    pub from_1m_to_1h: usize,
    pub over_1h: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceCount {
    pub source: String,
    pub connections: usize,
    /// Non-subscriber connections idle more than an hour.
    pub idle_over_1h: usize,
    /// Non-subscriber connections idle [`UNUSED_IDLE_SECS`] or more.
    pub unused: usize,
}

/// What `CLIENT LIST` says about the clients (the probe itself left out).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientListSummary {
    pub total: usize,
    /// Pub/sub subscribers (sub/psub > 0): the Socket.IO managers' listeners.
    pub subscribers: usize,
    /// Replica and monitor links.
    pub internal: usize,
    /// Idle distribution of ordinary clients (not subscribers, not internal).
    pub idle: IdleBuckets,
    /// The sources with the most connections (at most 5).
    pub top_sources: Vec<SourceCount>,
    /// Sources with at least [`LEAK_MIN_CONNECTIONS`] long-idle ordinary connections.
    pub leaking: Vec<SourceCount>,
    /// Sources with at least [`ACCUMULATING_MIN_CONNECTIONS`] unused ordinary connections,
    /// most first (whether that is a finding depends on `timeout` and `maxclients`).
    pub holding_unused: Vec<SourceCount>,
}

/// Summarises a client list in one pass plus a sort of the distinct sources (10 000 clients:
/// well under the 50 ms budget; benches/redis.rs).
pub fn summarize(clients: &[ClientEntry], own_id: Option<u64>) -> ClientListSummary {
    let mut s = ClientListSummary::default();
    let mut by_source: HashMap<&str, (usize, usize, usize)> = HashMap::new();
    for c in clients {
        if Some(c.id) == own_id {
            continue;
        }
        s.total += 1;
        let entry = by_source.entry(c.source.as_str()).or_insert((0, 0, 0));
        entry.0 += 1;
        if c.is_internal() {
            s.internal += 1;
            continue;
        }
        if c.is_subscriber() {
            // Subscribers wait for messages: a long idle time is their normal state.
            s.subscribers += 1;
            continue;
        }
        if c.idle >= UNUSED_IDLE_SECS {
            entry.2 += 1;
        }
        match c.idle {
            i if i < 60 => s.idle.under_1m += 1,
            i if i <= LONG_IDLE_SECS => s.idle.from_1m_to_1h += 1,
            _ => {
                s.idle.over_1h += 1;
                entry.1 += 1;
            }
        }
    }
    let mut sources: Vec<SourceCount> = by_source
        .into_iter()
        .map(
            |(source, (connections, idle_over_1h, unused))| SourceCount {
                source: source.to_string(),
                connections,
                idle_over_1h,
                unused,
            },
        )
        .collect();
    sources.sort_by(|a, b| {
        b.connections
            .cmp(&a.connections)
            .then_with(|| a.source.cmp(&b.source))
    });
    s.leaking = sources
        .iter()
        .filter(|c| c.idle_over_1h >= LEAK_MIN_CONNECTIONS)
        .cloned()
        .collect();
    s.leaking.sort_by_key(|c| std::cmp::Reverse(c.idle_over_1h));
    s.holding_unused = sources
        .iter()
        .filter(|c| c.unused >= ACCUMULATING_MIN_CONNECTIONS)
        .cloned()
        .collect();
    s.holding_unused
        .sort_by_key(|c| std::cmp::Reverse(c.unused));
    sources.truncate(5);
    s.top_sources = sources;
    s
}

pub static CLIENT_LIST: Rule = Rule {
    id: "redis.client-list",
    severity: Severity::Warning,
    title: "No connection leak (CLIENT LIST)",
    summary: "Reads CLIENT LIST: clients by source address, idle-time distribution, \
              connections idle over an hour, pub/sub subscribers. Warns when one source holds \
              20 or more connections idle over an hour (a probable leak), or, under `timeout \
              0`, 100 or more connections idle 10 s or more that are also at least 1 % of \
              `maxclients` (connections piling up that nothing will close).",
    why: "A client that opens a connection per request (or per reconnect) and never closes \
          it leaves idle connections behind; with `timeout 0` they stay until `maxclients` is \
          reached, and then every new connection gets `ERR max number of clients reached`. \
          A pool serving the current load uses its connections every few seconds; hundreds \
          unused from one address under `timeout 0` only grow. Subscribers are excluded: \
          the Socket.IO manager's listener is idle by design while it waits for messages.",
    fix: "Find the process behind the leaking address (container IP → `docker network \
          inspect`), reuse one client / pool instead of creating one per request, and set \
          `timeout 1800` so leaked connections are reaped.",
};

pub fn client_list(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return CLIENT_LIST.skip_because(id);
    }
    let clients = match &obs.client_list {
        Some(Ok(c)) => c,
        Some(Err(e)) => return CLIENT_LIST.skip(unavailable(obs, "CLIENT LIST", e)),
        None => return CLIENT_LIST.skip("CLIENT LIST was not asked"),
    };
    let s = summarize(clients, obs.own_client_id);
    let evidence = serde_json::to_value(&s).unwrap_or_default();
    let top: Vec<String> = s
        .top_sources
        .iter()
        .take(3)
        .map(|c| format!("{} ({})", c.source, c.connections))
        .collect();
    let overview = format!(
        "{} other clients ({} subscribers); idle < 1 min: {}, 1 min-1 h: {}, > 1 h: {}{}",
        s.total,
        s.subscribers,
        s.idle.under_1m,
        s.idle.from_1m_to_1h,
        s.idle.over_1h,
        if top.is_empty() {
            String::new()
        } else {
            format!("; top sources: {}", top.join(", "))
        }
    );
    let accumulating = accumulating(&s, obs);
    let result = match (s.leaking.first(), &accumulating) {
        (Some(worst), _) => CLIENT_LIST
            .fire(format!(
                "probable connection leak: {} connections from {} idle for over an hour; {overview}",
                worst.idle_over_1h, worst.source
            ))
            .hint(format!(
                "find the process at {} (a container IP: `docker network inspect`), make it \
                 reuse one client/pool, and set `timeout 1800`",
                worst.source
            )),
        (None, Some((worst, maxclients))) => CLIENT_LIST
            .fire(format!(
                "connections piling up: {} connections from {} unused for {UNUSED_IDLE_SECS} s \
                 or more, {}% of maxclients {maxclients}, under timeout 0 (nothing closes \
                 them); {overview}",
                worst.unused,
                worst.source,
                percent(worst.unused, *maxclients)
            ))
            .hint(format!(
                "find the process at {} (a container IP: `docker network inspect`): a pool \
                 this large or a connection per request/reconnect reaches `max number of \
                 clients reached`; make it reuse one client/pool, and set `timeout 1800`",
                worst.source
            ))
            .evidence("accumulating_source", worst.source.clone()),
        (None, None) => CLIENT_LIST.pass(overview),
    };
    let mut result = result.took(took(obs, "client_list"));
    if let serde_json::Value::Object(m) = evidence {
        result.evidence.extend(m);
    }
    result
}

/// The source holding the most unused connections, when under `timeout 0` they are at least
/// [`ACCUMULATING_MIN_CONNECTIONS`] and [`ACCUMULATING_SHARE_OF_MAXCLIENTS`] of `maxclients`
/// (the default 10000 when unknown); with the `maxclients` used.
fn accumulating<'a>(
    s: &'a ClientListSummary,
    obs: &RedisObservations,
) -> Option<(&'a SourceCount, u64)> {
    // Only when nothing closes idle connections: with a timeout they are reaped.
    if obs.config_value("timeout") != Some("0") {
        return None;
    }
    let maxclients = live_maxclients(obs).unwrap_or(super::idle::DEFAULT_MAXCLIENTS);
    let floor = (maxclients as f64 * ACCUMULATING_SHARE_OF_MAXCLIENTS).ceil() as usize;
    s.holding_unused
        .first()
        .filter(|c| c.unused >= floor.max(ACCUMULATING_MIN_CONNECTIONS))
        .map(|c| (c, maxclients))
}

fn percent(part: usize, whole: u64) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    (part as f64 / whole as f64 * 1000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64, source: &str, idle: u64, sub: u32) -> ClientEntry {
        ClientEntry {
            id,
            source: source.to_string(),
            name: String::new(),
            age: idle,
            idle,
            flags: if sub > 0 { "P".into() } else { "N".into() },
            db: 0,
            sub,
            psub: 0,
            cmd: "get".into(),
            user: "default".into(),
        }
    }

    #[test]
    fn leak_is_flagged_and_subscribers_are_not() {
        let mut clients: Vec<ClientEntry> =
            (0..25).map(|i| client(i, "172.18.0.5", 7200, 0)).collect();
        // 30 long-idle subscribers from one source: normal for Socket.IO listeners.
        clients.extend((100..130).map(|i| client(i, "172.18.0.6", 90_000, 1)));
        clients.push(client(999, "127.0.0.1", 0, 0));
        let s = summarize(&clients, Some(999));
        assert_eq!(s.total, 55);
        assert_eq!(s.subscribers, 30);
        assert_eq!(s.idle.over_1h, 25);
        assert_eq!(s.leaking.len(), 1);
        assert_eq!(s.leaking[0].source, "172.18.0.5");
        assert_eq!(s.top_sources[0].source, "172.18.0.6");
    }

    fn observed(clients: Vec<ClientEntry>, timeout: &str, maxclients: &str) -> RedisObservations {
        let mut obs = RedisObservations {
            connect: Some(Ok(crate::probe::redis::Connected {
                peer: "127.0.0.1:6379".into(),
                resolved: vec![],
                took_ms: 0,
            })),
            ping: Some(Ok("PONG".into())),
            client_list: Some(Ok(clients)),
            ..RedisObservations::default()
        };
        obs.config.insert("timeout".into(), Ok(timeout.into()));
        obs.config
            .insert("maxclients".into(), Ok(maxclients.into()));
        obs
    }

    #[test]
    fn unused_connections_pile_up_only_under_timeout_zero_and_by_share() {
        use crate::report::Status;
        let pool = |n: u64, idle: u64| -> Vec<ClientEntry> {
            (0..n).map(|i| client(i, "172.18.0.5", idle, 0)).collect()
        };
        // 200 unused from one source, timeout 0, default maxclients: 2 % ≥ 1 %.
        let r = client_list(&observed(pool(200, 30), "0", "10000"));
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        assert!(
            r.message.contains("200 connections from 172.18.0.5"),
            "{}",
            r.message
        );
        // The same with a timeout: they will be reaped.
        assert_eq!(
            client_list(&observed(pool(200, 30), "300", "10000")).status,
            Status::Pass
        );
        // In use (idle < 10 s): a busy pool, not a pile.
        assert_eq!(
            client_list(&observed(pool(200, 2), "0", "10000")).status,
            Status::Pass
        );
        // Below 1 % of a large maxclients.
        assert_eq!(
            client_list(&observed(pool(200, 30), "0", "50000")).status,
            Status::Pass
        );
        // Below the absolute floor, whatever the share.
        assert_eq!(
            client_list(&observed(pool(99, 30), "0", "1000")).status,
            Status::Pass
        );
    }

    #[test]
    fn few_idle_connections_are_no_leak() {
        let clients: Vec<ClientEntry> = (0..19).map(|i| client(i, "10.0.0.1", 7200, 0)).collect();
        let s = summarize(&clients, None);
        assert!(s.leaking.is_empty());
        assert_eq!(s.idle.over_1h, 19);
    }
}
