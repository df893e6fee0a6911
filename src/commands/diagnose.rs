//! `wsdoctor diagnose`: the files, Redis, the live app and Docker in one concurrent run, one
//! correlated verdict.
//!
//! The files are read first (they say where Redis and the app are); then the three live
//! probes run at once, each under its own deadline. Results are correlated instead of
//! repeated: a Redis probe against a host the files already got wrong is `skip` because of
//! that config check, the manager's subscriber count is compared with the workers the files
//! configure, and a failing sticky-session test names the configuration that causes it.

use std::time::{Duration, Instant};

use clap::Args;

use crate::catalogue::Rule;
use crate::checks::redis::Expectations;
use crate::cli::{ProjectArgs, parse_duration};
use crate::commands::{CliError, RunContext};
use crate::config::apps::{self, SocketIoApp};
use crate::config::{Deployment, PortMapping, Service};
use crate::probe::docker::{self as docker_probe, Endpoint, Selection};
use crate::probe::engineio::{self, Target as WsTarget, WsProbeOptions};
use crate::probe::redis::target::{HostPort, RedisTarget, parse_url};
use crate::probe::redis::{self as redis_probe, DEFAULT_CHANNEL, ProbeOptions};
use crate::redact::Secrets;
use crate::report::{CheckResult, Report, Status};

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// The app's URL (http(s):// or ws(s)://). Default: the app service's port published on
    /// this host.
    #[arg(long)]
    pub url: Option<String>,
    /// The socket.io path. Default: /ws/socket.io for Open WebUI, else /socket.io (the probe
    /// also tries the other when one answers 404).
    #[arg(long)]
    pub path: Option<String>,
    /// Probe Redis at HOST:PORT instead of the address in REDIS_URL (keeps its password and
    /// db).
    #[arg(long = "redis-host", value_name = "HOST:PORT")]
    pub redis_host: Option<String>,
    /// Socket.IO auth token, sent as `{"token": …}` on connect.
    #[arg(long)]
    pub token: Option<String>,
    /// Rounds of the sticky-session test.
    #[arg(long, default_value_t = 20)]
    pub rounds: u32,
    /// Do not look at the Docker Engine.
    #[arg(long)]
    pub no_docker: bool,
    /// Repeat the live checks until they pass or this much time has passed (for CI right
    /// after `docker compose up`), e.g. 60s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub wait: Option<Duration>,
}

/// Config checks whose failure makes the app's Redis URL unusable as written: probing it
/// would only repeat the same failure, less clearly.
const URL_PREREQUISITES: [&str; 5] = [
    "config.redis-url-syntax",
    "config.redis-url-unencoded",
    "config.redis-url-host",
    "config.redis-url-loopback",
    "config.redis-url-port",
];

/// Why a family of live checks did not run: every rule of it is `skip` with this.
enum NotRun {
    Because(&'static str),
    Reason(String),
}

fn skip_all(rules: &[&'static Rule], why: &NotRun) -> Vec<CheckResult> {
    rules
        .iter()
        .map(|r| match why {
            NotRun::Because(id) => r.skip_because(id),
            NotRun::Reason(reason) => r.skip(reason.clone()),
        })
        .collect()
}

/// A probe that did not finish within its budget: the first rule fails with that, the rest
/// are skipped because of it.
fn overran(rules: &[&'static Rule], what: &str, budget: Duration) -> Vec<CheckResult> {
    let mut out = Vec::new();
    if let Some((first, rest)) = rules.split_first() {
        out.push(
            first
                .fail(format!(
                    "{what} did not finish within {} ms: a server accepted the connection and \
                     stopped answering",
                    budget.as_millis()
                ))
                .evidence("budget_ms", budget.as_millis() as u64),
        );
        out.extend(rest.iter().map(|r| r.skip_because(first.id)));
    }
    out
}

/// The app the live probes are about: `--service`, else the first Socket.IO app.
fn the_app<'a>(d: &'a Deployment, service: Option<&str>) -> Option<SocketIoApp<'a>> {
    let all = apps::socketio_apps(d);
    match service {
        Some(name) => all.into_iter().find(|a| a.service.name == name),
        None => all.into_iter().next(),
    }
}

/// The published port of `service` that maps to `target` (or the first TCP one), as a
/// host:port reachable from here.
fn published(service: &Service, target: Option<u16>) -> Option<(String, u16)> {
    let tcp = |p: &&PortMapping| p.protocol.is_empty() || p.protocol == "tcp";
    let pick = service
        .ports
        .iter()
        .filter(tcp)
        .find(|p| {
            target.is_some_and(|t| p.target_port() == Some(t)) && p.published_port().is_some()
        })
        .or_else(|| {
            if target.is_some() {
                None
            } else {
                service
                    .ports
                    .iter()
                    .filter(tcp)
                    .find(|p| p.published_port().is_some())
            }
        })?;
    let host = match pick.host_ip.as_deref() {
        None | Some("") | Some("0.0.0.0") | Some("::") => "127.0.0.1".to_string(),
        Some(ip) => ip.to_string(),
    };
    Some((host, pick.published_port()?))
}

/// Whether `host` resolves from where wsdoctor runs (a compose service name usually does
/// not, outside the compose network).
async fn resolves_here(host: &str, deadline: Duration) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    match tokio::time::timeout(deadline, tokio::net::lookup_host((host, 0))).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some(),
        _ => false,
    }
}

/// What the Redis probe should do, decided from the files.
struct RedisPlan {
    target: RedisTarget,
    /// How the address was chosen, for the report.
    note: Option<String>,
    workers: Option<u32>,
}

async fn plan_redis(
    d: &Deployment,
    app: Option<&SocketIoApp<'_>>,
    args: &DiagnoseArgs,
    config: &[CheckResult],
    deadline: Duration,
    secrets: &mut Secrets,
) -> Result<RedisPlan, NotRun> {
    let urls = apps::websocket_redis_urls(d);
    let wanted = app
        .map(|a| a.service.name.as_str())
        .or(args.project.service.as_deref());
    let Some(url) = urls.iter().find(|u| wanted.is_none_or(|w| w == u.service)) else {
        return Err(NotRun::Reason(
            "no service sets WEBSOCKET_REDIS_URL or REDIS_URL: nothing to probe".to_string(),
        ));
    };
    secrets.add_url_passwords(&url.url);
    if args.redis_host.is_none() {
        for id in URL_PREREQUISITES {
            if config.iter().any(|c| {
                c.id == id
                    && c.status == Status::Fail
                    && c.subject.as_deref() == Some(url.service.as_str())
            }) {
                return Err(NotRun::Because(id));
            }
        }
    }
    let mut target = parse_url(&url.url).map_err(|_| NotRun::Because("config.redis-url-syntax"))?;
    let workers = app
        .filter(|a| a.uses_redis_manager())
        .map(SocketIoApp::processes);
    if let Some(h) = &args.redis_host {
        let (host, port) = h
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| NotRun::Reason(format!("--redis-host {h}: expected HOST:PORT")))?;
        target.overridden_from = Some(target.addr.clone());
        target.addr = HostPort { host, port };
        return Ok(RedisPlan {
            target,
            note: Some(format!("reached at {h} (--redis-host)")),
            workers,
        });
    }
    if target.sentinel.is_some() || resolves_here(&target.addr.host, deadline).await {
        return Ok(RedisPlan {
            target,
            note: None,
            workers,
        });
    }
    // A compose service name: reach it through the port it publishes on this host.
    let server = d
        .services
        .iter()
        .find(|s| s.dns_names().contains(&target.addr.host.as_str()));
    let Some(server) = server else {
        return Err(NotRun::Reason(format!(
            "'{}' does not resolve from here and is not a service of the files",
            target.addr.host
        )));
    };
    match published(server, Some(target.addr.port)) {
        Some((host, port)) => {
            let note = format!(
                "'{}' resolves only inside the compose network: reached through the port {} \
                 publishes, {host}:{port}",
                target.addr.host, server.name
            );
            target.overridden_from = Some(target.addr.clone());
            target.addr = HostPort { host, port };
            Ok(RedisPlan {
                target,
                note: Some(note),
                workers,
            })
        }
        None => Err(NotRun::Reason(format!(
            "'{}' resolves only inside the compose network and {} publishes no port: run \
             `wsdoctor redis` inside the network, publish 127.0.0.1:{}:{} or give --redis-host",
            target.addr.host, server.name, target.addr.port, target.addr.port
        ))),
    }
}

/// Where the app answers, decided from `--url` or the files.
fn plan_ws(
    app: Option<&SocketIoApp<'_>>,
    args: &DiagnoseArgs,
    timeout: Duration,
) -> Result<WsProbeOptions, NotRun> {
    let open_webui = app.is_some();
    let default_path = if open_webui {
        "/ws/socket.io"
    } else {
        "/socket.io"
    };
    let url = match &args.url {
        Some(u) => u.clone(),
        None => {
            let Some(app) = app else {
                return Err(NotRun::Reason(
                    "no Socket.IO app in the files: give --url".to_string(),
                ));
            };
            // Open WebUI listens on 8080 in its container.
            let target = app.open_webui_image.then_some(8080);
            match published(app.service, target).or_else(|| published(app.service, None)) {
                Some((host, port)) => format!("http://{host}:{port}"),
                None => {
                    return Err(NotRun::Reason(format!(
                        "{} publishes no port: give --url (the address the browser uses)",
                        app.service.name
                    )));
                }
            }
        }
    };
    let path = args.path.clone().or_else(|| {
        // A path in --url wins; otherwise the app's default.
        let has_path = url::Url::parse(&url).is_ok_and(|u| u.path().len() > 1);
        (!has_path).then(|| default_path.to_string())
    });
    let target = WsTarget::parse(&url, path.as_deref()).map_err(NotRun::Reason)?;
    Ok(WsProbeOptions {
        target,
        token: args.token.clone(),
        origin: None,
        rounds: args.rounds,
        namespace: "/".to_string(),
        hold: None,
        timeout,
    })
}

/// Adds to live results what the files and the other probes explain about them.
fn correlate(results: &mut [CheckResult], config: &[CheckResult]) {
    // python-socketio subscribes a worker to the manager channel when its first client
    // connects. When no client could connect in this run, a short count says nothing about
    // the manager: the connect failure is the finding.
    let connected = results
        .iter()
        .any(|r| r.id == "ws.socketio-connect" && r.status == Status::Pass);
    let ws_ran = results
        .iter()
        .any(|r| r.id == "ws.http-reachable" && r.status != Status::Skip);
    if ws_ran && !connected {
        let first_ws_failure = results
            .iter()
            .find(|r| r.id.starts_with("ws.") && r.status == Status::Fail)
            .map(|r| r.id)
            .unwrap_or("ws.socketio-connect");
        for r in results.iter_mut() {
            if r.id == "redis.pubsub"
                && matches!(r.status, Status::Warn | Status::Fail)
                && r.evidence.get("subscribers").and_then(|v| v.as_i64()) == Some(0)
            {
                let mut skipped = crate::checks::redis::pubsub::PUBSUB.skip(format!(
                    "skipped because {first_ws_failure} did not pass: python-socketio subscribes \
                     to the manager channel with its first client, and no client connected"
                ));
                skipped.evidence = std::mem::take(&mut r.evidence);
                skipped
                    .evidence
                    .insert("depends_on".to_string(), first_ws_failure.into());
                skipped.subject = r.subject.take();
                *r = skipped;
            }
        }
    }
    let polling_cause = config
        .iter()
        .find(|c| c.id == "config.polling-multi-worker" && c.status == Status::Fail && c.counts());
    for r in results.iter_mut() {
        if r.id == "ws.sticky-session"
            && r.status == Status::Fail
            && let Some(cause) = polling_cause
        {
            r.message.push_str(&format!(
                "\nThe files explain it (config.polling-multi-worker): {}",
                cause.message
            ));
            if let Some(h) = &cause.hint {
                r.hint = Some(h.clone());
            }
            r.evidence
                .insert("cause".to_string(), "config.polling-multi-worker".into());
        }
    }
}

/// One round of the live probes, concurrently.
async fn live_round(
    d: &Deployment,
    args: &DiagnoseArgs,
    ctx: &RunContext,
    config: &[CheckResult],
    secrets: &mut Secrets,
) -> Vec<CheckResult> {
    let app = the_app(d, args.project.service.as_deref());
    let redis_plan = plan_redis(d, app.as_ref(), args, config, ctx.timeout, secrets).await;
    let ws_plan = plan_ws(app.as_ref(), args, ctx.timeout);
    let docker_plan = (!args.no_docker).then(|| {
        (
            Endpoint::from_env(
                std::env::var("DOCKER_HOST").ok().as_deref(),
                std::env::var("DOCKER_TLS_VERIFY").ok().as_deref(),
            ),
            Selection::Project(d.project_name.clone()),
        )
    });
    // Each probe bounds every step by the timeout; this budget bounds a probe as a whole,
    // so one server that answers slowly at every step cannot hold the report.
    let budget = ctx.timeout.saturating_mul(3);
    let redis_rules = crate::checks::redis::RULES;
    let ws_rules = crate::checks::ws::RULES;
    let docker_rules = crate::checks::docker::RULES;

    let redis_fut = async {
        match &redis_plan {
            Err(why) => skip_all(redis_rules, why),
            Ok(plan) => {
                let opts = ProbeOptions {
                    deadline: ctx.timeout,
                    channel: DEFAULT_CHANNEL.to_string(),
                    ..ProbeOptions::default()
                };
                match tokio::time::timeout(budget, redis_probe::probe(&plan.target, &opts)).await {
                    Ok(obs) => {
                        let mut rs = crate::checks::redis::run(
                            &obs,
                            &Expectations {
                                workers: plan.workers,
                                manager: None,
                            },
                        );
                        if let Some(note) = &plan.note
                            && let Some(first) = rs.first_mut()
                        {
                            first
                                .evidence
                                .insert("reached".to_string(), note.clone().into());
                            first.message.push_str(&format!(" ({note})"));
                        }
                        rs
                    }
                    Err(_) => overran(redis_rules, "the Redis probe", budget),
                }
            }
        }
    };
    let ws_fut = async {
        match &ws_plan {
            Err(why) => skip_all(ws_rules, why),
            Ok(opts) => match tokio::time::timeout(budget, engineio::probe(opts)).await {
                Ok(obs) => crate::checks::ws::judge(&obs),
                Err(_) => overran(ws_rules, "the Engine.IO probe", budget),
            },
        }
    };
    let docker_fut = async {
        let scope = crate::checks::docker::DockerScope {
            service: args.project.service.clone(),
            project: None,
        };
        match &docker_plan {
            None => (
                skip_all(docker_rules, &NotRun::Reason("--no-docker".to_string())),
                Secrets::new(),
            ),
            Some((endpoint, selection)) => {
                match tokio::time::timeout(
                    budget,
                    docker_probe::observe(endpoint, selection.clone(), ctx.timeout),
                )
                .await
                {
                    Err(_) => (
                        overran(docker_rules, "the Docker Engine", budget),
                        Secrets::new(),
                    ),
                    Ok(obs) => {
                        let results = crate::checks::docker::run(&obs, Ok(d), &scope);
                        let secrets = crate::commands::docker::secrets_of(&obs);
                        if obs.engine.is_err() {
                            // No engine here is normal for diagnose (the deployment may run
                            // elsewhere): skipped with the engine check's own explanation.
                            let why = results
                                .first()
                                .map(|r| r.message.clone())
                                .unwrap_or_default();
                            let reason = format!("no Docker Engine reachable here: {why}");
                            (skip_all(docker_rules, &NotRun::Reason(reason)), secrets)
                        } else if obs.containers.is_empty() {
                            let reason = format!(
                                "no container of compose project '{}' on this engine (not deployed here)",
                                d.project_name
                            );
                            (skip_all(docker_rules, &NotRun::Reason(reason)), secrets)
                        } else {
                            (results, secrets)
                        }
                    }
                }
            }
        }
    };
    let (mut r, w, (k, docker_secrets)) = tokio::join!(redis_fut, ws_fut, docker_fut);
    secrets.merge(&docker_secrets);
    // python-socketio subscribes a worker's manager to Redis when its first client connects:
    // right after start the channel has no subscriber. When the app probe connected during
    // this run and the count came up short, read Redis once more (a 2 ms probe) so the count
    // reflects the connected state instead of the moment before it.
    let pubsub_short = r
        .iter()
        .any(|c| c.id == "redis.pubsub" && matches!(c.status, Status::Warn | Status::Fail));
    let app_connected = w
        .iter()
        .any(|c| c.id == "ws.socketio-connect" && c.status == Status::Pass);
    if pubsub_short
        && app_connected
        && let Ok(plan) = &redis_plan
    {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let opts = ProbeOptions {
            deadline: ctx.timeout,
            channel: DEFAULT_CHANNEL.to_string(),
            latency_samples: 0,
        };
        if let Ok(obs) = tokio::time::timeout(budget, redis_probe::probe(&plan.target, &opts)).await
        {
            let again = crate::checks::redis::run(
                &obs,
                &Expectations {
                    workers: plan.workers,
                    manager: None,
                },
            );
            for c in &mut r {
                if c.id == "redis.pubsub"
                    && let Some(fresh) = again.iter().find(|a| a.id == "redis.pubsub")
                {
                    *c = fresh.clone().evidence("read_after_app_connect", true);
                }
            }
        }
    }
    let mut out = r;
    out.extend(w);
    out.extend(k);
    out
}

pub fn run(args: &DiagnoseArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let deployment = crate::commands::lint::load_deployment(&args.project)?;
    if let Some(name) = &args.project.service
        && deployment.service(name).is_none()
    {
        return Err(CliError::Usage(format!(
            "--service {name}: no such service"
        )));
    }
    let mut secrets = deployment.secrets.clone();
    if let Some(t) = &args.token {
        secrets.add(t);
    }
    if let Some(u) = &args.url {
        secrets.add_url_passwords(u);
    }
    let config = crate::checks::config::run(&deployment, args.project.service.as_deref());
    let rt = crate::commands::runtime()?;
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("probing Redis, the app and Docker…");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let mut attempts = 0;
    let live = loop {
        attempts += 1;
        let live = rt.block_on(live_round(&deployment, args, ctx, &config, &mut secrets));
        let failing = live.iter().any(|r| r.status == Status::Fail);
        match args.wait {
            Some(wait) if failing && started.elapsed() + Duration::from_secs(1) < wait => {
                spinner.set_message(format!(
                    "attempt {attempts}: live checks failing, retrying until {} s…",
                    wait.as_secs()
                ));
                std::thread::sleep(Duration::from_secs(1));
            }
            _ => break live,
        }
    };
    spinner.finish_and_clear();
    rt.shutdown_timeout(Duration::from_millis(200));
    let mut live = live;
    correlate(&mut live, &config);
    if attempts > 1
        && let Some(first) = live.first_mut()
    {
        first
            .evidence
            .insert("attempts".to_string(), attempts.into());
    }
    let mut results = config;
    results.extend(live);
    Ok(Report::finish(
        "diagnose",
        results,
        &crate::commands::lint::suppressions(&deployment, ctx),
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}
