//! `config.redis-url-password`: the URL's password is the one the Redis service requires.

use super::{Facts, no_urls};
use crate::catalogue::{Rule, Severity};
use crate::config::redis_server::Origin;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.redis-url-password",
    severity: Severity::Error,
    title: "REDIS_URL password matches the Redis service",
    summary: "When REDIS_URL points at a Redis service of the project, its password is the \
              server's `--requirepass` (or the image's password variable, e.g. bitnami's \
              REDIS_PASSWORD); no password when the server has none.",
    why: "A missing password gets `NOAUTH Authentication required`, a wrong one `WRONGPASS \
          invalid username-password pair`; a password sent to a server without one makes \
          Redis 6+ answer `AUTH <password> called without any password configured`, which \
          redis-py treats as a failed connection. Each shows up in the browser only as a \
          websocket that never connects. The official `redis` image ignores a REDIS_PASSWORD \
          variable: only `--requirepass` sets a password there.",
    fix: "Put the server's password in the URL (`redis://:${REDIS_PASSWORD}@redis:6379/0`, \
          percent-encoded), taking both from one variable so they cannot drift; or remove the \
          password from the URL when the server has none.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.urls.is_empty() {
        return no_urls(&RULE);
    }
    facts
        .urls
        .iter()
        .map(|u| {
            let r = match (u.usable(), facts.server_for(u)) {
                (None, _) => u.skip_without_server(&RULE),
                (Some(_), None) => u.skip_without_server(&RULE),
                (Some(url), Some(server)) => {
                    let name = &server.service.name;
                    let given = url.password.as_deref().filter(|p| !p.is_empty());
                    match (&server.password.origin, server.password.value.as_deref(), given) {
                        (Origin::Unknown, _, _) => RULE.skip(format!(
                            "{name}'s password cannot be read from the files (config file or unresolved variable)"
                        )),
                        (_, Some(required), Some(given)) if required == given => {
                            RULE.pass(format!("{}: password matches {name}", u.label()))
                        }
                        (_, Some(_), Some(_)) => RULE
                            .fire(format!(
                                "{}: the password differs from {name}'s: Redis answers WRONGPASS",
                                u.label()
                            ))
                            .hint(format!("derive both from one variable, e.g. redis://:${{REDIS_PASSWORD}}@{name}:6379/0 and --requirepass ${{REDIS_PASSWORD}}")),
                        (_, Some(_), None) => RULE
                            .fire(format!(
                                "{}: {name} requires a password and the URL has none: Redis answers NOAUTH",
                                u.label()
                            ))
                            .hint(format!("add it: redis://:${{REDIS_PASSWORD}}@{}:{}/{}", url.host, url.port, url.db.unwrap_or(0))),
                        (_, None, Some(_)) => {
                            let mut msg = format!(
                                "{}: the URL has a password but {name} has none: Redis 6+ rejects the AUTH",
                                u.label()
                            );
                            if let Some(var) = &server.ignored_password_env {
                                msg.push_str(&format!(
                                    " ({var} is set on {name}, but the official redis image ignores it)"
                                ));
                            }
                            RULE.fire(msg).hint(format!(
                                "give {name} the password: command: redis-server --requirepass ${{REDIS_PASSWORD}}"
                            ))
                        }
                        (_, None, None) => RULE.pass(format!(
                            "{}: no password, and {name} requires none",
                            u.label()
                        )),
                    }
                }
            };
            r.subject(u.service.name.clone()).at(u.location())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    fn run(
        url: &str,
        redis_cmd: &[&str],
        redis_env: &[(&str, &str)],
        image: &str,
    ) -> Vec<&'static str> {
        let app = with_env(service("app", "x", 2), &[("REDIS_URL", url)]);
        let mut redis = service("redis", image, 20);
        if !redis_cmd.is_empty() {
            redis = with_command(redis, redis_cmd);
        }
        let redis = with_env(redis, redis_env);
        let d = deployment(vec![app, redis]);
        statuses(&check(&Facts::new(&d, None)))
    }

    #[test]
    fn each_case() {
        let cmd = ["redis-server", "--requirepass", "s3cret"];
        assert_eq!(
            run("redis://:s3cret@redis:6379/0", &cmd, &[], "redis:7"),
            ["pass"]
        );
        assert_eq!(
            run("redis://:wrong@redis:6379/0", &cmd, &[], "redis:7"),
            ["fail"]
        );
        assert_eq!(run("redis://redis:6379/0", &cmd, &[], "redis:7"), ["fail"]);
        assert_eq!(
            run("redis://:x1x@redis:6379/0", &[], &[], "redis:7"),
            ["fail"]
        );
        assert_eq!(run("redis://redis:6379/0", &[], &[], "redis:7"), ["pass"]);
        assert_eq!(
            run(
                "redis://:pw1@redis",
                &[],
                &[("REDIS_PASSWORD", "pw1")],
                "bitnami/redis:7.2"
            ),
            ["pass"]
        );
        assert_eq!(
            run(
                "redis://redis",
                &["redis-server", "/etc/redis.conf"],
                &[],
                "redis:7"
            ),
            ["skip"]
        );
    }
}
