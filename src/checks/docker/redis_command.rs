//! `docker.redis-command`: the running Redis container's flags (`--requirepass`,
//! `--maxclients`, `--timeout`), and whether the app's URL password fits them. `timeout` and
//! `maxclients` are judged by the rule `config.redis-timeout` applies to the files
//! ([`crate::checks::redis::idle`]), with the same fix text, so files and container agree.

use super::{Roles, command_line, parse_redis_url, redis_for, redis_urls};
use crate::catalogue::{Rule, Severity};
use crate::checks::redis::idle::{DEFAULT_MAXCLIENTS, IdlePolicy, TIMEOUT_FIX};
use crate::probe::docker::ContainerFacts;
use crate::report::CheckResult;

pub static REDIS_COMMAND: Rule = Rule {
    id: "docker.redis-command",
    severity: Severity::Error,
    title: "Redis runs with a password and sane limits",
    summary: "Reads the running Redis container's command line (Entrypoint + Cmd, and the \
              bitnami REDIS_PASSWORD env) for --requirepass, --maxclients and --timeout, and \
              compares the password with the one in the app's Redis URL without printing either.",
    why: "Redis answers a client without a password with `NOAUTH Authentication required.` and a \
          wrong one with `WRONGPASS invalid username-password pair`; a URL password sent to a \
          Redis without one gets `ERR AUTH <password> called without any password configured`. \
          A Redis without a password published on the host is open to anyone who reaches the \
          port. With `timeout 0` (the default) idle connections are never closed and leaked \
          ones pile up until `max number of clients reached`; with a `--maxclients` below \
          the default of 10000 that comes soon (the same rule as config.redis-timeout).",
    fix: "Run Redis with `command: redis-server --requirepass ${REDIS_PASSWORD} --timeout \
          1800` and put the same password in the app's URL \
          (`redis://:${REDIS_PASSWORD}@redis:6379/0`), then recreate the container.",
};

/// What the command line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisFlags {
    pub requirepass: Option<String>,
    pub maxclients: Option<u64>,
    pub timeout: Option<u64>,
    /// A config file argument: settings may hide there.
    pub config_file: Option<String>,
    /// The arguments with the password masked, for the report.
    pub shown: Vec<String>,
}

/// Reads redis-server flags from an argv. A `sh -c "redis-server --requirepass …"` string is
/// split on whitespace (compose's `command: >` form ends up there).
pub fn parse_flags(argv: &[String]) -> Option<RedisFlags> {
    let start = argv
        .iter()
        .position(|a| a.contains("redis-server") || a.contains("valkey-server"))?;
    let mut tokens: Vec<String> = Vec::new();
    for a in &argv[start..] {
        if a.contains(' ') {
            tokens.extend(a.split_whitespace().map(str::to_string));
        } else {
            tokens.push(a.clone());
        }
    }
    let first = tokens
        .iter()
        .position(|t| t.ends_with("redis-server") || t.ends_with("valkey-server"))
        .unwrap_or(0);
    let tokens = &tokens[first..];
    let mut flags = RedisFlags::default();
    let mut i = 1;
    let mut shown = vec![tokens.first().cloned().unwrap_or_default()];
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let next = tokens
            .get(i + 1)
            .map(|s| s.trim_matches(['"', '\'']).to_string());
        match t {
            "--requirepass" => {
                flags.requirepass = next.filter(|v| !v.is_empty());
                shown.push(t.to_string());
                shown.push(crate::redact::MASK.to_string());
                i += 2;
                continue;
            }
            "--maxclients" => flags.maxclients = next.as_deref().and_then(|v| v.parse().ok()),
            "--timeout" => flags.timeout = next.as_deref().and_then(|v| v.parse().ok()),
            _ if i == 1 && !t.starts_with('-') && t.ends_with(".conf") => {
                flags.config_file = Some(t.to_string());
            }
            _ => {}
        }
        shown.push(t.to_string());
        i += 1;
    }
    flags.shown = shown;
    Some(flags)
}

pub fn judge(roles: &Roles<'_>) -> Vec<CheckResult> {
    if roles.redis.is_empty() {
        return vec![REDIS_COMMAND.skip("no Redis container in the deployment")];
    }
    roles
        .redis
        .iter()
        .map(|r| {
            let apps: Vec<&ContainerFacts> = roles
                .apps
                .iter()
                .filter(|a| redis_for(a, &roles.redis).is_some_and(|x| std::ptr::eq(x, *r)))
                .copied()
                .collect();
            judge_one(r, &apps)
        })
        .collect()
}

/// Host bindings of the container's Redis port on a non-loopback address.
fn published_openly(c: &ContainerFacts) -> Vec<String> {
    let mut out = Vec::new();
    let bindings = c
        .inspect
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.as_ref());
    for (port, binds) in bindings.into_iter().flatten() {
        for b in binds.iter().flatten() {
            let ip = b.host_ip.as_deref().unwrap_or("");
            let loopback = ip.starts_with("127.") || ip == "::1" || ip == "localhost";
            if !loopback {
                let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
                out.push(format!(
                    "{ip}:{}->{port}",
                    b.host_port.as_deref().unwrap_or("")
                ));
            }
        }
    }
    out.sort();
    out
}

fn judge_one(redis: &ContainerFacts, apps: &[&ContainerFacts]) -> CheckResult {
    let name = redis.name();
    let argv = command_line(redis);
    let env = redis.env();
    let flags = parse_flags(&argv).unwrap_or_default();
    // bitnami/redis takes the password from env; redis-stack from REDIS_ARGS.
    let env_password = env
        .get("REDIS_PASSWORD")
        .filter(|p| !p.is_empty())
        .cloned()
        .or_else(|| {
            env.get("REDIS_ARGS")
                .and_then(|a| parse_flags(&[format!("redis-server {a}")]))
                .and_then(|f| f.requirepass)
        });
    let password = flags.requirepass.clone().or(env_password);
    let open = published_openly(redis);
    // Idle connections: judged only when redis-server is on the command line and no config
    // file can hide the setting (else unknown, as config.redis-timeout says of the files).
    let on_command_line = parse_flags(&argv).is_some();
    let idle = (on_command_line && (flags.config_file.is_none() || flags.timeout.is_some()))
        .then(|| {
            IdlePolicy::of(
                flags.timeout.unwrap_or(0),
                Some(flags.maxclients.unwrap_or(DEFAULT_MAXCLIENTS)),
            )
        })
        .filter(IdlePolicy::fires);
    let idle_finding = idle.and_then(|p| p.finding());
    let mut base = REDIS_COMMAND
        .pass(String::new())
        .subject(name)
        .evidence("command", flags.shown.join(" "))
        .evidence("requirepass", password.is_some())
        .evidence("published", open.clone());
    if let Some(m) = flags.maxclients {
        base = base.evidence("maxclients", m);
    }
    if let Some(t) = flags.timeout {
        base = base.evidence("timeout", t);
    }
    if let Some(f) = &flags.config_file {
        base = base.evidence("config_file", f.as_str());
    }
    let with = |r: CheckResult| {
        let mut r = r.subject(name);
        r.evidence = base.evidence.clone();
        r
    };
    // The app's URL password against the server's.
    for app in apps {
        for (key, url) in redis_urls(app) {
            let Some(parts) = parse_redis_url(&url) else {
                continue;
            };
            match (&password, &parts.password) {
                (Some(_), None) => {
                    return with(REDIS_COMMAND.fire(format!(
                        "{name} requires a password, but {key} of {} has none: Redis answers NOAUTH Authentication required",
                        app.name()
                    )))
                    .hint(format!("put the password in {key}: redis://:PASSWORD@HOST:6379/0"))
                    .evidence("app", app.name());
                }
                (Some(server), Some(client)) if server != client => {
                    return with(REDIS_COMMAND.fire(format!(
                        "the password in {key} of {} differs from {name}'s --requirepass: Redis answers WRONGPASS",
                        app.name()
                    )))
                    .hint("make both come from one variable (${REDIS_PASSWORD}), then recreate both containers")
                    .evidence("app", app.name());
                }
                (None, Some(_)) if flags.config_file.is_none() => {
                    return with(REDIS_COMMAND.fire(format!(
                        "{key} of {} sends a password, but {name} has none: Redis answers ERR AUTH <password> called without any password configured",
                        app.name()
                    )))
                    .hint("add `--requirepass ${REDIS_PASSWORD}` to the Redis command, or drop the password from the URL")
                    .evidence("app", app.name());
                }
                _ => {}
            }
        }
    }
    // A password finding comes first (one result per container); an idle-connection
    // finding on the same container is added to its message.
    let also = |text: String| match &idle_finding {
        Some(f) => format!("{text}; also {f}"),
        None => text,
    };
    if password.is_none() {
        if let Some(file) = &flags.config_file {
            return with(REDIS_COMMAND.warn(also(format!(
                "{name} has no --requirepass on its command line; it may be set in {file}, which wsdoctor does not read inside the container"
            ))));
        }
        if !open.is_empty() {
            return with(REDIS_COMMAND.fire(also(format!(
                "{name} runs without a password and is published on {}: anyone who reaches the host can read and write it",
                open.join(", ")
            ))))
            .hint("add `--requirepass ${REDIS_PASSWORD}`, and publish on 127.0.0.1 only (or not at all)");
        }
        return with(REDIS_COMMAND.warn(also(format!(
            "{name} runs without --requirepass: any container on its networks can use it"
        ))))
        .hint("add `command: redis-server --requirepass ${REDIS_PASSWORD}` and the password to the app's REDIS_URL");
    }
    if let (Some(policy), Some(finding)) = (idle, &idle_finding) {
        let r = with(REDIS_COMMAND.warn(format!("{name}: {finding}")))
            .hint(TIMEOUT_FIX)
            .evidence("timeout", flags.timeout.unwrap_or(0));
        return match policy {
            IdlePolicy::NeverClosedLowLimit { maxclients } => r.evidence("maxclients", maxclients),
            _ => r,
        };
    }
    let mut text = format!("{name} requires a password");
    if !apps.is_empty() {
        text.push_str(" and the app's URL carries the same one");
    }
    if let Some(m) = flags.maxclients {
        text.push_str(&format!(", maxclients {m}"));
    }
    if let Some(t) = flags.timeout {
        text.push_str(&format!(", timeout {t}s"));
    }
    with(REDIS_COMMAND.pass(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::{DockerScope, fixtures};
    use crate::report::Status;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_from_plain_and_shell_forms() {
        let f = parse_flags(&argv(&[
            "docker-entrypoint.sh",
            "redis-server",
            "--requirepass",
            "pw",
            "--maxclients",
            "100",
            "--timeout",
            "0",
        ]))
        .unwrap();
        assert_eq!(f.requirepass.as_deref(), Some("pw"));
        assert_eq!((f.maxclients, f.timeout), (Some(100), Some(0)));
        assert_eq!(
            f.shown.join(" "),
            "redis-server --requirepass **** --maxclients 100 --timeout 0"
        );
        let f = parse_flags(&argv(&[
            "sh",
            "-c",
            "redis-server --requirepass \"$$P\" --appendonly yes",
        ]))
        .unwrap();
        assert_eq!(f.requirepass.as_deref(), Some("$$P"));
        let f = parse_flags(&argv(&["redis-server", "/usr/local/etc/redis/redis.conf"])).unwrap();
        assert_eq!(
            f.config_file.as_deref(),
            Some("/usr/local/etc/redis/redis.conf")
        );
        assert_eq!(parse_flags(&argv(&["sleep", "10"])), None);
    }

    #[test]
    fn recorded_redis_has_password_matching_the_app() {
        let obs = fixtures::observations(&["app", "beagle-redis"]);
        let results = judge(&Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results.len(), 1);
        let r = &results[0];
        // maxclients 100 with no --timeout: the slow leak, said as config.redis-timeout says
        // it of the files, with the same fix.
        assert_eq!(r.status, Status::Warn, "{r:#?}");
        assert!(
            r.message.contains("timeout 0 with maxclients 100"),
            "{}",
            r.message
        );
        assert_eq!(r.hint.as_deref(), Some(TIMEOUT_FIX));
        assert_eq!(r.evidence["requirepass"], true);
        assert!(!serde_json::to_string(r).unwrap().contains("s3cret-pass"));
    }

    /// Replaces the Cmd of the recorded container at `index` (in the order asked for).
    fn with_cmd(obs: &mut crate::probe::docker::DockerObservations, index: usize, cmd: &[&str]) {
        if let Some(config) = obs.containers[index].inspect.config.as_mut() {
            config.cmd = Some(argv(cmd));
        }
    }

    #[test]
    fn recorded_redis_with_timeout_zero_warns_like_the_files() {
        // The recorded beagle-redis, run with the default maxclients and an explicit
        // `--timeout 0`: config.redis-timeout warns on this in the files, so must this.
        let mut obs = fixtures::observations(&["app", "beagle-redis"]);
        with_cmd(
            &mut obs,
            1,
            &[
                "redis-server",
                "--requirepass",
                "s3cret-pass",
                "--timeout",
                "0",
            ],
        );
        let r = &judge(&Roles::of(&obs, &DockerScope::default()))[0];
        assert_eq!(r.status, Status::Warn, "{r:#?}");
        assert!(
            r.message
                .contains("timeout 0: idle connections are never closed")
        );
        assert_eq!(r.hint.as_deref(), Some(TIMEOUT_FIX));
        // With a timeout: passes, and says it.
        with_cmd(
            &mut obs,
            1,
            &[
                "redis-server",
                "--requirepass",
                "s3cret-pass",
                "--maxclients",
                "1000",
                "--timeout",
                "1800",
            ],
        );
        let r = &judge(&Roles::of(&obs, &DockerScope::default()))[0];
        assert_eq!(r.status, Status::Pass, "{r:#?}");
        assert!(r.message.contains("timeout 1800s"), "{}", r.message);
        // A config file and no --timeout flag: unknown, not judged.
        with_cmd(
            &mut obs,
            1,
            &[
                "redis-server",
                "/etc/redis.conf",
                "--requirepass",
                "s3cret-pass",
            ],
        );
        let r = &judge(&Roles::of(&obs, &DockerScope::default()))[0];
        assert_eq!(r.status, Status::Pass, "{r:#?}");
    }

    #[test]
    fn recorded_redis_without_password_published_on_all_interfaces_fails() {
        let obs = fixtures::observations(&["nopass"]);
        let results = judge(&Roles::of(&obs, &DockerScope::default()));
        let r = &results[0];
        assert_eq!(r.status, Status::Fail, "{r:#?}");
        assert_eq!(r.evidence["requirepass"], false);
        assert_eq!(r.evidence["published"][0], "0.0.0.0:16379->6379/tcp");
    }

    #[test]
    fn app_password_against_a_redis_without_one_fails() {
        let obs = fixtures::observations(&["app", "nopass"]);
        let results = judge(&Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results[0].status, Status::Fail);
        assert!(
            results[0].message.contains("ERR AUTH"),
            "{}",
            results[0].message
        );
    }

    #[test]
    fn wrong_app_password_is_wrongpass() {
        let mut obs = fixtures::observations(&["app", "beagle-redis"]);
        if let Some(env) = obs.containers[0]
            .inspect
            .config
            .as_mut()
            .and_then(|c| c.env.as_mut())
        {
            for e in env.iter_mut() {
                if e.starts_with("WEBSOCKET_REDIS_URL=") {
                    *e = "WEBSOCKET_REDIS_URL=redis://:other@beagle-redis:6379/1".into();
                }
            }
        }
        let results = judge(&Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results[0].status, Status::Fail);
        assert!(results[0].message.contains("WRONGPASS"));
        assert!(
            !serde_json::to_string(&results[0])
                .unwrap()
                .contains("other@")
        );
    }
}
