//! Chainlit 2.x. Every rule read from chainlit 2.12.0 on PyPI (`chainlit/…`, line numbers of
//! that release), which runs python-socketio 5.18.1 under one uvicorn server.

use super::*;

pub static PROFILE: AppProfile = AppProfile {
    id: AppId::Chainlit,
    name: "Chainlit",
    versions_read: "2.12.0",
    recognise: Recognition {
        // There is no official image; community images carry the name.
        images: &["chainlit"],
        // `chainlit run app.py` (entry point `chainlit = chainlit.cli:cli`, entry_points.txt).
        command_words: &["chainlit"],
        command_mentions: &[],
        packages: &["chainlit"],
        // cli/__init__.py:59-64 and auth/__init__.py:32-38.
        env_vars: &[
            "CHAINLIT_AUTH_SECRET",
            "CHAINLIT_PORT",
            "CHAINLIT_ROOT_PATH",
        ],
    },
    // server.py:232-236: `socketio.ASGIApp(socketio_server=sio, socketio_path="")` mounted at
    // `f"{config.run.root_path}/ws/socket.io"`.
    socketio_path: "/ws/socket.io",
    // cli/__init__.py:61 `root_path = os.environ.get("CHAINLIT_ROOT_PATH", …)`.
    path_prefix_var: Some("CHAINLIT_ROOT_PATH"),
    // config.py:271 DEFAULT_PORT = 8000; cli/__init__.py:60 CHAINLIT_PORT, :174 `--port`.
    // (Host defaults to 127.0.0.1, config.py:270: a container needs `--host 0.0.0.0`.)
    port: PortRule {
        default: Some(8000),
        env_var: Some("CHAINLIT_PORT"),
        flags: &["--port"],
    },
    // server.py:230 `socketio.AsyncServer(cors_allowed_origins=[], async_mode="asgi")`: no
    // client_manager, so no Redis channel; sessions live in the process (user_sessions).
    manager: ManagerSettings {
        url_vars: &[],
        enable: EnableRule::Never,
        sentinel: None,
        other_sentinel_vars: &[],
        cluster_vars: &[],
        channels: &[],
        room_channels: None,
        patterns: &[],
        subscribe: SubscribeTiming::FirstClient,
    },
    // cli/__init__.py:101-111: one `uvicorn.Server(config)`, no workers option.
    workers: WorkerRule::Single,
    // python-socketio defaults; the frontend's transports come from config.toml
    // `[project] transports` (config.py:530-531, server.py:404).
    transports: TransportRule::InCode,
    // socket.py:145-205: connect() reads auth["sessionId"] and auth["clientType"]
    // ('webapp'|'copilot'|'teams'|'slack'|'discord', session.py:95). An anonymous CONNECT
    // (auth None) raises AttributeError at auth.get(), which python-socketio does not turn
    // into CONNECT_ERROR (only ConnectionRefusedError, socketio/async_server.py:577-585): the
    // server never answers. With login configured (require_login()) it also needs the
    // access-token cookie.
    connect: ConnectRule::NeedsAuth {
        what: "Chainlit's frontend session auth: {\"sessionId\": \"<uuid>\", \"clientType\": \"webapp\"} (plus the login cookie when auth is configured)",
        unanswered_without_it: true,
    },
    // Socket.IO CORS is off (cors_allowed_origins=[]); HTTP CORS is Starlette's with
    // config.project.allow_origins (server.py:238-244, config.py:529, default ["*"]).
    cors: CorsRule::Elsewhere {
        what: "Chainlit reads allowed origins from .chainlit/config.toml ([project] allow_origins, default [\"*\"]); its Socket.IO server does no CORS check",
    },
    site_origin_vars: &[],
    // cli/__init__.py:173 `@click.option("--host")`, :189-190 a given --host is written to
    // CHAINLIT_HOST, :59 `host = os.environ.get("CHAINLIT_HOST", DEFAULT_HOST)`, config.py:270
    // `DEFAULT_HOST = "127.0.0.1"`: without --host or CHAINLIT_HOST, uvicorn binds loopback.
    // No official image, so nothing is known of an image's own CMD.
    listen: ListenRule {
        launcher: Some(HostRule {
            default_host: "127.0.0.1",
            host_flags: &["--host"],
            bind_form: false,
            host_env: Some("CHAINLIT_HOST"),
            all_interfaces_env: None,
            config_flags: &[],
            cited: "chainlit's default host (chainlit 2.12.0 config.py:270 DEFAULT_HOST = \"127.0.0.1\")",
            fix: "add `--host 0.0.0.0` to `chainlit run` (or set CHAINLIT_HOST=0.0.0.0)",
        }),
        image: None,
        otherwise: "the Chainlit server is started by code or an image command wsdoctor does not read",
    },
};
