//! `redis.connect` and `redis.tls`: can the server be reached at all, and over TLS.

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{CmdErrorKind, ConnectFailureKind, RedisObservations, TlsFailureKind};
use crate::report::CheckResult;

use super::{not_redis, took};

pub static CONNECT: Rule = Rule {
    id: "redis.connect",
    severity: Severity::Error,
    title: "Redis is reachable",
    summary: "Resolves the host and opens a TCP connection within the probe's --timeout \
              budget, and names the stage that failed: DNS, refused, or timeout; a listener \
              that answers but is not Redis (not RESP, protected mode) fails here too. A \
              listener that accepts and never answers passes here: the first command \
              (redis.auth or redis.ping) is what got no answer.",
    why: "Every Socket.IO worker that uses a Redis manager connects at start-up; when it \
          cannot, python-socketio logs `Cannot receive from redis... retrying` forever and \
          broadcasts never leave the worker. The stage tells the cause: a DNS failure means \
          a compose service name used outside its network (or a typo); `connection refused` \
          means the host answered but nothing listens on that port; a timeout means packets \
          are dropped (firewall, wrong address); a listener that answers in something other \
          than RESP is not Redis.",
    fix: "DNS: use the service name only from a container on the same compose network, or \
          probe from the host with `--host 127.0.0.1:PUBLISHED_PORT`. Refused: start Redis, \
          check the port (`6379` inside the network, the published port outside) and that \
          Redis binds beyond 127.0.0.1 (`bind 0.0.0.0`, `protected-mode`). Timeout: check \
          firewalls/security groups and the address. Not Redis: point at the real Redis \
          port.",
};

pub fn connect(obs: &RedisObservations) -> CheckResult {
    let r = connect_stage(obs);
    // The probe's time budget, and the stage that was waiting when it ran out.
    r.evidence("budget_ms", obs.budget_ms)
        .evidence("spent_ms", obs.took_ms.get("total").copied())
        .evidence("ran_out_while_waiting_for", obs.ran_out.clone())
}

fn connect_stage(obs: &RedisObservations) -> CheckResult {
    let Some(outcome) = &obs.connect else {
        return CONNECT.skip_because("redis.sentinel");
    };
    match outcome {
        Err(f) => {
            let (message, hint) = match f.kind {
                ConnectFailureKind::Dns => (
                    format!("DNS: {}", f.message),
                    "a compose service name (e.g. `redis`) resolves only inside its compose \
                     network: run from a container on that network, or probe the published \
                     port with --host 127.0.0.1:PORT; otherwise check the spelling"
                        .to_string(),
                ),
                ConnectFailureKind::DnsTimeout => (
                    format!("DNS timeout: {}", f.message),
                    "the resolver did not answer: check /etc/resolv.conf or use an IP address"
                        .to_string(),
                ),
                ConnectFailureKind::Refused => (
                    format!("connection refused: {}", f.message),
                    format!(
                        "nothing listens on {}: is Redis running, is the port right (6379 \
                         inside the network, the published port from the host), and does it \
                         bind to this interface (bind / protected-mode)?",
                        obs.addr
                    ),
                ),
                ConnectFailureKind::Timeout => (
                    format!("timeout: {}", f.message),
                    "the TCP handshake got no answer: a firewall or security group drops the \
                     packets, or the address is wrong / not routable from here"
                        .to_string(),
                ),
                ConnectFailureKind::Unreachable => (
                    format!("unreachable: {}", f.message),
                    "no route to that address from here: check the network (a container IP \
                     is reachable only from the host or the same network)"
                        .to_string(),
                ),
                ConnectFailureKind::Other => (
                    f.message.clone(),
                    "check the address and the network".to_string(),
                ),
            };
            CONNECT
                .fail(message)
                .hint(hint)
                .evidence("address", obs.addr.clone())
                .evidence("stage", serde_json::to_value(f.kind).unwrap_or_default())
                .evidence("resolved", f.resolved.clone())
                .took(took(obs, "connect"))
        }
        Ok(c) => {
            let with_evidence = |r: CheckResult, stage: &str| {
                let r = r
                    .evidence("address", obs.addr.clone())
                    .evidence("peer", c.peer.clone())
                    .evidence("resolved", c.resolved.clone())
                    .evidence("connect_ms", c.took_ms)
                    .evidence("stage", stage)
                    .took(took(obs, "connect"));
                match &obs.overridden_from {
                    Some(from) => r.evidence("url_address", from.clone()),
                    None => r,
                }
            };
            if let Some(e) = not_redis(obs) {
                let (stage, message, hint) = match e.kind {
                    CmdErrorKind::ProtectedMode => (
                        "protected-mode",
                        format!("{} refused the connection: {e}", c.peer),
                        "Redis without a password accepts only loopback clients in protected \
                         mode: set a password (`--requirepass`, and put it in the URL), or \
                         `--protected-mode no` behind a firewall",
                    ),
                    CmdErrorKind::Protocol => (
                        "not-redis",
                        format!(
                            "{} accepted the TCP connection but did not answer in RESP: {e}",
                            c.peer
                        ),
                        "something other than Redis listens there (check the port), or a \
                         proxy in the path mangles the connection",
                    ),
                    _ => (
                        "exchange-failed",
                        format!(
                            "{} accepted the TCP connection, then the first exchange failed: {e}",
                            c.peer
                        ),
                        "check that the address leads to a Redis server",
                    ),
                };
                return with_evidence(CONNECT.fail(message).hint(hint), stage);
            }
            let msg = match &obs.overridden_from {
                Some(from) => format!(
                    "connected to {} (instead of {from} from the URL) in {} ms",
                    c.peer, c.took_ms
                ),
                None => format!("connected to {} in {} ms", c.peer, c.took_ms),
            };
            // A first command that got no answer is judged by its own check (redis.auth or
            // redis.ping): the TCP connection itself was made.
            with_evidence(CONNECT.pass(msg), "connected")
        }
    }
}

pub static TLS: Rule = Rule {
    id: "redis.tls",
    severity: Severity::Error,
    title: "TLS handshake with Redis",
    summary: "For a rediss:// URL, runs the TLS handshake with the system trust store \
              (SSL_CERT_FILE / SSL_CERT_DIR honoured) and names what failed: untrusted \
              certificate, name mismatch, expiry, or a port that does not speak TLS.",
    why: "Managed Redis (ElastiCache with in-transit encryption, Azure Cache, Upstash) only \
          accepts TLS; a redis:// URL there is closed without an answer, and a rediss:// URL \
          to a plain port fails the handshake. A certificate the workers do not trust fails \
          every connection the same way.",
    fix: "Use rediss:// for a TLS port and redis:// for a plain one. For a private CA, point \
          SSL_CERT_FILE at the CA bundle (the app's client needs it too, e.g. redis-py \
          `ssl_ca_certs`). `#insecure` skips verification for a test only.",
};

pub fn tls(obs: &RedisObservations) -> CheckResult {
    if !obs.tls {
        return TLS.skip("plain redis:// URL: no TLS (use rediss:// when the server requires TLS)");
    }
    if !matches!(obs.connect, Some(Ok(_))) {
        return TLS.skip_because(if obs.connect.is_none() {
            "redis.sentinel"
        } else {
            "redis.connect"
        });
    }
    match &obs.tls_handshake {
        None => TLS.skip_because("redis.connect"),
        Some(Ok(())) => {
            if obs.insecure {
                TLS.warn(format!(
                    "TLS handshake with {} completed without verifying the certificate (#insecure)",
                    obs.addr
                ))
                .hint("drop #insecure and trust the CA instead (SSL_CERT_FILE)")
                .evidence("verified", false)
                .took(took(obs, "tls"))
            } else {
                TLS.pass(format!(
                    "TLS handshake with {} completed, certificate verified",
                    obs.addr
                ))
                .evidence("verified", true)
                .took(took(obs, "tls"))
            }
        }
        Some(Err(f)) => {
            let hint = match f.kind {
                TlsFailureKind::UntrustedCertificate => {
                    "the certificate is not signed by a CA this machine trusts: set \
                     SSL_CERT_FILE to the CA bundle (the app needs the same CA)"
                }
                TlsFailureKind::NameMismatch => {
                    "the certificate does not name the host in the URL: use the name it was \
                     issued for"
                }
                TlsFailureKind::Expired => "the certificate is expired or not yet valid: renew it",
                TlsFailureKind::NotTls => {
                    "the port answered in plain text: it is not a TLS port, use redis://"
                }
                TlsFailureKind::Closed => {
                    "the server closed the handshake: check the port serves TLS and the \
                     server's TLS settings (tls-port, protocols)"
                }
                TlsFailureKind::Timeout => {
                    "no handshake answer: the port may be a plain Redis waiting for a command \
                     (use redis://) or not Redis at all"
                }
                TlsFailureKind::Other => "check the server's TLS configuration",
            };
            TLS.fail(format!(
                "TLS handshake with {} failed: {}",
                obs.addr, f.message
            ))
            .hint(hint)
            .evidence("reason", serde_json::to_value(f.kind).unwrap_or_default())
            .took(took(obs, "tls"))
        }
    }
}
