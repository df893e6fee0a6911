//! `config.redis-url-syntax`: the URL parses the way Redis clients parse it.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-syntax",
    severity: Severity::Error,
    title: "REDIS_URL is a valid Redis URL",
    summary: "REDIS_URL and WEBSOCKET_REDIS_URL have the form \
              `redis://[[user]:password@]host[:port][/db]` (or rediss://, unix://).",
    why: "redis-py (`redis.from_url`, used by python-socketio) and the Node clients reject a URL \
          without a scheme (`redis:6379`), with another scheme (`http://`), a non-numeric port \
          or database: the app fails at start with a generic 'did not parse' error.",
    fix: "Write `redis://<service>:6379/0`; add `:password@` after `//` when Redis has a \
          password, and percent-encode reserved characters in it.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let broken_password = u.unencoded.as_ref().is_some_and(|x| !x.only_at);
            let r = match &u.parsed {
                // A broken password makes the parse meaningless (or its error confusing): the
                // unencoded check explains what the client really reads.
                _ if broken_password => RULE.skip_because("config.redis-url-unencoded"),
                Ok(_) => RULE.pass(format!("{} parses: {}", u.label(), u.shown())),
                Err(e) => RULE
                    .fire(format!("{} = {}: {e}", u.label(), u.shown()))
                    .hint("use redis://<service>:6379/0 (rediss:// for TLS, unix:///path for a socket)"),
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
