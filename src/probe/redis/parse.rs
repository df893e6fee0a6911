//! Parsers for Redis' text replies (INFO, CLIENT LIST, CLUSTER NODES). Pure and total:
//! a malformed line is skipped, never a panic.

use std::collections::BTreeMap;

use serde::Serialize;

/// `INFO`: `# Section` headers and `key:value` lines, flattened (keys are unique across the
/// sections Redis prints).
pub fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// One `CLIENT LIST` line, reduced to the fields the checks read.
/// Format (redis.io/commands/client-list): `id=3 addr=127.0.0.1:44208 laddr=… fd=8 name=
/// age=0 idle=0 flags=N db=0 sub=0 psub=0 … cmd=client|list user=default …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientEntry {
    pub id: u64,
    /// Source address without the port (the port differs per connection).
    pub source: String,
    pub name: String,
    /// Seconds since the connection was opened.
    pub age: u64,
    /// Seconds since the last command.
    pub idle: u64,
    pub flags: String,
    pub db: i64,
    /// Channel subscriptions (`sub=`) and pattern subscriptions (`psub=`); Redis 7 adds
    /// `ssub=` for shard channels.
    pub sub: u32,
    pub psub: u32,
    pub cmd: String,
    pub user: String,
}

impl ClientEntry {
    /// A pub/sub subscriber (its idle time grows while it waits for messages, by design).
    pub fn is_subscriber(&self) -> bool {
        self.sub > 0 || self.psub > 0 || self.flags.contains('P')
    }

    /// A replica or monitor link, not an application client (flags S, M, O).
    pub fn is_internal(&self) -> bool {
        self.flags.contains('S') || self.flags.contains('M') || self.flags.contains('O')
    }
}

/// Strips the port from `ip:port` / `[v6]:port` (`unix` sockets print `/path:0`).
fn source_of(addr: &str) -> &str {
    match addr.rfind(':') {
        Some(i) => addr[..i].trim_start_matches('[').trim_end_matches(']'),
        None => addr,
    }
}

/// Parses `CLIENT LIST`. Linear in the input; ~1 µs a line (benches/redis.rs).
pub fn parse_client_list(text: &str) -> Vec<ClientEntry> {
    let mut out = Vec::with_capacity(text.len() / 200 + 1);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut e = ClientEntry {
            id: 0,
            source: String::new(),
            name: String::new(),
            age: 0,
            idle: 0,
            flags: String::new(),
            db: 0,
            sub: 0,
            psub: 0,
            cmd: String::new(),
            user: String::new(),
        };
        let mut seen_id = false;
        for field in line.split(' ') {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            match k {
                "id" => {
                    if let Ok(n) = v.parse() {
                        e.id = n;
                        seen_id = true;
                    }
                }
                "addr" => e.source = source_of(v).to_string(),
                "name" => e.name = v.to_string(),
                "age" => e.age = v.parse().unwrap_or(0),
                "idle" => e.idle = v.parse().unwrap_or(0),
                "flags" => e.flags = v.to_string(),
                "db" => e.db = v.parse().unwrap_or(0),
                "sub" => e.sub = v.parse().unwrap_or(0),
                "psub" => e.psub = v.parse().unwrap_or(0),
                "cmd" => e.cmd = v.to_string(),
                "user" => e.user = v.to_string(),
                _ => {}
            }
        }
        if seen_id {
            out.push(e);
        }
    }
    out
}

/// One `CLUSTER NODES` line: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent>
/// <pong-recv> <config-epoch> <link-state> <slot> <slot> …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterNode {
    pub id: String,
    /// `ip:port` as announced to clients.
    pub addr: String,
    pub flags: Vec<String>,
    pub link_connected: bool,
    /// Number of slots this node serves.
    pub slots: u32,
}

impl ClusterNode {
    pub fn is_master(&self) -> bool {
        self.flags.iter().any(|f| f == "master")
    }

    pub fn is_failing(&self) -> bool {
        self.flags.iter().any(|f| f == "fail" || f == "fail?")
    }

    pub fn is_myself(&self) -> bool {
        self.flags.iter().any(|f| f == "myself")
    }
}

pub fn parse_cluster_nodes(text: &str) -> Vec<ClusterNode> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 8 {
            continue;
        }
        let addr = parts[1].split('@').next().unwrap_or("").to_string();
        let mut slots = 0u32;
        for s in &parts[8..] {
            if s.starts_with('[') {
                continue; // a slot being imported/migrated
            }
            slots += match s.split_once('-') {
                Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
                    (Ok(a), Ok(b)) if b >= a => b - a + 1,
                    _ => 0,
                },
                None => u32::from(s.parse::<u32>().is_ok()),
            };
        }
        out.push(ClusterNode {
            id: parts[0].to_string(),
            addr,
            flags: parts[2].split(',').map(str::to_string).collect(),
            link_connected: parts[7] == "connected",
            slots,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_flattened() {
        let m = parse_info(
            "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Clients\r\nconnected_clients:3\r\nmaxclients:10000\r\n",
        );
        assert_eq!(m.get("redis_version").map(String::as_str), Some("7.0.15"));
        assert_eq!(m.get("maxclients").map(String::as_str), Some("10000"));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn client_list_lines() {
        let text = "id=3 addr=127.0.0.1:44208 laddr=127.0.0.1:6379 fd=8 name=worker age=12 idle=7 flags=P db=0 sub=1 psub=0 ssub=0 multi=-1 qbuf=0 cmd=subscribe user=default resp=2\n\
                    id=4 addr=[::1]:5000 fd=9 name= age=5000 idle=4000 flags=N db=2 sub=0 psub=0 cmd=get user=app\n\
                    garbage line\n";
        let l = parse_client_list(text);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].source, "127.0.0.1");
        assert!(l[0].is_subscriber());
        assert_eq!(l[1].source, "::1");
        assert_eq!((l[1].idle, l[1].db, l[1].user.as_str()), (4000, 2, "app"));
        assert!(!l[1].is_subscriber());
    }

    #[test]
    fn cluster_nodes_lines() {
        let text = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                    b2 127.0.0.1:7001@17001,host master - 0 1 2 connected 5461-10922 [5461->-x]\n\
                    c3 127.0.0.1:7002@17002 slave,fail a1 0 1 3 disconnected\n";
        let n = parse_cluster_nodes(text);
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].slots, 5461);
        assert!(n[0].is_master() && n[0].is_myself());
        assert_eq!(n[1].addr, "127.0.0.1:7001");
        assert_eq!(n[1].slots, 5462);
        assert!(n[2].is_failing() && !n[2].link_connected);
    }
}
