//! `config.redis-url-db`: the database index exists on the server.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_server::DEFAULT_DATABASES;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-db",
    severity: Severity::Error,
    title: "REDIS_URL database exists",
    summary: "The database index in REDIS_URL (`/N` or `?db=N`) is below the server's \
              `databases` (16 unless `--databases`). No index means db 0.",
    why: "SELECT of an index the server does not have fails with `ERR DB index is out of \
          range`, and redis-py fails the connection. Socket.IO's pub/sub ignores the index, \
          but the app's other Redis keys do not.",
    fix: "Use an index from 0 to databases-1, or raise `--databases` on the server.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match u.usable() {
                None => u.skip_without_server(&RULE),
                Some(url) => {
                    let server = facts.server_for(u);
                    let (databases, known) = match server {
                        Some(s) => match s.databases.value {
                            Some(n) => (n, true),
                            None => (DEFAULT_DATABASES, false),
                        },
                        None => (DEFAULT_DATABASES, false),
                    };
                    match url.db {
                        None => RULE.pass(format!("{}: no database index: db 0", u.label())),
                        Some(db) if db < databases => RULE.pass(format!("{}: db {db}", u.label())),
                        Some(db) if known => RULE
                            .fire(format!(
                                "{}: db {db} does not exist: {} has {databases} databases (0-{}); SELECT fails with 'ERR DB index is out of range'",
                                u.label(),
                                server.map(|s| s.service.name.as_str()).unwrap_or("the server"),
                                databases - 1
                            ))
                            .hint(format!("use a db from 0 to {}", databases - 1)),
                        Some(db) => RULE
                            .warn(format!(
                                "{}: db {db} is beyond Redis' default of 16 databases; it works only if the server sets databases > {db}",
                                u.label()
                            ))
                            .hint("use a db from 0 to 15"),
                    }
                }
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}
