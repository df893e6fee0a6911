//! `redis.pubsub`: are the Socket.IO workers subscribed to their manager channel.

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{NODE_ADAPTER_PREFIX, RedisObservations};
use crate::report::CheckResult;

use super::{Expectations, blocker, unavailable};

/// The plain channel every @socket.io/redis-adapter instance SUBSCRIBEs (one per instance,
/// default namespace `/`); its broadcast channel `socket.io#/#` is a pattern (E4c).
pub const NODE_REQUEST_CHANNEL: &str = "socket.io-request#/#";

pub static PUBSUB: Rule = Rule {
    id: "redis.pubsub",
    severity: Severity::Error,
    title: "Socket.IO workers share a Redis channel",
    summary: "Counts subscribers of python-socketio's manager channel (`socketio` by default, \
              --channel) with PUBSUB NUMSUB and recognises the Node adapter (`socket.io#/#*` \
              pattern, `socket.io-request#/#`); with --workers N compares the count with N.",
    why: "python-socketio's AsyncRedisManager has every worker SUBSCRIBE to one channel and \
          PUBLISH each broadcast there; a worker that is not subscribed never delivers \
          broadcasts to its clients (with 3 workers, a message reaches about a third of the \
          users). PUBSUB NUMSUB of the channel equals the number of workers once each has \
          started its listener. More subscribers than workers means several deployments \
          share one channel and receive each other's events.",
    fix: "Fewer subscribers: give every worker the Redis manager (Open WebUI: \
          `WEBSOCKET_MANAGER=redis` and `WEBSOCKET_REDIS_URL`), check each worker's log for \
          `Cannot receive from redis`, and remember the listener starts with the first \
          client. More subscribers: give each deployment its own channel \
          (`AsyncRedisManager(channel=…)`) or its own Redis.",
};

pub fn pubsub(obs: &RedisObservations, expect: &Expectations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return PUBSUB.skip_because(id);
    }
    let p = match &obs.pubsub {
        Some(Ok(p)) => p,
        Some(Err(e)) => return PUBSUB.skip(unavailable(obs, "PUBSUB", e)),
        None => return PUBSUB.skip("PUBSUB was not asked"),
    };
    let channel = obs.channel.as_str();
    let python = p.subscribers(channel);
    let node = p.subscribers(NODE_REQUEST_CHANNEL);
    let node_channels: Vec<String> = p
        .channels
        .iter()
        .filter(|c| c.starts_with(NODE_ADAPTER_PREFIX))
        .cloned()
        .collect();
    // Clients holding pattern subscriptions: the Node adapter PSUBSCRIBEs `socket.io#/#*`,
    // which PUBSUB CHANNELS does not list (dependency-notes §4.4).
    let pattern_clients = match &obs.client_list {
        Some(Ok(l)) => Some(l.iter().filter(|c| c.psub > 0).count()),
        _ => None,
    };
    let (count, kind) = if python == 0 && node > 0 {
        (node, "Node @socket.io/redis-adapter instances")
    } else {
        (python, "python-socketio manager subscribers")
    };
    let others: Vec<String> = p
        .channels
        .iter()
        .filter(|c| c.as_str() != channel && !c.starts_with(NODE_ADAPTER_PREFIX))
        .take(10)
        .cloned()
        .collect();
    let base_evidence = |r: CheckResult| {
        r.evidence("channel", channel)
            .evidence("subscribers", python)
            .evidence("node_adapter_instances", node)
            .evidence("node_adapter_channels", node_channels.clone())
            .evidence("numpat", p.numpat)
            .evidence("pattern_subscriber_clients", pattern_clients)
            .evidence("other_channels", others.clone())
            .evidence("expected_workers", expect.workers)
            .evidence("channels_total", p.channels.len())
    };
    let result = match expect.workers {
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
                         + WEBSOCKET_REDIS_URL); python-socketio starts the listener with the \
                         first client, so connect one client and probe again",
                    )
            } else {
                PUBSUB
                    .warn(format!(
                        "{count} {kind} on '{channel}' for {w} workers: more subscribers than \
                         workers, so several deployments probably share this channel"
                    ))
                    .hint("give each deployment its own channel (AsyncRedisManager(channel=…)) or its own Redis")
            }
        }
        None if count > 0 => PUBSUB.pass(format!(
            "{count} {kind} on '{}' (give --workers N to compare with the worker count)",
            if kind.starts_with("Node") {
                NODE_REQUEST_CHANNEL
            } else {
                channel
            }
        )),
        None => {
            let mut msg = format!(
                "no subscriber on '{channel}' and no Socket.IO adapter channel: no running \
                 worker uses this Redis as its Socket.IO manager"
            );
            if !others.is_empty() {
                let names: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
                msg.push_str(&format!(
                    " (channels present: {}; is the manager channel one of them? --channel NAME)",
                    names.join(", ")
                ));
            }
            PUBSUB.warn(msg).hint(
                "set the Redis manager on every worker (Open WebUI: WEBSOCKET_MANAGER=redis); \
                 python-socketio subscribes when its first client connects",
            )
        }
    };
    // In a Redis Cluster a client subscribes on the node it is connected to (PUBLISH is
    // broadcast to every node), so NUMSUB counts only this node's subscribers.
    let result = if obs.cluster.is_some() {
        let note = " (cluster: PUBSUB NUMSUB counts only the subscribers of this node)";
        CheckResult {
            message: format!("{}{note}", result.message),
            ..result
        }
    } else {
        result
    };
    base_evidence(result)
}
