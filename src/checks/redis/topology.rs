//! `redis.sentinel` and `redis.cluster`: deployments of several Redis nodes.

use std::collections::BTreeSet;

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::RedisObservations;
use crate::report::CheckResult;

use super::{blocker, unavailable};

/// Hash slots of a Redis Cluster.
pub const CLUSTER_SLOTS: u64 = 16384;

pub static SENTINEL: Rule = Rule {
    id: "redis.sentinel",
    severity: Severity::Error,
    title: "Sentinel resolves a reachable master",
    summary: "For a Sentinel target (redis+sentinel:// or --sentinel HOST:PORT --master \
              NAME): asks every sentinel for the master's address, checks they agree, that \
              the master is reachable from here, and how many sentinels know it.",
    why: "Clients ask a sentinel `SENTINEL get-master-addr-by-name NAME` and connect to the \
          answer. An unknown name returns nil (every connection fails); an address announced \
          from inside a container network is unreachable from elsewhere; fewer than three \
          sentinels cannot reach a majority, so no failover happens when the master dies.",
    fix: "Use the name from `sentinel monitor NAME …`; make sentinels announce reachable \
          addresses (`sentinel announce-ip`, `replica-announce-ip`); run three sentinels on \
          separate hosts with quorum 2.",
};

pub fn sentinel(obs: &RedisObservations) -> CheckResult {
    let Some(s) = &obs.sentinel else {
        return SENTINEL.skip(
            "not a Sentinel target (give a redis+sentinel:// URL or --sentinel HOST:PORT --master NAME)",
        );
    };
    let reached: Vec<_> = s.answers.iter().filter(|a| a.master.is_ok()).collect();
    let unreachable: Vec<String> = s
        .answers
        .iter()
        .filter_map(|a| {
            a.master
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", a.sentinel))
        })
        .collect();
    let masters: BTreeSet<String> = reached
        .iter()
        .filter_map(|a| a.master.as_ref().ok().and_then(|m| m.clone()))
        .collect();
    let known = reached
        .iter()
        .filter_map(|a| a.other_sentinels)
        .max()
        .map(|n| n + 1);
    let with_evidence = |r: CheckResult| {
        r.evidence("master_name", s.master_name.clone())
            .evidence("master", s.resolved.clone())
            .evidence("sentinels_asked", s.answers.len())
            .evidence("sentinels_answering", reached.len())
            .evidence("sentinels_known", known)
            .evidence("unreachable", unreachable.clone())
            .evidence(
                "masters_announced",
                masters.iter().cloned().collect::<Vec<_>>(),
            )
            .took(super::took(obs, "sentinel"))
    };
    if reached.is_empty() {
        return with_evidence(
            SENTINEL
                .fail(format!("no sentinel answered: {}", unreachable.join("; ")))
                .hint("check the sentinel addresses (port 26379 by default) and that they run"),
        );
    }
    let Some(master) = &s.resolved else {
        return with_evidence(
            SENTINEL
                .fail(format!(
                    "no sentinel knows a master named '{}' (SENTINEL get-master-addr-by-name returned nil)",
                    s.master_name
                ))
                .hint("use the name from `sentinel monitor NAME host port quorum` in sentinel.conf"),
        );
    };
    if !matches!(obs.connect, Some(Ok(_))) || super::not_redis(obs).is_some() {
        return with_evidence(
            SENTINEL
                .fail(format!(
                    "the sentinels name {master} as master of '{}', but it is not reachable from here",
                    s.master_name
                ))
                .hint(
                    "the master announces an address that is only valid inside its network: \
                     set `replica-announce-ip` / `sentinel announce-ip`, or probe from that \
                     network",
                ),
        );
    }
    let mut problems = Vec::new();
    if masters.len() > 1 {
        problems.push(format!(
            "sentinels disagree on the master ({}): a failover is in progress or the sentinels are split",
            masters.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !unreachable.is_empty() {
        problems.push(format!("unreachable sentinels: {}", unreachable.join("; ")));
    }
    if let Some(k) = known
        && k < 3
    {
        problems.push(format!(
            "only {k} sentinel(s) know the master: a failover needs a majority, run three"
        ));
    }
    let summary = format!(
        "master '{}' at {master} (reachable); {} of {} sentinels answered{}",
        s.master_name,
        reached.len(),
        s.answers.len(),
        known.map_or(String::new(), |k| format!(
            ", {k} sentinels know the master"
        ))
    );
    if problems.is_empty() {
        with_evidence(SENTINEL.pass(summary))
    } else {
        with_evidence(
            SENTINEL
                .warn(format!("{summary}; {}", problems.join("; ")))
                .hint("run three reachable sentinels that agree on the master"),
        )
    }
}

pub static CLUSTER: Rule = Rule {
    id: "redis.cluster",
    severity: Severity::Error,
    title: "Redis Cluster is healthy and reachable",
    summary: "On a cluster node: CLUSTER INFO must say `cluster_state:ok` with all 16384 \
              slots served, and every master listed by CLUSTER NODES must be reachable from \
              here.",
    why: "With slots unassigned or a master down, `cluster_state:fail` and commands get \
          `CLUSTERDOWN`. Cluster clients follow `MOVED` redirections to the addresses nodes \
          announce; when those are container-internal addresses the client cannot follow \
          them and commands for those slots fail.",
    fix: "Assign every slot (`redis-cli --cluster fix`), bring failed masters back or fail \
          over, and make nodes announce reachable addresses (`cluster-announce-ip`, \
          `cluster-announce-port`).",
};

pub fn cluster(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return CLUSTER.skip_because(id);
    }
    let Some(c) = &obs.cluster else {
        return match &obs.info {
            Some(Ok(_)) => CLUSTER.skip("standalone server (cluster_enabled:0): not a cluster"),
            Some(Err(e)) => CLUSTER.skip(format!(
                "cluster mode unknown: {}",
                unavailable(obs, "INFO", e)
            )),
            None => CLUSTER.skip("cluster mode unknown: INFO was not asked"),
        };
    };
    let info = match &c.info {
        Ok(i) => i,
        Err(e) => return CLUSTER.skip(unavailable(obs, "CLUSTER INFO", e)),
    };
    let field = |k: &str| info.get(k).cloned();
    let num = |k: &str| info.get(k).and_then(|v| v.parse::<u64>().ok());
    let state = field("cluster_state").unwrap_or_else(|| "unknown".to_string());
    let slots_ok = num("cluster_slots_ok").unwrap_or(0);
    let slots_assigned = num("cluster_slots_assigned").unwrap_or(0);
    let masters = match &c.nodes {
        Ok(n) => n.iter().filter(|n| n.is_master()).count(),
        Err(_) => num("cluster_size").unwrap_or(0) as usize,
    };
    let failing: Vec<String> = match &c.nodes {
        Ok(n) => n
            .iter()
            .filter(|n| n.is_failing())
            .map(|n| n.addr.clone())
            .collect(),
        Err(_) => Vec::new(),
    };
    let unreachable: Vec<String> = c
        .reach
        .iter()
        .filter_map(|r| {
            r.reachable
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", r.addr))
        })
        .collect();
    let reachable = 1 + c.reach.iter().filter(|r| r.reachable.is_ok()).count();
    let with_evidence = |r: CheckResult| {
        r.evidence("cluster_state", state.clone())
            .evidence("slots_assigned", slots_assigned)
            .evidence("slots_ok", slots_ok)
            .evidence("masters", masters)
            .evidence("masters_reachable", reachable)
            .evidence("failing_nodes", failing.clone())
            .evidence("unreachable", unreachable.clone())
            .evidence("known_nodes", num("cluster_known_nodes"))
            .took(super::took(obs, "cluster"))
    };
    let summary = format!(
        "cluster_state:{state}, {slots_ok}/{CLUSTER_SLOTS} slots ok, {masters} masters, \
         {reachable} reachable from here"
    );
    if state != "ok" || slots_ok < CLUSTER_SLOTS {
        return with_evidence(
            CLUSTER
                .fail(summary)
                .hint("assign the missing slots (`redis-cli --cluster fix HOST:PORT`) and bring failed masters back"),
        );
    }
    if !unreachable.is_empty() || !failing.is_empty() {
        let mut problems = Vec::new();
        if !failing.is_empty() {
            problems.push(format!("nodes flagged failing: {}", failing.join(", ")));
        }
        if !unreachable.is_empty() {
            problems.push(format!(
                "masters unreachable from here: {}",
                unreachable.join("; ")
            ));
        }
        return with_evidence(
            CLUSTER
                .warn(format!("{summary}; {}", problems.join("; ")))
                .hint("nodes must announce addresses clients can reach (cluster-announce-ip / cluster-announce-port)"),
        );
    }
    with_evidence(CLUSTER.pass(summary))
}
