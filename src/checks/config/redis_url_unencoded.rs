//! `config.redis-url-unencoded`: a password whose `@`, `#`, `/`, `?` or `%` breaks the URL.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-unencoded",
    severity: Severity::Error,
    title: "The password in REDIS_URL is percent-encoded",
    summary: "Reserved characters in the URL's password (`#`, `/`, `?`, `@`, a `%` not starting \
              an escape) are percent-encoded.",
    why: "A URL parser ends the userinfo early at such a character. With `#` or `/` the client \
          connects to the wrong host: `redis://:p@ss#w0rd@redis` is read by redis-py and Node \
          as host `ss` with password `p` (the rest is a fragment). An `@` alone works in \
          redis-py and Node (they split at the last `@`) but not in redis-cli, which splits at \
          the first one.",
    fix: "Percent-encode the password: `@` → `%40`, `#` → `%23`, `/` → `%2F`, `?` → `%3F`, \
          `%` → `%25` (redis-py decodes it). Or choose a password of letters and digits.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match &u.unencoded {
                None => RULE.pass(format!(
                    "{}: no reserved character in the password",
                    u.label()
                )),
                Some(un) => {
                    let chars: Vec<String> =
                        un.characters.iter().map(|c| format!("'{c}'")).collect();
                    let consequence = if un.only_at {
                        "redis-py and Node read it correctly (they split at the last '@'), \
                         redis-cli -u does not"
                            .to_string()
                    } else {
                        match &un.parsed_host {
                            Some(h) if *h != un.intended_host => format!(
                                "clients read the host as '{h}' instead of '{}'",
                                un.intended_host
                            ),
                            _ => "clients cannot read the host and port".to_string(),
                        }
                    };
                    let r = if un.only_at {
                        RULE.warn(format!(
                            "{}: the password contains an unencoded {}: {consequence}",
                            u.label(),
                            chars.join(", ")
                        ))
                    } else {
                        RULE.fire(format!(
                            "{}: the password contains an unencoded {}: {consequence}",
                            u.label(),
                            chars.join(", ")
                        ))
                    };
                    r.hint(format!("percent-encode the password: {}", un.encoded))
                        .evidence("intended_host", un.intended_host.clone())
                        .evidence(
                            "parsed_host",
                            un.parsed_host
                                .clone()
                                .map_or(serde_json::Value::Null, Into::into),
                        )
                }
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
