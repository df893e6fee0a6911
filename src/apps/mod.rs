//! App profiles: what wsdoctor assumes about each Socket.IO app, as plain data, one file per
//! app, each rule citing the source file and version it was read from. And the interpreter
//! that reads a compose service through a profile into a [`SocketIoApp`] (the settings the
//! container really gets, with the app's defaults, empty-value and case rules applied).
//!
//! Profiles: [`open_webui`], [`chainlit`], [`flask_socketio`], [`node_socketio`], and
//! [`python_socketio`] (generic python-socketio, with the rules of the ASGI/WSGI servers it
//! runs under; also the fallback for an app no profile recognises).
//!
//! Layering: `apps` reads `config` (the deployment model); `config` never imports `apps`.
//! Live judges do not import profiles either: the command layer copies what they need
//! (channels, subscribe timing, connect rule…) into their own expectation structs.

pub mod chainlit;
pub mod flask_socketio;
pub mod node_socketio;
pub mod open_webui;
pub mod python_socketio;

use crate::config::redis_server::image_repo;
use crate::config::{Deployment, Service, Span};

/// The apps wsdoctor has a profile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppId {
    OpenWebUi,
    Chainlit,
    FlaskSocketIo,
    PythonSocketIo,
    NodeSocketIo,
}

impl AppId {
    /// Every app, in recognition order: specific apps before the generic python-socketio
    /// profile (a Flask-SocketIO project also depends on python-socketio).
    pub const ALL: [AppId; 5] = [
        AppId::OpenWebUi,
        AppId::Chainlit,
        AppId::FlaskSocketIo,
        AppId::NodeSocketIo,
        AppId::PythonSocketIo,
    ];

    /// The `--app` name.
    pub fn cli_name(self) -> &'static str {
        match self {
            AppId::OpenWebUi => "open-webui",
            AppId::Chainlit => "chainlit",
            AppId::FlaskSocketIo => "flask-socketio",
            AppId::PythonSocketIo => "python-socketio",
            AppId::NodeSocketIo => "node-socketio",
        }
    }

    /// Reads an `--app` name (case-insensitive; `_` and `-` alike; `openwebui` too).
    pub fn from_cli(name: &str) -> Option<AppId> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        let n = match n.as_str() {
            "openwebui" | "owui" => "open-webui",
            "flask" | "flasksocketio" => "flask-socketio",
            "socketio" | "python" => "python-socketio",
            "node" | "socket.io" | "nodejs" => "node-socketio",
            other => other,
        };
        AppId::ALL.into_iter().find(|a| a.cli_name() == n)
    }

    pub fn profile(self) -> &'static AppProfile {
        match self {
            AppId::OpenWebUi => &open_webui::PROFILE,
            AppId::Chainlit => &chainlit::PROFILE,
            AppId::FlaskSocketIo => &flask_socketio::PROFILE,
            AppId::PythonSocketIo => &python_socketio::PROFILE,
            AppId::NodeSocketIo => &node_socketio::PROFILE,
        }
    }
}

/// Everything wsdoctor assumes about one app.
#[derive(Debug)]
pub struct AppProfile {
    pub id: AppId,
    /// As shown in reports: "Open WebUI".
    pub name: &'static str,
    /// The versions whose source the rules were read from: "0.12.4".
    pub versions_read: &'static str,
    pub recognise: Recognition,
    /// Where the Socket.IO endpoint is served (the client's `path`).
    pub socketio_path: &'static str,
    /// A variable that prefixes the path (Chainlit's CHAINLIT_ROOT_PATH).
    pub path_prefix_var: Option<&'static str>,
    pub port: PortRule,
    pub manager: ManagerSettings,
    pub workers: WorkerRule,
    pub transports: TransportRule,
    pub connect: ConnectRule,
    pub cors: CorsRule,
    /// Variables holding the site's public URL (the origin browsers use).
    pub site_origin_vars: &'static [&'static str],
    /// The address the app's server binds (its listen host).
    pub listen: ListenRule,
}

/// How a launcher picks the address it binds.
#[derive(Debug)]
pub struct HostRule {
    /// Bound when nothing sets it: `127.0.0.1` (loopback only) or `0.0.0.0`.
    pub default_host: &'static str,
    /// Flags that set it (`--host`, gunicorn's `-b`).
    pub host_flags: &'static [&'static str],
    /// The flag's value is `HOST:PORT` (gunicorn/hypercorn `--bind`), not a bare host.
    pub bind_form: bool,
    /// A variable that sets it when no flag does (`CHAINLIT_HOST`, `UVICORN_HOST`).
    pub host_env: Option<&'static str>,
    /// A variable whose presence turns the default into all interfaces (gunicorn binds
    /// `0.0.0.0:$PORT` when PORT is set and nothing else binds).
    pub all_interfaces_env: Option<&'static str>,
    /// Flags naming a config file that may also bind (gunicorn/hypercorn `-c`).
    pub config_flags: &'static [&'static str],
    /// Where the default is written (shown as the source of a defaulted host).
    pub cited: &'static str,
    /// How to bind all interfaces instead (shown as the hint).
    pub fix: &'static str,
}

/// Where the app's listen address is decided.
#[derive(Debug)]
pub struct ListenRule {
    /// The app's launcher (a word of `recognise.command_words` on the command line:
    /// `chainlit run`, `open-webui serve`); None when the app has no launcher.
    pub launcher: Option<HostRule>,
    /// The image's own start script, when the service sets no command (Open WebUI's
    /// start.sh); None when wsdoctor does not know what the image runs.
    pub image: Option<HostRule>,
    /// Who decides otherwise (the app's code: `socketio.run(app)`, `server.listen(port)`).
    pub otherwise: &'static str,
}

/// The address the app's server listens on, as far as the files tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenHost {
    /// The hosts bound (several for repeated gunicorn `-b`), as written or defaulted, and
    /// how to bind all interfaces instead.
    Hosts {
        hosts: Vec<String>,
        fix: &'static str,
    },
    /// Decided where wsdoctor does not look (app code, a config file, an image's CMD).
    Unknown(String),
}

/// Whether a listen host is reachable only from inside its own network namespace.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// How a compose service is recognised as this app. Any one match is enough.
#[derive(Debug)]
pub struct Recognition {
    /// Image repositories (registry and tag stripped) ending with one of these.
    pub images: &'static [&'static str],
    /// Words of `entrypoint` + `command` (a `sh -c` string split on spaces): a word equal to
    /// one of these, or whose last path component is.
    pub command_words: &'static [&'static str],
    /// Substrings of a command word (`flask_socketio` in `python -c "import flask_socketio"`).
    pub command_mentions: &'static [&'static str],
    /// Packages (normalised: lowercase, `-`) in requirements*.txt / pyproject.toml /
    /// package.json of the service's build context.
    pub packages: &'static [&'static str],
    /// Variables only this app reads.
    pub env_vars: &'static [&'static str],
}

/// The port the app listens on inside its container.
#[derive(Debug)]
pub struct PortRule {
    /// When nothing sets it.
    pub default: Option<u16>,
    /// A variable that sets it (`PORT`, `CHAINLIT_PORT`).
    pub env_var: Option<&'static str>,
    /// Command-line flags that set it (`--port`).
    pub flags: &'static [&'static str],
}

/// How a variable that names the manager URL treats an empty value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyValue {
    /// Empty counts as unset: the next variable (or the default) applies.
    Unset,
    /// The app uses the empty string as the URL: its manager cannot start.
    Kept,
}

/// A variable that sets the manager URL.
#[derive(Debug)]
pub struct UrlVar {
    pub name: &'static str,
    pub empty: EmptyValue,
}

/// When the app uses a Redis manager at all.
#[derive(Debug)]
pub enum EnableRule {
    /// The app has no Redis manager (each process is an island).
    Never,
    /// The manager is configured in the app's code; a URL variable is a convention only.
    InCode {
        /// What the app code does (shown in findings).
        how: &'static str,
    },
    /// Enabled when `var` equals `value` exactly (no trimming, case-sensitive).
    VarEquals {
        var: &'static str,
        value: &'static str,
    },
}

/// Sentinel settings of the manager.
#[derive(Debug)]
pub struct SentinelVars {
    /// Comma-separated Sentinel hosts; when set, the URL's host is the master *name*.
    pub hosts: &'static str,
    pub port: &'static str,
    pub default_port: u16,
}

/// Per-room channels next to the main channel (Open WebUI's room-channel manager).
#[derive(Debug)]
pub struct RoomChannels {
    /// A variable that switches them off (read `.lower() == 'true'`).
    pub var: &'static str,
    pub default: bool,
    /// The channel of room R is `<prefix><R>`.
    pub prefix: &'static str,
}

/// When the manager's processes subscribe to their channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeTiming {
    /// At process start: every worker holds a subscription before any client connects.
    Startup,
    /// With the process's first client: a worker no client reached has no subscription yet.
    FirstClient,
}

/// The Redis manager (message queue / adapter) of the app.
#[derive(Debug)]
pub struct ManagerSettings {
    /// The variables that set the manager URL, first that applies wins.
    pub url_vars: &'static [UrlVar],
    pub enable: EnableRule,
    pub sentinel: Option<SentinelVars>,
    /// Sentinel variables that do NOT apply to the manager (they configure another client of
    /// the app): setting only these leaves the manager dialing the master name as a host.
    pub other_sentinel_vars: &'static [&'static str],
    /// Variables that switch the manager to Redis Cluster (read `.lower() == 'true'`).
    pub cluster_vars: &'static [&'static str],
    /// Channels each process SUBSCRIBEs to.
    pub channels: &'static [&'static str],
    pub room_channels: Option<RoomChannels>,
    /// Patterns each process PSUBSCRIBEs to.
    pub patterns: &'static [&'static str],
    pub subscribe: SubscribeTiming,
}

/// Where the number of worker processes per container comes from.
#[derive(Debug)]
pub enum WorkerRule {
    /// One process, whatever the environment (the app runs a single server).
    Single,
    /// The ASGI/WSGI server on the command line decides (see [`python_socketio::SERVERS`]);
    /// one process when no known server is on the command line.
    Server,
    /// A variable of the app, unless the command runs a known server itself.
    EnvVar {
        var: &'static str,
        default: u32,
        /// An unparsable value counts as this.
        invalid: u32,
    },
    /// A process manager flag (pm2 `-i N`); one process otherwise.
    Pm2,
}

/// Which transports the server accepts.
#[derive(Debug)]
pub enum TransportRule {
    /// A variable read `.lower() == 'true'`: true → websocket only, false → polling only.
    WebsocketVar { var: &'static str, default: bool },
    /// Set in the app's code; the default (polling first, then upgrade) is assumed.
    InCode,
}

/// What a CONNECT needs for the server to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectRule {
    /// Accepts a CONNECT without auth.
    Anonymous,
    /// Needs the auth its own client sends.
    NeedsAuth {
        /// What to send (shown to the user).
        what: &'static str,
        /// Without it the server never answers (rather than CONNECT_ERROR).
        unanswered_without_it: bool,
    },
    /// Decided by app code (a connect handler or middleware wsdoctor cannot see).
    Unknown,
}

/// How the app decides which browser origins may connect.
#[derive(Debug)]
pub enum CorsRule {
    /// A variable holding a list of origins.
    EnvList {
        var: &'static str,
        /// When unset.
        default: &'static str,
        separator: char,
        /// Items are NOT trimmed: a space after the separator is part of the origin.
        trimmed: bool,
        /// Unless the value is exactly `*`, an item without an http(s) scheme and a host
        /// makes the app refuse to start.
        scheme_required: bool,
    },
    /// Set in the app's code or a config file wsdoctor does not read.
    Elsewhere { what: &'static str },
}

/// A setting of an app, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSetting<T> {
    pub value: T,
    /// The variable (or command flag) that sets it.
    pub source: String,
    /// Where it is written; None when the default applies.
    pub span: Option<Span>,
    /// Not set anywhere: the app's default applies.
    pub defaulted: bool,
}

impl<T> AppSetting<T> {
    fn default_of(value: T, source: &str) -> Self {
        AppSetting {
            value,
            source: source.to_string(),
            span: None,
            defaulted: true,
        }
    }
}

/// The transports a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transports {
    WebsocketOnly,
    PollingOnly,
    /// Polling first, then the upgrade (the Socket.IO default): sessions start on polling.
    Both,
}

/// The manager's Sentinel, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelSetting {
    pub hosts: Vec<String>,
    pub port: u16,
    pub source: String,
    pub span: Option<Span>,
}

/// The channels the manager's processes subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerChannels {
    pub channels: Vec<String>,
    /// Per-room channels `<prefix><room>` (SUBSCRIBE, one per room in use).
    pub room_channel_prefix: Option<String>,
    pub patterns: Vec<String>,
}

/// How a service came to be read as this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// "image ghcr.io/open-webui/open-webui:main", "--app chainlit", …
    pub by: String,
    /// Set when no profile matched and generic python-socketio rules apply.
    pub fallback: Option<String>,
}

/// A Socket.IO server service read through its app profile.
#[derive(Debug, Clone)]
pub struct SocketIoApp<'a> {
    pub service: &'a Service,
    pub profile: &'static AppProfile,
    pub recognised: Recognised,
    /// Recognised as Open WebUI by its image (not only by its variables).
    pub open_webui_image: bool,
    pub transports: AppSetting<Transports>,
    /// The value of the variable that enables the manager (`WEBSOCKET_MANAGER`), or a
    /// description of where it is set.
    pub manager: AppSetting<String>,
    /// Whether the app uses its Redis manager (as far as files can tell).
    pub manager_enabled: bool,
    /// The URL the manager uses, when set and not empty.
    pub redis_url: Option<AppSetting<String>>,
    /// A URL variable set to "" that the app keeps empty (its manager cannot start).
    pub empty_redis_url: Option<AppSetting<String>>,
    pub sentinel: Option<SentinelSetting>,
    /// A Sentinel variable of another client of the app, set (e.g. REDIS_SENTINEL_HOSTS).
    pub other_sentinel: Option<AppSetting<String>>,
    pub cluster: AppSetting<bool>,
    /// Worker processes per container.
    pub workers: AppSetting<u32>,
    /// Containers (deploy.replicas / scale).
    pub replicas: AppSetting<u32>,
    pub container_port: Option<AppSetting<u16>>,
    pub socketio_path: String,
    /// The origins the app allows (CorsRule::EnvList), items as the app reads them.
    pub cors_origins: Option<AppSetting<Vec<String>>>,
    /// The site's origin (WEBUI_URL), as written.
    pub site_url: Option<AppSetting<String>>,
}

impl SocketIoApp<'_> {
    /// Socket.IO server processes in all: workers × replicas.
    pub fn processes(&self) -> u32 {
        self.workers.value.saturating_mul(self.replicas.value)
    }

    pub fn uses_redis_manager(&self) -> bool {
        self.manager_enabled
    }

    /// "Open WebUI 0.12.4".
    pub fn app_label(&self) -> String {
        format!("{} {}", self.profile.name, self.profile.versions_read)
    }

    /// The channels each manager process subscribes to, as configured.
    pub fn channels(&self) -> ManagerChannels {
        let m = &self.profile.manager;
        let room_channel_prefix = m.room_channels.as_ref().and_then(|rc| {
            let on = self
                .service
                .env(rc.var)
                .map_or(rc.default, |v| v.to_lowercase() == "true");
            on.then(|| rc.prefix.to_string())
        });
        ManagerChannels {
            channels: m.channels.iter().map(|c| c.to_string()).collect(),
            room_channel_prefix,
            patterns: m.patterns.iter().map(|p| p.to_string()).collect(),
        }
    }

    pub fn subscribe_timing(&self) -> SubscribeTiming {
        self.profile.manager.subscribe
    }

    /// The app answers a CONNECT only once its Redis manager confirmed a subscription: Open
    /// WebUI's room-channel manager subscribes the new client's room before the CONNECT is
    /// answered (socket/redis_room_channels.py:35-39, 89-125, 0.12.4), so a broken Redis shows
    /// as a CONNECT never answered (observed: wrong host, wrong password, Sentinel dialled as
    /// a host). Without room channels the plain manager joins rooms locally.
    pub fn connect_waits_for_manager(&self) -> bool {
        self.manager_enabled && self.channels().room_channel_prefix.is_some()
    }

    pub fn connect_rule(&self) -> &'static ConnectRule {
        &self.profile.connect
    }

    /// Some(true) websocket only, Some(false) polling only, None both.
    pub fn websocket_only(&self) -> Option<bool> {
        match self.transports.value {
            Transports::WebsocketOnly => Some(true),
            Transports::PollingOnly => Some(false),
            Transports::Both => None,
        }
    }

    /// The site's origin (`https://chat.example.com`) from the site URL variable.
    pub fn site_origin(&self) -> Option<String> {
        self.site_url.as_ref().and_then(|s| origin_of(&s.value))
    }

    /// Whether the app lets a browser at `origin` connect, as far as the files say: None
    /// when its origins are set elsewhere (code, config.toml).
    pub fn allows_origin(&self, origin: &str) -> Option<bool> {
        let items = &self.cors_origins.as_ref()?.value;
        Some(items.len() == 1 && items[0] == "*" || items.iter().any(|o| o == origin))
    }

    /// The Origin header a probe should send to be treated like the site's pages: the site's
    /// origin, else the first allowed origin (None: send none, or the probe's own).
    pub fn probe_origin(&self) -> Option<String> {
        self.site_origin().or_else(|| {
            self.cors_origins
                .as_ref()?
                .value
                .iter()
                .find_map(|o| origin_of(o).filter(|clean| clean == o))
        })
    }
}

impl SocketIoApp<'_> {
    /// The address the app's server binds, where that is decided, and where it is written:
    /// a server on the command line (uvicorn/gunicorn/hypercorn: its flags, variables and
    /// default), else the app's launcher (`chainlit run`, `open-webui serve`), else the
    /// image's start script when the service sets no command, else [`ListenHost::Unknown`].
    pub fn listen_host(&self) -> AppSetting<ListenHost> {
        let service = self.service;
        let words = command_words(service);
        if let Some((at, server)) = last_server(&words) {
            let extra: Vec<&str> = server
                .cmd_args_env
                .and_then(|var| service.env(var))
                .map(|v| v.split_whitespace().collect())
                .unwrap_or_default();
            let env_args = server.cmd_args_env.map(|var| (var, extra.as_slice()));
            return host_by(
                &server.listen,
                server.program,
                &words[at..],
                env_args,
                service,
            );
        }
        let listen = &self.profile.listen;
        if let Some(rule) = &listen.launcher
            && let Some(at) = words
                .iter()
                .position(|w| self.profile.recognise.command_words.contains(&base_name(w)))
        {
            return host_by(rule, base_name(words[at]), &words[at..], None, service);
        }
        let own_image = service.image.as_ref().is_some_and(|i| {
            let repo = image_repo(&i.value);
            self.profile
                .recognise
                .images
                .iter()
                .any(|n| repo.ends_with(n))
        });
        if words.is_empty()
            && own_image
            && let Some(rule) = &listen.image
        {
            return host_by(rule, "the image", &[], None, service);
        }
        let why = if words.is_empty() {
            format!(
                "no command: the image's own CMD starts the server ({})",
                listen.otherwise
            )
        } else {
            listen.otherwise.to_string()
        };
        AppSetting {
            value: ListenHost::Unknown(why),
            source: "the app's code".to_string(),
            span: command_span(service),
            defaulted: true,
        }
    }
}

/// The last Python server word of the command (the one that runs:
/// `pip install uvicorn && hypercorn …`) and its index.
fn last_server(words: &[&str]) -> Option<(usize, &'static python_socketio::ServerRule)> {
    words.iter().enumerate().rev().find_map(|(i, w)| {
        python_socketio::SERVERS
            .iter()
            .find(|s| base_name(w) == s.program)
            .map(|s| (i, s))
    })
}

/// Every value of a flag (`-b A -b B`), in the forms [`flag_value`] reads.
fn flag_values<'w>(words: &[&'w str], flags: &[&str]) -> Vec<&'w str> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if flags.contains(&words[i]) {
            found.extend(words.get(i + 1).copied());
            i += 2;
            continue;
        }
        found.extend(flag_value(&words[i..=i], flags));
        i += 1;
    }
    found
}

/// The host of a `--bind` value: `0.0.0.0:8000`, `[::]:8000`, `:8000` (all interfaces,
/// gunicorn util.py:244-247), `tcp://h:p`; None for `unix:PATH` / `fd://N` (no address).
fn bind_host(value: &str) -> Option<String> {
    let v = value.trim_matches(|c| c == '"' || c == '\'');
    let v = v.strip_prefix("tcp://").unwrap_or(v);
    if v.starts_with("unix:") || v.starts_with("fd://") {
        return None;
    }
    let host = if let Some(rest) = v.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        v.split(':').next().unwrap_or(v)
    };
    Some(if host.is_empty() { "0.0.0.0" } else { host }.to_string())
}

/// Reads `rule` for a launcher whose words (from the launcher on) are `args`, with
/// `env_args` the words of a variable the program reads as more arguments.
fn host_by(
    rule: &HostRule,
    program: &str,
    args: &[&str],
    env_args: Option<(&str, &[&str])>,
    service: &Service,
) -> AppSetting<ListenHost> {
    let flags = rule.host_flags.join("/");
    let from_flags = |words: &[&str], source: String, span: Option<Span>| {
        let values = flag_values(words, rule.host_flags);
        if values.is_empty() {
            return None;
        }
        let value = if rule.bind_form {
            match values
                .iter()
                .map(|v| bind_host(v))
                .collect::<Option<Vec<_>>>()
            {
                Some(hosts) => ListenHost::Hosts {
                    hosts,
                    fix: rule.fix,
                },
                None => ListenHost::Unknown(format!(
                    "{program} binds a socket ({}), not a network address",
                    values.join(" ")
                )),
            }
        } else {
            ListenHost::Hosts {
                hosts: values
                    .iter()
                    .map(|v| v.trim_matches(|c| c == '"' || c == '\'').to_string())
                    .collect(),
                fix: rule.fix,
            }
        };
        Some(AppSetting {
            value,
            source,
            span,
            defaulted: false,
        })
    };
    if let Some(s) = from_flags(args, format!("{program} {flags}"), command_span(service)) {
        // `--host $HOST` inside `sh -c` (compose's `$$HOST`): the shell fills it in at run
        // time, from a variable wsdoctor cannot follow through the script.
        if let ListenHost::Hosts { hosts, .. } = &s.value
            && let Some(h) = hosts.iter().find(|h| h.contains('$'))
        {
            return AppSetting {
                value: ListenHost::Unknown(format!(
                    "{program} {flags} {h}: the shell sets it when the container starts"
                )),
                ..s
            };
        }
        return s;
    }
    if let Some((var, words)) = env_args
        && let Some(s) = from_flags(
            words,
            format!("{var} {flags}"),
            service.environment.get(var).and_then(|v| v.span.clone()),
        )
    {
        return s;
    }
    let all_args = args
        .iter()
        .chain(env_args.map(|(_, w)| w).unwrap_or_default());
    if let Some(f) = all_args.clone().find(|w| {
        rule.config_flags
            .iter()
            .any(|f| *w == f || w.starts_with(&format!("{f}=")))
    }) {
        return AppSetting {
            value: ListenHost::Unknown(format!(
                "{program} {f}: a config file, which wsdoctor does not read, may set bind"
            )),
            source: format!("{program} {f}"),
            span: command_span(service),
            defaulted: false,
        };
    }
    if let Some(var) = rule.host_env
        && let Some(s) = setting_from_env(service, var)
        && !s.value.trim().is_empty()
    {
        return AppSetting {
            value: ListenHost::Hosts {
                hosts: vec![s.value.trim().to_string()],
                fix: rule.fix,
            },
            source: s.source,
            span: s.span,
            defaulted: false,
        };
    }
    if let Some(var) = rule.all_interfaces_env
        && let Some(s) = setting_from_env(service, var)
    {
        return AppSetting {
            value: ListenHost::Hosts {
                hosts: vec!["0.0.0.0".to_string()],
                fix: rule.fix,
            },
            source: format!("{var} set, so {program} binds 0.0.0.0:${var}"),
            span: s.span,
            defaulted: false,
        };
    }
    // Defaulted, but shown at the command line the flag is missing from.
    AppSetting {
        span: command_span(service),
        ..AppSetting::default_of(
            ListenHost::Hosts {
                hosts: vec![rule.default_host.to_string()],
                fix: rule.fix,
            },
            rule.cited,
        )
    }
}

/// `scheme://host[:port]` of a URL, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    Some(u.origin().ascii_serialization()).filter(|o| o != "null")
}

fn setting_from_env(service: &Service, key: &str) -> Option<AppSetting<String>> {
    let var = service.environment.get(key)?;
    Some(AppSetting {
        value: var.value.clone()?,
        source: key.to_string(),
        span: var.span.clone(),
        defaulted: false,
    })
}

/// The words of the service's entrypoint and command; a `sh -c "…"` string is split on
/// whitespace so the programs inside it count.
pub fn command_words(service: &Service) -> Vec<&str> {
    service
        .entrypoint
        .iter()
        .chain(service.command.iter())
        .flat_map(|c| c.value.iter())
        .flat_map(|a| a.split_whitespace())
        .collect()
}

fn command_span(service: &Service) -> Option<Span> {
    service
        .command
        .as_ref()
        .and_then(|c| c.span.clone())
        .or_else(|| service.entrypoint.as_ref().and_then(|c| c.span.clone()))
}

fn base_name(word: &str) -> &str {
    word.trim_matches(|c| c == '"' || c == '\'')
        .rsplit('/')
        .next()
        .unwrap_or(word)
}

/// The value of a command-line flag: `--flag V`, `--flag=V`, or `-wV` for a short flag.
pub fn flag_value<'w>(words: &[&'w str], flags: &[&str]) -> Option<&'w str> {
    for (i, w) in words.iter().enumerate() {
        for f in flags {
            if w == f {
                return words.get(i + 1).copied();
            }
            if let Some(v) = w.strip_prefix(f) {
                if let Some(v) = v.strip_prefix('=') {
                    return Some(v);
                }
                // `-w4`: a short flag glued to its value.
                if f.len() == 2 && !f.starts_with("--") && !v.is_empty() {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// Packages the service's build context names, from the project's requirement files: with
/// one built service every file is its; with several, files in a folder named after the
/// service, else the project root's.
pub fn service_packages<'d>(deployment: &'d Deployment, service: &Service) -> Vec<&'d str> {
    if !service.build {
        return Vec::new();
    }
    let built = deployment.services.iter().filter(|s| s.build).count();
    let own = format!("{}/", service.name);
    let files: Vec<_> = deployment
        .python_requirements
        .iter()
        .filter(|f| built <= 1 || f.path.starts_with(&own) || !f.path.contains('/'))
        .collect();
    files
        .iter()
        .flat_map(|f| f.packages.iter().map(|p| p.name.as_str()))
        .collect()
}

/// Why a profile matches a service, if it does.
fn matches(
    profile: &AppProfile,
    service: &Service,
    words: &[&str],
    packages: &[&str],
) -> Option<String> {
    let r = &profile.recognise;
    if let Some(image) = &service.image {
        let repo = image_repo(&image.value);
        if r.images.iter().any(|i| repo.ends_with(i)) {
            return Some(format!("image {}", image.value));
        }
    }
    if let Some(w) = words
        .iter()
        .find(|w| r.command_words.contains(&base_name(w)))
    {
        return Some(format!("command runs {}", base_name(w)));
    }
    if let Some(m) = r
        .command_mentions
        .iter()
        .find(|m| words.iter().any(|w| w.contains(*m)))
    {
        return Some(format!("command mentions {m}"));
    }
    if let Some(p) = r.packages.iter().find(|p| packages.contains(p)) {
        return Some(format!("its build context requires {p}"));
    }
    if let Some(v) = r
        .env_vars
        .iter()
        .find(|v| service.environment.contains_key(**v))
    {
        return Some(format!("it sets {v}"));
    }
    None
}

/// Which app a service is, if any: the first profile (in [`AppId::ALL`] order) that
/// recognises it.
pub fn recognise(deployment: &Deployment, service: &Service) -> Option<(AppId, String)> {
    let words = command_words(service);
    let packages = service_packages(deployment, service);
    AppId::ALL
        .into_iter()
        .find_map(|id| matches(id.profile(), service, &words, &packages).map(|by| (id, by)))
}

/// What `--app` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override<'n> {
    Known(AppId),
    /// A name wsdoctor has no profile for: generic python-socketio rules, said so.
    Unknown(&'n str),
}

impl<'n> Override<'n> {
    pub fn parse(name: &'n str) -> Self {
        AppId::from_cli(name).map_or(Override::Unknown(name), Override::Known)
    }
}

/// Reads a service as a Socket.IO app, if it is one (recognised by its image, command,
/// requirements or variables).
pub fn detect(service: &Service) -> Option<SocketIoApp<'_>> {
    // Without the deployment the requirement files are unknown: image, command, variables.
    let words = command_words(service);
    AppId::ALL.into_iter().find_map(|id| {
        let by = matches(id.profile(), service, &words, &[])?;
        Some(interpret(
            service,
            id.profile(),
            Recognised { by, fallback: None },
        ))
    })
}

/// Reads a service through the app profile recognition (or `--app`) picks.
pub fn detect_in<'a>(
    deployment: &'a Deployment,
    service: &'a Service,
    app: Option<&str>,
) -> Option<SocketIoApp<'a>> {
    let found = recognise(deployment, service);
    match app.map(Override::parse) {
        None => found
            .map(|(id, by)| interpret(service, id.profile(), Recognised { by, fallback: None })),
        Some(Override::Known(id)) => {
            let by = match found {
                Some((was, why)) if was != id => {
                    format!(
                        "--app {} (recognised as {} by {why})",
                        id.cli_name(),
                        was.profile().name
                    )
                }
                _ => format!("--app {}", id.cli_name()),
            };
            Some(interpret(
                service,
                id.profile(),
                Recognised { by, fallback: None },
            ))
        }
        Some(Override::Unknown(name)) => Some(interpret(
            service,
            &python_socketio::PROFILE,
            Recognised {
                by: format!("--app {name}"),
                fallback: Some(format!(
                    "wsdoctor has no profile for '{name}' (known: open-webui, chainlit, flask-socketio, python-socketio, node-socketio): generic python-socketio rules apply"
                )),
            },
        )),
    }
}

/// Every Socket.IO app of the deployment, in file order.
pub fn socketio_apps(deployment: &Deployment) -> Vec<SocketIoApp<'_>> {
    apps_with(deployment, None, None)
}

/// Every Socket.IO app, with `--app` applied: to `--service` when given, else to every
/// recognised service (or, when none is recognised, to every service that is not Redis).
pub fn apps_with<'a>(
    deployment: &'a Deployment,
    app: Option<&str>,
    service: Option<&str>,
) -> Vec<SocketIoApp<'a>> {
    let recognised: Vec<SocketIoApp<'a>> = deployment
        .services
        .iter()
        .filter_map(|s| {
            let forced = service == Some(s.name.as_str());
            if app.is_some() && (forced || recognise(deployment, s).is_some()) {
                detect_in(deployment, s, app)
            } else {
                detect_in(deployment, s, None)
            }
        })
        .collect();
    if app.is_some() && recognised.is_empty() && service.is_none() {
        return deployment
            .services
            .iter()
            .filter(|s| crate::config::redis_server::detect(s).is_none() && !is_infrastructure(s))
            .filter_map(|s| detect_in(deployment, s, app))
            .collect();
    }
    recognised
}

/// Proxies and databases: never the Socket.IO app `--app` names.
fn is_infrastructure(service: &Service) -> bool {
    const IMAGES: &[&str] = &[
        "nginx",
        "traefik",
        "caddy",
        "haproxy",
        "envoy",
        "postgres",
        "mysql",
        "mariadb",
        "mongo",
        "memcached",
        "sentinel",
        "ollama",
        "rabbitmq",
        "minio",
        "elasticsearch",
    ];
    service.image.as_ref().is_some_and(|i| {
        let repo = image_repo(&i.value);
        let last = repo.rsplit('/').next().unwrap_or(&repo).to_string();
        IMAGES
            .iter()
            .any(|n| last == *n || last.starts_with(&format!("{n}-")))
    })
}

fn replicas(service: &Service) -> AppSetting<u32> {
    if let Some(w) = &service.kube {
        // Kubernetes: an HPA may scale the workload up to maxReplicas, each pod one more
        // Socket.IO server (the reader put maxReplicas in `replicas` then).
        let source = match &w.hpa_max {
            Some(_) => format!(
                "HorizontalPodAutoscaler maxReplicas of {} {}",
                w.kind, w.name
            ),
            None => format!("{} {} spec.replicas", w.kind, w.name),
        };
        return match &service.replicas {
            Some(r) => AppSetting {
                value: r.value,
                source,
                span: r.span.clone(),
                defaulted: r.span.is_none(),
            },
            None => AppSetting::default_of(1, &source),
        };
    }
    match &service.replicas {
        Some(r) => AppSetting {
            value: r.value,
            source: if service.replicas_from.is_empty() {
                "deploy.replicas"
            } else {
                service.replicas_from
            }
            .to_string(),
            span: r.span.clone(),
            // A platform default (Container Apps' maxReplicas 10) has no place in the file.
            defaulted: r.span.is_none(),
        },
        None => AppSetting::default_of(1, "deploy.replicas"),
    }
}

/// Workers and port from a known ASGI/WSGI server on the command line.
fn server_settings(
    service: &Service,
    words: &[&str],
) -> Option<(AppSetting<u32>, Option<AppSetting<u16>>)> {
    // The last server word is the one that runs (`pip install uvicorn && hypercorn -w 2 …`);
    // its flags follow it.
    let (at, server) = last_server(words)?;
    let span = command_span(service);
    let mut args: Vec<&str> = words[at..].to_vec();
    let extra;
    if let Some(var) = server.cmd_args_env
        && let Some(v) = service.env(var)
    {
        extra = v.to_string();
        args.extend(extra.split_whitespace());
    }
    let workers = match flag_value(&args, server.workers_flags).and_then(|v| v.parse::<u32>().ok())
    {
        Some(n) => AppSetting {
            value: n.max(1),
            source: format!("{} {}", server.program, server.workers_flags.join("/")),
            span: span.clone(),
            defaulted: false,
        },
        None => match server
            .workers_env
            .and_then(|var| setting_from_env(service, var))
            .and_then(|s| s.value.trim().parse::<u32>().ok().map(|n| (s, n)))
        {
            Some((s, n)) => AppSetting {
                value: n.max(1),
                source: format!("{} (read by {})", s.source, server.program),
                span: s.span,
                defaulted: false,
            },
            None => AppSetting::default_of(
                1,
                &format!("{} {}", server.program, server.workers_flags.join("/")),
            ),
        },
    };
    let port = flag_value(&args, server.port_flags)
        .and_then(|v| v.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok())
        .map(|p| AppSetting {
            value: p,
            source: format!("{} {}", server.program, server.port_flags.join("/")),
            span: span.clone(),
            defaulted: false,
        })
        .or_else(|| {
            let var = server.port_env?;
            let s = setting_from_env(service, var)?;
            let p = s.value.trim().parse::<u16>().ok()?;
            Some(AppSetting {
                value: p,
                source: s.source,
                span: s.span,
                defaulted: false,
            })
        })
        .or(Some(AppSetting::default_of(
            server.default_port,
            server.program,
        )));
    Some((workers, port))
}

fn profile_port(
    service: &Service,
    profile: &AppProfile,
    words: &[&str],
) -> Option<AppSetting<u16>> {
    let rule = &profile.port;
    if let Some(p) = flag_value(words, rule.flags).and_then(|v| v.parse::<u16>().ok()) {
        return Some(AppSetting {
            value: p,
            source: rule.flags.join("/"),
            span: command_span(service),
            defaulted: false,
        });
    }
    if let Some(var) = rule.env_var
        && let Some(s) = setting_from_env(service, var)
        && let Ok(p) = s.value.trim().parse::<u16>()
    {
        return Some(AppSetting {
            value: p,
            source: s.source,
            span: s.span,
            defaulted: false,
        });
    }
    rule.default
        .map(|d| AppSetting::default_of(d, rule.env_var.unwrap_or("the app's default")))
}

/// Reads a service through `profile`.
pub fn interpret<'a>(
    service: &'a Service,
    profile: &'static AppProfile,
    recognised: Recognised,
) -> SocketIoApp<'a> {
    let words = command_words(service);
    let open_webui_image = service
        .image
        .as_ref()
        .is_some_and(|i| image_repo(&i.value).ends_with("open-webui"));
    let server = server_settings(service, &words);

    let transports = match &profile.transports {
        TransportRule::WebsocketVar { var, default } => match setting_from_env(service, var) {
            Some(s) => AppSetting {
                value: if s.value.to_lowercase() == "true" {
                    Transports::WebsocketOnly
                } else {
                    Transports::PollingOnly
                },
                source: s.source,
                span: s.span,
                defaulted: false,
            },
            None => AppSetting::default_of(
                if *default {
                    Transports::WebsocketOnly
                } else {
                    Transports::PollingOnly
                },
                var,
            ),
        },
        TransportRule::InCode => AppSetting::default_of(Transports::Both, "the app's code"),
    };

    let m = &profile.manager;
    let (manager, manager_enabled) = match &m.enable {
        EnableRule::Never => (AppSetting::default_of(String::new(), "none"), false),
        EnableRule::InCode { how } => {
            // A URL variable is the only sign the files give.
            let url_set = m
                .url_vars
                .iter()
                .any(|u| service.env(u.name).is_some_and(|v| !v.trim().is_empty()));
            (
                AppSetting::default_of(how.to_string(), "the app's code"),
                url_set,
            )
        }
        EnableRule::VarEquals { var, value } => {
            let s = setting_from_env(service, var)
                .unwrap_or_else(|| AppSetting::default_of(String::new(), var));
            let on = s.value == *value;
            (s, on)
        }
    };

    let mut redis_url = None;
    let mut empty_redis_url = None;
    for u in m.url_vars {
        let Some(s) = setting_from_env(service, u.name) else {
            continue;
        };
        if !s.value.is_empty() {
            redis_url = Some(s);
            break;
        }
        if u.empty == EmptyValue::Kept {
            empty_redis_url = Some(s);
            break;
        }
    }

    let sentinel = m.sentinel.as_ref().and_then(|sv| {
        let s = setting_from_env(service, sv.hosts)?;
        let hosts: Vec<String> = s
            .value
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect();
        if hosts.is_empty() {
            return None;
        }
        let port = service
            .env(sv.port)
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(sv.default_port);
        Some(SentinelSetting {
            hosts,
            port,
            source: s.source,
            span: s.span,
        })
    });
    let other_sentinel = m
        .other_sentinel_vars
        .iter()
        .find_map(|v| setting_from_env(service, v).filter(|s| !s.value.trim().is_empty()));

    let cluster = m
        .cluster_vars
        .iter()
        .find_map(|v| setting_from_env(service, v))
        .map(|s| AppSetting {
            value: s.value.to_lowercase() == "true",
            source: s.source,
            span: s.span,
            defaulted: false,
        })
        .unwrap_or_else(|| {
            AppSetting::default_of(false, m.cluster_vars.first().unwrap_or(&"none"))
        });

    let workers = match (&profile.workers, &server) {
        (WorkerRule::Single, _) => AppSetting::default_of(1, "one process"),
        (_, Some((w, _))) => w.clone(),
        (WorkerRule::Server, None) => {
            AppSetting::default_of(1, "no multi-worker server on the command line")
        }
        (
            WorkerRule::EnvVar {
                var,
                default,
                invalid,
            },
            None,
        ) => match setting_from_env(service, var) {
            // start.sh: `${UVICORN_WORKERS:-1}`: empty counts as unset.
            Some(s) => {
                let v = s.value.trim();
                let parsed = v.parse::<u32>().ok();
                AppSetting {
                    value: if v.is_empty() {
                        *default
                    } else {
                        parsed.map_or(*invalid, |n| n.max(1))
                    },
                    source: if !v.is_empty() && parsed.is_none() {
                        // start.sh hands the value to `uvicorn --workers`, which refuses it.
                        format!(
                            "{} (invalid '{v}': the app counts {invalid}; a uvicorn --workers command line refuses it)",
                            s.source
                        )
                    } else {
                        s.source
                    },
                    span: s.span,
                    defaulted: false,
                }
            }
            None => AppSetting::default_of(*default, var),
        },
        (WorkerRule::Pm2, None) => {
            let pm2 = words.iter().any(|w| base_name(w).starts_with("pm2"));
            match flag_value(&words, &["-i", "--instances"]).filter(|_| pm2) {
                Some(v) => AppSetting {
                    // `max` / 0 / -1: one per CPU; at least two on any real host.
                    value: v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .map_or(2, |n| n as u32),
                    source: "pm2 -i".to_string(),
                    span: command_span(service),
                    defaulted: false,
                },
                None => AppSetting::default_of(1, "node (one process)"),
            }
        }
    };

    // A server on the command line binds the port; else the app's own rule (start.sh's PORT…).
    let container_port = match &server {
        Some((_, port)) => port.clone(),
        None => profile_port(service, profile, &words),
    };

    let socketio_path = match profile.path_prefix_var.and_then(|v| service.env(v)) {
        Some(prefix) => format!("{}{}", prefix.trim_end_matches('/'), profile.socketio_path),
        None => profile.socketio_path.to_string(),
    };

    let cors_origins = match &profile.cors {
        CorsRule::EnvList {
            var,
            default,
            separator,
            trimmed,
            ..
        } => {
            let s = setting_from_env(service, var)
                .unwrap_or_else(|| AppSetting::default_of(default.to_string(), var));
            let items: Vec<String> = s
                .value
                .split(*separator)
                .map(|o| if *trimmed { o.trim() } else { o }.to_string())
                .collect();
            Some(AppSetting {
                value: items,
                source: s.source,
                span: s.span,
                defaulted: s.defaulted,
            })
        }
        CorsRule::Elsewhere { .. } => None,
    };
    let site_url = profile
        .site_origin_vars
        .iter()
        .find_map(|v| setting_from_env(service, v).filter(|s| !s.value.trim().is_empty()));

    SocketIoApp {
        service,
        profile,
        recognised,
        open_webui_image,
        transports,
        manager,
        manager_enabled,
        redis_url,
        empty_redis_url,
        sentinel,
        other_sentinel,
        cluster,
        workers,
        replicas: replicas(service),
        container_port,
        socketio_path,
        cors_origins,
        site_url,
    }
}

/// A Redis URL a service is given, by variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRedisUrl {
    pub service: String,
    pub variable: String,
    pub url: String,
    pub span: Option<Span>,
}

/// The variables whose value is a Redis URL a Socket.IO deployment depends on (every
/// profile's manager URL variables, REDIS_URL first).
pub const REDIS_URL_VARIABLES: [&str; 4] = [
    "REDIS_URL",
    "WEBSOCKET_REDIS_URL",
    "MESSAGE_QUEUE",
    "SOCKETIO_MESSAGE_QUEUE",
];

/// The URL each Socket.IO app's manager uses (by its profile's precedence); for services
/// that are not recognised apps, their REDIS_URL. Used by `redis --from-config` and
/// `diagnose` to know which Redis to probe.
pub fn websocket_redis_urls(deployment: &Deployment) -> Vec<ServiceRedisUrl> {
    websocket_redis_urls_with(deployment, None, None)
}

/// [`websocket_redis_urls`] with `--app` / `--service` applied.
pub fn websocket_redis_urls_with(
    deployment: &Deployment,
    app: Option<&str>,
    service: Option<&str>,
) -> Vec<ServiceRedisUrl> {
    let apps = apps_with(deployment, app, service);
    let mut out = Vec::new();
    for s in &deployment.services {
        if let Some(a) = apps.iter().find(|a| a.service.name == s.name) {
            // A Kombu/AMQP message queue (Flask-SocketIO's MESSAGE_QUEUE=amqp://…) is no Redis.
            let redis_like = |u: &str| {
                let u = u.trim_start().to_ascii_lowercase();
                ["redis", "valkey", "unix"].iter().any(|p| u.starts_with(p))
            };
            if let Some(url) = a.redis_url.as_ref().filter(|u| redis_like(&u.value)) {
                out.push(ServiceRedisUrl {
                    service: s.name.clone(),
                    variable: url.source.clone(),
                    url: url.value.clone(),
                    span: url.span.clone(),
                });
            }
        } else if let Some(var) = s.environment.get("REDIS_URL")
            && let Some(v) = var.value.as_ref().filter(|v| !v.is_empty())
        {
            out.push(ServiceRedisUrl {
                service: s.name.clone(),
                variable: "REDIS_URL".to_string(),
                url: v.clone(),
                span: var.span.clone(),
            });
        }
    }
    // Recognised apps first: they are the reason the tool runs.
    out.sort_by_key(|u| !apps.iter().any(|a| a.service.name == u.service));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{deployment, service, with_command, with_env};
    use crate::config::{Requirement, RequirementsFile};

    const OWUI: &str = "ghcr.io/open-webui/open-webui:0.12.4";

    fn requirements(path: &str, names: &[&str]) -> RequirementsFile {
        RequirementsFile {
            path: path.to_string(),
            packages: names
                .iter()
                .map(|n| Requirement {
                    name: n.to_string(),
                    spec: String::new(),
                    span: Span::new(path, 1, 1),
                })
                .collect(),
        }
    }

    #[test]
    fn open_webui_defaults_and_parsing() {
        let d = deployment(vec![service("w", OWUI, 2)]);
        let a = &socketio_apps(&d)[0];
        assert_eq!(a.profile.id, AppId::OpenWebUi);
        assert_eq!(a.socketio_path, "/ws/socket.io");
        assert_eq!(a.container_port.as_ref().unwrap().value, 8080);
        assert_eq!(a.transports.value, Transports::WebsocketOnly);
        assert!(!a.uses_redis_manager());
        assert_eq!(a.workers.value, 1);
        assert_eq!(a.subscribe_timing(), SubscribeTiming::Startup);
        assert_eq!(a.connect_rule(), &ConnectRule::Anonymous);
        let ch = a.channels();
        assert_eq!(ch.channels, ["socketio"]);
        assert_eq!(ch.room_channel_prefix.as_deref(), Some("socketio#/#"));
        assert_eq!(a.cors_origins.as_ref().unwrap().value, ["*"]);

        let d = deployment(vec![with_env(
            service("w", OWUI, 2),
            &[
                ("WEBSOCKET_MANAGER", "redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
                ("ENABLE_WEBSOCKET_SUPPORT", "FALSE"),
                ("UVICORN_WORKERS", "0"),
                ("WEB_CONCURRENCY", "8"),
                ("WEBSOCKET_REDIS_ROOM_CHANNELS", "False"),
                ("WEBSOCKET_SENTINEL_HOSTS", " s1, s2 ,"),
                ("WEBSOCKET_SENTINEL_PORT", "26380"),
                ("PORT", "9000"),
                ("CORS_ALLOW_ORIGIN", "https://a.example; https://b.example"),
                ("WEBUI_URL", "https://a.example/chat"),
            ],
        )]);
        let a = &socketio_apps(&d)[0];
        assert!(a.uses_redis_manager());
        assert_eq!(a.redis_url.as_ref().unwrap().source, "REDIS_URL");
        assert_eq!(a.transports.value, Transports::PollingOnly);
        // max(int('0'), 1); WEB_CONCURRENCY is not read.
        assert_eq!(a.workers.value, 1);
        assert_eq!(a.channels().room_channel_prefix, None);
        let s = a.sentinel.as_ref().unwrap();
        assert_eq!(
            (s.hosts.clone(), s.port),
            (vec!["s1".into(), "s2".into()], 26380)
        );
        assert_eq!(a.container_port.as_ref().unwrap().value, 9000);
        // Split on ';' without trimming.
        assert_eq!(
            a.cors_origins.as_ref().unwrap().value,
            ["https://a.example", " https://b.example"]
        );
        assert_eq!(a.site_origin().as_deref(), Some("https://a.example"));
        assert_eq!(a.probe_origin().as_deref(), Some("https://a.example"));
        assert_eq!(a.allows_origin("https://a.example"), Some(true));
        // The space the app keeps makes b's origin unmatched.
        assert_eq!(a.allows_origin("https://b.example"), Some(false));

        // `Redis` is not `redis`; an empty WEBSOCKET_REDIS_URL is kept, not a fallback.
        let d = deployment(vec![with_env(
            service("w", OWUI, 2),
            &[
                ("WEBSOCKET_MANAGER", "Redis"),
                ("REDIS_URL", "redis://redis:6379/0"),
                ("WEBSOCKET_REDIS_URL", ""),
            ],
        )]);
        let a = &socketio_apps(&d)[0];
        assert!(!a.uses_redis_manager());
        assert!(a.redis_url.is_none());
        assert_eq!(
            a.empty_redis_url.as_ref().unwrap().source,
            "WEBSOCKET_REDIS_URL"
        );
    }

    #[test]
    fn chainlit_by_command_and_by_requirements() {
        let d = deployment(vec![with_env(
            with_command(
                service("bot", "python:3.12", 2),
                &["chainlit", "run", "app.py", "--port", "8500"],
            ),
            &[("CHAINLIT_ROOT_PATH", "/bot/")],
        )]);
        let a = &socketio_apps(&d)[0];
        assert_eq!(a.profile.id, AppId::Chainlit);
        assert_eq!(a.socketio_path, "/bot/ws/socket.io");
        assert_eq!(a.container_port.as_ref().unwrap().value, 8500);
        assert_eq!(a.workers.value, 1);
        assert!(!a.uses_redis_manager());
        assert!(matches!(
            a.connect_rule(),
            ConnectRule::NeedsAuth {
                unanswered_without_it: true,
                ..
            }
        ));

        let mut s = service("bot", "x", 2);
        s.image = None;
        s.build = true;
        let mut d = deployment(vec![s]);
        d.python_requirements = vec![requirements("requirements.txt", &["chainlit"])];
        let a = &socketio_apps(&d)[0];
        assert_eq!(a.profile.id, AppId::Chainlit);
        assert_eq!(a.recognised.by, "its build context requires chainlit");
        assert_eq!(a.container_port.as_ref().unwrap().value, 8000);
    }

    #[test]
    fn flask_socketio_under_gunicorn() {
        let mut web = with_command(
            service("web", "x", 2),
            &[
                "gunicorn",
                "-k",
                "gevent",
                "-w",
                "2",
                "-b",
                "0.0.0.0:5001",
                "app:app",
            ],
        );
        web.image = None;
        web.build = true;
        let mut worker = service("worker", "x", 20);
        worker.image = None;
        worker.build = true;
        let mut d = deployment(vec![
            with_env(web, &[("REDIS_URL", "redis://redis:6379/0")]),
            worker,
        ]);
        // Two built services: the file in `web/` is web's only.
        d.python_requirements = vec![requirements("web/requirements.txt", &["flask-socketio"])];
        let apps = socketio_apps(&d);
        assert_eq!(apps.len(), 1);
        let a = &apps[0];
        assert_eq!(a.profile.id, AppId::FlaskSocketIo);
        assert_eq!(a.workers.value, 2);
        assert_eq!(a.container_port.as_ref().unwrap().value, 5001);
        assert!(a.uses_redis_manager());
        assert_eq!(a.channels().channels, ["flask-socketio"]);
        assert_eq!(a.subscribe_timing(), SubscribeTiming::FirstClient);
        assert_eq!(a.transports.value, Transports::Both);
    }

    #[test]
    fn python_socketio_servers_and_their_worker_rules() {
        let app = |args: &[&str], env: &[(&str, &str)]| {
            let s = with_env(with_command(service("api", "python:3.12", 2), args), env);
            let d = deployment(vec![s]);
            let a = &socketio_apps(&d)[0];
            assert_eq!(a.profile.id, AppId::PythonSocketIo);
            (a.workers.value, a.container_port.as_ref().map(|p| p.value))
        };
        let sh = |cmd: &str| {
            vec!["sh", "-c"]
                .into_iter()
                .chain([cmd])
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let run = |cmd: &str, env: &[(&str, &str)]| {
            let args = sh(cmd);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            app(&refs, env)
        };
        // hypercorn: -w, no env; bind 127.0.0.1:8000 by default.
        assert_eq!(
            run(
                "pip install python-socketio && hypercorn -w 2 app:app",
                &[("WEB_CONCURRENCY", "9")]
            ),
            (2, Some(8000))
        );
        // uvicorn: --workers, else WEB_CONCURRENCY.
        assert_eq!(
            run(
                "pip install python-socketio uvicorn && uvicorn app:app --port 8001",
                &[("WEB_CONCURRENCY", "3")]
            ),
            (3, Some(8001))
        );
        assert_eq!(
            run(
                "pip install python-socketio && uvicorn app:app --workers=4",
                &[("WEB_CONCURRENCY", "3")]
            ),
            (4, Some(8000))
        );
        // gunicorn: -w4, GUNICORN_CMD_ARGS, PORT.
        assert_eq!(
            run(
                "pip install python-socketio && gunicorn -w4 app:app",
                &[("PORT", "9000")]
            ),
            (4, Some(9000))
        );
        assert_eq!(
            run(
                "pip install python-socketio && gunicorn app:app",
                &[("GUNICORN_CMD_ARGS", "--workers 3 --bind :7000")]
            ),
            (3, Some(7000))
        );
        let d = deployment(vec![service("api", "python:3.12", 2)]);
        assert!(
            socketio_apps(&d).is_empty(),
            "a bare python image is no app"
        );
    }

    #[test]
    fn node_socketio_from_package_json() {
        let mut s = with_command(
            service("chat", "x", 2),
            &["pm2-runtime", "index.js", "-i", "4"],
        );
        s.image = None;
        s.build = true;
        let mut d = deployment(vec![with_env(s, &[("PORT", "3000")])]);
        d.python_requirements = vec![requirements(
            "package.json",
            &["socket.io", "@socket.io/redis-adapter"],
        )];
        let a = &socketio_apps(&d)[0];
        assert_eq!(a.profile.id, AppId::NodeSocketIo);
        assert_eq!(a.workers.value, 4);
        assert_eq!(a.container_port.as_ref().unwrap().value, 3000);
        assert_eq!(a.channels().patterns, ["socket.io#/#*"]);
        assert_eq!(a.subscribe_timing(), SubscribeTiming::Startup);
        assert_eq!(a.socketio_path, "/socket.io");
    }

    #[test]
    fn app_override_and_fallback() {
        let d = deployment(vec![
            service("rt", "example/rt:1", 2),
            service("redis", "redis:7", 20),
        ]);
        assert!(apps_with(&d, None, None).is_empty());
        let apps = apps_with(&d, Some("Chainlit"), None);
        assert_eq!(apps.len(), 1, "the Redis service is never the app");
        assert_eq!(apps[0].profile.id, AppId::Chainlit);
        assert_eq!(apps[0].recognised.by, "--app chainlit");
        let apps = apps_with(&d, Some("tornado-thing"), Some("rt"));
        assert_eq!(apps[0].profile.id, AppId::PythonSocketIo);
        assert!(
            apps[0]
                .recognised
                .fallback
                .as_deref()
                .unwrap()
                .contains("tornado-thing")
        );
        // Overriding a recognised app says what it was recognised as.
        let d = deployment(vec![service("w", OWUI, 2)]);
        let apps = apps_with(&d, Some("python-socketio"), None);
        assert_eq!(apps[0].profile.id, AppId::PythonSocketIo);
        assert!(
            apps[0].recognised.by.contains("recognised as Open WebUI"),
            "{}",
            apps[0].recognised.by
        );
        for id in AppId::ALL {
            assert_eq!(AppId::from_cli(id.cli_name()), Some(id));
            assert_eq!(id.profile().id, id);
        }
    }

    #[test]
    fn manager_urls_follow_each_profile() {
        let d = deployment(vec![
            with_env(
                service("w", OWUI, 2),
                &[
                    ("WEBSOCKET_MANAGER", "redis"),
                    ("REDIS_URL", "redis://a:6379/0"),
                    ("WEBSOCKET_REDIS_URL", "redis://b:6379/1"),
                ],
            ),
            with_env(
                service("other", "example/x:1", 10),
                &[("REDIS_URL", "redis://c:6379/0")],
            ),
        ]);
        let urls = websocket_redis_urls(&d);
        assert_eq!(urls.len(), 2);
        assert_eq!(
            (urls[0].service.as_str(), urls[0].variable.as_str()),
            ("w", "WEBSOCKET_REDIS_URL")
        );
        assert_eq!(urls[1].service, "other");
    }
}
