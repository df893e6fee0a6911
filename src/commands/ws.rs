//! `wsdoctor ws URL`: probes a live Engine.IO / Socket.IO endpoint and judges the `ws.*`
//! checks.

use std::time::{Duration, Instant};

use clap::Args;

use serde_json::Value;

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
    /// The Socket.IO auth payload to send with CONNECT, as JSON (e.g. Chainlit's
    /// '{"sessionId":"…","clientType":"webapp"}'); a secret, redacted in reports. Replaces
    /// --token.
    #[arg(
        long,
        value_name = "JSON",
        env = "WSDOCTOR_AUTH",
        hide_env_values = true,
        conflicts_with = "token"
    )]
    pub auth: Option<String>,
    /// The app behind the URL, for what its CONNECT needs: open-webui, chainlit,
    /// flask-socketio, python-socketio, node-socketio. Without it CONNECT is judged without
    /// knowing the app.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
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
            auth: auth_payload(self.auth.as_deref(), self.token.as_deref())?,
            origin: self.origin.clone(),
            rounds: self.rounds,
            namespace,
            hold: self.hold,
            timeout,
        })
    }
}

/// The CONNECT auth payload: `--auth JSON` as given, or `{"token": T}` for `--token T`.
pub fn auth_payload(auth: Option<&str>, token: Option<&str>) -> Result<Option<Value>, CliError> {
    if let Some(text) = auth {
        // The parse error names the position only: the text is a secret.
        return serde_json::from_str::<Value>(text).map(Some).map_err(|e| {
            CliError::Usage(format!(
                "--auth is not JSON (line {}, column {}): give the auth object the app's \
                 client sends, e.g. --auth '{{\"token\": \"…\"}}'",
                e.line(),
                e.column()
            ))
        });
    }
    Ok(token.map(|t| serde_json::json!({ "token": t })))
}

/// Registers an auth payload for redaction: the text as given and every string in it (a
/// session id or a token is as secret as the whole object). Numbers are left out: redacting
/// `42` would blank timings and counts all over the report.
pub fn add_auth_secrets(secrets: &mut Secrets, raw: &str, auth: &Value) {
    secrets.add(raw);
    let mut stack = vec![auth];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => secrets.add(s),
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.values()),
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
        }
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
    if let (Some(raw), Some(auth)) = (&args.auth, &opts.auth) {
        add_auth_secrets(&mut secrets, raw, auth);
    }
    let expect = match args.app.as_deref() {
        Some(name) => crate::commands::expect::ws_expectations_of(
            crate::commands::expect::profile_named(name)?,
        ),
        None => Default::default(),
    };
    let rt = crate::commands::runtime()?;
    let obs = rt.block_on(engineio::probe(&opts));
    let results = crate::checks::ws::judge(&obs, &expect);
    Ok(Report::finish(
        "ws",
        results,
        &ctx.cli_suppressions(),
        ctx.strict,
        started.elapsed(),
        secrets,
    ))
}
