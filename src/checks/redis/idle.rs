//! One rule for Redis' idle-connection settings (`timeout`, `maxclients`), judged the same
//! wherever the settings are read: the compose files (`config.redis-timeout`,
//! `config.redis-maxclients`), the running container's command line
//! (`docker.redis-command`) and the live server (`redis.timeout`). A pure function of the
//! two values, so the four places cannot disagree, and one hint text, so the report's fix
//! list (which lists a fix once) names the fix once however many layers see it.
//!
//! The rule:
//! - `timeout N` with N > 0: idle connections are closed after N s. Nothing to say.
//! - `timeout 0` (Redis' default): idle connections are never closed. Warn.
//! - `timeout 0` with `maxclients` below Redis' default of 10000: the seed's failure —
//!   connections that clients leak (a crashed worker's pool, a connection per request) stay
//!   until the count reaches the lowered limit, then every new connection gets `ERR max
//!   number of clients reached` and every login and websocket fails at once. Warn, with a
//!   message that names both settings. `timeout` carries it, not `maxclients`: raising the
//!   limit only delays the outage, closing idle connections ends it; the `maxclients` check
//!   says the limit is explained there instead of repeating the advice.

/// Redis' own default (`maxclients 10000` in redis.conf 7.x).
pub const DEFAULT_MAXCLIENTS: u64 = 10_000;

/// The one fix, word for word in every check that finds `timeout 0`.
pub const TIMEOUT_FIX: &str = "set `timeout 1800` (`--timeout 1800` on the redis-server \
    command): Redis then closes connections idle for 30 minutes; pub/sub listeners (the \
    Socket.IO manager) are exempt and client pools reconnect on their own";

/// What a server's idle-connection settings lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdlePolicy {
    /// `timeout N`, N > 0.
    Closed { timeout: u64 },
    /// `timeout 0` with the default (or a higher, or an unknown) `maxclients`.
    NeverClosed { maxclients: Option<u64> },
    /// `timeout 0` with `maxclients` below the default: the limit leaked connections reach.
    NeverClosedLowLimit { maxclients: u64 },
}

impl IdlePolicy {
    /// Judges a server's `timeout` (seconds) and `maxclients`; `None` when `maxclients` is
    /// not known.
    pub fn of(timeout: u64, maxclients: Option<u64>) -> IdlePolicy {
        match (timeout, maxclients) {
            (t, _) if t > 0 => IdlePolicy::Closed { timeout: t },
            (_, Some(m)) if m < DEFAULT_MAXCLIENTS => {
                IdlePolicy::NeverClosedLowLimit { maxclients: m }
            }
            (_, m) => IdlePolicy::NeverClosed { maxclients: m },
        }
    }

    /// Whether the settings are a finding (`timeout 0`).
    pub fn fires(&self) -> bool {
        !matches!(self, IdlePolicy::Closed { .. })
    }

    /// The finding, after "{who}: " (a service, a container, a server): `None` when idle
    /// connections are closed.
    pub fn finding(&self) -> Option<String> {
        match self {
            IdlePolicy::Closed { .. } => None,
            IdlePolicy::NeverClosed { maxclients } => Some(format!(
                "timeout 0: idle connections are never closed, so every connection a client \
                 leaks stays until maxclients ({}) is reached and new connections get `ERR max \
                 number of clients reached`",
                maxclients.unwrap_or(DEFAULT_MAXCLIENTS)
            )),
            IdlePolicy::NeverClosedLowLimit { maxclients } => Some(format!(
                "timeout 0 with maxclients {maxclients} (below Redis' default of \
                 {DEFAULT_MAXCLIENTS}): idle connections are never closed, so leaked ones \
                 reach the limit of {maxclients}, and then every new connection (logins, \
                 websockets, worker restarts) fails with `ERR max number of clients reached`"
            )),
        }
    }

    /// For the `maxclients` checks: the limit is part of a `timeout 0` finding reported by
    /// `by` (so they explain instead of repeating the advice).
    pub fn explained_limit(&self, by: &str) -> Option<String> {
        match self {
            IdlePolicy::NeverClosedLowLimit { maxclients } => Some(format!(
                "with timeout 0 the limit of {maxclients} is what leaked connections reach: \
                 reported once, by {by} (closing idle connections is the fix; a higher \
                 limit only delays the outage)"
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_settings_name_both_and_a_timeout_clears_them() {
        // The seed: maxclients 1000, timeout 0.
        let seed = IdlePolicy::of(0, Some(1000));
        assert_eq!(seed, IdlePolicy::NeverClosedLowLimit { maxclients: 1000 });
        let text = seed.finding().unwrap();
        assert!(text.contains("timeout 0 with maxclients 1000"), "{text}");
        assert!(seed.explained_limit("config.redis-timeout").is_some());
        // timeout 0 alone (default maxclients) still fires, and explains no limit.
        let default = IdlePolicy::of(0, Some(10_000));
        assert!(default.fires());
        assert_eq!(default.explained_limit("x"), None);
        assert!(IdlePolicy::of(0, None).fires());
        // Any timeout clears both.
        assert!(!IdlePolicy::of(1800, Some(1000)).fires());
        assert_eq!(IdlePolicy::of(300, Some(1000)).finding(), None);
    }
}
