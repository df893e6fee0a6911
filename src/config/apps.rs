//! Which services are Socket.IO apps and how they are configured, with each setting's
//! default made explicit.
//!
//! The settings follow Open WebUI (the most common user), read from its `env.py`,
//! `socket/main.py` and `start.sh`:
//! - `ENABLE_WEBSOCKET_SUPPORT` defaults to true (compared case-insensitively with "true");
//!   true means the server accepts only the websocket transport, false only polling.
//! - `WEBSOCKET_MANAGER` defaults to "" (no manager: every worker is an island); only the
//!   exact value `redis` enables python-socketio's `AsyncRedisManager`.
//! - `WEBSOCKET_REDIS_URL` defaults to `REDIS_URL`; `WEBSOCKET_REDIS_CLUSTER` to
//!   `REDIS_CLUSTER`.
//! - `UVICORN_WORKERS` defaults to 1 (start.sh: `--workers "${UVICORN_WORKERS:-1}"`).
//! - `CORS_ALLOW_ORIGIN` defaults to `*` and is split on `;`.

use crate::config::redis_server::image_repo;
use crate::config::{Deployment, Service, Span};

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

/// A Socket.IO server service with Open WebUI's websocket settings.
#[derive(Debug, Clone)]
pub struct SocketIoApp<'a> {
    pub service: &'a Service,
    /// Recognised by its image (not only by its variables).
    pub open_webui_image: bool,
    pub websocket_support: AppSetting<bool>,
    pub manager: AppSetting<String>,
    /// The URL the Socket.IO manager uses (WEBSOCKET_REDIS_URL, else REDIS_URL).
    pub redis_url: Option<AppSetting<String>>,
    /// Worker processes per container.
    pub workers: AppSetting<u32>,
    /// Containers (deploy.replicas / scale).
    pub replicas: AppSetting<u32>,
}

impl SocketIoApp<'_> {
    /// Socket.IO server processes in all: workers × replicas.
    pub fn processes(&self) -> u32 {
        self.workers.value.saturating_mul(self.replicas.value)
    }

    pub fn uses_redis_manager(&self) -> bool {
        self.manager.value == "redis"
    }
}

const OPEN_WEBUI_VARIABLES: [&str; 4] = [
    "WEBSOCKET_MANAGER",
    "ENABLE_WEBSOCKET_SUPPORT",
    "WEBSOCKET_REDIS_URL",
    "WEBSOCKET_REDIS_CLUSTER",
];

fn setting_from_env(service: &Service, key: &str) -> Option<AppSetting<String>> {
    let var = service.environment.get(key)?;
    Some(AppSetting {
        value: var.value.clone()?,
        source: key.to_string(),
        span: var.span.clone(),
        defaulted: false,
    })
}

/// Workers of a Python ASGI server: `--workers N` / `-w N` on a uvicorn, gunicorn or
/// hypercorn command line, else `UVICORN_WORKERS` (Open WebUI), else `WEB_CONCURRENCY`
/// (read by uvicorn and gunicorn as their default), else 1.
fn workers(service: &Service) -> AppSetting<u32> {
    if let Some(cmd) = &service.command {
        let args = &cmd.value;
        let is_server = args.iter().any(|a| {
            let base = a.rsplit('/').next().unwrap_or(a);
            matches!(base, "uvicorn" | "gunicorn" | "hypercorn")
        });
        if is_server {
            for (i, a) in args.iter().enumerate() {
                let value = if a == "--workers" || a == "-w" {
                    args.get(i + 1).map(String::as_str)
                } else {
                    a.strip_prefix("--workers=")
                };
                if let Some(n) = value.and_then(|v| v.parse::<u32>().ok()) {
                    return AppSetting {
                        value: n.max(1),
                        source: "--workers".to_string(),
                        span: cmd.span.clone(),
                        defaulted: false,
                    };
                }
            }
        }
    }
    for key in ["UVICORN_WORKERS", "WEB_CONCURRENCY"] {
        if let Some(s) = setting_from_env(service, key)
            && let Ok(n) = s.value.trim().parse::<u32>()
        {
            return AppSetting {
                value: n.max(1),
                source: s.source,
                span: s.span,
                defaulted: false,
            };
        }
    }
    AppSetting {
        value: 1,
        source: "UVICORN_WORKERS".to_string(),
        span: None,
        defaulted: true,
    }
}

fn replicas(service: &Service) -> AppSetting<u32> {
    match &service.replicas {
        Some(r) => AppSetting {
            value: r.value,
            source: "deploy.replicas".to_string(),
            span: r.span.clone(),
            defaulted: false,
        },
        None => AppSetting {
            value: 1,
            source: "deploy.replicas".to_string(),
            span: None,
            defaulted: true,
        },
    }
}

/// Reads a service as a Socket.IO app with Open WebUI's settings, if it is one: its image
/// is open-webui, or it sets one of Open WebUI's websocket variables.
pub fn detect(service: &Service) -> Option<SocketIoApp<'_>> {
    let open_webui_image = service
        .image
        .as_ref()
        .is_some_and(|i| image_repo(&i.value).ends_with("open-webui"));
    let has_vars = OPEN_WEBUI_VARIABLES
        .iter()
        .any(|k| service.environment.contains_key(*k));
    if !open_webui_image && !has_vars {
        return None;
    }
    let websocket_support = match setting_from_env(service, "ENABLE_WEBSOCKET_SUPPORT") {
        Some(s) => AppSetting {
            value: s.value.trim().eq_ignore_ascii_case("true"),
            source: s.source,
            span: s.span,
            defaulted: false,
        },
        None => AppSetting {
            value: true,
            source: "ENABLE_WEBSOCKET_SUPPORT".to_string(),
            span: None,
            defaulted: true,
        },
    };
    let manager = setting_from_env(service, "WEBSOCKET_MANAGER").unwrap_or(AppSetting {
        value: String::new(),
        source: "WEBSOCKET_MANAGER".to_string(),
        span: None,
        defaulted: true,
    });
    let redis_url = setting_from_env(service, "WEBSOCKET_REDIS_URL")
        .filter(|s| !s.value.is_empty())
        .or_else(|| setting_from_env(service, "REDIS_URL").filter(|s| !s.value.is_empty()));
    Some(SocketIoApp {
        service,
        open_webui_image,
        websocket_support,
        manager,
        redis_url,
        workers: workers(service),
        replicas: replicas(service),
    })
}

/// Every Socket.IO app of the deployment, in file order.
pub fn socketio_apps(deployment: &Deployment) -> Vec<SocketIoApp<'_>> {
    deployment.services.iter().filter_map(detect).collect()
}

/// A Redis URL a service is given, by variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRedisUrl {
    pub service: String,
    pub variable: String,
    pub url: String,
    pub span: Option<Span>,
}

/// The variables whose value is a Redis URL a Socket.IO deployment depends on.
pub const REDIS_URL_VARIABLES: [&str; 2] = ["REDIS_URL", "WEBSOCKET_REDIS_URL"];

/// The URL each Socket.IO app's manager uses (WEBSOCKET_REDIS_URL, defaulting to
/// REDIS_URL); for services that are not recognised apps, their REDIS_URL. Used by
/// `redis --from-config` and `diagnose` to know which Redis to probe.
pub fn websocket_redis_urls(deployment: &Deployment) -> Vec<ServiceRedisUrl> {
    let mut out = Vec::new();
    for service in &deployment.services {
        if let Some(app) = detect(service) {
            if let Some(url) = app.redis_url {
                out.push(ServiceRedisUrl {
                    service: service.name.clone(),
                    variable: url.source,
                    url: url.value,
                    span: url.span,
                });
            }
        } else if let Some(var) = service.environment.get("REDIS_URL")
            && let Some(v) = var.value.as_ref().filter(|v| !v.is_empty())
        {
            out.push(ServiceRedisUrl {
                service: service.name.clone(),
                variable: "REDIS_URL".to_string(),
                url: v.clone(),
                span: var.span.clone(),
            });
        }
    }
    // Recognised apps first: they are the reason the tool runs.
    out.sort_by_key(|u| deployment.service(&u.service).and_then(detect).is_none());
    out
}
