//! `redis.latency`, `redis.memory`, `redis.version`: the server itself.

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{CmdErrorKind, RedisObservations};
use crate::report::CheckResult;

use super::{blocker, unavailable};

/// p50 PING round trip above which `redis.latency` warns.
pub const LATENCY_WARN_P50_MS: f64 = 10.0;

pub static LATENCY: Rule = Rule {
    id: "redis.latency",
    severity: Severity::Warning,
    title: "Redis round trip is fast",
    summary: "Times N PINGs (--samples, default 20) and reports p50/p99/max; warns when the \
              median is above 10 ms.",
    why: "Every Socket.IO broadcast across workers is a PUBLISH plus a delivery through \
          Redis; a slow round trip (a Redis in another region, an overloaded host, swap) \
          delays every event and, with python-socketio's `call()`/acks, can hit timeouts.",
    fix: "Run Redis next to the app (same host or zone), check the host for swap and CPU \
          steal, and look at `LATENCY DOCTOR` / `SLOWLOG GET` on the server.",
};

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn latency(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return LATENCY.skip_because(id);
    }
    let samples = match &obs.latency_us {
        Some(Ok(s)) if !s.is_empty() => s,
        Some(Ok(_)) => return LATENCY.skip("no samples asked (--samples 0)"),
        Some(Err(e)) if e.kind == CmdErrorKind::Timeout => {
            return LATENCY.skip(unavailable(obs, "the latency PINGs", e));
        }
        Some(Err(e)) => {
            return LATENCY
                .fire(format!("timing PINGs failed: {e}"))
                .evidence("error", serde_json::to_value(e.kind).unwrap_or_default());
        }
        None => return LATENCY.skip("latency was not measured"),
    };
    let mut sorted = samples.clone();
    sorted.sort_unstable();
    let ms = |us: u64| (us as f64 / 1000.0 * 100.0).round() / 100.0;
    let (p50, p99, max) = (
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.99)),
        ms(*sorted.last().unwrap_or(&0)),
    );
    let mut message = format!(
        "{} PINGs: p50 {p50} ms, p99 {p99} ms, max {max} ms",
        sorted.len()
    );
    // Samples gathered before the budget ran out are reported, saying they are fewer.
    if let Some(note) = obs.ran_out_note()
        && obs
            .ran_out
            .as_deref()
            .is_some_and(|w| w.starts_with("latency"))
    {
        message.push_str(&format!(" ({note})"));
    }
    let result = if p50 > LATENCY_WARN_P50_MS {
        LATENCY
            .fire(format!("{message} (median above {LATENCY_WARN_P50_MS} ms)"))
            .hint("run Redis close to the app and check the host for swap / CPU steal")
    } else {
        LATENCY.pass(message)
    };
    result
        .evidence("samples", sorted.len())
        .evidence("p50_ms", p50)
        .evidence("p99_ms", p99)
        .evidence("max_ms", max)
}

/// Share of `maxmemory` from which `redis.memory` warns.
pub const MEMORY_WARN_RATIO: f64 = 0.90;

pub static MEMORY: Rule = Rule {
    id: "redis.memory",
    severity: Severity::Warning,
    title: "Redis memory has headroom",
    summary: "Reads INFO memory: used memory against `maxmemory`, the eviction policy and \
              fragmentation; warns at 90 % of the limit.",
    why: "At `maxmemory` with `noeviction` Redis refuses writes with `OOM command not allowed \
          when used memory > 'maxmemory'`: apps that keep sessions or Socket.IO state in \
          Redis fail; with an eviction policy keys (sessions) silently disappear instead.",
    fix: "Raise `maxmemory`, set TTLs on the app's keys, or choose an eviction policy that \
          matches the data (`allkeys-lru` for a cache, `noeviction` for state you must keep, \
          with enough memory).",
};

pub fn memory(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return MEMORY.skip_because(id);
    }
    if let Some(Err(e)) = &obs.info {
        return MEMORY.skip(unavailable(obs, "INFO", e));
    }
    let num = |k: &str| obs.info_field(k).and_then(|v| v.parse::<f64>().ok());
    let Some(used) = num("used_memory") else {
        return MEMORY.skip("INFO memory has no used_memory");
    };
    let max = num("maxmemory").unwrap_or(0.0);
    let policy = obs
        .info_field("maxmemory_policy")
        .unwrap_or("unknown")
        .to_string();
    let human = obs
        .info_field("used_memory_human")
        .unwrap_or("")
        .to_string();
    let frag = num("mem_fragmentation_ratio");
    let result = if max <= 0.0 {
        MEMORY.pass(format!(
            "used {human} ({used} bytes); no maxmemory limit (policy {policy})"
        ))
    } else {
        let ratio = used / max;
        let pct = (ratio * 100.0).round();
        let msg = format!(
            "used {human} of maxmemory {} bytes ({pct}%), policy {policy}",
            max as u64
        );
        if ratio >= MEMORY_WARN_RATIO {
            let consequence = if policy == "noeviction" {
                "writes will fail with OOM at the limit"
            } else {
                "keys are being evicted at the limit"
            };
            MEMORY
                .fire(format!("{msg}: {consequence}"))
                .hint("raise maxmemory or set TTLs on the app's keys")
        } else {
            MEMORY.pass(msg)
        }
    };
    result
        .evidence("used_memory", used as u64)
        .evidence("maxmemory", max as u64)
        .evidence("maxmemory_policy", policy)
        .evidence("mem_fragmentation_ratio", frag)
}

pub static VERSION: Rule = Rule {
    id: "redis.version",
    severity: Severity::Warning,
    title: "Redis server, version and role",
    summary: "Reads INFO server/replication: Redis or Valkey, version, mode (standalone, \
              cluster, sentinel) and role; warns on a replica, a Sentinel port, or Redis < 6.",
    why: "A replica refuses writes (`READONLY You can't write against a read only replica.`) \
          and a PUBLISH there reaches only that replica's subscribers, so workers pointed at \
          different nodes stop hearing each other. A Sentinel port is not a data node. \
          Redis before 6 has no ACL users (`AUTH user pass` fails) and is out of support.",
    fix: "Point the URL at the master (or use Sentinel: redis+sentinel://…/MASTER), not a \
          replica or the sentinel port; upgrade Redis < 6.",
};

pub fn version(obs: &RedisObservations) -> CheckResult {
    if let Some(id) = blocker(obs) {
        return VERSION.skip_because(id);
    }
    if let Some(Err(e)) = &obs.info {
        return VERSION.skip(unavailable(obs, "INFO", e));
    }
    let valkey = obs.info_field("server_name") == Some("valkey")
        || obs.info_field("valkey_version").is_some();
    let product = if valkey { "Valkey" } else { "Redis" };
    let version = obs
        .info_field("valkey_version")
        .or_else(|| obs.info_field("redis_version"))
        .unwrap_or("unknown")
        .to_string();
    let mode = obs
        .info_field("redis_mode")
        .unwrap_or("standalone")
        .to_string();
    let role = obs.info_field("role").unwrap_or("unknown").to_string();
    let message = format!("{product} {version}, {mode}, role {role}");
    let major: Option<u32> = version.split('.').next().and_then(|m| m.parse().ok());
    let result = if mode == "sentinel" {
        VERSION
            .fire(format!(
                "{message}: this is a Sentinel, not a data node"
            ))
            .hint("use redis+sentinel://HOST:26379/MASTER (or --sentinel HOST:PORT --master NAME) to reach the master")
    } else if role == "slave" || role == "replica" {
        VERSION
            .fire(format!(
                "{message}: a read-only replica (writes fail with READONLY; PUBLISH reaches only its own subscribers)"
            ))
            .hint("point the URL at the master, or use Sentinel to find it")
    } else if !valkey && major.is_some_and(|m| m < 6) {
        VERSION
            .fire(format!(
                "{message}: Redis before 6 has no ACL users and is out of support"
            ))
            .hint("upgrade to Redis 7 (or Valkey)")
    } else {
        VERSION.pass(message)
    };
    result
        .evidence("server", product)
        .evidence("version", version)
        .evidence("mode", mode)
        .evidence("role", role)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
