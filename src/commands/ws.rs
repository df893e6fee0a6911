//! `wsdoctor ws URL`: probes a live Engine.IO / Socket.IO endpoint and judges the `ws.*`
//! checks.

use std::time::{Duration, Instant};

use clap::Args;

use crate::cli::parse_duration;
use crate::commands::{CliError, RunContext};
use crate::probe::engineio::{self, Target, WsProbeOptions};
use crate::redact::Secrets;
use crate::report::Report;

/// The sticky test runs at most this many rounds: each round is three requests on new
/// connections.
const MAX_ROUNDS: u32 = 1000;

#[derive(Debug, Clone, Args)]
pub struct WsArgs {
    /// The app's URL: http(s)://host[:port][/path] or ws(s)://…. A path in the URL is taken
    /// as the socket.io path.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The socket.io path [default: /socket.io]; when it answers 404, /socket.io and
    /// /ws/socket.io (Open WebUI, Chainlit) are tried too and the report says where
    /// socket.io lives.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Sent as the Socket.IO auth payload {"token": T} with CONNECT (redacted in reports).
    #[arg(long, value_name = "T", env = "WSDOCTOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Origin header for the CORS check (none is sent otherwise).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Rounds of the sticky-session test (0 skips it).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub rounds: u32,
    /// The Socket.IO namespace to CONNECT to.
    #[arg(long, value_name = "NS", default_value = "/")]
    pub namespace: String,
    /// Stay connected this long (e.g. 50, 45s) to see a ping cycle through the proxy.
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub hold: Option<Duration>,
}

impl WsArgs {
    /// The probe's options, or a usage error.
    pub fn probe_options(&self, timeout: Duration) -> Result<WsProbeOptions, CliError> {
        let target = Target::parse(&self.url, self.path.as_deref()).map_err(CliError::Usage)?;
        if self.rounds > MAX_ROUNDS {
            return Err(CliError::Usage(format!(
                "--rounds {} is more than {MAX_ROUNDS}",
                self.rounds
            )));
        }
        let ns = self.namespace.trim();
        let namespace = if ns.starts_with('/') {
            ns.to_string()
        } else {
            format!("/{ns}")
        };
        if let Some(o) = &self.origin
            && (o.trim().is_empty() || o.contains(['\r', '\n']))
        {
            return Err(CliError::Usage(format!("--origin {o:?} is not an origin")));
        }
        Ok(WsProbeOptions {
            target,
            token: self.token.clone(),
            origin: self.origin.clone(),
            rounds: self.rounds,
            namespace,
            hold: self.hold,
            timeout,
        })
    }
}

pub fn run(args: &WsArgs, ctx: &RunContext) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut secrets = Secrets::new();
    secrets.add_url_passwords(&args.url);
    if let Some(t) = &args.token {
        secrets.add(t);
    }
    let opts = args.probe_options(ctx.timeout)?;
    let rt = crate::commands::runtime()?;
    let obs = rt.block_on(engineio::probe(&opts));
    let results = crate::checks::ws::judge(&obs);
    Ok(Report::finish(
        "ws",
        results,
        &ctx.cli_suppressions(),
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}
