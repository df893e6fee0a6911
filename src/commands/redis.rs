//! `wsdoctor redis`: a live, read-only probe of one Redis (or a Sentinel / Cluster
//! deployment). The probe sends only [`COMMANDS_SENT`](crate::probe::redis::COMMANDS_SENT).

use std::time::Instant;

use clap::Args;

use crate::checks::redis::{Expectations, ManagerExpectation};
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::probe::redis::ProbeOptions;
use crate::probe::redis::target::{self, HostPort, RedisTarget, SentinelSpec};
use crate::redact::Secrets;
use crate::report::Report;

#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// The Redis URL: redis://[[user]:password@]host[:port][/db], rediss://… for TLS
    /// (`#insecure` skips certificate checks), or
    /// redis+sentinel://[:password@]host:26379[,host:port…]/MASTER[/db].
    #[arg(value_name = "URL", conflicts_with = "from_config")]
    pub url: Option<String>,
    /// Take the URL from the deployment files (WEBSOCKET_REDIS_URL, else REDIS_URL).
    #[arg(long)]
    pub from_config: bool,
    /// Connect here instead of the URL's host, keeping its credentials and db (reach a
    /// compose service from the host through its published port: --host 127.0.0.1:6379).
    #[arg(long, value_name = "HOST:PORT")]
    pub host: Option<String>,
    /// Number of Socket.IO worker processes that should each subscribe to the manager
    /// channel (uvicorn --workers × replicas).
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,
    /// The manager channel to count subscribers of. Default: the app's (with --from-config:
    /// `socketio` for Open WebUI and python-socketio, `flask-socketio` for Flask-SocketIO),
    /// else `socketio` (AsyncRedisManager(channel=…)).
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// A sentinel to ask for the master (repeatable); needs --master. Credentials and db
    /// come from the URL when one is given.
    #[arg(long = "sentinel", value_name = "HOST:PORT", requires = "master")]
    pub sentinels: Vec<String>,
    /// The master name the sentinels monitor (`sentinel monitor NAME …`).
    #[arg(long, value_name = "NAME")]
    pub master: Option<String>,
    /// PINGs timed for the latency check (0-10000).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub samples: u32,
    #[command(flatten)]
    pub project: crate::cli::ProjectArgs,
}

/// The Redis URL the deployment's Socket.IO manager uses (WEBSOCKET_REDIS_URL, defaulting
/// to REDIS_URL, of a recognised app first; else a service's REDIS_URL), of `--service` when
/// given.
fn url_from_deployment(
    deployment: &Deployment,
    app: Option<&str>,
    service: Option<&str>,
) -> Result<String, CliError> {
    crate::apps::websocket_redis_urls_with(deployment, app, service)
        .into_iter()
        .find(|u| service.is_none_or(|s| s == u.service))
        .map(|u| u.url)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--from-config: {} sets WEBSOCKET_REDIS_URL or REDIS_URL; give the URL as an argument",
                match service {
                    Some(s) => format!("service {s} neither"),
                    None => "no service".to_string(),
                }
            ))
        })
}

/// The manager the files configure for the app whose manager uses Redis (its profile's
/// channels and subscribe timing, its processes from the files).
fn manager_from_deployment(
    deployment: &Deployment,
    app: Option<&str>,
    service: Option<&str>,
    channel: Option<&str>,
) -> Option<ManagerExpectation> {
    crate::apps::apps_with(deployment, app, service)
        .into_iter()
        .filter(|a| service.is_none_or(|s| s == a.service.name))
        .find_map(|a| crate::commands::expect::redis_manager(&a, channel))
}

/// Builds the probe target from the command line (and the deployment for --from-config),
/// with the manager the files configure when they are read. `deployment` is the files'
/// deployment, read once by the caller, for --from-config.
pub fn target_from_args(
    args: &RedisArgs,
    deployment: Option<&Deployment>,
    secrets: &mut Secrets,
) -> Result<(RedisTarget, Option<ManagerExpectation>), CliError> {
    let mut manager = None;
    let url = if let Some(deployment) = deployment.filter(|_| args.from_config) {
        secrets.merge(&deployment.secrets);
        let service = args.project.service.as_deref();
        let app = args.project.app.as_deref();
        manager = manager_from_deployment(deployment, app, service, args.channel.as_deref());
        Some(url_from_deployment(deployment, app, service)?)
    } else {
        args.url.clone()
    };
    if let Some(u) = &url {
        // Registered before anything can format an error with it.
        secrets.add_url_passwords(u);
    }
    let mut t = match (&url, args.sentinels.is_empty()) {
        (Some(u), _) => {
            let t = target::parse_url(u).map_err(|e| CliError::Usage(format!("{u}: {e}")))?;
            if let Some(p) = &t.password {
                secrets.add(p);
            }
            t
        }
        (None, false) => RedisTarget {
            addr: HostPort {
                host: String::new(),
                port: target::DEFAULT_PORT,
            },
            tls: false,
            insecure: false,
            username: None,
            password: None,
            db: 0,
            sentinel: None,
            overridden_from: None,
        },
        (None, true) => {
            return Err(CliError::Usage(
                "give a Redis URL (wsdoctor redis redis://:PASSWORD@HOST:6379/0), \
                 --from-config, or --sentinel HOST:PORT --master NAME"
                    .to_string(),
            ));
        }
    };
    if !args.sentinels.is_empty() {
        let mut sentinels = Vec::new();
        for s in &args.sentinels {
            sentinels.push(
                HostPort::parse(s, target::DEFAULT_SENTINEL_PORT)
                    .map_err(|e| CliError::Usage(format!("--sentinel {e}")))?,
            );
        }
        let master = args
            .master
            .clone()
            .ok_or_else(|| CliError::Usage("--sentinel needs --master NAME".to_string()))?;
        t.addr = sentinels[0].clone();
        t.sentinel = Some(SentinelSpec { sentinels, master });
    } else if let (Some(m), Some(spec)) = (&args.master, t.sentinel.as_mut()) {
        spec.master = m.clone();
    } else if args.master.is_some() {
        return Err(CliError::Usage(
            "--master is for Sentinel: give --sentinel HOST:PORT too (or a redis+sentinel:// URL)"
                .to_string(),
        ));
    }
    if let Some(h) = &args.host {
        let hp = HostPort::parse(h, target::DEFAULT_PORT)
            .map_err(|e| CliError::Usage(format!("--host {e}")))?;
        t = t.with_host_override(hp);
    }
    Ok((t, manager))
}

pub fn run(args: &RedisArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut secrets = Secrets::new();
    let deployment = if args.from_config {
        Some(crate::config::load_deployment(&args.project.source())?)
    } else {
        None
    };
    let (mut target, manager) = target_from_args(args, deployment.as_ref(), &mut secrets)
        .map_err(|e| {
            // The URL may be missing only because the file that sets it did not parse.
            let unparsed = deployment
                .as_ref()
                .map(crate::config::compose::unparsed_files)
                .unwrap_or_default();
            match unparsed.first() {
                Some(file) => CliError::input(
                    *file,
                    format!(
                        "does not parse (run `wsdoctor lint` for the line), so --from-config cannot read the Redis URL: {e}"
                    ),
                ),
                None => e,
            }
        })
        .map_err(|e| match &deployment {
            Some(d) => crate::commands::lint::redact_error(e, &d.secrets, ctx),
            None => e,
        })?;
    let opts = ProbeOptions {
        deadline: ctx.timeout,
        latency_samples: args.samples,
        channel: crate::commands::expect::counted_channel(
            manager.as_ref(),
            args.channel.as_deref(),
        ),
    };
    let rt = crate::commands::runtime()?;
    // --from-config: a compose service name resolves only inside the compose network; reach
    // it through the port the service publishes, as diagnose does (the report says so).
    // --from-config: the app's Redis as diagnose reaches it — a compose service name through
    // the port the service publishes, the manager's Sentinel when it has one (the report says
    // so). A plan that cannot be made leaves the URL as written: the probe then says why.
    let mut note = None;
    if let Some(deployment) = &deployment
        && args.host.is_none()
        && args.sentinels.is_empty()
        && let Ok(plan) = rt.block_on(crate::targets::plan_redis(
            deployment,
            args.project.app.as_deref(),
            args.project.service.as_deref(),
            None,
            ctx.timeout,
            &mut secrets,
        ))
    {
        target = plan.target;
        note = plan.note;
    }
    let mut obs = rt.block_on(crate::probe::redis::probe(&target, &opts));
    if ctx.show_secrets {
        // The probe never renders a password; --show-secrets asks for the URL as given.
        obs.target = target.display_with_password();
    }
    // Close every connection the probe opened before the report is written.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    let mut results = crate::checks::redis::run(
        &obs,
        &Expectations {
            workers: args.workers,
            manager,
        },
    );
    if let Some(note) = note
        && let Some(first) = results.first_mut()
    {
        first.message.push_str(&format!(" ({note})"));
        first.evidence.insert("reached".to_string(), note.into());
    }
    Ok(Report::finish(
        "redis",
        results,
        &ctx.cli_suppressions(),
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{EnvSource, EnvVar, Service};

    fn service(name: &str, env: &[(&str, &str)]) -> Service {
        let mut s = Service {
            name: name.to_string(),
            ..Service::default()
        };
        for (k, v) in env {
            s.environment.insert(
                k.to_string(),
                EnvVar {
                    value: Some(v.to_string()),
                    raw: Some(v.to_string()),
                    span: None,
                    source: EnvSource::Environment,
                    shadowed: Vec::new(),
                },
            );
        }
        s
    }

    #[test]
    fn url_from_deployment_prefers_websocket_redis_url() {
        let d = Deployment {
            services: vec![
                service("worker", &[("REDIS_URL", "redis://redis:6379/0")]),
                service("app", &[("WEBSOCKET_REDIS_URL", "redis://redis:6379/1")]),
            ],
            ..Deployment::default()
        };
        assert_eq!(
            url_from_deployment(&d, None, None).expect("url"),
            "redis://redis:6379/1"
        );
        let d = Deployment {
            services: vec![service("worker", &[("REDIS_URL", "redis://redis:6379/0")])],
            ..Deployment::default()
        };
        assert_eq!(
            url_from_deployment(&d, None, None).expect("url"),
            "redis://redis:6379/0"
        );
        assert!(url_from_deployment(&Deployment::default(), None, None).is_err());
    }

    #[test]
    fn url_password_is_registered_before_probing() {
        let args = RedisArgs {
            url: Some("redis://:p%40ss-w0rd@redis:6379/0".to_string()),
            from_config: false,
            host: Some("127.0.0.1:6380".to_string()),
            workers: None,
            channel: None,
            sentinels: Vec::new(),
            master: None,
            samples: 20,
            project: crate::cli::ProjectArgs::default(),
        };
        let mut secrets = Secrets::new();
        let (t, _) = target_from_args(&args, None, &mut secrets).expect("target");
        assert_eq!(t.addr.to_string(), "127.0.0.1:6380");
        assert_eq!(t.db, 0);
        assert_eq!(secrets.redact("AUTH p@ss-w0rd failed"), "AUTH **** failed");
        assert_eq!(secrets.redact("x p%40ss-w0rd y"), "x **** y");
    }
}
