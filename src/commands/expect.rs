//! What the live judges expect of an app, copied from its profile ([`crate::apps`]). The
//! judges take plain structs (`checks::ws::AppExpectations`, `checks::redis::Expectations`)
//! and never read profiles; this is the one place that translates.

use crate::apps::{self, AppId, AppProfile, SocketIoApp};
use crate::checks::redis::{ManagerExpectation, SubscribeTiming};
use crate::checks::ws::{AppExpectations, ConnectRule};
use crate::error::CliError;
use crate::probe::engineio::codec::OpenPacket;

/// The ws judges' expectations of a profile's app (no deployment files: `ws --app NAME`).
pub fn ws_expectations_of(profile: &AppProfile) -> AppExpectations {
    AppExpectations {
        app: Some(profile.name.to_string()),
        connect: match &profile.connect {
            apps::ConnectRule::Anonymous => ConnectRule::Anonymous,
            apps::ConnectRule::NeedsAuth {
                what,
                unanswered_without_it,
            } => ConnectRule::NeedsAuth {
                what: what.to_string(),
                unanswered_without_it: *unanswered_without_it,
            },
            apps::ConnectRule::Unknown => ConnectRule::Unknown,
        },
        websocket_only: None,
    }
}

/// The ws judges' expectations of an app read from the files (its transports included).
pub fn ws_expectations(app: &SocketIoApp<'_>) -> AppExpectations {
    AppExpectations {
        websocket_only: app.websocket_only(),
        ..ws_expectations_of(app.profile)
    }
}

/// What the proxy checks judge against once the live probe has read the app's open packet:
/// its pingInterval (and pingTimeout) replace the Engine.IO defaults.
pub fn proxy_expectations(open: &OpenPacket) -> crate::checks::proxy::Expectations {
    let mut e = crate::checks::proxy::Expectations::default();
    if let Some(ms) = open.ping_interval_ms {
        e.ping = crate::checks::proxy::PingInterval {
            interval: std::time::Duration::from_millis(ms),
            timeout: open.ping_timeout_ms.map(std::time::Duration::from_millis),
            observed: true,
        };
    }
    e
}

/// `--app NAME` for the probe commands that read no files.
pub fn profile_named(name: &str) -> Result<&'static AppProfile, CliError> {
    AppId::from_cli(name).map(AppId::profile).ok_or_else(|| {
        let known: Vec<&str> = AppId::ALL.iter().map(|a| a.cli_name()).collect();
        CliError::Usage(format!(
            "--app {name:?}: known apps are {}",
            known.join(", ")
        ))
    })
}

/// What the Redis judges expect of the app's manager: its channels and when its workers
/// subscribe (from the profile), and its processes (workers × replicas from the files).
/// `channel` (`--channel`) replaces the profile's first channel.
pub fn redis_manager(app: &SocketIoApp<'_>, channel: Option<&str>) -> Option<ManagerExpectation> {
    if !app.uses_redis_manager() {
        return None;
    }
    let configured = app.channels();
    let mut channels = configured.channels;
    if let Some(c) = channel {
        channels.retain(|x| x != c);
        channels.insert(0, c.to_string());
    }
    Some(ManagerExpectation {
        app: app.app_label(),
        channels,
        patterns: configured.patterns,
        timing: match app.subscribe_timing() {
            apps::SubscribeTiming::Startup => SubscribeTiming::Startup,
            apps::SubscribeTiming::FirstClient => SubscribeTiming::FirstClient,
        },
        processes: app.processes(),
        // Filled by `diagnose` once its app probe has run; `redis` connects no client.
        clients_connected: 0,
    })
}

/// The channel the Redis probe counts: `--channel`, else the manager's first, else
/// python-socketio's default.
pub fn counted_channel(manager: Option<&ManagerExpectation>, channel: Option<&str>) -> String {
    channel
        .map(str::to_string)
        .or_else(|| manager.and_then(|m| m.channels.first().cloned()))
        .unwrap_or_else(|| crate::probe::redis::DEFAULT_CHANNEL.to_string())
}
