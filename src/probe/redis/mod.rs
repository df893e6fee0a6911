//! Live Redis probe: gathers facts over one connection (plus one per sentinel or cluster node
//! when the deployment has them), read-only, every step within one time budget. It judges
//! nothing: `checks::redis` does.
//!
//! Time model. One budget, `--timeout` (3 s by default), for the whole run, measured from
//! the moment the probe starts ([`budget::Budget`]). The stages share it in order:
//! the sentinels (for a Sentinel target) → DNS → TCP → TLS (`rediss://`) → the first command
//! (AUTH when the URL has a password, else PING) → the rest (PING, SELECT, INFO, CONFIG GET,
//! CLIENT ID/LIST, PUBSUB, the latency PINGs, the cluster nodes). Each stage waits only for
//! what the earlier ones left, so the probe never takes longer than the budget plus the
//! time to close its sockets, whatever the server does.
//! - A stage whose answer never came records a timeout naming itself and how long it waited;
//!   [`RedisObservations::ran_out`] names it for the report.
//! - Everything answered before stays in the observations (partial latency samples too);
//!   the stages after it are not started, and their checks skip naming the stage that was
//!   waiting.
//! - A server that accepts the TCP connection and never answers costs exactly the budget:
//!   the TCP stage succeeded (`redis.connect` passes), the first command is what got no
//!   answer (`redis.auth` or `redis.ping` fails), and every later check skips because of it.
//!
//! Connection strategy (why not `redis::Client::get_multiplexed_async_connection`): the probe
//! resolves the name and opens the TCP connection itself with tokio, then does the TLS
//! handshake itself with tokio-rustls, each within the budget, so DNS failure, refusal,
//! timeout and a TLS failure are told apart by the stage that failed. The stream is then
//! handed to redis-rs' `MultiplexedConnection` with an empty handshake, and AUTH / PING /
//! SELECT are sent one by one so NOAUTH, WRONGPASS, NOPERM and a bad db are each observed.

pub use crate::probe::budget;
pub mod parse;
pub mod target;
pub mod transport;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use budget::Budget;
pub use parse::{ClientEntry, ClusterNode};
pub use target::{HostPort, RedisTarget, SentinelSpec};
pub use transport::{
    CmdError, CmdErrorKind, ConnectFailure, ConnectFailureKind, TlsFailure, TlsFailureKind,
};
use transport::{Io, Session, value_int, value_items, value_pairs, value_text};

/// Every command the probe may send, for SECURITY.md. None of them writes data or changes
/// the server's configuration: AUTH and SELECT only change the probe's own connection.
/// `tests/redis_probe.rs` runs the probe as an ACL user allowed exactly these and nothing
/// else (`-@all` plus each of them) and every check still reports.
///
/// | command | why |
/// |---|---|
/// | `AUTH [user] password` | only when the URL has a password |
/// | `PING` | liveness, NOAUTH detection, latency samples |
/// | `SELECT db` | only when the URL names a db other than 0 |
/// | `INFO` | version, mode, clients, memory, replication, `maxclients` (Redis ≥ 7) |
/// | `CONFIG GET maxclients / timeout / databases` | limits (skipped gracefully when renamed or forbidden) |
/// | `CLIENT ID`, `CLIENT LIST` | who is connected, idle times, subscribers (minus the probe itself) |
/// | `PUBSUB CHANNELS / NUMSUB / NUMPAT` | Socket.IO manager and adapter channels |
/// | `CLUSTER INFO / NODES` | only on a cluster node |
/// | `SENTINEL GET-MASTER-ADDR-BY-NAME / SENTINELS` | only to sentinels, for a Sentinel target |
pub const COMMANDS_SENT: &[&str] = &[
    "AUTH",
    "PING",
    "SELECT",
    "INFO",
    "CONFIG GET",
    "CLIENT ID",
    "CLIENT LIST",
    "PUBSUB CHANNELS",
    "PUBSUB NUMSUB",
    "PUBSUB NUMPAT",
    "CLUSTER INFO",
    "CLUSTER NODES",
    "SENTINEL GET-MASTER-ADDR-BY-NAME",
    "SENTINEL SENTINELS",
];

/// The `CONFIG GET` parameters read.
pub const CONFIG_PARAMS: &[&str] = &["maxclients", "timeout", "databases"];

/// python-socketio's default manager channel (`AsyncRedisManager(channel='socketio')`),
/// which Open WebUI keeps.
pub const DEFAULT_CHANNEL: &str = "socketio";

/// Flask-SocketIO's message-queue channel (`SocketIO(message_queue=…, channel='flask-socketio')`
/// by default; flask_socketio/__init__.py:216, Flask-SocketIO 5.7.0).
pub const FLASK_SOCKETIO_CHANNEL: &str = "flask-socketio";

/// Manager channels whose subscribers are always counted when present, besides
/// [`ProbeOptions::channel`].
pub const KNOWN_MANAGER_CHANNELS: &[&str] = &[DEFAULT_CHANNEL, FLASK_SOCKETIO_CHANNEL];

/// At most this many other listed channels (names without `#`: not room or adapter
/// channels) get their subscribers counted, so a custom manager channel is seen without a
/// Redis full of channels costing a huge NUMSUB.
pub const MAX_OTHER_CHANNELS_COUNTED: usize = 50;

/// Prefix of every channel and pattern @socket.io/redis-adapter uses (`socket.io#/#*`
/// PSUBSCRIBEd, `socket.io-request#/#` and `socket.io-response#/#` SUBSCRIBEd;
/// dependency-notes §4.4, E4c).
pub const NODE_ADAPTER_PREFIX: &str = "socket.io";

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The time budget of the whole probe (`--timeout`), shared by every stage.
    pub deadline: Duration,
    /// PINGs timed for `redis.latency`.
    pub latency_samples: u32,
    /// The python-socketio manager channel to count subscribers of.
    pub channel: String,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            deadline: Duration::from_secs(3),
            latency_samples: 20,
            channel: DEFAULT_CHANNEL.to_string(),
        }
    }
}

/// The TCP connection that was made.
#[derive(Debug, Clone, Serialize)]
pub struct Connected {
    /// The address actually connected to.
    pub peer: String,
    /// Every address the name resolved to.
    pub resolved: Vec<String>,
    pub took_ms: u64,
}

/// `PUBSUB` answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PubSubObservation {
    /// `PUBSUB CHANNELS` (every active channel).
    pub channels: Vec<String>,
    /// `PUBSUB NUMSUB` of the manager channel, of the known manager channels
    /// ([`KNOWN_MANAGER_CHANNELS`]), of every `socket.io*` channel, and of up to
    /// [`MAX_OTHER_CHANNELS_COUNTED`] other listed channels without `#`.
    pub numsub: Vec<(String, i64)>,
    /// `PUBSUB NUMPAT`: unique patterns subscribed (the Node adapter's `socket.io#/#*`).
    pub numpat: i64,
}

impl PubSubObservation {
    pub fn subscribers(&self, channel: &str) -> i64 {
        self.numsub
            .iter()
            .find(|(c, _)| c == channel)
            .map_or(0, |(_, n)| *n)
    }
}

/// What one sentinel answered.
#[derive(Debug, Clone, Serialize)]
pub struct SentinelAnswer {
    pub sentinel: String,
    /// The master's `ip:port`, `Ok(None)` when the sentinel does not know the master name,
    /// `Err` when the sentinel could not be reached or asked.
    pub master: Result<Option<String>, String>,
    /// Other sentinels this one knows (`SENTINEL SENTINELS`), when asked successfully.
    pub other_sentinels: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentinelObservation {
    pub master_name: String,
    pub answers: Vec<SentinelAnswer>,
    /// The master address the probe went on with (the first answer).
    pub resolved: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeReach {
    pub addr: String,
    pub reachable: Result<(), String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterObservation {
    pub info: Result<BTreeMap<String, String>, CmdError>,
    pub nodes: Result<Vec<ClusterNode>, CmdError>,
    /// Every master other than the probed node, connected to and PINGed.
    pub reach: Vec<NodeReach>,
}

/// Everything the probe found out. `None` means the step was not reached (an earlier one
/// failed) or does not apply; the checks say which.
#[derive(Debug, Clone, Default)]
pub struct RedisObservations {
    /// The URL without its password.
    pub target: String,
    /// Where the probe connected (after Sentinel resolution and `--host`).
    pub addr: String,
    /// `--host` replaced this address from the URL.
    pub overridden_from: Option<String>,
    pub tls: bool,
    /// `#insecure`: TLS without certificate verification.
    pub insecure: bool,
    pub username: Option<String>,
    pub password_given: bool,
    pub db: i64,
    pub sentinel: Option<SentinelObservation>,
    pub connect: Option<Result<Connected, ConnectFailure>>,
    /// Only for `rediss://`.
    pub tls_handshake: Option<Result<(), TlsFailure>>,
    /// Only when a password was given.
    pub auth: Option<Result<(), CmdError>>,
    pub ping: Option<Result<String, CmdError>>,
    /// Only when the db is not 0.
    pub select: Option<Result<(), CmdError>>,
    pub info: Option<Result<BTreeMap<String, String>, CmdError>>,
    /// `CONFIG GET` of each of [`CONFIG_PARAMS`].
    pub config: BTreeMap<String, Result<String, CmdError>>,
    /// The probe's own client id (left out of the client statistics).
    pub own_client_id: Option<u64>,
    pub client_list: Option<Result<Vec<ClientEntry>, CmdError>>,
    pub pubsub: Option<Result<PubSubObservation, CmdError>>,
    /// PING round trips, in microseconds.
    pub latency_us: Option<Result<Vec<u64>, CmdError>>,
    pub cluster: Option<ClusterObservation>,
    /// The python-socketio manager channel looked at.
    pub channel: String,
    /// The commands sent on the main connection, in order (arguments never recorded).
    pub commands_sent: Vec<String>,
    /// Wall time of each step, in ms.
    pub took_ms: BTreeMap<String, u64>,
    /// The whole probe's time budget (`--timeout`), in ms.
    pub budget_ms: u64,
    /// What the probe was waiting for when the budget ran out ("AUTH", "CLIENT LIST", "the
    /// TCP handshake"…); `None` when every stage finished in time.
    pub ran_out: Option<String>,
}

impl RedisObservations {
    /// An INFO field.
    pub fn info_field(&self, key: &str) -> Option<&str> {
        match &self.info {
            Some(Ok(m)) => m.get(key).map(String::as_str),
            _ => None,
        }
    }

    /// A CONFIG GET value, if it was readable.
    pub fn config_value(&self, key: &str) -> Option<&str> {
        match self.config.get(key) {
            Some(Ok(v)) => Some(v.as_str()),
            _ => None,
        }
    }

    /// "the --timeout budget of 3s ran out while waiting for CLIENT LIST", when it did.
    pub fn ran_out_note(&self) -> Option<String> {
        self.ran_out.as_ref().map(|what| {
            format!(
                "the --timeout budget of {} ran out while waiting for {what}",
                budget::format_wait(Duration::from_millis(self.budget_ms))
            )
        })
    }

    /// PING answered: the connection is authenticated and usable.
    pub fn ready(&self) -> bool {
        matches!(self.ping, Some(Ok(_)))
            && !matches!(self.auth, Some(Err(_)))
            && !matches!(self.select, Some(Err(_)))
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

/// Probes `target`. Never panics and never takes longer than `opts.deadline` (plus closing
/// its sockets): see the time model in the module docs.
pub async fn probe(target: &RedisTarget, opts: &ProbeOptions) -> RedisObservations {
    let budget = Budget::start(opts.deadline);
    let mut obs = RedisObservations {
        target: target.display(),
        addr: target.addr.to_string(),
        overridden_from: target.overridden_from.as_ref().map(|h| h.to_string()),
        tls: target.tls,
        insecure: target.insecure,
        username: target.username.clone(),
        password_given: target.password.is_some(),
        db: target.db,
        channel: opts.channel.clone(),
        budget_ms: ms(budget.total()),
        ..RedisObservations::default()
    };
    probe_stages(target, opts, &budget, &mut obs).await;
    obs.took_ms.insert("total".into(), ms(budget.spent()));
    obs
}

async fn probe_stages(
    target: &RedisTarget,
    opts: &ProbeOptions,
    budget: &Budget,
    obs: &mut RedisObservations,
) {
    let mut addr = target.addr.clone();
    if let Some(spec) = &target.sentinel {
        let started = Instant::now();
        let s = ask_sentinels(spec, target, budget).await;
        obs.took_ms.insert("sentinel".into(), ms(started.elapsed()));
        let resolved = s.resolved.clone();
        obs.sentinel = Some(s);
        match resolved.and_then(|r| HostPort::parse(&r, target::DEFAULT_PORT).ok()) {
            Some(master) => {
                // `--host` wins over what the sentinels announce (reaching a master from
                // outside its network).
                if target.overridden_from.is_none() {
                    addr = master;
                }
                obs.addr = addr.to_string();
            }
            None => {
                if budget.is_spent() {
                    obs.ran_out = Some("the sentinels' answer".into());
                }
                return;
            }
        }
    }

    // DNS and TCP.
    let started = Instant::now();
    let tcp = match transport::tcp_connect(&addr, budget).await {
        Ok((tcp, peer, resolved)) => {
            obs.connect = Some(Ok(Connected {
                peer: peer.to_string(),
                resolved,
                took_ms: ms(started.elapsed()),
            }));
            tcp
        }
        Err(f) => {
            obs.ran_out = match f.kind {
                ConnectFailureKind::DnsTimeout => Some(format!("DNS to resolve '{}'", addr.host)),
                ConnectFailureKind::Timeout if budget.is_spent() => {
                    Some("the TCP handshake".into())
                }
                _ => None,
            };
            obs.connect = Some(Err(f));
            return;
        }
    };
    obs.took_ms.insert("connect".into(), ms(started.elapsed()));

    // TLS.
    let stream: Box<dyn Io> = if target.tls {
        let started = Instant::now();
        let r = transport::tls_handshake(tcp, &addr.host, target.insecure, budget).await;
        obs.took_ms.insert("tls".into(), ms(started.elapsed()));
        match r {
            Ok(s) => {
                obs.tls_handshake = Some(Ok(()));
                Box::new(s)
            }
            Err(f) => {
                if f.kind == TlsFailureKind::Timeout {
                    obs.ran_out = Some("the TLS handshake".into());
                }
                obs.tls_handshake = Some(Err(f));
                return;
            }
        }
    } else {
        Box::new(tcp)
    };

    let mut session = match Session::start(stream, budget).await {
        Ok(s) => s,
        Err(e) => {
            obs.ping = Some(Err(e));
            return;
        }
    };
    run_commands(&mut session, target, opts, budget, obs).await;
    obs.commands_sent = std::mem::take(&mut session.sent);
    if obs.ran_out.is_none() {
        obs.ran_out = session.ran_out_on.take();
    }
    drop(session);
    if !target.tls {
        explain_closed_connection(&addr, budget, obs).await;
    }
}

/// When the very first command found the connection closed, finds out whether the server
/// refused it with a line sent on accept (maxclients, protected mode) and records that
/// instead of the bare "closed".
async fn explain_closed_connection(addr: &HostPort, budget: &Budget, obs: &mut RedisObservations) {
    let first = match (&mut obs.auth, &mut obs.ping) {
        (Some(Err(e)), _) => e,
        (None, Some(Err(e))) => e,
        _ => return,
    };
    if first.kind != CmdErrorKind::Closed {
        return;
    }
    if let Some(refusal) = transport::listen_for_refusal(addr, budget).await {
        *first = refusal;
    }
}

/// AUTH, PING, SELECT, then the read-only questions, on one connection.
async fn run_commands(
    s: &mut Session,
    target: &RedisTarget,
    opts: &ProbeOptions,
    budget: &Budget,
    obs: &mut RedisObservations,
) {
    let started = Instant::now();
    if let Some(pw) = &target.password {
        let r = match &target.username {
            Some(u) => s.cmd("AUTH", &["AUTH", u, pw]).await,
            None => s.cmd("AUTH", &["AUTH", pw]).await,
        };
        let failed = r.is_err();
        obs.auth = Some(r.map(|_| ()));
        obs.took_ms.insert("auth".into(), ms(started.elapsed()));
        if failed {
            return;
        }
    }
    let started = Instant::now();
    let ping = s.cmd("PING", &["PING"]).await;
    obs.took_ms.insert("ping".into(), ms(started.elapsed()));
    let ok = ping.is_ok();
    obs.ping = Some(ping.map(|v| value_text(&v).unwrap_or_default()));
    if !ok {
        return;
    }
    if target.db != 0 {
        let db = target.db.to_string();
        let r = s.cmd("SELECT", &["SELECT", &db]).await;
        let failed = r.is_err();
        obs.select = Some(r.map(|_| ()));
        if failed {
            return;
        }
    }

    let started = Instant::now();
    obs.info = Some(
        s.cmd("INFO", &["INFO"])
            .await
            .map(|v| parse::parse_info(&value_text(&v).unwrap_or_default())),
    );
    obs.took_ms.insert("info".into(), ms(started.elapsed()));

    for p in CONFIG_PARAMS {
        let r = s
            .cmd("CONFIG GET", &["CONFIG", "GET", p])
            .await
            .and_then(|v| {
                value_pairs(&v)
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(p))
                    .and_then(|(_, v)| value_text(&v))
                    .ok_or_else(|| {
                        CmdError::new(
                            CmdErrorKind::Client,
                            format!("CONFIG GET {p} returned no value"),
                        )
                    })
            });
        let stop =
            matches!(&r, Err(e) if matches!(e.kind, CmdErrorKind::Timeout | CmdErrorKind::Closed));
        obs.config.insert((*p).to_string(), r);
        if stop {
            // One timeout is enough to know CONFIG will not answer; do not pay it thrice.
            break;
        }
    }

    obs.own_client_id = s
        .cmd("CLIENT ID", &["CLIENT", "ID"])
        .await
        .ok()
        .and_then(|v| value_int(&v))
        .and_then(|i| u64::try_from(i).ok());
    let started = Instant::now();
    obs.client_list = Some(
        s.cmd("CLIENT LIST", &["CLIENT", "LIST"])
            .await
            .map(|v| parse::parse_client_list(&value_text(&v).unwrap_or_default())),
    );
    obs.took_ms
        .insert("client_list".into(), ms(started.elapsed()));

    obs.pubsub = Some(pubsub(s, &opts.channel).await);

    let mut samples = Vec::with_capacity(opts.latency_samples as usize);
    let mut latency_err = None;
    for _ in 0..opts.latency_samples {
        let t = Instant::now();
        match s.cmd("PING", &["PING"]).await {
            Ok(_) => samples.push(t.elapsed().as_micros().min(u128::from(u64::MAX)) as u64),
            Err(e) => {
                latency_err = Some(e);
                break;
            }
        }
    }
    if let Some(e) = &latency_err
        && e.kind == CmdErrorKind::Timeout
        && obs.ran_out.is_none()
        && !samples.is_empty()
    {
        obs.ran_out = Some(format!(
            "latency PING {} of {} (the {} answered are kept)",
            samples.len() + 1,
            opts.latency_samples,
            samples.len()
        ));
    }
    obs.latency_us = Some(match latency_err {
        Some(e) if samples.is_empty() => Err(e),
        _ => Ok(samples),
    });

    let cluster_enabled = obs.info_field("cluster_enabled") == Some("1")
        || obs.info_field("redis_mode") == Some("cluster");
    if cluster_enabled {
        let started = Instant::now();
        obs.cluster = Some(cluster(s, target, budget).await);
        obs.took_ms.insert("cluster".into(), ms(started.elapsed()));
    }
}

async fn pubsub(s: &mut Session, channel: &str) -> Result<PubSubObservation, CmdError> {
    let channels: Vec<String> =
        value_items(&s.cmd("PUBSUB CHANNELS", &["PUBSUB", "CHANNELS"]).await?)
            .into_iter()
            .filter_map(value_text)
            .collect();
    let mut asked: Vec<&str> = vec![channel];
    for known in KNOWN_MANAGER_CHANNELS {
        if !asked.contains(known) && channels.iter().any(|c| c == known) {
            asked.push(known);
        }
    }
    for c in &channels {
        if c.starts_with(NODE_ADAPTER_PREFIX) && !asked.contains(&c.as_str()) {
            asked.push(c);
        }
    }
    let mut others = 0;
    for c in &channels {
        if others < MAX_OTHER_CHANNELS_COUNTED && !c.contains('#') && !asked.contains(&c.as_str()) {
            asked.push(c);
            others += 1;
        }
    }
    let mut args = vec!["PUBSUB", "NUMSUB"];
    args.extend(asked.iter().copied());
    let numsub = value_pairs(&s.cmd("PUBSUB NUMSUB", &args).await?)
        .into_iter()
        .map(|(k, v)| (k, value_int(&v).unwrap_or(0)))
        .collect();
    let numpat = value_int(&s.cmd("PUBSUB NUMPAT", &["PUBSUB", "NUMPAT"]).await?).unwrap_or(0);
    Ok(PubSubObservation {
        channels,
        numsub,
        numpat,
    })
}

async fn cluster(s: &mut Session, target: &RedisTarget, budget: &Budget) -> ClusterObservation {
    let info = s
        .cmd("CLUSTER INFO", &["CLUSTER", "INFO"])
        .await
        .map(|v| parse::parse_info(&value_text(&v).unwrap_or_default()));
    let nodes = s
        .cmd("CLUSTER NODES", &["CLUSTER", "NODES"])
        .await
        .map(|v| parse::parse_cluster_nodes(&value_text(&v).unwrap_or_default()));
    let mut reach = Vec::new();
    if let Ok(nodes) = &nodes {
        let others: Vec<&ClusterNode> = nodes
            .iter()
            .filter(|n| n.is_master() && !n.is_myself())
            .collect();
        let checks = others.iter().map(|n| async move {
            let r = match HostPort::parse(&n.addr, target::DEFAULT_PORT) {
                Ok(hp) => reach_node(&hp, target, budget).await,
                Err(e) => Err(e),
            };
            NodeReach {
                addr: n.addr.clone(),
                reachable: r,
            }
        });
        reach = futures_util::future::join_all(checks).await;
    }
    ClusterObservation { info, nodes, reach }
}

/// Connects to another node, authenticates like the main connection and PINGs it.
async fn reach_node(addr: &HostPort, target: &RedisTarget, budget: &Budget) -> Result<(), String> {
    let tls = target.tls.then_some(target.insecure);
    let mut s = transport::open(addr, tls, budget).await?;
    auth_if_needed(&mut s, target).await?;
    s.cmd("PING", &["PING"])
        .await
        .map(|_| ())
        .map_err(|e| e.message)
}

async fn auth_if_needed(s: &mut Session, target: &RedisTarget) -> Result<(), String> {
    if let Some(pw) = &target.password {
        let r = match &target.username {
            Some(u) => s.cmd("AUTH", &["AUTH", u, pw]).await,
            None => s.cmd("AUTH", &["AUTH", pw]).await,
        };
        r.map_err(|e| e.message)?;
    }
    Ok(())
}

/// Asks every sentinel (concurrently) for the master's address and the other sentinels.
async fn ask_sentinels(
    spec: &SentinelSpec,
    target: &RedisTarget,
    budget: &Budget,
) -> SentinelObservation {
    let asks = spec.sentinels.iter().map(|addr| async move {
        let mut answer = SentinelAnswer {
            sentinel: addr.to_string(),
            master: Err(String::new()),
            other_sentinels: None,
        };
        let tls = target.tls.then_some(target.insecure);
        let mut s = match transport::open(addr, tls, budget).await {
            Ok(s) => s,
            Err(e) => {
                answer.master = Err(e);
                return answer;
            }
        };
        let ask = ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", spec.master.as_str()];
        let mut r = s.cmd("SENTINEL GET-MASTER-ADDR-BY-NAME", &ask).await;
        // Sentinels usually have no password of their own; when they do (`requirepass` in
        // sentinel.conf) it is most often the same as the master's.
        if matches!(&r, Err(e) if e.kind == CmdErrorKind::NoAuth) {
            if let Err(e) = auth_if_needed(&mut s, target).await {
                answer.master = Err(format!("the sentinel requires a password: {e}"));
                return answer;
            }
            r = s.cmd("SENTINEL GET-MASTER-ADDR-BY-NAME", &ask).await;
        }
        answer.master = match r {
            Err(e) => Err(e.message),
            Ok(redis::Value::Nil) => Ok(None),
            Ok(v) => {
                let parts: Vec<String> =
                    value_items(&v).into_iter().filter_map(value_text).collect();
                match parts.as_slice() {
                    [ip, port] => Ok(Some(
                        HostPort {
                            host: ip.clone(),
                            port: port.parse().unwrap_or(target::DEFAULT_PORT),
                        }
                        .to_string(),
                    )),
                    _ => Ok(None),
                }
            }
        };
        if matches!(answer.master, Ok(Some(_))) {
            answer.other_sentinels = s
                .cmd(
                    "SENTINEL SENTINELS",
                    &["SENTINEL", "SENTINELS", spec.master.as_str()],
                )
                .await
                .ok()
                .map(|v| value_items(&v).len());
        }
        answer
    });
    let answers: Vec<SentinelAnswer> = futures_util::future::join_all(asks).await;
    let resolved = answers
        .iter()
        .find_map(|a| a.master.as_ref().ok().and_then(|m| m.clone()));
    SentinelObservation {
        master_name: spec.master.clone(),
        answers,
        resolved,
    }
}
