//! `wsdoctor diagnose`: the files, Redis, the live app and Docker in one concurrent run, one
//! correlated verdict.
//!
//! The files are read first (they say where Redis and the app are: [`crate::targets`]); then
//! the three live probes run at once, each under its own budget (`--timeout`, one per probe:
//! the probes keep the evidence they gathered when it runs out). What explains what is
//! decided by [`crate::correlate`], not here: this file gathers, then hands over.

use std::time::{Duration, Instant};

use clap::Args;

use crate::apps::{SocketIoApp, SubscribeTiming};
use crate::catalogue::Rule;
use crate::checks::redis::Expectations;
use crate::cli::{ProjectArgs, parse_duration};
use crate::commands::expect;
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::correlate::{self, AppTraits};
use crate::probe::docker::{self as docker_probe, Endpoint, Selection};
use crate::probe::engineio::codec::OpenPacket;
use crate::probe::engineio::{self, Target as WsTarget, WsProbeOptions};
use crate::probe::redis::{self as redis_probe, ProbeOptions, RedisObservations};
use crate::redact::Secrets;
use crate::report::{CheckResult, Report, Status};
use crate::targets::{self, NotRun, RedisPlan};

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// The app's URL (http(s):// or ws(s)://). Default: the app service's port published on
    /// this host.
    #[arg(long)]
    pub url: Option<String>,
    /// The socket.io path. Default: the app's (/ws/socket.io for Open WebUI and Chainlit,
    /// else /socket.io). A path given here or in --url that is not Engine.IO fails.
    #[arg(long)]
    pub path: Option<String>,
    /// Probe Redis at HOST:PORT instead of the address in REDIS_URL (keeps its password and
    /// db).
    #[arg(long = "redis-host", value_name = "HOST:PORT")]
    pub redis_host: Option<String>,
    /// Socket.IO auth token, sent as `{"token": …}` on connect.
    #[arg(long, conflicts_with = "auth")]
    pub token: Option<String>,
    /// Socket.IO auth payload sent with CONNECT, as JSON (e.g. what the app's own frontend
    /// sends). Redacted in reports.
    #[arg(long, value_name = "JSON")]
    pub auth: Option<String>,
    /// Origin header for the CORS test. Default: the site's origin the files name (Open
    /// WebUI: WEBUI_URL), else none.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// The manager channel to count subscribers of. Default: the app's.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// Socket.IO processes that should each subscribe to the manager channel. Default:
    /// workers × replicas from the files.
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,
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

/// Reads of the manager channel after the app probe, at most, while the count is short for
/// an app whose workers subscribe with their first client; and the pause between two (the
/// subscription follows the handshake by a few milliseconds). A healthy count stops at once.
const PUBSUB_REREADS: u32 = 3;
const PUBSUB_REREAD_GAP: Duration = Duration::from_millis(100);

fn skip_all(rules: &[&'static Rule], why: &NotRun) -> Vec<CheckResult> {
    rules
        .iter()
        .map(|r| match why {
            NotRun::Because(id) => r.skip_because(id),
            NotRun::Reason(reason) => r.skip(reason.clone()),
        })
        .collect()
}

/// A probe that did not return within its safety margin (its own budget should have ended
/// it): the first rule fails with that, the rest are skipped because of it.
fn overran(rules: &[&'static Rule], what: &str, budget: Duration) -> Vec<CheckResult> {
    let mut out = Vec::new();
    if let Some((first, rest)) = rules.split_first() {
        out.push(
            first
                .fail(format!(
                    "{what} did not return within {} ms",
                    budget.as_millis()
                ))
                .evidence("budget_ms", budget.as_millis() as u64),
        );
        out.extend(rest.iter().map(|r| r.skip_because(first.id)));
    }
    out
}

/// Where the app answers, decided from `--url` or the files.
fn plan_ws(
    app: Option<&SocketIoApp<'_>>,
    args: &DiagnoseArgs,
    auth: Option<&serde_json::Value>,
    timeout: Duration,
) -> Result<WsProbeOptions, NotRun> {
    let default_path = app.map_or("/socket.io", |a| a.socketio_path.as_str());
    let url = match &args.url {
        Some(u) => u.clone(),
        None => {
            let Some(app) = app else {
                return Err(NotRun::Reason(
                    "no Socket.IO app in the files: give --url".to_string(),
                ));
            };
            targets::app_url(app)?
        }
    };
    let path = args.path.clone().or_else(|| {
        // A path in --url wins; otherwise the app's default.
        let has_path = url::Url::parse(&url).is_ok_and(|u| u.path().len() > 1);
        (!has_path).then(|| default_path.to_string())
    });
    let mut target = WsTarget::parse(&url, path.as_deref()).map_err(NotRun::Reason)?;
    // The app's default path is wsdoctor's guess, not the user's word: discovery may move it.
    if args.path.is_none() && args.url.is_none() {
        target.path_explicit = false;
    }
    Ok(WsProbeOptions {
        target,
        auth: auth.cloned(),
        // The CORS test asks as the site's own pages do, when the files name the site.
        origin: args
            .origin
            .clone()
            .or_else(|| app.and_then(SocketIoApp::probe_origin)),
        rounds: args.rounds,
        namespace: "/".to_string(),
        hold: None,
        timeout,
    })
}

/// What the correlation rules need to know about the app, from its profile.
fn traits_of(app: Option<&SocketIoApp<'_>>) -> AppTraits {
    match app {
        Some(a) => AppTraits {
            name: Some(a.profile.name.to_string()),
            connect_waits_for_manager: a.connect_waits_for_manager(),
            subscribes_with_first_client: a.subscribe_timing() == SubscribeTiming::FirstClient,
        },
        // Unknown: python-socketio's rule (the manager starts with the first client).
        None => AppTraits {
            name: None,
            connect_waits_for_manager: false,
            subscribes_with_first_client: true,
        },
    }
}

/// The Redis judges' expectations: the app's manager from its profile (channels, when its
/// workers subscribe) and the processes from the files; `--workers` and `--channel` win.
fn redis_expectations(app: Option<&SocketIoApp<'_>>, args: &DiagnoseArgs) -> Expectations {
    Expectations {
        workers: args.workers,
        manager: app.and_then(|a| expect::redis_manager(a, args.channel.as_deref())),
    }
}

/// Engine.IO sessions the app probe opened (each handshake reaches one worker, and a
/// python-socketio worker subscribes to the manager with its first one): the handshakes,
/// and one per sticky round.
fn sessions_opened(ws: &[CheckResult]) -> u32 {
    let passed = |id: &str| u32::from(ws.iter().any(|c| c.id == id && c.status == Status::Pass));
    let sticky = ws
        .iter()
        .find(|c| c.id == "ws.sticky-session")
        .and_then(|c| c.evidence.get("rounds"))
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    passed("ws.polling-handshake")
        + passed("ws.websocket-handshake")
        + u32::try_from(sticky).unwrap_or(u32::MAX)
}

/// The Redis checks of one probe's observations; the note says how the address was reached.
fn judge_redis(
    obs: &RedisObservations,
    plan: &RedisPlan,
    expect: &Expectations,
) -> Vec<CheckResult> {
    let mut rs = crate::checks::redis::run(obs, expect);
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

/// One round of the live probes, concurrently.
async fn live_round(
    d: &Deployment,
    args: &DiagnoseArgs,
    ctx: &RunContext,
    config: &[CheckResult],
    auth: Option<&serde_json::Value>,
    secrets: &mut Secrets,
) -> (Vec<CheckResult>, Option<OpenPacket>) {
    let app = targets::the_app(
        d,
        args.project.app.as_deref(),
        args.project.service.as_deref(),
    );
    let wanted = app
        .as_ref()
        .map(|a| a.service.name.clone())
        .or(args.project.service.clone());
    let redis_plan = match wanted
        .as_deref()
        .filter(|_| args.redis_host.is_none())
        .and_then(|s| correlate::redis_probe_blocked_by(config, s))
    {
        Some(id) => Err(NotRun::Because(id)),
        // Planning resolves names (the URL's host, each sentinel): one --timeout for all of
        // it, so several silent resolvers cannot add up before the probes start.
        None => tokio::time::timeout(
            ctx.timeout,
            targets::plan_redis(
                d,
                args.project.app.as_deref(),
                wanted.as_deref(),
                args.redis_host.as_deref(),
                ctx.timeout,
                secrets,
            ),
        )
        .await
        .unwrap_or_else(|_| {
            Err(NotRun::Reason(format!(
                "the Redis address could not be resolved within {} (--timeout)",
                humantime::format_duration(ctx.timeout)
            )))
        }),
    };
    let ws_plan = plan_ws(app.as_ref(), args, auth, ctx.timeout);
    let docker_plan = (!args.no_docker).then(|| {
        (
            Endpoint::from_env(
                std::env::var("DOCKER_HOST").ok().as_deref(),
                std::env::var("DOCKER_TLS_VERIFY").ok().as_deref(),
            ),
            Selection::Project(d.project_name.clone()),
        )
    });
    // Each probe keeps to its own budget (--timeout) and reports what it saw when the budget
    // runs out; this margin is only a safety net against a probe that would not.
    let margin = ctx.timeout.saturating_mul(2) + Duration::from_millis(500);
    let expect = redis_expectations(app.as_ref(), args);
    let ws_expect = app
        .as_ref()
        .map(expect::ws_expectations)
        .unwrap_or_default();
    let redis_opts = ProbeOptions {
        deadline: ctx.timeout,
        channel: expect::counted_channel(expect.manager.as_ref(), args.channel.as_deref()),
        ..ProbeOptions::default()
    };

    let redis_fut = async {
        match &redis_plan {
            Err(_) => None,
            Ok(plan) => Some(
                tokio::time::timeout(margin, redis_probe::probe(&plan.target, &redis_opts)).await,
            ),
        }
    };
    let ws_fut = async {
        match &ws_plan {
            Err(why) => (skip_all(crate::checks::ws::RULES, why), None),
            Ok(opts) => match tokio::time::timeout(margin, engineio::probe(opts)).await {
                // The open packet goes to the proxy checks: its pingInterval is the app's.
                Ok(obs) => (
                    crate::checks::ws::judge(&obs, &ws_expect),
                    obs.websocket
                        .as_ref()
                        .and_then(|w| w.open.clone())
                        .or_else(|| obs.polling_open()),
                ),
                Err(_) => (
                    overran(crate::checks::ws::RULES, "the Engine.IO probe", margin),
                    None,
                ),
            },
        }
    };
    let docker_fut = docker_checks(d, args, docker_plan.as_ref(), ctx.timeout, margin);
    let (redis_obs, (w, open), (k, docker_secrets)) = tokio::join!(redis_fut, ws_fut, docker_fut);
    secrets.merge(&docker_secrets);
    // The Redis probe ran beside the app probe: judged now, knowing how many Engine.IO
    // sessions the app probe opened (a worker that subscribes with its first client).
    let mut expect = expect;
    if let Some(m) = expect.manager.as_mut() {
        m.clients_connected = sessions_opened(&w);
    }
    let r = match (&redis_plan, redis_obs) {
        (Err(why), _) => skip_all(crate::checks::redis::RULES, why),
        (Ok(_), None) => Vec::new(),
        (Ok(_), Some(Err(_))) => overran(crate::checks::redis::RULES, "the Redis probe", margin),
        (Ok(plan), Some(Ok(obs))) => {
            let mut r = judge_redis(&obs, plan, &expect);
            // Its PUBSUB reading may predate the app probe's handshakes, and a worker
            // subscribes a moment after its first one: read again, a few times at most and
            // only while the verdict is not a pass, when only first clients could change it.
            let opts = ProbeOptions {
                latency_samples: 0,
                ..redis_opts.clone()
            };
            // All re-reads share one --timeout: a server that answered once and then went
            // silent costs one budget more, not one per read.
            let rereads_end = tokio::time::Instant::now() + ctx.timeout;
            for attempt in 0..PUBSUB_REREADS {
                let Some(current) = r.iter().find(|c| c.id == "redis.pubsub") else {
                    break;
                };
                if !crate::checks::redis::reread_can_help(current)
                    || (attempt > 0 && current.status == Status::Pass)
                {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(PUBSUB_REREAD_GAP).await;
                }
                let left = rereads_end.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                let opts = ProbeOptions {
                    deadline: left.min(opts.deadline),
                    ..opts.clone()
                };
                let Ok(obs) =
                    tokio::time::timeout(left, redis_probe::probe(&plan.target, &opts)).await
                else {
                    break;
                };
                if let Some(fresh) = judge_redis(&obs, plan, &expect)
                    .into_iter()
                    .find(|a| a.id == "redis.pubsub")
                {
                    for c in r.iter_mut().filter(|c| c.id == "redis.pubsub") {
                        *c = fresh.clone().evidence("read_after_app_probe", attempt + 1);
                    }
                }
            }
            r
        }
    };
    let mut out = r;
    out.extend(w);
    out.extend(k);
    (out, open)
}

/// The Docker checks of the project, or all `skip` with why (no engine here is normal for
/// diagnose: the deployment may run elsewhere).
async fn docker_checks(
    d: &Deployment,
    args: &DiagnoseArgs,
    plan: Option<&(Endpoint, Selection)>,
    timeout: Duration,
    margin: Duration,
) -> (Vec<CheckResult>, Secrets) {
    let rules = crate::checks::docker::RULES;
    let scope = crate::checks::docker::DockerScope {
        service: args.project.service.clone(),
        project: None,
    };
    let Some((endpoint, selection)) = plan else {
        return (
            skip_all(rules, &NotRun::Reason("--no-docker".to_string())),
            Secrets::new(),
        );
    };
    let Ok(obs) = tokio::time::timeout(
        margin,
        docker_probe::observe(endpoint, selection.clone(), timeout),
    )
    .await
    else {
        return (overran(rules, "the Docker Engine", margin), Secrets::new());
    };
    let results = crate::checks::docker::run(&obs, Ok(d), &scope);
    let secrets = crate::commands::docker::secrets_of(&obs);
    if obs.engine.is_err() {
        let why = results
            .first()
            .map(|r| r.message.clone())
            .unwrap_or_default();
        let reason = format!("no Docker Engine reachable here: {why}");
        (skip_all(rules, &NotRun::Reason(reason)), secrets)
    } else if obs.containers.is_empty()
        && crate::checks::docker::stack_without_containers(&obs).is_none()
    {
        let reason = format!(
            "no container of compose project '{}' on this engine (not deployed here)",
            d.project_name
        );
        (skip_all(rules, &NotRun::Reason(reason)), secrets)
    } else {
        (results, secrets)
    }
}

/// The `--auth` payload (or `--token` as `{"token": …}`), parsed and registered as a secret
/// before anything can print it.
fn auth_payload(
    args: &DiagnoseArgs,
    secrets: &mut Secrets,
) -> Result<Option<serde_json::Value>, CliError> {
    let auth = crate::commands::ws::auth_payload(args.auth.as_deref(), args.token.as_deref())?;
    if let Some(a) = &auth {
        let raw = args.auth.as_deref().or(args.token.as_deref()).unwrap_or("");
        crate::commands::ws::add_auth_secrets(secrets, raw, a);
    }
    Ok(auth)
}

/// What `--wait` did, told in the report: every live result carries the attempts and the
/// time waited, and a live failure says it is what the last attempt still saw.
fn tell_waited(results: &mut [CheckResult], attempts: u32, waited: Duration, wait: Duration) {
    for r in results.iter_mut() {
        r.evidence.insert("attempts".to_string(), attempts.into());
        r.evidence
            .insert("waited_ms".to_string(), (waited.as_millis() as u64).into());
        if r.status == Status::Fail {
            r.message.push_str(&format!(
                "\nStill so at the last of {attempts} attempts over {} s (--wait {}).",
                waited.as_secs(),
                humantime::format_duration(wait)
            ));
        }
    }
}

pub fn run(args: &DiagnoseArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let deployment = crate::config::load_deployment(&args.project.source())?;
    // A file that did not parse has no services to choose from: its finding is the report.
    if let Some(name) = &args.project.service
        && deployment.service(name).is_none()
        && crate::config::compose::unparsed_files(&deployment).is_empty()
        && deployment.kube.as_ref().is_none_or(|k| k.syntax.is_empty())
    {
        return Err(CliError::Usage(format!(
            "--service {name}: no such service"
        )));
    }
    let mut secrets = deployment.secrets.clone();
    let auth = auth_payload(args, &mut secrets)
        .map_err(|e| crate::commands::lint::redact_error(e, &deployment.secrets, ctx))?;
    if let Some(u) = &args.url {
        secrets.add_url_passwords(u);
    }
    // The file checks, as `lint` runs them.
    let config = crate::checks::file_checks(
        &deployment,
        args.project.service.as_deref(),
        args.project.app.as_deref(),
    );
    let facts = crate::checks::config::Facts::with_app(
        &deployment,
        args.project.service.as_deref(),
        args.project.app.as_deref(),
    );
    // `proxy.timeout` was judged above against the default ping interval; it is judged again
    // below against the pingInterval the live open packet gives.
    let rt = crate::commands::runtime()?;
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("probing Redis, the app and Docker…");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let mut attempts = 0;
    let (live, open) = loop {
        attempts += 1;
        let (live, open) = rt.block_on(live_round(
            &deployment,
            args,
            ctx,
            &config,
            auth.as_ref(),
            &mut secrets,
        ));
        let failing = live.iter().any(|r| r.status == Status::Fail);
        match args.wait {
            Some(wait) if failing && started.elapsed() + Duration::from_secs(1) < wait => {
                spinner.set_message(format!(
                    "attempt {attempts}: live checks failing, retrying until {} s…",
                    wait.as_secs()
                ));
                std::thread::sleep(Duration::from_secs(1));
            }
            _ => break (live, open),
        }
    };
    spinner.finish_and_clear();
    rt.shutdown_timeout(Duration::from_millis(200));
    let mut live = live;
    let unparsed = crate::config::compose::unparsed_files(&deployment);
    if !unparsed.is_empty() {
        // A probe skipped for want of a target may only be missing it because the file that
        // names it did not parse: say so, the user would otherwise look for the wrong cause.
        for r in live.iter_mut().filter(|r| r.status == Status::Skip) {
            r.message = format!(
                "{} does not parse (config.compose-syntax), so where to probe is unknown: {}",
                unparsed.join(", "),
                r.message
            );
        }
    }
    // Only live results were retried: the file checks (config.*, kube.*, aca.*) ran once.
    if let Some(wait) = args.wait {
        tell_waited(&mut live, attempts, started.elapsed(), wait);
    }
    let mut results = config;
    if let Some(open) = &open {
        let expect = expect::proxy_expectations(open);
        let fresh = crate::checks::proxy::run_with(&facts, &expect);
        for r in results
            .iter_mut()
            .filter(|r| r.id == crate::checks::proxy::timeout::RULE.id)
        {
            if let Some(f) = fresh
                .iter()
                .find(|f| f.id == r.id && f.subject == r.subject)
            {
                *r = f.clone();
            }
        }
    }
    results.extend(live);
    let app = targets::the_app(
        &deployment,
        args.project.app.as_deref(),
        args.project.service.as_deref(),
    );
    correlate::apply(&mut results, &traits_of(app.as_ref()));
    Ok(Report::finish(
        "diagnose",
        results,
        &crate::report::Suppressions {
            cli: ctx.ignore.clone(),
            inline: deployment.ignores.clone(),
        },
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}
