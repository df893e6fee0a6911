//! `redis.auth`, `redis.ping`, `redis.db-select`: can the app's URL open a usable session.

use crate::catalogue::{Rule, Severity};
use crate::probe::redis::{CmdErrorKind, RedisObservations};
use crate::report::CheckResult;

use super::{
    blocker, denied_commands, first_error, not_redis, refused_max_clients, took, unanswered,
    unanswered_finding,
};

pub static AUTH: Rule = Rule {
    id: "redis.auth",
    severity: Severity::Error,
    title: "Redis accepts the URL's credentials",
    summary: "Sends AUTH with the URL's user and password (when it has one) and PING, and \
              tells apart NOAUTH (a password is needed, none given), WRONGPASS (wrong \
              password or user), a password given to a server that has none, and NOPERM (the \
              ACL forbids a command).",
    why: "Redis answers `NOAUTH Authentication required.` to every command of an \
          unauthenticated client when `requirepass` is set, and `WRONGPASS invalid \
          username-password pair or user is disabled.` to a wrong AUTH. A server without a \
          password answers AUTH with `ERR AUTH <password> called without any password \
          configured for the default user`, which redis-py and ioredis treat as a failed \
          connection. In each case the Socket.IO manager never subscribes and broadcasts stay \
          inside one worker.",
    fix: "Put the password in the URL as `redis://:PASSWORD@host:6379/0` (or \
          `redis://USER:PASSWORD@…` for an ACL user), percent-encoding reserved characters; \
          make it match the server's `requirepass` / `--requirepass` / ACL user. If the \
          server has no password, remove it from the URL (or better, set one on the server).",
};

pub fn auth(obs: &RedisObservations) -> CheckResult {
    if let Some(id @ ("redis.sentinel" | "redis.connect" | "redis.tls")) = blocker(obs) {
        return AUTH.skip_because(id);
    }
    if not_redis(obs).is_some() {
        return AUTH.skip_because("redis.connect");
    }
    let user = obs.username.as_deref().unwrap_or("default");
    if refused_max_clients(obs) {
        return AUTH
            .skip(
                "the server refused the connection before authentication: max number of \
                 clients reached (see redis.maxclients)",
            )
            .evidence("depends_on", "redis.maxclients");
    }
    if let Some(Err(e)) = &obs.auth
        && unanswered(obs).is_some()
    {
        // AUTH was the first command and got no answer: the TCP connection was made (see
        // redis.connect), AUTH is what failed.
        let (message, hint, stage) = unanswered_finding(obs, e);
        return AUTH
            .fail(message)
            .hint(hint)
            .evidence("stage", stage)
            .evidence("command", "AUTH")
            .evidence("error", serde_json::to_value(e.kind).unwrap_or_default())
            .took(took(obs, "auth"));
    }
    if let Some(Err(e)) = &obs.auth {
        let (message, hint) = match e.kind {
            CmdErrorKind::WrongPass => (
                format!("WRONGPASS: the server rejected the password for user '{user}' ({e})"),
                "the URL's password (or user) does not match the server's requirepass / ACL \
                 user: compare them, and percent-encode reserved characters in the URL"
                    .to_string(),
            ),
            CmdErrorKind::NoPasswordConfigured => (
                format!(
                    "the URL gives a password but the server has none configured ({e}); \
                     clients that send AUTH fail to connect"
                ),
                "remove the password from the URL, or set `requirepass` on the server (recommended)"
                    .to_string(),
            ),
            _ => (
                format!("AUTH failed: {e}"),
                "check the URL's user and password".to_string(),
            ),
        };
        return AUTH
            .fail(message)
            .hint(hint)
            .evidence("user", user)
            .evidence("password_given", true)
            .evidence("error", serde_json::to_value(e.kind).unwrap_or_default())
            .took(took(obs, "auth"));
    }
    if let Some(Err(e)) = &obs.ping {
        match e.kind {
            CmdErrorKind::NoAuth => {
                return AUTH
                    .fail(format!(
                        "NOAUTH: the server requires a password and the URL has none ({e})"
                    ))
                    .hint("add the password: redis://:PASSWORD@host:6379/0")
                    .evidence("password_given", false)
                    .evidence("error", "no-auth");
            }
            CmdErrorKind::NoPerm => {
                return AUTH
                    .fail(format!(
                        "NOPERM: user '{user}' is authenticated but its ACL forbids even PING ({e})"
                    ))
                    .hint("grant the user at least +ping (and what the app needs: +publish +subscribe …)")
                    .evidence("user", user)
                    .evidence("error", "no-perm");
            }
            _ => {}
        }
    }
    if first_error(obs).is_some() && !matches!(obs.auth, Some(Ok(()))) {
        // PING failed for a non-auth reason (e.g. LOADING) without AUTH: judged by ping.
        return AUTH.skip_because("redis.ping");
    }
    let denied = denied_commands(obs);
    let base = if obs.password_given {
        format!("authenticated as '{user}'")
    } else {
        "no password given and none required: the server accepts unauthenticated clients"
            .to_string()
    };
    let message = if denied.is_empty() {
        base
    } else {
        format!(
            "{base}; the ACL refused {} (NOPERM): the checks that need them are skipped",
            denied.join(", ")
        )
    };
    AUTH.pass(message)
        .evidence("user", user)
        .evidence("password_given", obs.password_given)
        .evidence("acl_denied", denied)
        .took(took(obs, "auth"))
}

pub static PING: Rule = Rule {
    id: "redis.ping",
    severity: Severity::Error,
    title: "Redis answers PING",
    summary: "PING on the authenticated connection must answer PONG.",
    why: "A server that is still loading its dataset answers `LOADING Redis is loading the \
          dataset in memory` to every command; any other error to PING means the connection \
          is not usable by the app's client either.",
    fix: "Wait for the load to finish (large RDB/AOF files take time; check the server's log), \
          or fix the error the server gave.",
};

pub fn ping(obs: &RedisObservations) -> CheckResult {
    match &obs.ping {
        Some(Ok(reply)) => PING
            .pass(format!("PING answered {reply}"))
            .evidence("reply", reply.clone())
            .took(took(obs, "ping")),
        Some(Err(e)) if blocker(obs) == Some("redis.ping") && unanswered(obs).is_some() => {
            // PING was the first command (no password) and got no answer.
            let (message, hint, stage) = unanswered_finding(obs, e);
            PING.fail(message)
                .hint(hint)
                .evidence("stage", stage)
                .evidence("command", "PING")
                .evidence("error", serde_json::to_value(e.kind).unwrap_or_default())
                .took(took(obs, "ping"))
        }
        Some(Err(e)) if blocker(obs) == Some("redis.ping") => {
            let hint = match e.kind {
                CmdErrorKind::Loading => {
                    "Redis is loading its dataset: clients get LOADING errors until it is done"
                }
                CmdErrorKind::Timeout => {
                    "Redis answered AUTH but not PING in time: the server is overloaded or \
                     stuck (a long command, a blocked main thread); see its log and SLOWLOG"
                }
                _ => "the server is up but does not serve commands: see its log",
            };
            PING.fail(format!("PING failed: {e}"))
                .hint(hint)
                .evidence("error", serde_json::to_value(e.kind).unwrap_or_default())
                .took(took(obs, "ping"))
        }
        _ => PING.skip_because(blocker(obs).unwrap_or("redis.connect")),
    }
}

pub static DB_SELECT: Rule = Rule {
    id: "redis.db-select",
    severity: Severity::Error,
    title: "The URL's database exists",
    summary: "SELECTs the URL's database number (when not 0) and reports \
              `ERR DB index is out of range` for a db at or beyond the server's `databases`.",
    why: "Redis has `databases 16` (0-15) unless configured otherwise, and a cluster only db \
          0. A client whose URL names a db beyond that fails every connection with `ERR DB \
          index is out of range` (or `ERR SELECT is not allowed in cluster mode`). Pub/sub \
          itself ignores the db, so workers on different dbs still share channels while their \
          keys do not.",
    fix: "Use a db below the server's `databases` (default 16: 0-15) — `/0` is always safe — \
          or raise `databases` in redis.conf. In a cluster use db 0.",
};

pub fn db_select(obs: &RedisObservations) -> CheckResult {
    match blocker(obs) {
        Some("redis.db-select") | None => {}
        Some(id) => return DB_SELECT.skip_because(id),
    }
    let databases = obs.config_value("databases").map(str::to_string);
    match &obs.select {
        None => DB_SELECT
            .pass("db 0 (always exists)")
            .evidence("db", 0)
            .evidence("databases", databases),
        Some(Ok(())) => DB_SELECT
            .pass(format!("SELECT {} succeeded", obs.db))
            .evidence("db", obs.db)
            .evidence("databases", databases),
        Some(Err(e)) => {
            let hint = if e.message.contains("cluster") {
                "a Redis Cluster has only db 0: use /0".to_string()
            } else {
                format!(
                    "db {} does not exist on this server: use a db below `databases` \
                     (16 by default: 0-15), or raise `databases`",
                    obs.db
                )
            };
            DB_SELECT
                .fail(format!("SELECT {} failed: {e}", obs.db))
                .hint(hint)
                .evidence("db", obs.db)
        }
    }
}
