//! `wsdoctor redis`: a live, read-only probe of one Redis (or a Sentinel / Cluster
//! deployment). The probe sends only [`COMMANDS_SENT`](crate::probe::redis::COMMANDS_SENT).

use std::time::Instant;

use clap::Args;

use crate::checks::redis::{Expectations, ManagerExpectation, SubscribeTiming};
use crate::commands::{CliError, RunContext};
use crate::config::Deployment;
use crate::probe::redis::target::{self, HostPort, RedisTarget, SentinelSpec};
use crate::probe::redis::{DEFAULT_CHANNEL, ProbeOptions};
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
    /// python-socketio manager channel (AsyncRedisManager(channel=…)).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CHANNEL)]
    pub channel: String,
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
fn url_from_deployment(deployment: &Deployment, service: Option<&str>) -> Result<String, CliError> {
    crate::config::apps::websocket_redis_urls(deployment)
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

/// The manager the files configure for the app whose manager uses Redis: its processes
/// (workers × replicas) each hold one subscription to the manager channel. The apps the
/// files recognise today are Open WebUI deployments, whose workers subscribe at startup
/// (open_webui/main.py:424-428, 0.12.4); the lead's profiles replace this with each app's
/// own channel and timing.
fn manager_from_deployment(
    deployment: &Deployment,
    service: Option<&str>,
    channel: &str,
) -> Option<ManagerExpectation> {
    crate::config::apps::socketio_apps(deployment)
        .into_iter()
        .filter(|a| service.is_none_or(|s| s == a.service.name))
        .find(|a| a.uses_redis_manager())
        .map(|a| ManagerExpectation {
            app: "Open WebUI".to_string(),
            channels: vec![channel.to_string()],
            patterns: Vec::new(),
            timing: SubscribeTiming::Startup,
            processes: a.processes(),
            // `wsdoctor redis` connects no client to the app.
            clients_connected: 0,
        })
}

/// Builds the probe target from the command line (and the deployment for --from-config),
/// with the manager the files configure when they are read.
pub fn target_from_args(
    args: &RedisArgs,
    secrets: &mut Secrets,
) -> Result<(RedisTarget, Option<ManagerExpectation>), CliError> {
    let mut manager = None;
    let url = if args.from_config {
        let deployment = crate::commands::lint::load_deployment(&args.project)?;
        secrets.merge(&deployment.secrets);
        let service = args.project.service.as_deref();
        manager = manager_from_deployment(&deployment, service, &args.channel);
        Some(url_from_deployment(&deployment, service)?)
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
    let (target, manager) = target_from_args(args, &mut secrets)?;
    let opts = ProbeOptions {
        deadline: ctx.timeout,
        latency_samples: args.samples,
        channel: args.channel.clone(),
    };
    let rt = crate::commands::runtime()?;
    let mut obs = rt.block_on(crate::probe::redis::probe(&target, &opts));
    if ctx.show_secrets {
        // The probe never renders a password; --show-secrets asks for the URL as given.
        obs.target = target.display_with_password();
    }
    // Close every connection the probe opened before the report is written.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    let results = crate::checks::redis::run(
        &obs,
        &Expectations {
            workers: args.workers,
            manager,
        },
    );
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
            url_from_deployment(&d, None).expect("url"),
            "redis://redis:6379/1"
        );
        let d = Deployment {
            services: vec![service("worker", &[("REDIS_URL", "redis://redis:6379/0")])],
            ..Deployment::default()
        };
        assert_eq!(
            url_from_deployment(&d, None).expect("url"),
            "redis://redis:6379/0"
        );
        assert!(url_from_deployment(&Deployment::default(), None).is_err());
    }

    #[test]
    fn url_password_is_registered_before_probing() {
        let args = RedisArgs {
            url: Some("redis://:p%40ss-w0rd@redis:6379/0".to_string()),
            from_config: false,
            host: Some("127.0.0.1:6380".to_string()),
            workers: None,
            channel: DEFAULT_CHANNEL.to_string(),
            sentinels: Vec::new(),
            master: None,
            samples: 20,
            project: crate::cli::ProjectArgs::default(),
        };
        let mut secrets = Secrets::new();
        let (t, _) = target_from_args(&args, &mut secrets).expect("target");
        assert_eq!(t.addr.to_string(), "127.0.0.1:6380");
        assert_eq!(t.db, 0);
        assert_eq!(secrets.redact("AUTH p@ss-w0rd failed"), "AUTH **** failed");
        assert_eq!(secrets.redact("x p%40ss-w0rd y"), "x **** y");
    }
}
