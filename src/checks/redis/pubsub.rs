//! `redis.pubsub`: are the Socket.IO workers subscribed to their manager channel.
//!
//! The count is judged against what the app's manager does ([`ManagerExpectation`], from
//! the app's profile) when it is known:
//! - more subscribers than processes: another deployment shares the channel → warn (a
//!   re-read cannot change that);
//! - `Startup` timing (Open WebUI): every worker subscribes when it starts, so 0 means the
//!   manager is not connected and fewer than the processes names the missing ones → fail;
//! - `FirstClient` timing (python-socketio, Flask-SocketIO): a worker subscribes with its
//!   first client, so fewer subscribers than processes is a lower bound while fewer clients
//!   than processes have connected (pass, saying so; skip when 0 and no client connected),
//!   and 0 after a client connected is a fail. [`reread_can_help`] says when reading the
//!   count again after more clients connected can change the verdict.
//!
//! Without a manager expectation, `--workers N` is compared as is and the channel found is
//! named (python-socketio's `socketio`, Flask-SocketIO's `flask-socketio`, the Node
//! adapter's `socket.io-request#/#`).

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{
    DEFAULT_CHANNEL, FLASK_SOCKETIO_CHANNEL, NODE_ADAPTER_PREFIX, PubSubObservation,
    RedisObservations,
};
use crate::report::CheckResult;

use super::{Expectations, ManagerExpectation, SubscribeTiming, blocker, unavailable};

/// The plain channel every @socket.io/redis-adapter instance SUBSCRIBEs (one per instance,
/// default namespace `/`); its broadcast channel `socket.io#/#` is a pattern (E4c).
pub const NODE_REQUEST_CHANNEL: &str = "socket.io-request#/#";

/// The evidence key [`reread_can_help`] reads.
const REREAD_KEY: &str = "reread_can_help";

pub static PUBSUB: Rule = Rule {
    id: "redis.pubsub",
    severity: Severity::Error,
    title: "Socket.IO workers share a Redis channel",
    summary: "Counts subscribers of the app's manager channel with PUBSUB NUMSUB (`socketio` \
              for python-socketio and Open WebUI, `flask-socketio` for Flask-SocketIO, \
              --channel for another) and recognises the Node adapter (`socket.io#/#*` \
              pattern, `socket.io-request#/#`); compares the count with the processes \
              (--workers, or the deployment files) knowing when the app subscribes: at \
              startup (Open WebUI) or with each worker's first client (python-socketio, \
              Flask-SocketIO).",
    why: "A Redis manager has every worker SUBSCRIBE to one channel and PUBLISH each \
          broadcast there; a worker that is not subscribed never delivers broadcasts to its \
          clients (with 3 workers, a message reaches about a third of the users). Open WebUI \
          subscribes every worker at startup, so a short count is a fault at once; \
          python-socketio and Flask-SocketIO subscribe a worker with its first client, so \
          right after start the count only grows as clients arrive, and a short count is a \
          fault only once clients connected. More subscribers than workers means several \
          deployments share one channel and receive each other's events.",
    fix: "Fewer subscribers: give every worker the Redis manager pointing at this Redis \
          (Open WebUI: `WEBSOCKET_MANAGER=redis` and `WEBSOCKET_REDIS_URL`; python-socketio: \
          `AsyncRedisManager(url)`; Flask-SocketIO: `SocketIO(message_queue=url)`) and check \
          each worker's log for `Cannot receive from redis`. For apps that subscribe with \
          the first client, connect clients and probe again. More subscribers: give each \
          deployment its own channel (`channel=…`) or its own Redis.",
};

/// Whether reading the subscriber count again (after more clients connected) can change
/// this `redis.pubsub` result: only when the count was short under `FirstClient` timing.
/// A count above the processes, or short under `Startup` timing, stays what it is.
pub fn reread_can_help(result: &CheckResult) -> bool {
    result.id == PUBSUB.id
        && result
            .evidence
            .get(REREAD_KEY)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
}

/// The channel judged, its subscribers, and what kind of subscribers they are.
struct Counted {
    channel: String,
    count: i64,
    kind: String,
    /// Why this channel and not the one asked for, when it was found instead.
    found_instead: Option<String>,
}

fn counted(obs: &RedisObservations, p: &PubSubObservation, expect: &Expectations) -> Counted {
    if let Some(m) = &expect.manager {
        let channel = m
            .channels
            .first()
            .cloned()
            .unwrap_or_else(|| obs.channel.clone());
        return Counted {
            count: p.subscribers(&channel),
            channel,
            kind: format!("{} manager subscribers", m.app),
            found_instead: None,
        };
    }
    let channel = obs.channel.as_str();
    let python = p.subscribers(channel);
    let node = p.subscribers(NODE_REQUEST_CHANNEL);
    if python == 0 && node > 0 {
        return Counted {
            channel: NODE_REQUEST_CHANNEL.to_string(),
            count: node,
            kind: "Node @socket.io/redis-adapter instances".to_string(),
            found_instead: None,
        };
    }
    // The default channel is empty but Flask-SocketIO's has subscribers: that is the
    // deployment's manager (Flask-SocketIO 5.7.0 flask_socketio/__init__.py:216).
    let flask = p.subscribers(FLASK_SOCKETIO_CHANNEL);
    if python == 0 && channel == DEFAULT_CHANNEL && flask > 0 {
        return Counted {
            channel: FLASK_SOCKETIO_CHANNEL.to_string(),
            count: flask,
            kind: "Flask-SocketIO message queue subscribers".to_string(),
            found_instead: Some(format!(
                "'{channel}' has none; '{FLASK_SOCKETIO_CHANNEL}' is Flask-SocketIO's default \
                 channel"
            )),
        };
    }
    Counted {
        channel: channel.to_string(),
        count: python,
        kind: "python-socketio manager subscribers".to_string(),
        found_instead: None,
    }
}

pub fn pubsub(obs: &RedisObservations, expect: &Expectations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return PUBSUB.skip_because(id);
    }
    let p = match &obs.pubsub {
        Some(Ok(p)) => p,
        Some(Err(e)) => return PUBSUB.skip(unavailable(obs, "PUBSUB", e)),
        None => return PUBSUB.skip("PUBSUB was not asked"),
    };
    let c = counted(obs, p, expect);
    let node = p.subscribers(NODE_REQUEST_CHANNEL);
    let node_channels: Vec<String> = p
        .channels
        .iter()
        .filter(|ch| ch.starts_with(NODE_ADAPTER_PREFIX))
        .cloned()
        .collect();
    // Open WebUI's room-channel manager SUBSCRIBEs `socketio#/#<room>` per room besides
    // `socketio` (open_webui/socket/redis_room_channels.py:17-18, 0.12.4).
    let room_prefix = format!("{}#", c.channel);
    let room_channels = p
        .channels
        .iter()
        .filter(|ch| ch.starts_with(&room_prefix))
        .count();
    // Clients holding pattern subscriptions: the Node adapter PSUBSCRIBEs `socket.io#/#*`,
    // which PUBSUB CHANNELS does not list (dependency-notes §4.4).
    let pattern_clients = match &obs.client_list {
        Some(Ok(l)) => Some(l.iter().filter(|cl| cl.psub > 0).count()),
        _ => None,
    };
    let others: Vec<String> = p
        .channels
        .iter()
        .filter(|ch| {
            ch.as_str() != c.channel
                && !ch.starts_with(&room_prefix)
                && !ch.starts_with(NODE_ADAPTER_PREFIX)
        })
        .take(10)
        .cloned()
        .collect();
    let expected = expect
        .workers
        .or(expect.manager.as_ref().map(|m| m.processes));
    let result = match &expect.manager {
        Some(m) => judge_manager(&c, m, expected.unwrap_or(m.processes), &others),
        None => judge_count(&c, expected, &others),
    };
    // In a Redis Cluster a client subscribes on the node it is connected to (PUBLISH is
    // broadcast to every node), so NUMSUB counts only this node's subscribers.
    let mut result = if obs.cluster.is_some() {
        let note = " (cluster: PUBSUB NUMSUB counts only the subscribers of this node)";
        CheckResult {
            message: format!("{}{note}", result.message),
            ..result
        }
    } else {
        result
    };
    if let Some(why) = &c.found_instead {
        result.message = format!("{} ({why}; --channel NAME to choose)", result.message);
    }
    let mut result = result
        .evidence("channel", c.channel.clone())
        .evidence("subscribers", c.count)
        .evidence("node_adapter_instances", node)
        .evidence("node_adapter_channels", node_channels)
        .evidence("numpat", p.numpat)
        .evidence("pattern_subscriber_clients", pattern_clients)
        .evidence("room_channels", room_channels)
        .evidence("other_channels", others)
        .evidence("expected_workers", expected)
        .evidence("channels_total", p.channels.len());
    if let Some(m) = &expect.manager {
        result = result
            .evidence("app", m.app.clone())
            .evidence(
                "subscribe_timing",
                serde_json::to_value(m.timing).unwrap_or_default(),
            )
            .evidence("clients_connected", m.clients_connected)
            .evidence("expected_patterns", m.patterns.clone());
    }
    result
}

/// The count against the processes, knowing when the app subscribes.
fn judge_manager(
    c: &Counted,
    m: &ManagerExpectation,
    expected: u32,
    others: &[String],
) -> CheckResult {
    let (count, channel, app) = (c.count, c.channel.as_str(), m.app.as_str());
    let w = i64::from(expected);
    if count > w {
        return PUBSUB
            .warn(format!(
                "{count} subscribers on '{channel}' for {expected} {app} process(es): more \
                 than the processes, so another deployment shares this channel and receives \
                 its events (reading again cannot change that)"
            ))
            .hint("give each deployment its own channel (`channel=…`) or its own Redis");
    }
    if count == w {
        return PUBSUB.pass(format!(
            "{count} {} on '{channel}', one per process ({expected})",
            c.kind
        ));
    }
    let missing = w - count;
    let not_connected_hint = format!(
        "every {app} process needs the Redis manager pointing at this Redis: check the \
         manager URL each process gets and its log for `Cannot receive from redis`"
    );
    match m.timing {
        SubscribeTiming::Startup if count == 0 => PUBSUB
            .fail(with_others(
                format!(
                    "no subscriber on '{channel}' for {expected} {app} process(es): {app} \
                     subscribes every worker at startup, so its manager is not connected to \
                     this Redis"
                ),
                others,
            ))
            .hint(not_connected_hint),
        SubscribeTiming::Startup => PUBSUB
            .fail(format!(
                "{count} of {expected} {app} processes subscribed to '{channel}': {missing} \
                 process(es) have no manager connection ({app} subscribes every worker at \
                 startup, so waiting does not fix it)"
            ))
            .hint(not_connected_hint),
        SubscribeTiming::FirstClient if count == 0 && m.clients_connected == 0 => PUBSUB
            .skip(with_others(
                format!(
                    "no subscriber on '{channel}' yet, which says nothing: {app} subscribes a \
                     worker with its first client, and no client connected in this run \
                     (connect one and probe again)"
                ),
                others,
            ))
            .evidence(REREAD_KEY, true),
        SubscribeTiming::FirstClient if count == 0 => PUBSUB
            .fail(with_others(
                format!(
                    "no subscriber on '{channel}' although {} client(s) connected: {app} \
                     subscribes a worker with its first client, so the manager of the \
                     worker(s) that took them is not connected to this Redis",
                    m.clients_connected
                ),
                others,
            ))
            .hint(not_connected_hint)
            // The count may have been read before those clients reached their workers.
            .evidence(REREAD_KEY, true),
        SubscribeTiming::FirstClient if i64::from(m.clients_connected) < w => PUBSUB
            .pass(format!(
                "{count} of {expected} {app} processes subscribed to '{channel}', a lower \
                 bound: {app} subscribes a worker with its first client and {} client(s) \
                 connected in this run; the {count} subscribed show the manager reaches this \
                 Redis",
                m.clients_connected
            ))
            .evidence(REREAD_KEY, true),
        SubscribeTiming::FirstClient => PUBSUB
            .warn(format!(
                "{count} of {expected} {app} processes subscribed to '{channel}' after {} \
                 clients connected: the clients may have landed on the same workers, or \
                 {missing} worker(s) have no manager connection",
                m.clients_connected
            ))
            .hint(format!(
                "connect more clients and probe again; if the count stays short, {not_connected_hint}"
            ))
            .evidence(REREAD_KEY, true),
    }
}

/// The count against `--workers` when the app's subscribe timing is not known.
fn judge_count(c: &Counted, expected: Option<u32>, others: &[String]) -> CheckResult {
    let (count, channel, kind) = (c.count, c.channel.as_str(), c.kind.as_str());
    match expected {
        Some(w) => {
            let w = i64::from(w);
            if count == w {
                PUBSUB.pass(format!(
                    "{count} {kind} on '{channel}', as expected ({w} workers)"
                ))
            } else if count < w {
                PUBSUB
                    .fire(format!(
                        "{count} {kind} on '{channel}' for {w} workers: {} worker(s) have no \
                         Redis manager or have not started their listener",
                        w - count
                    ))
                    .hint(
                        "give every worker the Redis manager (Open WebUI: WEBSOCKET_MANAGER=redis \
                         + WEBSOCKET_REDIS_URL); python-socketio and Flask-SocketIO subscribe a \
                         worker with its first client, so connect clients and probe again",
                    )
            } else {
                PUBSUB
                    .warn(format!(
                        "{count} {kind} on '{channel}' for {w} workers: more subscribers than \
                         workers, so several deployments probably share this channel"
                    ))
                    .hint("give each deployment its own channel (`channel=…`) or its own Redis")
            }
        }
        None if count > 0 => PUBSUB.pass(format!(
            "{count} {kind} on '{channel}' (give --workers N to compare with the worker count)"
        )),
        None => PUBSUB
            .warn(with_others(
                format!(
                    "no subscriber on '{channel}' and no Socket.IO adapter channel: no running \
                     worker uses this Redis as its Socket.IO manager"
                ),
                others,
            ))
            .hint(
                "set the Redis manager on every worker (Open WebUI: WEBSOCKET_MANAGER=redis); \
                 python-socketio and Flask-SocketIO subscribe when a worker's first client \
                 connects",
            ),
    }
}

/// Adds the other channels present, which may be the real manager channel.
fn with_others(mut message: String, others: &[String]) -> String {
    if !others.is_empty() {
        message.push_str(&format!(
            " (channels present: {}; is the manager channel one of them? --channel NAME)",
            others.join(", ")
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::redis::{ClientEntry, Connected};
    use crate::report::Status;

    fn observed(numsub: &[(&str, i64)], channels: &[&str]) -> RedisObservations {
        RedisObservations {
            connect: Some(Ok(Connected {
                peer: "127.0.0.1:6379".into(),
                resolved: vec![],
                took_ms: 0,
            })),
            ping: Some(Ok("PONG".into())),
            client_list: Some(Ok(Vec::<ClientEntry>::new())),
            pubsub: Some(Ok(PubSubObservation {
                channels: channels.iter().map(|c| c.to_string()).collect(),
                numsub: numsub.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
                numpat: 0,
            })),
            channel: "socketio".into(),
            ..RedisObservations::default()
        }
    }

    fn manager(timing: SubscribeTiming, processes: u32, clients: u32) -> Expectations {
        Expectations {
            workers: None,
            manager: Some(ManagerExpectation {
                app: "TestApp".into(),
                channels: vec!["socketio".into()],
                patterns: vec![],
                timing,
                processes,
                clients_connected: clients,
            }),
        }
    }

    fn judged(subs: i64, e: &Expectations) -> CheckResult {
        let channels: &[&str] = if subs > 0 { &["socketio"] } else { &[] };
        pubsub(&observed(&[("socketio", subs)], channels), e)
    }

    #[test]
    fn startup_timing_short_counts_fail() {
        use SubscribeTiming::Startup;
        let r = judged(0, &manager(Startup, 2, 0));
        assert_eq!(r.status, Status::Fail, "{}", r.message);
        assert!(r.message.contains("not connected"), "{}", r.message);
        let r = judged(1, &manager(Startup, 2, 0));
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.contains("1 of 2"), "{}", r.message);
        assert!(!reread_can_help(&r));
        assert_eq!(judged(2, &manager(Startup, 2, 0)).status, Status::Pass);
    }

    #[test]
    fn first_client_timing_short_counts_are_lower_bounds() {
        use SubscribeTiming::FirstClient;
        // Nothing connected, nothing subscribed: says nothing.
        let r = judged(0, &manager(FirstClient, 4, 0));
        assert_eq!(r.status, Status::Skip, "{}", r.message);
        assert!(reread_can_help(&r));
        // A client connected and still nothing: the manager is not connected.
        let r = judged(0, &manager(FirstClient, 4, 1));
        assert_eq!(r.status, Status::Fail, "{}", r.message);
        // 1 of 4 with 1 client: a lower bound, not a failure.
        let r = judged(1, &manager(FirstClient, 4, 1));
        assert_eq!(r.status, Status::Pass, "{}", r.message);
        assert!(r.message.contains("lower bound"), "{}", r.message);
        assert!(reread_can_help(&r));
        // 2 of 4 after 4 clients: a warning a re-read can still change.
        let r = judged(2, &manager(FirstClient, 4, 4));
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        assert!(reread_can_help(&r));
        assert_eq!(judged(4, &manager(FirstClient, 4, 1)).status, Status::Pass);
    }

    #[test]
    fn more_subscribers_than_processes_warns_whatever_the_timing() {
        for timing in [SubscribeTiming::Startup, SubscribeTiming::FirstClient] {
            let r = judged(3, &manager(timing, 2, 2));
            assert_eq!(r.status, Status::Warn, "{}", r.message);
            assert!(!reread_can_help(&r), "a re-read cannot change a surplus");
        }
    }

    #[test]
    fn flask_socketio_channel_is_found_without_an_expectation() {
        let obs = observed(
            &[("socketio", 0), ("flask-socketio", 2)],
            &["flask-socketio"],
        );
        let r = pubsub(
            &obs,
            &Expectations {
                workers: Some(2),
                manager: None,
            },
        );
        assert_eq!(r.status, Status::Pass, "{}", r.message);
        assert_eq!(r.evidence["channel"], "flask-socketio");
        assert!(r.message.contains("Flask-SocketIO"), "{}", r.message);
    }

    #[test]
    fn room_channels_are_reported_not_counted() {
        let obs = observed(
            &[("socketio", 2)],
            &["socketio", "socketio#/#abc", "socketio#/#user:1"],
        );
        let r = pubsub(&obs, &manager(SubscribeTiming::Startup, 2, 0));
        assert_eq!(r.status, Status::Pass, "{}", r.message);
        assert_eq!(r.evidence["room_channels"], 2);
        assert_eq!(r.evidence["other_channels"], serde_json::json!([]));
    }
}
